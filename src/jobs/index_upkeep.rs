//! Merges the pending lists of the full-text and tag indexes in the background.
//!
//! A GIN index with fast update (PostgreSQL's default) collects new entries in
//! a pending list and merges the list into the index when it outgrows
//! `gin_pending_list_limit`, inside whichever insert found it full. For a new
//! ticket that insert is in the tenant's numbering window: one create took half
//! a second (510 ms in the search trigger, bench/) while every other create of
//! the tenant waited on its number. Merged every second here, the list stays
//! short and writes do not pay for it; an insert that finds a merge running
//! leaves the list to it.
//!
//! Merging needs the index's owner (as VACUUM does): a deployment that runs
//! Tessera as another role skips it here, and autovacuum merges as before.

use crate::db::Db;
use std::time::Duration;

/// How often the pending lists are merged.
pub const EVERY: Duration = Duration::from_secs(1);

/// Merges the pending lists of the GIN indexes that take an entry on every
/// ticket or reply; returns how many pending pages were merged.
pub async fn run_once(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select coalesce(sum(gin_clean_pending_list(c.oid)), 0)::bigint \
           from pg_class c \
          where c.oid in ('ticket_search_open_idx'::regclass, 'ticket_search_closed_idx'::regclass, \
                          'tickets_tags_idx'::regclass) \
            and pg_has_role(c.relowner, 'usage')",
    )
    .fetch_one(db.pool())
    .await
}
