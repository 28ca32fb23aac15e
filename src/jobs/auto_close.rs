//! Closes resolved tickets whose reopen window has passed.
//!
//! Each tenant is handled in its own tenant transaction (row-level security
//! binds even this job), in batches. Tickets are claimed with `for update skip
//! locked` and re-checked under the lock, so with several instances running the
//! job a ticket is closed once and gets one activity event.

use crate::{
    clock::Clock,
    db::{Db, TenantId},
};
use sqlx::PgConnection;
use time::OffsetDateTime;

/// Tickets closed per statement; a tenant with more is finished over several.
const BATCH: i64 = 500;

/// Closes every due ticket of every tenant; returns how many it closed.
pub async fn run_once(db: &Db, clock: &Clock) -> anyhow::Result<u64> {
    let tenants: Vec<TenantId> = sqlx::query_scalar("select id from tenants order by id")
        .fetch_all(db.pool())
        .await?;
    let mut closed = 0;
    for tenant in tenants {
        closed += close_due_in(db, tenant, clock.now()).await?;
    }
    Ok(closed)
}

/// Closes one tenant's due tickets, batch by batch.
pub async fn close_due_in(db: &Db, tenant: TenantId, now: OffsetDateTime) -> anyhow::Result<u64> {
    let mut total = 0;
    loop {
        let mut tx = db.tenant_tx(tenant).await?;
        let closed = close_batch(&mut tx, tenant, now).await?;
        tx.commit().await?;
        total += closed;
        if closed < BATCH as u64 {
            return Ok(total);
        }
    }
}

/// One statement: claim due tickets (the cutoff is computed once, so the walk
/// of `tickets_resolved_tenant_idx` stops at it; a tenant without settings
/// has no window and closes nothing), move them to the tenant's default closed
/// status, and write a "changed status from … to …" event by no user (Tessera).
async fn close_batch(
    conn: &mut PgConnection,
    tenant: TenantId,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let closed = sqlx::query(
        "with due as ( \
             select t.id, t.status_id as old_status \
               from tickets t \
              where t.tenant_id = $1 and t.status_category = 'resolved' \
                and t.resolved_at <= $2 - make_interval(days => ( \
                        select reopen_window_days from tenant_settings where tenant_id = $1)) \
              order by t.resolved_at \
              limit $3 \
                for update of t skip locked), \
         closed_status as ( \
             select id, name from ticket_statuses \
              where tenant_id = $1 and category = 'closed' and not retired \
              order by is_default desc, position limit 1), \
         updated as ( \
             update tickets t \
                set status_id = c.id, status_category = 'closed', closed_at = $2, \
                    updated_at = $2, version = t.version + 1 \
               from due, closed_status c \
              where t.tenant_id = $1 and t.id = due.id \
             returning t.id, due.old_status, c.name as new_name) \
         insert into ticket_events (tenant_id, id, ticket_id, actor_id, kind, field, old_value, \
                                    new_value, internal, created_at) \
         select $1, uuid_v7(), u.id, null, 'field_changed', 'status', s.name, u.new_name, false, $2 \
           from updated u join ticket_statuses s on s.tenant_id = $1 and s.id = u.old_status",
    )
    .bind(tenant)
    .bind(now)
    .bind(BATCH)
    .execute(conn)
    .await?;
    Ok(closed.rows_affected())
}
