//! What a session holds: for each tenant signed in to, which user. Nothing else
//! lives in the session, so it stays tiny and last-writer-wins saves are harmless.

use crate::db::{TenantId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tower_sessions::Session;

const LOGINS_KEY: &str = "logins";

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
