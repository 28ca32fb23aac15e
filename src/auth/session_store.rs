//! Where sessions are kept: tower-sessions' PostgreSQL store, but for saving.
//!
//! Its save is an upsert. A request that loaded a session before the session
//! was ended (signed out in another tab, or every session of a user ended by a
//! password change) and saved it afterwards would put the login back. Here a
//! save only updates a session that still exists; a new session (signing in
//! always takes a fresh id) is created as upstream does it.

use async_trait::async_trait;
use sqlx::PgPool;
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

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> Result<()> {
        self.upstream.create(record).await
    }

    async fn save(&self, record: &Record) -> Result<()> {
        // The same encoding as the upstream store, which loads it.
        let data = rmp_serde::to_vec(record).map_err(|e| Error::Encode(e.to_string()))?;
        sqlx::query("update tower_sessions.session set data = $2, expiry_date = $3 where id = $1")
            .bind(record.id.to_string())
            .bind(data)
            .bind(record.expiry_date)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::Backend(e.to_string()))?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        self.upstream.load(id).await
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.upstream.delete(id).await
    }
}
