//! Password-link rules: issuing a token (with its email) inside the caller's
//! transaction, answering "forgot password", and setting a password with a token.

use super::repo::{self, NewToken, TokenRow};
use crate::{
    auth::{
        self,
        model::{User, check_password_strength, normalize_email},
        tokens::random_token,
    },
    clock::Clock,
    db::{Db, TenantId, TenantTx, UserId},
    email::{
        AccountKind,
        notify::{self, AccountLink},
    },
    error::AppError,
};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// What a token lets its holder do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// "Forgot password" or an admin's reset link: valid 1 hour.
    Reset,
    /// A new user's first password: valid 7 days.
    Invite,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Reset => "reset",
            Purpose::Invite => "invite",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "reset" => Some(Purpose::Reset),
            "invite" => Some(Purpose::Invite),
            _ => None,
        }
    }

    pub fn valid_for(self) -> Duration {
        match self {
            Purpose::Reset => Duration::hours(1),
            Purpose::Invite => Duration::days(7),
        }
    }

    fn valid_for_words(self) -> &'static str {
        match self {
            Purpose::Reset => "1 hour",
            Purpose::Invite => "7 days",
        }
    }

    fn email_kind(self) -> AccountKind {
        match self {
            Purpose::Reset => AccountKind::PasswordReset,
            Purpose::Invite => AccountKind::Invitation,
        }
    }
}

/// Reset emails an account may get per hour; further requests are dropped silently.
pub const RESETS_PER_HOUR: i64 = 3;

/// The stored form of a token: its SHA-256. 256 random bits need no salt or
/// slow hash; a fast one lets the lookup be an index probe.
pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Creates a token of `purpose` for `user` and writes its email to the outbox,
/// in the caller's transaction. Older unused tokens of the purpose stop working.
pub async fn issue_in(
    tx: &mut TenantTx,
    now: OffsetDateTime,
    user: &User,
    purpose: Purpose,
    invited_by: Option<&str>,
) -> Result<(), AppError> {
    let tenant = tx.tenant();
    repo::retire_unused(tx, tenant, user.id, Some(purpose.as_str()), now).await?;
    let token = random_token();
    let id = Uuid::now_v7();
    repo::insert_token(
        tx,
        tenant,
        &NewToken {
            id,
            user: user.id,
            purpose: purpose.as_str(),
            token_hash: &hash_token(&token),
            expires_at: now + purpose.valid_for(),
            created_at: now,
        },
    )
    .await?;
    notify::account_link(
        tx,
        now,
        AccountLink {
            kind: purpose.email_kind(),
            to: user,
            token: &token,
            token_id: id,
            valid_for: purpose.valid_for_words(),
            invited_by,
        },
    )
    .await
}

/// "Forgot password": a reset link to `email` when it is an active account of
/// the tenant and under the hourly limit; otherwise nothing. Either way the
/// caller answers the same. `Err(message)` only for an address that is not one.
pub async fn request_reset(
    db: &Db,
    clock: &Clock,
    tenant: TenantId,
    email: &str,
) -> Result<Result<(), String>, AppError> {
    let Ok(email) = normalize_email(email) else {
        return Ok(Err(
            "Enter an email address like ann@example.com.".to_owned()
        ));
    };
    let now = clock.now();
    let mut tx = db.tenant_tx(tenant).await?;
    if let Some((user, _)) = auth::repo::find_credentials(&mut tx, tenant, &email).await?
        && user.active
    {
        let recent = repo::count_since(
            &mut tx,
            tenant,
            user.id,
            Purpose::Reset.as_str(),
            now - Duration::hours(1),
        )
        .await?;
        if recent < RESETS_PER_HOUR {
            issue_in(&mut tx, now, &user, Purpose::Reset, None).await?;
        }
    }
    tx.commit().await?;
    Ok(Ok(()))
}

/// A usable token: what the set-password page shows.
#[derive(Debug, Clone)]
pub struct ValidToken {
    pub purpose: Purpose,
    pub email: String,
}

/// Whether `row` may still be used at `now`.
fn usable(row: &TokenRow, now: OffsetDateTime) -> Option<ValidToken> {
    let purpose = Purpose::parse(&row.purpose)?;
    (row.used_at.is_none() && row.expires_at > now && row.active).then(|| ValidToken {
        purpose,
        email: row.email.clone(),
    })
}

/// The token's purpose and account, if it is unused, unexpired, of this
/// tenant and of an active user.
pub async fn check(
    db: &Db,
    clock: &Clock,
    tenant: TenantId,
    token: &str,
) -> Result<Option<ValidToken>, AppError> {
    if token.is_empty() {
        return Ok(None);
    }
    let mut tx = db.tenant_tx(tenant).await?;
    let row = repo::find_by_hash_for_update(&mut tx, tenant, &hash_token(token)).await?;
    tx.commit().await?;
    Ok(row.and_then(|row| usable(&row, clock.now())))
}

#[derive(Debug, thiserror::Error)]
pub enum SetPasswordError {
    /// Unknown, used, expired, another tenant's, or the user was deactivated.
    #[error("the link is not valid")]
    InvalidLink,
    /// The new password was refused; the message says why.
    #[error("{message}")]
    Field { token: ValidToken, message: String },
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for SetPasswordError {
    fn from(error: sqlx::Error) -> Self {
        SetPasswordError::App(error.into())
    }
}

/// Sets the password of the token's user and uses the token up; returns the
/// user, whose other sessions the caller ends. The hash is computed between
/// two transactions, so no connection waits on argon2; the second one
/// re-checks the locked token, so two uses at once cannot both win.
pub async fn set_password(
    db: &Db,
    clock: &Clock,
    tenant: TenantId,
    token: &str,
    password: String,
    confirm: &str,
) -> Result<UserId, SetPasswordError> {
    let valid = check(db, clock, tenant, token)
        .await?
        .ok_or(SetPasswordError::InvalidLink)?;
    let refuse = |message: String| SetPasswordError::Field {
        token: valid.clone(),
        message,
    };
    if let Err(e) = check_password_strength(&password) {
        return Err(refuse(format!("Too short or too long: {e}.")));
    }
    if password != confirm {
        return Err(refuse(
            "The two passwords differ. Type the same one twice.".to_owned(),
        ));
    }
    let hash = auth::password::hash(password)
        .await
        .map_err(AppError::Internal)?;

    let now = clock.now();
    let mut tx = db.tenant_tx(tenant).await?;
    let row = repo::find_by_hash_for_update(&mut tx, tenant, &hash_token(token))
        .await?
        .filter(|row| usable(row, now).is_some())
        .ok_or(SetPasswordError::InvalidLink)?;
    repo::set_password_hash(&mut tx, tenant, row.user_id, &hash, now).await?;
    repo::mark_used(&mut tx, tenant, row.id, now).await?;
    // Any other link (an old reset, a pending invitation) is moot now.
    repo::retire_unused(&mut tx, tenant, row.user_id, None, now).await?;
    tx.commit().await?;
    Ok(row.user_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_token_is_usable_only_unused_unexpired_and_for_an_active_user() {
        let now = datetime!(2026-03-02 09:00 UTC);
        let row = |expires_at, used_at, active| TokenRow {
            id: Uuid::nil(),
            user_id: UserId(Uuid::nil()),
            purpose: "reset".to_owned(),
            expires_at,
            used_at,
            email: "ann@example.test".to_owned(),
            active,
        };
        let later = now + Duration::minutes(1);
        let cases = [
            (row(later, None, true), true),
            (row(now, None, true), false),
            (row(later, Some(now), true), false),
            (row(later, None, false), false),
        ];
        for (row, expected) in cases {
            assert_eq!(usable(&row, now).is_some(), expected, "{row:?}");
        }
    }

    #[test]
    fn the_stored_hash_is_sha256_of_the_token() {
        let token = random_token();
        let hash = hash_token(&token);
        assert_eq!(hash.len(), 32);
        assert_ne!(hash, token.as_bytes());
        assert_eq!(Purpose::Reset.valid_for(), Duration::hours(1));
        assert_eq!(Purpose::Invite.valid_for(), Duration::days(7));
    }
}
