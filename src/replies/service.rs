//! Reply rules: add (with "send and mark waiting" / "send and resolve"), edit,
//! delete. Each is one transaction with its activity events.

use super::repo::{self, BODY_MAX_CHARS, Reply, ReplyId};
use crate::{
    auth::model::User,
    clock::Clock,
    db::Db,
    error::AppError,
    tickets::{
        self,
        access::{self, ReplyFacts},
        events::{self, EventKind, NewEvent},
        lifecycle::{self, CustomerReply},
        model::StatusCategory,
        options::TicketOptions,
        repo as ticket_repo,
    },
};

/// What to do with the ticket's status along with a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReplyAction {
    /// Keep the status.
    #[default]
    Send,
    /// Mark the ticket waiting on the customer.
    Waiting,
    /// Resolve the ticket.
    Resolve,
}

impl ReplyAction {
    pub fn parse(raw: &str) -> Self {
        match raw {
            "waiting" => ReplyAction::Waiting,
            "resolve" => ReplyAction::Resolve,
            _ => ReplyAction::Send,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    /// Bad input, worded for the reply box.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for ReplyError {
    fn from(error: sqlx::Error) -> Self {
        ReplyError::App(error.into())
    }
}

fn check_body(body: &str) -> Result<String, ReplyError> {
    let body = body.trim_end().replace("\r\n", "\n");
    if body.trim().is_empty() {
        return Err(ReplyError::Invalid(
            "Write something before sending.".to_owned(),
        ));
    }
    if body.chars().count() > BODY_MAX_CHARS {
        return Err(ReplyError::Invalid(format!(
            "The reply is too long: at most {BODY_MAX_CHARS} characters."
        )));
    }
    Ok(body)
}

/// A reply as the reply box submits it.
#[derive(Debug, Default, Clone, Copy)]
pub struct NewReply<'a> {
    pub body: &'a str,
    /// An internal note (staff only; ignored for customers).
    pub internal: bool,
    pub action: ReplyAction,
    /// With "Send and resolve": shown to the requester, kept if it reopens.
    pub resolution_notes: &'a str,
    /// Files already in storage, recorded in the same transaction; files on a
    /// note are staff-only like the note.
    pub files: &'a [crate::attachments::StoredFile],
}

impl<'a> NewReply<'a> {
    /// A public reply that keeps the status.
    pub fn text(body: &'a str) -> Self {
        Self {
            body,
            ..Self::default()
        }
    }

    /// An internal note.
    pub fn note(body: &'a str) -> Self {
        Self {
            body,
            internal: true,
            ..Self::default()
        }
    }
}

fn check_resolution_notes(notes: &str) -> Result<String, ReplyError> {
    if notes.chars().count() > tickets::model::RESOLUTION_NOTES_MAX_CHARS {
        return Err(ReplyError::Invalid(format!(
            "The resolution notes are too long: at most {} characters.",
            tickets::model::RESOLUTION_NOTES_MAX_CHARS
        )));
    }
    Ok(notes.replace("\r\n", "\n"))
}

pub async fn add(
    db: &Db,
    clock: &Clock,
    actor: &User,
    number: i64,
    reply: NewReply<'_>,
) -> Result<ReplyId, ReplyError> {
    let NewReply {
        body,
        internal,
        action,
        resolution_notes,
        files,
    } = reply;
    let tenant = actor.tenant_id;
    let staff = actor.role.is_staff();
    let mut tx = db.tenant_tx(tenant).await?;
    let ticket = tickets::load_visible(&mut tx, actor, number).await?;
    ticket_repo::lock(&mut tx, tenant, ticket.id).await?;
    let settings = lifecycle::Settings::load(&mut tx, tenant).await?;
    let now = clock.now();
    if let Some(refusal) = lifecycle::reply_refusal(actor, &ticket, settings, now) {
        return Err(ReplyError::Invalid(refusal.to_owned()));
    }
    // A customer answering a resolved ticket within the window reopens it.
    let reopens =
        !staff && lifecycle::customer_reply(&ticket, settings, now) == CustomerReply::Reopens;
    let body = check_body(body)?;
    // Only staff write notes or move the status with a reply.
    let internal = internal && staff;
    let action = if staff && !internal {
        action
    } else {
        ReplyAction::Send
    };

    let id = repo::insert(&mut tx, tenant, ticket.id, actor.id, &body, internal, now).await?;
    let owner = crate::attachments::repo::Owner {
        ticket: ticket.id,
        reply: Some(id),
        uploader: actor.id,
        internal,
    };
    crate::attachments::repo::insert_all(&mut tx, tenant, owner, files, now).await?;
    ticket_repo::touch_for_reply(&mut tx, tenant, ticket.id, actor.id, !internal, staff, now)
        .await?;
    let kind = if internal {
        EventKind::NoteAdded
    } else {
        EventKind::ReplyAdded
    };
    events::record(
        &mut tx,
        tenant,
        NewEvent::new(ticket.id, actor.id, kind).internal(internal),
        now,
    )
    .await?;
    if staff && ticket_repo::add_follower(&mut tx, tenant, ticket.id, actor.id, now).await? {
        let mut event = NewEvent::new(ticket.id, actor.id, EventKind::FollowerAdded);
        event.new_value = Some(&actor.name);
        events::record(&mut tx, tenant, event, now).await?;
    }

    if reopens {
        lifecycle::reopen_in(&mut tx, actor, &ticket, now).await?;
    }

    let target = match action {
        ReplyAction::Send => None,
        ReplyAction::Waiting => Some(StatusCategory::Waiting),
        ReplyAction::Resolve => Some(StatusCategory::Resolved),
    };
    if let Some(category) = target.filter(|c| *c != ticket.status_category) {
        let options = TicketOptions::load(&mut tx, tenant).await?;
        let status = options.default_status(category).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("the tenant has no {category:?} status"))
        })?;
        let old = options
            .status(ticket.status_id)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let lifecycle = tickets::service::transition(&ticket, status.category, now);
        ticket_repo::set_status(&mut tx, tenant, ticket.id, status, &lifecycle).await?;
        events::record(
            &mut tx,
            tenant,
            NewEvent::field_changed(ticket.id, actor.id, "status", &old, &status.name),
            now,
        )
        .await?;
        let notes = resolution_notes.trim();
        if category == StatusCategory::Resolved && !notes.is_empty() {
            let notes = check_resolution_notes(notes)?;
            ticket_repo::set_resolution_notes(&mut tx, tenant, ticket.id, &notes).await?;
            let mut event = NewEvent::new(ticket.id, actor.id, EventKind::FieldChanged);
            event.field = Some("resolution notes");
            event.new_value = Some(&notes);
            events::record(&mut tx, tenant, event, now).await?;
        }
    }
    crate::email::notify::reply_added(&mut tx, now, actor, ticket.id, id).await?;
    tx.commit().await?;
    Ok(id)
}

/// Loads a reply the actor may change, or explains why not.
async fn changeable(
    tx: &mut crate::db::TenantTx,
    clock: &Clock,
    actor: &User,
    number: i64,
    reply: ReplyId,
) -> Result<(tickets::model::Ticket, Reply), ReplyError> {
    let tenant = actor.tenant_id;
    let ticket = tickets::load_visible(tx, actor, number).await?;
    let reply = repo::find(tx, tenant, ticket.id, reply)
        .await?
        .ok_or(AppError::NotFound)?;
    let facts = facts(actor, &reply);
    if !access::can_see_reply(actor, facts) {
        return Err(AppError::NotFound.into());
    }
    if !access::can_change_reply(actor, facts, clock.now()) {
        return Err(ReplyError::Invalid(
            "Replies can be changed by their author for 15 minutes after sending.".to_owned(),
        ));
    }
    Ok((ticket, reply))
}

pub fn facts(viewer: &User, reply: &Reply) -> ReplyFacts {
    ReplyFacts {
        author_is_viewer: reply.author_id == viewer.id,
        internal: reply.internal,
        deleted: reply.deleted_at.is_some(),
        created_at: reply.created_at,
    }
}

/// The reply, for its edit form, if the actor may change it.
pub async fn for_editing(
    db: &Db,
    clock: &Clock,
    actor: &User,
    number: i64,
    reply: ReplyId,
) -> Result<(tickets::model::Ticket, Reply), ReplyError> {
    let mut tx = db.tenant_tx(actor.tenant_id).await?;
    let found = changeable(&mut tx, clock, actor, number, reply).await?;
    tx.commit().await?;
    Ok(found)
}

pub async fn edit(
    db: &Db,
    clock: &Clock,
    actor: &User,
    number: i64,
    reply: ReplyId,
    body: &str,
) -> Result<(), ReplyError> {
    let tenant = actor.tenant_id;
    let mut tx = db.tenant_tx(tenant).await?;
    let (ticket, reply) = changeable(&mut tx, clock, actor, number, reply).await?;
    let body = check_body(body)?;
    if body == reply.body {
        return Ok(());
    }
    let now = clock.now();
    repo::save_revision(
        &mut tx,
        tenant,
        reply.id,
        &reply.body,
        "edited",
        actor.id,
        now,
    )
    .await?;
    repo::update_body(&mut tx, tenant, reply.id, &body, now).await?;
    events::record(
        &mut tx,
        tenant,
        NewEvent::new(ticket.id, actor.id, EventKind::ReplyEdited).internal(reply.internal),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete(
    db: &Db,
    clock: &Clock,
    actor: &User,
    number: i64,
    reply: ReplyId,
) -> Result<(), ReplyError> {
    let tenant = actor.tenant_id;
    let mut tx = db.tenant_tx(tenant).await?;
    let (ticket, reply) = changeable(&mut tx, clock, actor, number, reply).await?;
    let now = clock.now();
    repo::save_revision(
        &mut tx,
        tenant,
        reply.id,
        &reply.body,
        "deleted",
        actor.id,
        now,
    )
    .await?;
    repo::mark_deleted(&mut tx, tenant, reply.id, actor.id, now).await?;
    events::record(
        &mut tx,
        tenant,
        NewEvent::new(ticket.id, actor.id, EventKind::ReplyDeleted).internal(reply.internal),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
