//! Where sessions are kept: tower-sessions' PostgreSQL table, with the
//! session's logins written beside its data, and saves that never revive.
//!
//! - Its logins (tenant id → user id, JSON): a signed-in request reads its
//!   session, tenant and user in one statement (`auth::repo::request_start`,
//!   migrations 0022 and 0024), and hands the session it
//!   read to tower-sessions through [`with_loaded`] instead of a second query.
//! - Upstream's save is an upsert. A request that loaded a session before the
//!   session was ended (signed out in another tab, or every session of a user
//!   ended by a password change) and saved it afterwards would put the login
//!   back. Here a save only updates a session that still exists; a new session
//!   (signing in always takes a fresh id) is created apart.

use async_trait::async_trait;
use sqlx::{PgPool, types::Json};
use std::{cell::RefCell, future::Future};
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store::{Error, Result},
};
use tower_sessions_sqlx_store::PostgresStore;

#[derive(Debug, Clone)]
pub struct Sessions {
    upstream: PostgresStore,
    pool: PgPool,
}

impl Sessions {
    pub fn new(pool: PgPool) -> Self {
        Self {
            upstream: PostgresStore::new(pool.clone()),
            pool,
        }
    }
}

tokio::task_local! {
    static LOADED: RefCell<Option<(Id, Option<Record>)>>;
}

/// Runs `work` so that loading session `id` from the store gives `record`
/// (`None`: no live session has that id), read by the caller in a statement
/// of its own, without querying the store again. Only the first load is
/// served so; any other goes to the table.
pub async fn with_loaded<F: Future>(id: Id, record: Option<Record>, work: F) -> F::Output {
    LOADED.scope(RefCell::new(Some((id, record))), work).await
}

fn take_loaded(id: &Id) -> Option<Option<Record>> {
    LOADED
        .try_with(|slot| {
            let mut slot = slot.borrow_mut();
            match slot.as_ref() {
                Some((loaded, _)) if loaded == id => slot.take().map(|(_, record)| record),
                _ => None,
            }
        })
        .ok()
        .flatten()
}

/// A stored session's data: the encoding of the upstream store, which
/// tower-sessions' other stores share.
pub fn decode(data: &[u8]) -> Result<Record> {
    rmp_serde::from_slice(data).map_err(|e| Error::Decode(e.to_string()))
}

fn encode(record: &Record) -> Result<Vec<u8>> {
    rmp_serde::to_vec(record).map_err(|e| Error::Encode(e.to_string()))
}

/// Runs `statement` with `record` as `$1` id, `$2` data, `$3` expiry and `$4`
/// logins (as `auth::repo::request_start` reads them).
async fn write(
    pool: &PgPool,
    statement: &'static str,
    record: &Record,
) -> Result<sqlx::postgres::PgQueryResult> {
    let logins = record.data.get(super::session::LOGINS_KEY).map(Json);
    sqlx::query(statement)
        .bind(record.id.to_string())
        .bind(encode(record)?)
        .bind(record.expiry_date)
        .bind(logins)
        .execute(pool)
        .await
        .map_err(|e| Error::Backend(e.to_string()))
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> Result<()> {
        loop {
            let created = write(
                &self.pool,
                "insert into tower_sessions.session (id, data, expiry_date, logins) \
                 values ($1, $2, $3, $4) on conflict (id) do nothing",
                record,
            )
            .await?;
            if created.rows_affected() == 1 {
                return Ok(());
            }
            // Ids are 128 random bits: a collision is only ever this retry.
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        write(
            &self.pool,
            "update tower_sessions.session set data = $2, expiry_date = $3, logins = $4 \
             where id = $1",
            record,
        )
        .await?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        match take_loaded(id) {
            Some(record) => Ok(record),
            None => self.upstream.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.upstream.delete(id).await
    }
}
