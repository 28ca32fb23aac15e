//! Deletes stored attachment files that have no row: the process stopped (or a
//! removal failed) between storing a file and committing its row, or the row
//! went with its ticket. Also removes writes a crash left unfinished.
//!
//! Only objects last written more than [`GRACE`] ago are candidates: a file is
//! stored before its row commits, so a young file without a row may belong to a
//! request still running. Each tenant is looked at in its own tenant
//! transaction; deleting is idempotent, so instances sweeping at once only
//! repeat each other's work.

use crate::{
    attachments::storage::{ObjectKey, Storage, Store},
    clock::Clock,
    db::{Db, TenantId},
};
use std::collections::HashSet;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How old a file without a row must be before it is deleted
/// (`jobs.orphan_grace_secs`' default).
pub const GRACE: time::Duration = time::Duration::HOUR;
/// How often the sweep runs (`jobs.orphan_sweep_interval_secs`' default).
pub const EVERY: Duration = Duration::from_secs(15 * 60);

/// Starts the sweep every `every` until shutdown, deleting files without a
/// row once they are `grace` old.
pub fn spawn(
    db: Db,
    store: Store,
    clock: Clock,
    (every, grace): (Duration, time::Duration),
    shutdown: super::Shutdown,
) -> JoinHandle<()> {
    super::every("orphan_sweep", every, shutdown, move || {
        let (db, store, clock) = (db.clone(), store.clone(), clock.clone());
        async move { run_once_with_grace(&db, &store, &clock, grace).await }
    })
}

/// Sweeps every tenant, then unfinished writes; returns how many files it
/// deleted.
pub async fn run_once(db: &Db, store: &Store, clock: &Clock) -> anyhow::Result<u64> {
    run_once_with_grace(db, store, clock, GRACE).await
}

/// [`run_once`], deleting files without a row once they are `grace` old.
pub async fn run_once_with_grace(
    db: &Db,
    store: &Store,
    clock: &Clock,
    grace: time::Duration,
) -> anyhow::Result<u64> {
    let tenants: Vec<TenantId> = sqlx::query_scalar("select id from tenants order by id")
        .fetch_all(db.pool())
        .await?;
    let cutoff = clock.now() - grace;
    let mut deleted = 0;
    for tenant in tenants {
        deleted += sweep_tenant(db, store, tenant, cutoff).await?;
    }
    deleted += store.remove_unfinished(cutoff).await?;
    Ok(deleted)
}

/// Deletes `tenant`'s files last written before `cutoff` that have no row.
pub async fn sweep_tenant(
    db: &Db,
    store: &Store,
    tenant: TenantId,
    cutoff: time::OffsetDateTime,
) -> anyhow::Result<u64> {
    let old: Vec<ObjectKey> = store
        .list(tenant)
        .await?
        .into_iter()
        .filter(|object| object.modified < cutoff)
        .map(|object| object.key)
        .collect();
    if old.is_empty() {
        return Ok(0);
    }
    let mut deleted = 0;
    // A bounded `= any($2)` per batch, however many files a tenant has.
    for batch in old.chunks(1000) {
        let keys: Vec<&str> = batch.iter().map(ObjectKey::as_str).collect();
        let mut tx = db.tenant_tx(tenant).await?;
        let recorded: HashSet<String> = sqlx::query_scalar(
            "select storage_key from attachments where tenant_id = $1 and storage_key = any($2)",
        )
        .bind(tenant)
        .bind(&keys)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        tx.commit().await?;
        for key in batch.iter().filter(|key| !recorded.contains(key.as_str())) {
            store.delete(key).await?;
            tracing::info!(
                key = key.as_str(),
                "deleted an attachment file without a row"
            );
            deleted += 1;
        }
    }
    Ok(deleted)
}
