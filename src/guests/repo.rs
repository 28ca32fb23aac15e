//! Guest SQL: access links, rate-limit events and the tenant's guest settings.
//! Every function runs inside a `TenantTx`.

use crate::{
    auth::model::User,
    db::{TenantId, UserId},
    tickets::model::TicketId,
};
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// How long after its ticket closes an access link still opens it (read-only:
/// a closed ticket takes no replies).
pub const AFTER_CLOSE: Duration = Duration::days(30);

/// The tenant's guest settings.
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub struct GuestSettings {
    pub guest_submission_enabled: bool,
    pub guest_show_type: bool,
    pub guest_show_priority: bool,
    pub guest_hourly_limit: i32,
    pub guest_daily_open_tickets: i32,
}

pub async fn settings(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<GuestSettings, sqlx::Error> {
    Ok(sqlx::query_as::<_, GuestSettings>(
        "select guest_submission_enabled, guest_show_type, guest_show_priority, \
                guest_hourly_limit, guest_daily_open_tickets \
           from tenant_settings where tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(conn)
    .await?
    .unwrap_or(GuestSettings {
        guest_submission_enabled: false,
        guest_show_type: false,
        guest_show_priority: false,
        guest_hourly_limit: 10,
        guest_daily_open_tickets: 5,
    }))
}

pub async fn save_settings(
    conn: &mut PgConnection,
    tenant: TenantId,
    settings: &GuestSettings,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update tenant_settings set guest_submission_enabled = $2, guest_show_type = $3, \
                guest_show_priority = $4, guest_hourly_limit = $5, \
                guest_daily_open_tickets = $6, updated_at = $7 \
          where tenant_id = $1",
    )
    .bind(tenant)
    .bind(settings.guest_submission_enabled)
    .bind(settings.guest_show_type)
    .bind(settings.guest_show_priority)
    .bind(settings.guest_hourly_limit)
    .bind(settings.guest_daily_open_tickets)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_link(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: TicketId,
    user: UserId,
    token_hash: &[u8],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into ticket_access_links (tenant_id, id, ticket_id, user_id, token_hash, created_at) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(ticket)
    .bind(user)
    .bind(token_hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// What a valid link grants: one ticket, acting as one guest.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Grant {
    pub number: i64,
    #[sqlx(flatten)]
    pub user: User,
}

/// The grant of the link with this token hash, if it is neither revoked nor
/// expired (its ticket closed more than [`AFTER_CLOSE`] ago), and its guest is
/// still the active requester of the ticket.
pub async fn find_grant(
    conn: &mut PgConnection,
    tenant: TenantId,
    token_hash: &[u8],
    now: OffsetDateTime,
) -> Result<Option<Grant>, sqlx::Error> {
    sqlx::query_as::<_, Grant>(
        "select t.number, u.tenant_id, u.id, u.email, u.name, u.role, u.timezone, u.active \
           from ticket_access_links l \
           join tickets t on t.tenant_id = l.tenant_id and t.id = l.ticket_id \
           join users u on u.tenant_id = l.tenant_id and u.id = l.user_id \
          where l.tenant_id = $1 and l.token_hash = $2 and l.revoked_at is null \
            and t.requester_id = l.user_id and u.active \
            and (t.closed_at is null or t.closed_at > $3)",
    )
    .bind(tenant)
    .bind(token_hash)
    .bind(now - AFTER_CLOSE)
    .fetch_optional(conn)
    .await
}

pub async fn revoke_links(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: TicketId,
    by: UserId,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "update ticket_access_links set revoked_at = $4, revoked_by = $3 \
          where tenant_id = $1 and ticket_id = $2 and revoked_at is null",
    )
    .bind(tenant)
    .bind(ticket)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}

/// The guest's tickets that a new link may open (not closed), newest first.
pub async fn open_tickets_of(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
) -> Result<Vec<(TicketId, i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "select id, number, subject from tickets \
          where tenant_id = $1 and requester_id = $2 and status_category <> 'closed' \
          order by created_at desc limit 20",
    )
    .bind(tenant)
    .bind(user)
    .fetch_all(conn)
    .await
}

/// Tickets `user` opened since `since` that are not yet resolved or closed.
pub async fn count_recent_open_tickets(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    since: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select count(*) from tickets \
          where tenant_id = $1 and requester_id = $2 and created_at > $3 \
            and status_category not in ('resolved', 'closed')",
    )
    .bind(tenant)
    .bind(user)
    .bind(since)
    .fetch_one(conn)
    .await
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Submit,
    Link,
    /// A token that opened nothing.
    Guess,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Link => "link",
            Action::Guess => "guess",
        }
    }
}

/// The oldest of the `key`'s events of `action` since `since`, and how many there are.
pub async fn rate_events_since(
    conn: &mut PgConnection,
    tenant: TenantId,
    action: Action,
    key: &str,
    since: OffsetDateTime,
) -> Result<(i64, Option<OffsetDateTime>), sqlx::Error> {
    sqlx::query_as(
        "select count(*), min(created_at) from guest_rate_events \
          where tenant_id = $1 and action = $2 and key = $3 and created_at > $4",
    )
    .bind(tenant)
    .bind(action.as_str())
    .bind(key)
    .bind(since)
    .fetch_one(conn)
    .await
}

/// Records an event and drops the key's events older than `prune_before`.
pub async fn record_rate_event(
    conn: &mut PgConnection,
    tenant: TenantId,
    action: Action,
    key: &str,
    now: OffsetDateTime,
    prune_before: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "delete from guest_rate_events \
          where tenant_id = $1 and action = $2 and key = $3 and created_at <= $4",
    )
    .bind(tenant)
    .bind(action.as_str())
    .bind(key)
    .bind(prune_before)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into guest_rate_events (tenant_id, action, key, created_at) values ($1, $2, $3, $4)",
    )
    .bind(tenant)
    .bind(action.as_str())
    .bind(key)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
