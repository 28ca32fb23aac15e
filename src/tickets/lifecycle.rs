//! The reopen window: what a customer's reply does to a resolved ticket, and
//! who may reopen a closed one.
//!
//! A customer reply on a resolved ticket within the tenant's window reopens it
//! (default `new` status, reopened flag, an activity event, the assignee told);
//! after the window the ticket counts as closed even before the auto-close job
//! has run, so the answer never depends on the job's timing. Customers may press
//! "Reopen" on a closed ticket within the window when the tenant allows it;
//! staff may reopen anything at any time.

use super::{
    access,
    events::{self, EventKind, NewEvent},
    model::{StatusCategory, Ticket},
    options::TicketOptions,
    repo,
    service::transition,
};
use crate::{
    auth::model::User,
    clock::Clock,
    db::{Db, TenantId},
    error::AppError,
};
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};

/// The tenant's lifecycle settings.
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub struct Settings {
    pub reopen_window_days: i32,
    pub customers_can_reopen: bool,
}

/// A tenant without a settings row yet: the columns' defaults.
impl Default for Settings {
    fn default() -> Self {
        Self {
            reopen_window_days: 7,
            customers_can_reopen: true,
        }
    }
}

impl Settings {
    pub async fn load(conn: &mut PgConnection, tenant: TenantId) -> Result<Self, sqlx::Error> {
        Ok(sqlx::query_as::<_, Settings>(
            "select reopen_window_days, customers_can_reopen from tenant_settings \
              where tenant_id = $1",
        )
        .bind(tenant)
        .fetch_optional(conn)
        .await?
        .unwrap_or_default())
    }

    fn window(&self) -> Duration {
        Duration::days(i64::from(self.reopen_window_days))
    }
}

/// What a reply by the requester does, given the ticket's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustomerReply {
    /// An ordinary reply.
    Allowed,
    /// The reply reopens the resolved ticket.
    Reopens,
    /// Refused, with the reason for the reply box.
    Refused(&'static str),
}

pub const CLOSED_REFUSAL: &str =
    "This ticket is closed, so it no longer takes replies. Please open a new ticket.";

pub fn customer_reply(ticket: &Ticket, settings: Settings, now: OffsetDateTime) -> CustomerReply {
    match ticket.status_category {
        StatusCategory::Closed => CustomerReply::Refused(CLOSED_REFUSAL),
        StatusCategory::Resolved => match ticket.resolved_at {
            Some(at) if now - at >= settings.window() => CustomerReply::Refused(CLOSED_REFUSAL),
            _ => CustomerReply::Reopens,
        },
        _ => CustomerReply::Allowed,
    }
}

/// Why `user` may not reply to the ticket, if they may not.
pub fn reply_refusal(
    user: &User,
    ticket: &Ticket,
    settings: Settings,
    now: OffsetDateTime,
) -> Option<&'static str> {
    if user.role.is_staff() {
        return None;
    }
    match customer_reply(ticket, settings, now) {
        CustomerReply::Refused(reason) => Some(reason),
        _ => None,
    }
}

/// Whether `user` gets the "Reopen" button.
pub fn can_reopen(user: &User, ticket: &Ticket, settings: Settings, now: OffsetDateTime) -> bool {
    let finished = matches!(
        ticket.status_category,
        StatusCategory::Resolved | StatusCategory::Closed
    );
    if !finished || !access::can_see_ticket(user, ticket) {
        return false;
    }
    if user.role.is_staff() {
        return true;
    }
    let closed_recently = ticket
        .closed_at
        .or(ticket.resolved_at)
        .is_some_and(|at| now - at < settings.window());
    settings.customers_can_reopen && closed_recently
}

/// Moves the ticket back to the default `new` status, flagged reopened, with an
/// activity event; returns the old and new status names. The caller holds the
/// ticket's row lock.
pub async fn reopen_in(
    conn: &mut PgConnection,
    actor: &User,
    ticket: &Ticket,
    now: OffsetDateTime,
) -> Result<(String, String), AppError> {
    let tenant = ticket.tenant_id;
    let options = TicketOptions::load(conn, tenant).await?;
    let status = options
        .default_status(StatusCategory::New)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the tenant has no `new` status")))?;
    let old = options
        .status(ticket.status_id)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let mut lifecycle = transition(ticket, status.category, now);
    lifecycle.reopened = true;
    repo::set_status(conn, tenant, ticket.id, status, &lifecycle).await?;
    sqlx::query(
        "update tickets set updated_at = $3, version = version + 1 where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(ticket.id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    events::record(
        conn,
        tenant,
        NewEvent::field_changed(ticket.id, actor.id, "status", &old, &status.name),
        now,
    )
    .await?;
    events::record(
        conn,
        tenant,
        NewEvent::new(ticket.id, actor.id, EventKind::Reopened),
        now,
    )
    .await?;
    let reopened = crate::email::chat::ChatEvent::Reopened;
    crate::email::chat::ticket_event(conn, tenant, ticket.id.0, reopened, now).await?;
    Ok((old, status.name.clone()))
}

/// The "Reopen" button.
pub async fn reopen(db: &Db, clock: &Clock, actor: &User, number: i64) -> Result<(), AppError> {
    let tenant = actor.tenant_id;
    let mut tx = db.tenant_tx(tenant).await?;
    let ticket = super::load_visible(&mut tx, actor, number).await?;
    repo::lock(&mut tx, tenant, ticket.id).await?;
    let ticket = super::load_visible(&mut tx, actor, number).await?;
    let settings = Settings::load(&mut tx, tenant).await?;
    let now = clock.now();
    if !can_reopen(actor, &ticket, settings, now) {
        return Err(AppError::Conflict(
            "This ticket can no longer be reopened. Please open a new ticket.".to_owned(),
        ));
    }
    let (old, new) = reopen_in(&mut tx, actor, &ticket, now).await?;
    // Followers (the assignee among them) hear of it; a reply that reopens a
    // ticket tells them through the reply's own email instead.
    crate::email::notify::ticket_edited(&mut tx, now, actor, ticket.id, &[("status", old, new)])
        .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::service::tests::ticket;
    use time::macros::datetime;

    #[test]
    fn a_customer_reply_reopens_a_resolved_ticket_only_inside_the_window() {
        let settings = Settings {
            reopen_window_days: 7,
            customers_can_reopen: true,
        };
        let resolved_at = datetime!(2026-01-01 0:00 UTC);
        let mut resolved = ticket(StatusCategory::Resolved);
        resolved.resolved_at = Some(resolved_at);
        let cases = [
            (StatusCategory::Open, 1, CustomerReply::Allowed),
            (StatusCategory::Waiting, 30, CustomerReply::Allowed),
            (StatusCategory::Resolved, 0, CustomerReply::Reopens),
            (
                StatusCategory::Resolved,
                7 * 24 * 60 - 1,
                CustomerReply::Reopens,
            ),
            (
                StatusCategory::Resolved,
                7 * 24 * 60,
                CustomerReply::Refused(CLOSED_REFUSAL),
            ),
            (
                StatusCategory::Closed,
                1,
                CustomerReply::Refused(CLOSED_REFUSAL),
            ),
        ];
        for (category, minutes, expected) in cases {
            let mut t = resolved.clone();
            t.status_category = category;
            let now = resolved_at + Duration::minutes(minutes);
            assert_eq!(
                customer_reply(&t, settings, now),
                expected,
                "{category:?} +{minutes}m"
            );
        }
    }
}
