//! The activity log. Events are written by the service in the same transaction
//! as the change they describe.

use super::model::TicketId;
use crate::db::{TenantId, UserId};
use sqlx::PgConnection;
use time::OffsetDateTime;

crate::db::id_newtype!(
    /// An activity event.
    EventId
);

/// What happened. Stored as text; the page words it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Created,
    FieldChanged,
    ReplyAdded,
    NoteAdded,
    ReplyEdited,
    ReplyDeleted,
    FollowerAdded,
    FollowerRemoved,
    Reopened,
    /// A file attached (`new_value`: "report.pdf (1.2 MB)").
    Attached,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::FieldChanged => "field_changed",
            EventKind::ReplyAdded => "reply_added",
            EventKind::NoteAdded => "note_added",
            EventKind::ReplyEdited => "reply_edited",
            EventKind::ReplyDeleted => "reply_deleted",
            EventKind::FollowerAdded => "follower_added",
            EventKind::FollowerRemoved => "follower_removed",
            EventKind::Reopened => "reopened",
            EventKind::Attached => "attached",
        }
    }
}

/// An event to record.
pub struct NewEvent<'a> {
    pub ticket: TicketId,
    pub actor: Option<UserId>,
    pub kind: EventKind,
    pub field: Option<&'a str>,
    pub old_value: Option<&'a str>,
    pub new_value: Option<&'a str>,
    /// About an internal note: staff only.
    pub internal: bool,
}

impl<'a> NewEvent<'a> {
    pub fn new(ticket: TicketId, actor: UserId, kind: EventKind) -> Self {
        Self {
            ticket,
            actor: Some(actor),
            kind,
            field: None,
            old_value: None,
            new_value: None,
            internal: false,
        }
    }

    pub fn field_changed(
        ticket: TicketId,
        actor: UserId,
        field: &'a str,
        old_value: &'a str,
        new_value: &'a str,
    ) -> Self {
        Self {
            field: Some(field),
            old_value: Some(old_value),
            new_value: Some(new_value),
            ..Self::new(ticket, actor, EventKind::FieldChanged)
        }
    }

    pub fn internal(mut self, internal: bool) -> Self {
        self.internal = internal;
        self
    }
}

pub async fn record(
    conn: &mut PgConnection,
    tenant: TenantId,
    event: NewEvent<'_>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into ticket_events (tenant_id, id, ticket_id, actor_id, kind, field, old_value, \
           new_value, internal, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(tenant)
    .bind(EventId::generate())
    .bind(event.ticket)
    .bind(event.actor)
    .bind(event.kind.as_str())
    .bind(event.field)
    .bind(event.old_value)
    .bind(event.new_value)
    .bind(event.internal)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A recorded event with its actor's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Event {
    pub kind: String,
    pub actor_name: Option<String>,
    pub field: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub internal: bool,
    pub created_at: OffsetDateTime,
}

/// The ticket's events, oldest first; note events only when `include_internal`.
pub async fn list(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: TicketId,
    include_internal: bool,
) -> Result<Vec<Event>, sqlx::Error> {
    sqlx::query_as::<_, Event>(
        "select e.kind, u.name as actor_name, e.field, e.old_value, e.new_value, e.internal, \
                e.created_at \
           from ticket_events e \
           left join users u on u.tenant_id = e.tenant_id and u.id = e.actor_id \
          where e.tenant_id = $1 and e.ticket_id = $2 and ($3 or not e.internal) \
          order by e.created_at, e.id",
    )
    .bind(tenant)
    .bind(ticket)
    .bind(include_internal)
    .fetch_all(conn)
    .await
}
