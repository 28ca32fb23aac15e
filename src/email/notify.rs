//! Who gets what: the one place that turns an action into outbox rows. Each
//! function runs in the action's own transaction, after the action's writes, and
//! reads the ticket as that transaction sees it; but a new ticket's messages are
//! read before the ticket is stored and written after (see [`NewTicketNotice`]).
//!
//! - new ticket: a confirmation with the number and a link to the requester
//!   (even when they opened it themselves: it is their receipt), and an
//!   assignment notice to an assignee set at creation;
//! - public reply: every follower but the author; internal note: staff followers
//!   only, never a customer;
//! - status or priority change: every follower but the actor; assignment change:
//!   the new assignee (who then gets that one message, not two);
//! - never the actor (but for the receipt), never a deactivated user.
//!
//! - new ticket, also: the tenant's notification address, when the admins set one.
//! - password reset and invitation: that user only, with a set-password link
//!   ([`account_link`]); the caller has checked the user is active.

use super::{
    ORIGIN_MARK, TicketNumber, UNSUBSCRIBE_MARK,
    chat::HOOK_COLUMNS,
    clean, header_safe,
    outbox::{self, NewEmail},
    templates::{self, AccountKind, AccountMail, Change, Kind, Mail},
};
use crate::{
    auth::model::User,
    db::{TenantTx, UserId},
    error::AppError,
    markdown,
    replies::repo::ReplyId,
    tickets::model::TicketId,
};
use time::OffsetDateTime;
use uuid::Uuid;

/// The ticket and tenant facts every message prints.
#[derive(Debug, sqlx::FromRow)]
struct TicketFacts {
    id: Uuid,
    #[sqlx(try_from = "i64")]
    number: TicketNumber,
    subject: String,
    description: String,
    requester_id: UserId,
    assignee_id: Option<UserId>,
    version: i32,
    #[sqlx(flatten)]
    place: Place,
}

/// The tenant's facts every message prints (needs `tenants te`).
#[derive(Debug, sqlx::FromRow)]
struct Place {
    slug: String,
    tenant_name: String,
    ticket_prefix: String,
}

const PLACE_COLUMNS: &str = "te.slug, te.name as tenant_name, te.ticket_prefix";

/// A possible recipient: a user, or (with a nil id) the tenant's notification address.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub staff: bool,
    pub active: bool,
    /// A contact without a password: their links are access links (see `guests`).
    pub guest: bool,
    #[sqlx(flatten)]
    pub prefs: Preferences,
}

/// What a user asked to be told about (their notification preferences; a user
/// who never changed them gets everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Preferences {
    pub ticket_created: bool,
    pub replies: bool,
    pub changes: bool,
    pub assignment: bool,
    pub internal_notes: bool,
    /// Staff: only tickets assigned to them (receipts and assignments still come).
    pub only_assigned: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            ticket_created: true,
            replies: true,
            changes: true,
            assignment: true,
            internal_notes: true,
            only_assigned: false,
        }
    }
}

/// The kinds of ticket mail a preference turns on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Created,
    Reply,
    Note,
    Change,
    Assignment,
}

/// Whether `to` wants mail about `event` on a ticket assigned to `assignee`.
pub fn wants(to: &Recipient, event: Event, assignee: Option<UserId>) -> bool {
    let p = to.prefs;
    let on = match event {
        Event::Created => p.ticket_created,
        Event::Reply => p.replies,
        Event::Note => p.internal_notes,
        Event::Change => p.changes,
        Event::Assignment => p.assignment,
    };
    let about_own_work = matches!(event, Event::Created | Event::Assignment);
    let in_scope = !(to.staff && p.only_assigned) || about_own_work || assignee == Some(to.id);
    on && in_scope
}

/// The recipient columns, preferences defaulted (needs `users u` and the
/// preferences joined as `p`).
const RECIPIENT_COLUMNS: &str = "u.id, u.email, u.name, u.role in ('agent', 'admin') as staff, \
     u.active, coalesce(p.ticket_created, true) as ticket_created, \
     coalesce(p.replies, true) as replies, coalesce(p.changes, true) as changes, \
     coalesce(p.assignment, true) as assignment, \
     coalesce(p.internal_notes, true) as internal_notes, \
     coalesce(p.only_assigned, false) as only_assigned, \
     u.role = 'customer' and u.password_hash is null as guest";
const PREFERENCES_JOIN: &str = "left join notification_preferences p \
     on p.tenant_id = u.tenant_id and p.user_id = u.id";

/// The rule every message obeys: active, not the actor, and an internal note
/// only to staff.
pub fn may_receive(recipient: &Recipient, actor: UserId, internal: bool) -> bool {
    recipient.active && recipient.id != actor && (recipient.staff || !internal)
}

async fn ticket_facts(tx: &mut TenantTx, ticket: TicketId) -> Result<TicketFacts, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_as::<_, TicketFacts>(&format!(
        "select t.id, t.number, t.subject, t.description, t.requester_id, t.assignee_id, \
                t.version, {PLACE_COLUMNS} \
           from tickets t \
           join tenants te on te.id = t.tenant_id \
          where t.tenant_id = $1 and t.id = $2"
    ))
    .bind(tenant)
    .bind(ticket)
    .fetch_one(&mut **tx)
    .await
}

async fn user(tx: &mut TenantTx, id: UserId) -> Result<Option<Recipient>, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_as::<_, Recipient>(&format!(
        "select {RECIPIENT_COLUMNS} from users u {PREFERENCES_JOIN} \
          where u.tenant_id = $1 and u.id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

async fn followers(tx: &mut TenantTx, ticket: Uuid) -> Result<Vec<Recipient>, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_as::<_, Recipient>(&format!(
        "select {RECIPIENT_COLUMNS} \
           from ticket_followers f \
           join users u on u.tenant_id = f.tenant_id and u.id = f.user_id \
           {PREFERENCES_JOIN} \
          where f.tenant_id = $1 and f.ticket_id = $2 \
          order by u.id"
    ))
    .bind(tenant)
    .bind(ticket)
    .fetch_all(&mut **tx)
    .await
}

/// One message about `facts` for `to`, rendered and stored.
struct Draft<'a> {
    kind: Kind,
    facts: &'a TicketFacts,
    actor: &'a User,
    body: &'a str,
    changes: Vec<Change>,
    internal: bool,
    key: String,
}

async fn enqueue(
    tx: &mut TenantTx,
    now: OffsetDateTime,
    to: &Recipient,
    draft: &Draft<'_>,
) -> Result<(), AppError> {
    let path = match guest_path(tx, now, draft.facts, to).await? {
        Some(path) => path,
        None => ticket_path(draft.facts),
    };
    store(tx, now, to, draft, &path).await
}

/// Renders `draft` for `to`, its link leading to `path`, into the outbox.
async fn store(
    tx: &mut TenantTx,
    now: OffsetDateTime,
    to: &Recipient,
    draft: &Draft<'_>,
    path: &str,
) -> Result<(), AppError> {
    let facts = draft.facts;
    let number = facts.number.shown(&facts.place.ticket_prefix);
    // The prefix is letters, digits and hyphens; the number's marks must stay.
    let subject = format!("[{number}] {}", header_safe(&facts.subject));
    let body = clean(draft.body);
    let is_user = to.id.0 != Uuid::nil();
    let mail = Mail {
        subject: subject.clone(),
        tenant_name: clean(&facts.place.tenant_name),
        recipient_name: clean(&to.name),
        actor_name: clean(&draft.actor.name),
        by_recipient: draft.actor.id == to.id,
        number,
        ticket_subject: clean(&facts.subject),
        link: format!("{ORIGIN_MARK}{path}"),
        body_html: markdown::render(&body),
        body_text: body,
        changes: draft.changes.clone(),
        internal: draft.internal,
        // The team's address follows nothing, so it has nothing to leave.
        unsubscribe: if is_user {
            UNSUBSCRIBE_MARK.to_owned()
        } else {
            String::new()
        },
    };
    let (body_text, body_html) = templates::render(draft.kind, &mail)
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("rendering an email")))?;
    // Message-IDs need only be unique: a fresh UUID under a per-tenant name. Every
    // message of a ticket points at the same thread root, so mail clients group them.
    let domain = format!("{}.tessera", facts.place.slug);
    let thread = format!("<ticket-{}@{domain}>", facts.id);
    outbox::enqueue(
        tx,
        &NewEmail {
            recipient_user_id: is_user.then_some(to.id),
            recipient_email: to.email.clone(),
            recipient_name: header_safe(&to.name),
            from_name: header_safe(&facts.place.tenant_name),
            template: draft.kind.name(),
            ticket_id: Some(facts.id),
            subject,
            body_text,
            body_html,
            message_id: format!("<{}@{domain}>", Uuid::now_v7()),
            in_reply_to: Some(thread.clone()),
            references: Some(thread),
            idempotency_key: format!("{}:{}", draft.key, to.id),
            unsubscribe_path: is_user.then(|| format!("/{}/unsubscribe", facts.place.slug)),
        },
        now,
    )
    .await?;
    Ok(())
}

/// Where a guest requester's link leads (they have no password to sign in
/// with): a fresh access link that opens the ticket. `None` for everyone else,
/// whose link is the [`ticket_path`].
async fn guest_path(
    tx: &mut TenantTx,
    now: OffsetDateTime,
    facts: &TicketFacts,
    to: &Recipient,
) -> Result<Option<String>, sqlx::Error> {
    if to.guest && to.id == facts.requester_id {
        let token = crate::guests::service::issue_link(tx, now, TicketId(facts.id), to.id).await?;
        return Ok(Some(crate::guests::service::access_path(
            &facts.place.slug,
            &token,
        )));
    }
    Ok(None)
}

fn ticket_path(facts: &TicketFacts) -> String {
    facts.number.path(&facts.place.slug)
}

/// A new ticket as its create holds it before taking its number.
pub struct NewTicket<'a> {
    pub id: TicketId,
    pub subject: &'a str,
    pub description: &'a str,
    pub requester: UserId,
    pub assignee: Option<UserId>,
}

/// A new ticket's messages: the requester's confirmation, the assignee's
/// notice, the team address's copy and the chat message. The create takes the
/// number in its last statement, holding its tenant's counter until commit (see
/// `tickets::service::create_keyed`), so [`prepare_ticket_created`] reads and
/// [`NewTicketNotice::queue`] stores them before, printing the number as
/// [`TicketNumber::New`], which that statement fills in.
pub struct NewTicketNotice {
    facts: TicketFacts,
    mails: Vec<PendingMail>,
    chat: Option<super::chat::Webhook>,
}

struct PendingMail {
    to: Recipient,
    message: Created,
    /// A guest requester's access link; everyone else's is the ticket page.
    guest_path: Option<String>,
}

#[derive(Clone, Copy)]
enum Created {
    Receipt,
    Assigned,
    TeamCopy,
}

/// What a new ticket's messages need to know, in one statement: the tenant's
/// facts they print, its shared inbox and chat webhook, and the requester.
#[derive(sqlx::FromRow)]
struct NewTicketFacts {
    #[sqlx(flatten)]
    place: Place,
    notification_email: Option<String>,
    #[sqlx(flatten)]
    requester: Recipient,
    #[sqlx(flatten)]
    hook: super::chat::MaybeWebhook,
}

/// Reads whom the new `ticket`'s messages go to (see [`NewTicketNotice`]).
pub async fn prepare_ticket_created(
    tx: &mut TenantTx,
    now: OffsetDateTime,
    actor: &User,
    ticket: NewTicket<'_>,
) -> Result<NewTicketNotice, AppError> {
    let tenant = tx.tenant();
    let read: NewTicketFacts = sqlx::query_as(&format!(
        "select {PLACE_COLUMNS}, s.notification_email, {RECIPIENT_COLUMNS}, {HOOK_COLUMNS} \
           from tenants te \
           join users u on u.tenant_id = te.id and u.id = $2 \
           {PREFERENCES_JOIN} \
           left join tenant_settings s on s.tenant_id = te.id \
           left join chat_webhooks w on w.tenant_id = te.id \
          where te.id = $1"
    ))
    .bind(tenant)
    .bind(ticket.requester)
    .fetch_one(&mut **tx)
    .await?;
    let facts = TicketFacts {
        id: ticket.id.0,
        number: TicketNumber::New,
        subject: ticket.subject.to_owned(),
        description: ticket.description.to_owned(),
        requester_id: ticket.requester,
        assignee_id: ticket.assignee,
        // A new ticket's first version (the column's default).
        version: 1,
        place: read.place,
    };
    let mut mails = Vec::new();
    let requester = read.requester;
    if requester.active && wants(&requester, Event::Created, ticket.assignee) {
        mails.push(PendingMail {
            guest_path: guest_path(tx, now, &facts, &requester).await?,
            to: requester,
            message: Created::Receipt,
        });
    }
    if let Some(assignee) = ticket.assignee.filter(|a| *a != ticket.requester)
        && let Some(assignee) = user(tx, assignee).await?
        && may_receive(&assignee, actor.id, false)
        && wants(&assignee, Event::Assignment, ticket.assignee)
    {
        mails.push(PendingMail {
            to: assignee,
            message: Created::Assigned,
            guest_path: None,
        });
    }
    if let Some(address) = read.notification_email {
        // The team's shared inbox: not a user, so no user id.
        mails.push(PendingMail {
            to: Recipient {
                id: UserId(Uuid::nil()),
                email: address,
                name: format!("{} team", facts.place.tenant_name),
                staff: true,
                active: true,
                guest: false,
                prefs: Preferences::default(),
            },
            message: Created::TeamCopy,
            guest_path: None,
        });
    }
    let chat = read.hook.wanting(super::chat::ChatEvent::NewTicket);
    Ok(NewTicketNotice { facts, mails, chat })
}

impl NewTicketNotice {
    /// The tenant's ticket prefix (read with the rest).
    pub fn ticket_prefix(&self) -> &str {
        &self.facts.place.ticket_prefix
    }

    /// Renders and stores the messages, before the create takes the ticket's
    /// number: they print [`TicketNumber::New`], which the ticket's insert fills
    /// in (`tickets::repo::insert_numbered`).
    pub async fn queue(
        &self,
        tx: &mut TenantTx,
        now: OffsetDateTime,
        actor: &User,
    ) -> Result<(), AppError> {
        let facts = &self.facts;
        for mail in &self.mails {
            let (kind, key) = match mail.message {
                Created::Receipt => (Kind::TicketCreated, format!("created:{}", facts.id)),
                Created::Assigned => (
                    Kind::TicketAssigned,
                    format!("assigned:{}:{}", facts.id, facts.version),
                ),
                Created::TeamCopy => (Kind::TicketCreated, format!("created-team:{}", facts.id)),
            };
            let draft = Draft {
                kind,
                facts,
                actor,
                body: &facts.description,
                changes: Vec::new(),
                internal: false,
                key,
            };
            let path = mail
                .guest_path
                .clone()
                .unwrap_or_else(|| ticket_path(facts));
            store(tx, now, &mail.to, &draft, &path).await?;
        }
        if let Some(hook) = &self.chat {
            let ticket = super::chat::ChatTicket {
                id: facts.id,
                number: facts.number,
                subject: facts.subject.clone(),
                version: facts.version,
                slug: facts.place.slug.clone(),
                ticket_prefix: facts.place.ticket_prefix.clone(),
            };
            let (tenant, event) = (tx.tenant(), super::chat::ChatEvent::NewTicket);
            super::chat::queue(tx, tenant, hook, event, &ticket, now).await?;
        }
        Ok(())
    }
}

/// A reply or internal note: the followers it may reach, but its author.
pub async fn reply_added(
    tx: &mut TenantTx,
    now: OffsetDateTime,
    actor: &User,
    ticket: TicketId,
    reply: ReplyId,
) -> Result<(), AppError> {
    let tenant = tx.tenant();
    let (body, internal): (String, bool) =
        sqlx::query_as("select body, internal from replies where tenant_id = $1 and id = $2")
            .bind(tenant)
            .bind(reply)
            .fetch_one(&mut **tx)
            .await?;
    let facts = ticket_facts(tx, ticket).await?;
    let draft = Draft {
        kind: Kind::ReplyAdded,
        facts: &facts,
        actor,
        body: &body,
        changes: Vec::new(),
        internal,
        key: format!("reply:{reply}"),
    };
    for to in followers(tx, facts.id).await? {
        let event = if internal { Event::Note } else { Event::Reply };
        if may_receive(&to, actor.id, internal) && wants(&to, event, facts.assignee_id) {
            enqueue(tx, now, &to, &draft).await?;
        }
    }
    Ok(())
}

/// Fields whose change every follower hears about.
const FOLLOWED_FIELDS: [&str; 2] = ["status", "priority"];

fn label(field: &str) -> String {
    let mut chars = field.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// An edit: the new assignee hears of the assignment (with every change),
/// the other followers of status and priority changes. `changes` are the
/// activity log's `(field, old, new)` triples.
pub async fn ticket_edited(
    tx: &mut TenantTx,
    now: OffsetDateTime,
    actor: &User,
    ticket: TicketId,
    changes: &[(&str, String, String)],
) -> Result<(), AppError> {
    let facts = ticket_facts(tx, ticket).await?;
    let shown = |fields: &dyn Fn(&str) -> bool| -> Vec<Change> {
        changes
            .iter()
            .filter(|(field, _, _)| fields(field))
            .map(|(field, old, new)| Change {
                field: label(field),
                old: clean(old),
                new: clean(new),
            })
            .collect()
    };
    let mut assignee_told = None;
    if changes.iter().any(|(field, _, _)| *field == "assignee")
        && let Some(assignee) = facts.assignee_id
        && let Some(assignee) = user(tx, assignee).await?
        && may_receive(&assignee, actor.id, false)
        && wants(&assignee, Event::Assignment, facts.assignee_id)
    {
        let draft = Draft {
            kind: Kind::TicketAssigned,
            facts: &facts,
            actor,
            body: "",
            changes: shown(&|field| field != "description" && field != "group"),
            internal: false,
            key: format!("assigned:{}:{}", facts.id, facts.version),
        };
        enqueue(tx, now, &assignee, &draft).await?;
        assignee_told = Some(assignee.id);
    }
    let followed = shown(&|field| FOLLOWED_FIELDS.contains(&field));
    if followed.is_empty() {
        return Ok(());
    }
    let draft = Draft {
        kind: Kind::TicketUpdated,
        facts: &facts,
        actor,
        body: "",
        changes: followed,
        internal: false,
        key: format!("updated:{}:{}", facts.id, facts.version),
    };
    for to in followers(tx, facts.id).await? {
        if Some(to.id) != assignee_told
            && may_receive(&to, actor.id, false)
            && wants(&to, Event::Change, facts.assignee_id)
        {
            enqueue(tx, now, &to, &draft).await?;
        }
    }
    Ok(())
}

/// A password-reset or invitation link for one user.
#[derive(Debug, Clone, Copy)]
pub struct AccountLink<'a> {
    pub kind: AccountKind,
    pub to: &'a User,
    /// The secret itself: it goes into this one message and nowhere else.
    pub token: &'a str,
    /// The token row's id, which keys the outbox row.
    pub token_id: Uuid,
    /// How long the link works, in words.
    pub valid_for: &'a str,
    /// The inviting admin's name (invitations).
    pub invited_by: Option<&'a str>,
}

/// A password-reset or invitation email with its set-password link.
pub async fn account_link(
    tx: &mut TenantTx,
    now: OffsetDateTime,
    link: AccountLink<'_>,
) -> Result<(), AppError> {
    let AccountLink {
        kind,
        to,
        token,
        token_id,
        valid_for,
        invited_by,
    } = link;
    let tenant = tx.tenant();
    let (slug, tenant_name): (String, String) =
        sqlx::query_as("select slug, name from tenants where id = $1")
            .bind(tenant)
            .fetch_one(&mut **tx)
            .await?;
    let subject = header_safe(&match kind {
        AccountKind::PasswordReset => format!("Reset your {tenant_name} password"),
        AccountKind::Invitation => format!("You are invited to {tenant_name}"),
    });
    let mail = AccountMail {
        subject: subject.clone(),
        tenant_name: clean(&tenant_name),
        recipient_name: clean(&to.name),
        email: clean(&to.email),
        invited_by: clean(invited_by.unwrap_or_default()),
        // A query parameter, not a path segment: request logs carry the path only.
        link: format!("{ORIGIN_MARK}/{slug}/password/reset?token={token}"),
        valid_for: valid_for.to_owned(),
    };
    let (body_text, body_html) = templates::render_account(kind, &mail)
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("rendering an email")))?;
    let domain = format!("{slug}.tessera");
    outbox::enqueue(
        tx,
        &NewEmail {
            recipient_user_id: Some(to.id),
            recipient_email: to.email.clone(),
            recipient_name: header_safe(&to.name),
            from_name: header_safe(&tenant_name),
            template: kind.name(),
            ticket_id: None,
            subject,
            body_text,
            body_html,
            message_id: format!("<{}@{domain}>", Uuid::now_v7()),
            in_reply_to: None,
            references: None,
            idempotency_key: format!("{}:{token_id}", kind.name()),
            unsubscribe_path: None,
        },
        now,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_active_never_the_actor_and_notes_reach_staff_only() {
        let actor = UserId::generate();
        let someone = UserId::generate();
        let person = |id, staff, active| Recipient {
            id,
            email: "x@example.test".into(),
            name: "X".into(),
            staff,
            active,
            guest: false,
            prefs: Preferences::default(),
        };
        // (recipient, internal, receives)
        let cases = [
            (person(someone, false, true), false, true),
            (person(someone, false, true), true, false),
            (person(someone, true, true), true, true),
            (person(someone, true, false), false, false),
            (person(actor, true, true), false, false),
            (person(actor, false, true), false, false),
        ];
        for (recipient, internal, receives) in cases {
            assert_eq!(
                may_receive(&recipient, actor, internal),
                receives,
                "{recipient:?}, internal: {internal}"
            );
        }
    }
}
