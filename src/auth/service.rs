//! Account rules: creating users and signing in, each one transaction.

use super::{
    model::{NewUser, User},
    password, repo,
};
use crate::{
    clock::Clock,
    config::AuthConfig,
    db::{Db, TenantId, TenantTx, UserId, violated_constraint},
};
use std::net::IpAddr;
use time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("a user with the email `{0}` already exists in this tenant")]
    EmailTaken(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub async fn create_user(
    db: &Db,
    tenant: TenantId,
    user: NewUser,
) -> Result<User, CreateUserError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let user = create_user_in(&mut tx, user).await?;
    tx.commit().await?;
    Ok(user)
}

/// Creates a user inside a transaction the caller commits.
pub async fn create_user_in(tx: &mut TenantTx, user: NewUser) -> Result<User, CreateUserError> {
    let hash = match user.password {
        Some(password) => Some(password::hash(password).await?),
        None => None,
    };
    let tenant = tx.tenant();
    repo::insert_user(
        tx,
        tenant,
        UserId::generate(),
        &user.email,
        &user.name,
        user.role,
        hash.as_deref(),
    )
    .await
    .map_err(|error| match violated_constraint(&error) {
        Some("users_tenant_email_key") => CreateUserError::EmailTaken(user.email.clone()),
        _ => CreateUserError::Database(error),
    })
}

/// The user with `contact`'s email (whatever their role or state; the caller
/// decides what it accepts), or `contact` created: how tickets reach people who
/// never signed up (a customer without a password).
pub async fn find_or_create_contact(
    tx: &mut TenantTx,
    contact: NewUser,
) -> Result<User, CreateUserError> {
    let tenant = tx.tenant();
    if let Some((user, _)) = repo::find_credentials(tx, tenant, &contact.email).await? {
        return Ok(user);
    }
    create_user_in(tx, contact).await
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email, wrong password, no password set or deactivated: one answer for all.
    #[error("email or password is incorrect")]
    InvalidCredentials,
    #[error("too many failed sign-ins; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: i64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

const ACCOUNT: &str = "account";
const ADDRESS: &str = "address";

/// Checks credentials under the per-account and per-address throttles.
///
/// The password check runs between two short transactions, so no connection is
/// held while argon2 works.
pub async fn sign_in(
    db: &Db,
    clock: &Clock,
    limits: &AuthConfig,
    tenant: TenantId,
    email: &str,
    password: String,
    client: IpAddr,
) -> Result<User, SignInError> {
    let account_key = email.trim().to_lowercase();
    let address_key = client.to_string();
    let now = clock.now();
    let window = Duration::seconds(limits.throttle_window_secs);

    let mut tx = db.tenant_tx(tenant).await?;
    for (scope, key, limit) in [
        (ACCOUNT, &account_key, limits.max_failures_per_account),
        (ADDRESS, &address_key, limits.max_failures_per_address),
    ] {
        if let Some(counter) = repo::throttle_counter(&mut tx, tenant, scope, key).await?
            && let Some(wait) = throttle_wait(counter, limit, window, now)
        {
            return Err(SignInError::Throttled {
                retry_after_secs: wait,
            });
        }
    }
    let found = repo::find_credentials(&mut tx, tenant, email.trim()).await?;
    tx.commit().await?;

    let (user, hash) = match found {
        Some((user, hash)) if user.active => (Some(user), hash),
        _ => (None, None),
    };
    let verified = password::verify(password, hash).await?;

    let mut tx = db.tenant_tx(tenant).await?;
    let result = match user {
        Some(user) if verified => {
            repo::clear_failures(&mut tx, tenant, ACCOUNT, &account_key).await?;
            Ok(user)
        }
        _ => {
            for (scope, key) in [(ACCOUNT, &account_key), (ADDRESS, &address_key)] {
                repo::record_failure(&mut tx, tenant, scope, key, now, now - window).await?;
            }
            Err(SignInError::InvalidCredentials)
        }
    };
    tx.commit().await?;
    result
}

/// Seconds to wait before another attempt, if the counter is over its limit.
fn throttle_wait(
    counter: repo::ThrottleCounter,
    limit: i32,
    window: Duration,
    now: time::OffsetDateTime,
) -> Option<i64> {
    let window_ends = counter.window_started_at + window;
    if counter.failures >= limit && window_ends > now {
        Some((window_ends - now).whole_seconds().max(1))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::{repo::ThrottleCounter, throttle_wait};
    use time::{Duration, macros::datetime};

    #[test]
    fn the_throttle_waits_out_the_rest_of_a_full_window() {
        let start = datetime!(2026-01-01 12:00 UTC);
        let window = Duration::minutes(15);
        let counter = |failures| ThrottleCounter {
            failures,
            window_started_at: start,
        };
        let cases = [
            (4, start + Duration::minutes(1), None),
            (5, start + Duration::minutes(1), Some(14 * 60)),
            (
                9,
                start + Duration::minutes(14) + Duration::seconds(59),
                Some(1),
            ),
            (5, start + Duration::minutes(15), None),
        ];
        for (failures, now, expected) in cases {
            assert_eq!(throttle_wait(counter(failures), 5, window, now), expected);
        }
    }
}
