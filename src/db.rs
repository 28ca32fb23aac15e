//! The connection pool, tenant-scoped transactions and id newtypes.
//!
//! Tenant isolation is enforced by PostgreSQL row-level security: [`TenantTx`]
//! switches the transaction to the `tessera_app` role (which owns nothing, so its
//! policies apply) and sets `app.tenant_id`, both transaction-local so a pooled
//! connection carries nothing into its next use. Work that must see across tenants
//! (resolving a tenant from its slug, creating one, the session store) uses the pool
//! directly and is kept to those few places.
//!
//! A signed-in page view is one transaction: the middleware that loads the user
//! hands its open transaction to the handler ([`with_request_tx`]), so the page
//! pays for one BEGIN and COMMIT, not two.

use crate::MIGRATOR;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::{
    Connection as _, PgConnection, PgPool, Postgres, Transaction,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use std::{
    cell::RefCell,
    future::Future,
    ops::{Deref, DerefMut},
    str::FromStr,
    time::Duration,
};

/// Declares a UUID id newtype that binds to and decodes from `uuid` columns.
macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::Type, serde::Serialize, serde::Deserialize)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new time-ordered (UUIDv7) id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
pub(crate) use id_newtype;

id_newtype!(
    /// A tenant: one support team's isolated helpdesk.
    TenantId
);
id_newtype!(
    /// A user of one tenant (customer, agent or admin).
    UserId
);

/// The database handle shared by the whole application.
#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
}

/// How long acquiring a connection may take before it fails (and the request
/// answers 503): `database.acquire_timeout_secs`' default.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A pooled connection idle this long is checked before it is handed out.
const CHECK_IDLE_AFTER: Duration = Duration::from_secs(1);

impl Db {
    pub async fn connect(url: &SecretString, max_connections: u32) -> Result<Self, sqlx::Error> {
        Self::connect_with(url, max_connections, DEFAULT_ACQUIRE_TIMEOUT).await
    }

    /// A pool of at most `max_connections`, where waiting for a connection ends
    /// after `acquire_timeout` with [`sqlx::Error::PoolTimedOut`]. Connections
    /// are checked before use, so after the database restarts the broken ones
    /// are replaced without restarting Tessera.
    pub async fn connect_with(
        url: &SecretString,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Self, sqlx::Error> {
        let options = PgConnectOptions::from_str(url.expose_secret())?
            // Timestamps are UTC in the database; the session store relies on it.
            .options([("timezone", "UTC")]);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout)
            // sqlx pings every connection as it comes back to the pool, so one
            // used moments ago is known to be alive: pinging it again as it is
            // handed out is a round trip per request for nothing. One that sat
            // idle may have lost its server meanwhile (a restart), and is
            // checked before use; a broken one is replaced, not handed out.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= CHECK_IDLE_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The raw pool, for work that is deliberately not tenant-scoped.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.pool).await
    }

    /// Begins a transaction that can only see `tenant`'s rows: the request's
    /// own if [`with_request_tx`] left one for `tenant` that nobody took yet.
    pub async fn tenant_tx(&self, tenant: TenantId) -> Result<TenantTx, sqlx::Error> {
        if let Some(tx) = take_request_tx(tenant) {
            return Ok(tx);
        }
        self.begin_scoped(tenant, None).await
    }

    /// Begins a transaction that can only see `tenant`'s rows and, in the
    /// session store, the live session with id `session` (migration 0024): where
    /// a signed-in request starts (`auth::repo::request_start`).
    pub async fn session_tx(
        &self,
        tenant: TenantId,
        session: &str,
    ) -> Result<TenantTx, sqlx::Error> {
        self.begin_scoped(tenant, Some(session)).await
    }

    async fn begin_scoped(
        &self,
        tenant: TenantId,
        session: Option<&str>,
    ) -> Result<TenantTx, sqlx::Error> {
        // BEGIN and the scope in one round trip (a simple query of two statements).
        let tx = self
            .begin_with(format!("begin; {}", scope_statement(tenant, session)))
            .await?;
        Ok(TenantTx::new(tx, tenant))
    }

    /// Begins a transaction with `statement`, to the end even if the caller
    /// stops waiting (a client that hangs up drops its request's future). sqlx
    /// counts a transaction as open only once BEGIN's answer is in: a begin
    /// dropped while waiting for it queued no rollback, and its connection went
    /// back to the pool inside a transaction nobody would end (seen under load
    /// as the session store, next on that connection, refused in a tenant's
    /// scope). Run as its own task, the begin completes, and the transaction
    /// it returns rolls back when dropped like any other.
    async fn begin_with(
        &self,
        statement: String,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let pool = self.pool.clone();
        tokio::spawn(async move { pool.begin_with(statement).await })
            .await
            .map_err(|_| sqlx::Error::WorkerCrashed)?
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}

/// A transaction bound to one tenant by row-level security. Dereferences to a
/// connection, so repo functions take `&mut PgConnection`.
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    tenant: TenantId,
    /// How its statements are planned now ([`TenantTx::plan`]).
    plans: Plans,
}

impl TenantTx {
    /// Scopes an open transaction to `tenant`. Whatever it did before (creating
    /// the tenant row, for instance) stays part of the same transaction.
    pub async fn enter(
        mut tx: Transaction<'static, Postgres>,
        tenant: TenantId,
    ) -> Result<Self, sqlx::Error> {
        sqlx::raw_sql(&scope_statement(tenant, None))
            .execute(&mut *tx)
            .await?;
        Ok(Self::new(tx, tenant))
    }

    fn new(tx: Transaction<'static, Postgres>, tenant: TenantId) -> Self {
        Self {
            tx,
            tenant,
            plans: Plans::Auto,
        }
    }

    /// Plans the statements that follow as `plans` says, to the end of the
    /// transaction: a round trip, none if they already are.
    pub async fn plan(&mut self, plans: Plans) -> Result<(), sqlx::Error> {
        if self.plans != plans {
            sqlx::query("select set_config('plan_cache_mode', $1, true)")
                .bind(plans.mode())
                .execute(&mut *self.tx)
                .await?;
            self.plans = plans;
        }
        Ok(())
    }

    /// Records that the caller's last statement set `plan_cache_mode` to
    /// `plans.mode()` itself, riding with its other work (a round trip less).
    pub fn planned(&mut self, plans: Plans) {
        self.plans = plans;
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// Ends a transaction that only read. It rolls back as its connection goes
    /// back to the pool, in the round trip sqlx makes there anyway (the release
    /// check), so a page does not wait for a COMMIT of nothing.
    pub fn end_read(self) {
        drop(self.tx);
    }
}

/// What scopes a transaction to `tenant`: Tessera's role, which row-level
/// security applies to, the tenant its policies compare with and, if given,
/// the one session it may read (by its id's SHA-256, so the id, a bearer
/// secret, is not in the statement's text). A simple query (no parameters), so
/// it can ride with BEGIN; a UUID's text and a digest's are hex and dashes.
fn scope_statement(tenant: TenantId, session: Option<&str>) -> String {
    let session = session.map(|id| format!("{:x}", Sha256::digest(id.as_bytes())));
    format!(
        "select set_config('role', 'tessera_app', true), \
                set_config('app.tenant_id', '{}', true), \
                set_config('app.session', '{}', true)",
        tenant.0,
        session.as_deref().unwrap_or_default()
    )
}

/// How a transaction plans its prepared statements ([`TenantTx::plan`]).
/// Generic: each is planned once per connection and the plan reused whatever
/// its values. Only for statements whose best plan does not depend on their
/// values (the landing list, `tickets::list`), and only when nothing else
/// follows them in the transaction: PostgreSQL chooses by estimated costs,
/// and keeps planning a statement whose values' plans look cheaper than its
/// reusable one, even when both are the same plan. The mode is the
/// transaction's own (`set_config(…, true)`) and ends with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plans {
    Generic,
    Auto,
}

impl Plans {
    /// `plan_cache_mode`'s value for these plans.
    pub fn mode(self) -> &'static str {
        match self {
            Plans::Generic => "force_generic_plan",
            Plans::Auto => "auto",
        }
    }
}

tokio::task_local! {
    static REQUEST_TX: RefCell<Option<TenantTx>>;
}

/// Runs `work` (a read-only request's handler) so that the first
/// [`Db::tenant_tx`] it asks for is `tx`, already open (the transaction its user
/// was loaded in). Untaken, `tx` ends with `work` and rolls back, returning its
/// connection. Only for requests that do not write or hold a second connection
/// meanwhile: the held connection would otherwise wait on the pool beside it.
pub async fn with_request_tx<F: Future>(tx: TenantTx, work: F) -> F::Output {
    REQUEST_TX.scope(RefCell::new(Some(tx)), work).await
}

fn take_request_tx(tenant: TenantId) -> Option<TenantTx> {
    REQUEST_TX
        .try_with(|slot| {
            let mut slot = slot.borrow_mut();
            match slot.as_ref() {
                Some(tx) if tx.tenant == tenant => slot.take(),
                _ => None,
            }
        })
        .ok()
        .flatten()
}

impl Deref for TenantTx {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl DerefMut for TenantTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

/// Whether `error` means the database could not be reached or is going away
/// (down, restarting, the pool exhausted past its acquire timeout, the
/// connection lost), rather than that the statement was wrong. Such errors
/// answer 503: trying again shortly may work.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // Class 08: connection exception; 57P01-57P03: admin or crash shutdown,
        // cannot connect now; 53300: too many connections.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// The name of the constraint a statement violated, if that is why it failed.
pub fn violated_constraint(error: &sqlx::Error) -> Option<&str> {
    match error {
        sqlx::Error::Database(db) => db.constraint(),
        _ => None,
    }
}
