//! What a session holds: for each tenant signed in to, which user, and when
//! it was last kept alive. Nothing else lives in the session, so it stays tiny;
//! saving one never brings an ended session back (`session_store`).

use crate::db::{TenantId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};
use tower_sessions::Session;

pub(super) const LOGINS_KEY: &str = "logins";
const SEEN_KEY: &str = "seen";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Logins(BTreeMap<TenantId, UserId>);

async fn logins(session: &Session) -> Result<Logins, tower_sessions::session::Error> {
    Ok(session.get::<Logins>(LOGINS_KEY).await?.unwrap_or_default())
}

/// The user signed in to `tenant` in this session, if any.
pub async fn user_for(
    session: &Session,
    tenant: TenantId,
) -> Result<Option<UserId>, tower_sessions::session::Error> {
    Ok(logins(session).await?.0.get(&tenant).copied())
}

/// Keeps a signed-in session alive while it is used, so that the idle timeout
/// (`session.idle_timeout_hours`) counts from its last use, not from the
/// sign-in. tower-sessions stores a session, and sends its cookie again with a
/// fresh lifetime, only when the session changed: so at most once per `every`
/// this records when the session was last seen, and that saves it.
pub async fn keep_alive(
    session: &Session,
    now: OffsetDateTime,
    every: Duration,
) -> Result<(), tower_sessions::session::Error> {
    let seen: Option<i64> = session.get(SEEN_KEY).await?;
    let now = now.unix_timestamp();
    if seen.is_none_or(|seen| now - seen >= every.whole_seconds()) {
        session.insert(SEEN_KEY, now).await?;
    }
    Ok(())
}

/// How often [`keep_alive`] saves a session used continuously: hourly, or a
/// quarter of a shorter idle timeout.
pub fn keep_alive_every(idle_timeout: Duration) -> Duration {
    let quarter: Duration = idle_timeout / 4;
    quarter.min(Duration::HOUR)
}

/// Records a sign-in, under a fresh session id.
pub async fn sign_in(
    session: &Session,
    tenant: TenantId,
    user: UserId,
) -> Result<(), tower_sessions::session::Error> {
    let mut logins = logins(session).await?;
    logins.0.insert(tenant, user);
    session.cycle_id().await?;
    session.insert(LOGINS_KEY, logins).await
}

/// Ends the login for `tenant`; the session goes when it holds no other login.
pub async fn sign_out(
    session: &Session,
    tenant: TenantId,
) -> Result<(), tower_sessions::session::Error> {
    let mut logins = logins(session).await?;
    logins.0.remove(&tenant);
    if logins.0.is_empty() {
        session.flush().await
    } else {
        session.cycle_id().await?;
        session.insert(LOGINS_KEY, logins).await
    }
}

/// Ends every session signed in as `user`, whatever tenant logins they hold
/// besides (the same browser's login to another tenant ends with it).
///
/// tower-sessions keeps a session as MessagePack, where the logins map is an
/// object of UUID strings: a session holds `user` exactly when its bytes
/// contain the user's id as text (ids are random UUIDs: nothing else spells
/// one). The store is not tenant-scoped, so this runs on the pool, like the
/// store itself. `tests/it/security_sessions.rs` proves it against the store.
pub async fn end_sessions_of(db: &crate::db::Db, user: UserId) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "delete from tower_sessions.session where position(convert_to($1, 'UTF8') in data) > 0",
    )
    .bind(user.0.hyphenated().to_string())
    .execute(db.pool())
    .await?;
    Ok(result.rows_affected())
}

/// After a password change: every other session of `user` ends; this one, if
/// it is signed in as `user`, stays signed in under a fresh id (the old id is
/// deleted now, the new one is stored with the response).
pub async fn end_other_sessions(
    db: &crate::db::Db,
    session: &Session,
    tenant: TenantId,
    user: UserId,
) -> Result<(), crate::error::AppError> {
    if user_for(session, tenant).await? == Some(user) {
        session.cycle_id().await?;
    }
    end_sessions_of(db, user).await?;
    Ok(())
}
