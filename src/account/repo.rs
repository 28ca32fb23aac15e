//! Notification preferences and the follower rows the unsubscribe link removes.

use crate::{
    db::{TenantId, UserId},
    email::notify::Preferences,
};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The user's preferences; the defaults when they never saved any.
pub async fn preferences(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
) -> Result<Preferences, sqlx::Error> {
    Ok(sqlx::query_as::<_, Preferences>(
        "select ticket_created, replies, changes, assignment, internal_notes, only_assigned \
           from notification_preferences where tenant_id = $1 and user_id = $2",
    )
    .bind(tenant)
    .bind(user)
    .fetch_optional(conn)
    .await?
    .unwrap_or_default())
}

pub async fn save_preferences(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    p: Preferences,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into notification_preferences (tenant_id, user_id, ticket_created, replies, \
             changes, assignment, internal_notes, only_assigned, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         on conflict (tenant_id, user_id) do update set \
             ticket_created = excluded.ticket_created, replies = excluded.replies, \
             changes = excluded.changes, assignment = excluded.assignment, \
             internal_notes = excluded.internal_notes, only_assigned = excluded.only_assigned, \
             updated_at = excluded.updated_at",
    )
    .bind(tenant)
    .bind(user)
    .bind(p.ticket_created)
    .bind(p.replies)
    .bind(p.changes)
    .bind(p.assignment)
    .bind(p.internal_notes)
    .bind(p.only_assigned)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// What the unsubscribe page names: the ticket and whether the user follows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FollowedTicket {
    pub number: i64,
    pub subject: String,
    pub user_name: String,
    pub following: bool,
}

pub async fn followed_ticket(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    ticket: Uuid,
) -> Result<Option<FollowedTicket>, sqlx::Error> {
    sqlx::query_as::<_, FollowedTicket>(
        "select t.number, t.subject, u.name as user_name, \
                exists (select 1 from ticket_followers f \
                         where f.tenant_id = t.tenant_id and f.ticket_id = t.id \
                           and f.user_id = u.id) as following \
           from tickets t \
           join users u on u.tenant_id = t.tenant_id and u.id = $3 \
          where t.tenant_id = $1 and t.id = $2",
    )
    .bind(tenant)
    .bind(ticket)
    .bind(user)
    .fetch_optional(conn)
    .await
}

/// The helpdesk's default timezone (UTC when its settings row is missing).
pub async fn default_timezone(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<String, sqlx::Error> {
    let zone: Option<String> =
        sqlx::query_scalar("select default_timezone from tenant_settings where tenant_id = $1")
            .bind(tenant)
            .fetch_optional(conn)
            .await?;
    Ok(zone.unwrap_or_else(|| "UTC".to_owned()))
}

/// Sets the user's own timezone; `None` follows the helpdesk's default.
pub async fn set_timezone(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    zone: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update users set timezone = $3 where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(user)
        .bind(zone)
        .execute(conn)
        .await?;
    Ok(())
}
