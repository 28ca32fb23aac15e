//! Ticket rules: create, edit, follow. Each is one transaction that also writes
//! the activity events and follower changes it causes.

use super::{
    access::{self, EditScope},
    events::{self, EventKind, NewEvent},
    model::{
        CategoryId, GroupId, PriorityId, StatusCategory, StatusId, Ticket, TicketId, TypeId,
        check_description, check_subject, parse_tags,
    },
    options::TicketOptions,
    repo,
};
use crate::{
    auth::{
        self,
        model::{NewUser, Role, User, normalize_email},
    },
    clock::Clock,
    db::{Db, TenantTx, UserId},
    email::notify,
    error::AppError,
    state::AppState,
    tenants::Tenant,
};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Field errors for a form, keyed by field name, worded for the person.
pub type FieldErrors = BTreeMap<&'static str, String>;

/// What a create or edit form submitted, before validation. Ids arrive as text.
#[derive(Debug, Default, Clone)]
pub struct TicketInput {
    pub subject: String,
    pub description: String,
    pub ticket_type: String,
    pub priority: String,
    /// The selected category of each level, top first; empty strings for none.
    pub category_path: Vec<String>,
    pub requester: String,
    pub status: String,
    pub assignee: String,
    pub group: String,
    pub tags: String,
    /// The ticket version the edit form was loaded at.
    pub version: Option<i32>,
    /// When the edit form was loaded (the ticket's last change it showed).
    pub loaded_at: Option<OffsetDateTime>,
    /// Staff edit form: the resolution notes shown to the requester; `None`
    /// when the form has no such field (they stay as they are).
    pub resolution_notes: Option<String>,
}

impl TicketInput {
    /// The ticket's current values, as its edit form starts.
    pub fn from_ticket(ticket: &Ticket, options: &TicketOptions) -> Self {
        Self {
            subject: ticket.subject.clone(),
            description: ticket.description.clone(),
            ticket_type: ticket.type_id.to_string(),
            priority: ticket.priority_id.to_string(),
            category_path: options
                .category_path_ids(ticket.category_id)
                .iter()
                .map(ToString::to_string)
                .collect(),
            requester: ticket.requester_email.clone(),
            status: ticket.status_id.to_string(),
            assignee: ticket
                .assignee_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            group: ticket.group_id.map(|id| id.to_string()).unwrap_or_default(),
            tags: ticket.tags.join(", "),
            version: Some(ticket.version),
            loaded_at: Some(ticket.updated_at),
            resolution_notes: ticket.resolution_notes.clone(),
        }
    }

    /// The deepest category chosen, if any.
    pub fn category(&self) -> Option<&str> {
        self.category_path
            .iter()
            .rev()
            .map(|s| s.trim())
            .find(|s| !s.is_empty())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("the form has errors")]
    Invalid(FieldErrors),
    /// The ticket changed since the edit form was loaded.
    #[error("the ticket changed since the form was loaded")]
    Stale { changes: Vec<events::Event> },
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for SaveError {
    fn from(error: sqlx::Error) -> Self {
        SaveError::App(error.into())
    }
}

/// Validated values of the fields both forms share.
struct Checked {
    subject: String,
    description: String,
    type_id: TypeId,
    priority_id: PriorityId,
    priority_rank: i32,
    category_id: Option<CategoryId>,
    tags: Vec<String>,
}

fn parse_uuid(raw: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::try_parse(raw.trim()).ok()
}

/// Checks the shared fields against the tenant's lists. A retired option is
/// accepted only when it is the ticket's current value.
fn check_common(
    input: &TicketInput,
    options: &TicketOptions,
    current: Option<&Ticket>,
    errors: &mut FieldErrors,
) -> Option<Checked> {
    let subject = check_subject(&input.subject)
        .map_err(|e| errors.insert("subject", e))
        .ok();
    let description = check_description(&input.description)
        .map_err(|e| errors.insert("description", e))
        .ok();

    let ticket_type = match parse_uuid(&input.ticket_type) {
        None if input.ticket_type.trim().is_empty() => options.default_type(),
        id => id
            .and_then(|id| options.ticket_type(TypeId(id)))
            .filter(|t| !t.retired || current.is_some_and(|c| c.type_id == t.id)),
    };
    if ticket_type.is_none() {
        errors.insert("type", "Choose one of the listed types.".to_owned());
    }
    let priority = match parse_uuid(&input.priority) {
        None if input.priority.trim().is_empty() => options.default_priority(),
        id => id
            .and_then(|id| options.priority(PriorityId(id)))
            .filter(|p| !p.retired || current.is_some_and(|c| c.priority_id == p.id)),
    };
    if priority.is_none() {
        errors.insert(
            "priority",
            "Choose one of the listed priorities.".to_owned(),
        );
    }

    let category_id = match check_category_path(input, options, current) {
        Ok(category) => category,
        Err(message) => {
            errors.insert("category", message);
            None
        }
    };
    let tags = parse_tags(&input.tags)
        .map_err(|e| errors.insert("tags", format!("Tags: {e}.")))
        .ok();

    Some(Checked {
        subject: subject?,
        description: description?,
        type_id: ticket_type?.id,
        priority_id: priority?.id,
        priority_rank: priority?.rank,
        category_id,
        tags: tags?,
    })
}

/// Checks a new ticket's fields into `errors` without saving, so a caller with
/// errors of its own (the guest form's email) shows them all at once.
pub fn check_input(input: &TicketInput, options: &TicketOptions, errors: &mut FieldErrors) {
    let _ = check_common(input, options, None, errors);
}

/// The chosen category must exist in this tenant, and each chosen level must be
/// the parent of the next.
fn check_category_path(
    input: &TicketInput,
    options: &TicketOptions,
    current: Option<&Ticket>,
) -> Result<Option<CategoryId>, String> {
    let chosen: Vec<&str> = input
        .category_path
        .iter()
        .map(|s| s.trim())
        .take_while(|s| !s.is_empty())
        .collect();
    let mut parent: Option<CategoryId> = None;
    for raw in &chosen {
        let category = parse_uuid(raw)
            .and_then(|id| options.category(CategoryId(id)))
            .ok_or_else(|| "Choose one of the listed categories.".to_owned())?;
        let usable =
            !category.retired || current.is_some_and(|c| c.category_id == Some(category.id));
        if category.parent_id != parent || !usable {
            return Err("Choose the category again: that choice does not fit.".to_owned());
        }
        parent = Some(category.id);
    }
    Ok(parent)
}

/// Finds the requester a staff member named by email, creating a contact (a
/// customer without a password) when the tenant has nobody with that address.
async fn resolve_requester(
    tx: &mut TenantTx,
    actor: &User,
    email: &str,
    errors: &mut FieldErrors,
) -> Result<Option<User>, AppError> {
    let email = email.trim();
    if email.is_empty() {
        return Ok(Some(actor.clone()));
    }
    let email = match normalize_email(email) {
        Ok(email) => email,
        Err(_) => {
            errors.insert(
                "requester",
                "Enter the requester's email address.".to_owned(),
            );
            return Ok(None);
        }
    };
    let contact = NewUser::new(&email, None, Role::Customer, None).map_err(AppError::BadRequest)?;
    let user = auth::service::find_or_create_contact(tx, contact)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    if !user.active {
        errors.insert("requester", "That account is deactivated.".to_owned());
        return Ok(None);
    }
    Ok(Some(user))
}

/// Checks an assignee id: an active agent or admin of the tenant.
async fn resolve_assignee(
    tx: &mut TenantTx,
    raw: &str,
    errors: &mut FieldErrors,
) -> Result<Option<UserId>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() || raw == "unassigned" {
        return Ok(None);
    }
    let tenant = tx.tenant();
    let user = match parse_uuid(raw) {
        Some(id) => auth::repo::find_user(tx, tenant, UserId(id)).await?,
        None => None,
    };
    match user {
        Some(user) if user.active && user.role.is_staff() => Ok(Some(user.id)),
        _ => {
            errors.insert("assignee", "Choose one of the listed agents.".to_owned());
            Ok(None)
        }
    }
}

async fn resolve_group(
    tx: &mut TenantTx,
    raw: &str,
    errors: &mut FieldErrors,
) -> Result<Option<GroupId>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let tenant = tx.tenant();
    let exists = match parse_uuid(raw) {
        Some(id) => sqlx::query_scalar::<_, bool>(
            "select exists(select 1 from groups where tenant_id = $1 and id = $2)",
        )
        .bind(tenant)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?
        .then_some(GroupId(id)),
        None => None,
    };
    if exists.is_none() {
        errors.insert("group", "Choose one of the listed groups.".to_owned());
    }
    Ok(exists)
}

/// The lifecycle timestamps and flag a ticket has after moving to a status of
/// category `to`: entering resolved or closed stamps the time; going back from
/// resolved or closed to new, open or waiting clears them and marks it reopened.
#[derive(Debug, PartialEq, Eq)]
pub struct Lifecycle {
    pub resolved_at: Option<OffsetDateTime>,
    pub closed_at: Option<OffsetDateTime>,
    pub reopened: bool,
}

pub fn transition(current: &Ticket, to: StatusCategory, now: OffsetDateTime) -> Lifecycle {
    let from = current.status_category;
    let is_final = |c| matches!(c, StatusCategory::Resolved | StatusCategory::Closed);
    if is_final(from) && !is_final(to) {
        return Lifecycle {
            resolved_at: None,
            closed_at: None,
            reopened: true,
        };
    }
    let entering = |category| to == category && from != category;
    Lifecycle {
        resolved_at: if entering(StatusCategory::Resolved) {
            Some(now)
        } else {
            current.resolved_at
        },
        closed_at: if entering(StatusCategory::Closed) {
            Some(now)
        } else {
            current.closed_at
        },
        reopened: current.reopened,
    }
}

/// A user's name for the activity log ("Unassigned" for none).
async fn user_name(tx: &mut TenantTx, id: Option<UserId>) -> Result<String, sqlx::Error> {
    let tenant = tx.tenant();
    Ok(match id {
        Some(id) => auth::repo::find_user(tx, tenant, id)
            .await?
            .map_or_else(String::new, |u| u.name),
        None => "Unassigned".to_owned(),
    })
}

/// A group's name for the activity log ("None" for none).
async fn group_name(tx: &mut TenantTx, id: Option<GroupId>) -> Result<String, sqlx::Error> {
    let Some(id) = id else {
        return Ok("None".to_owned());
    };
    let tenant = tx.tenant();
    sqlx::query_scalar("select name from groups where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .fetch_one(&mut **tx)
        .await
}

/// A created ticket: its number, for the redirect and the notice.
pub struct Created {
    pub number: i64,
    pub display_number: String,
    /// The submission repeated an earlier one's idempotency key: this is the
    /// ticket that one created, and nothing new was saved.
    pub replayed: bool,
}

/// The longest idempotency key accepted (the column's check says the same).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 100;

/// A client's idempotency key as given (form field or `Idempotency-Key`
/// header): `None` when blank; refused unless 1–100 visible ASCII characters.
pub fn idempotency_key(raw: &str) -> Result<Option<String>, AppError> {
    let key = raw.trim();
    if key.is_empty() {
        return Ok(None);
    }
    if key.len() > MAX_IDEMPOTENCY_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::BadRequest(format!(
            "The idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters."
        )));
    }
    Ok(Some(key.to_owned()))
}

/// [`create_with_files`] that creates at most one ticket per `key` in the
/// actor's tenant: a submission repeating a key returns the ticket the first one
/// made (`replayed`), whatever it says this time, and stores nothing (the
/// caller discards `files`). A retry after a lost answer thus never duplicates.
/// The option lists come from the tenant's catalog (kept by the process), not
/// a read per create.
pub async fn create_idempotent(
    state: &AppState,
    tenant: &Tenant,
    actor: &User,
    input: TicketInput,
    files: &[crate::attachments::StoredFile],
    key: Option<&str>,
) -> Result<Created, SaveError> {
    let mut tx = state.db.tenant_tx(actor.tenant_id).await?;
    if let Some(key) = key
        && let Some(earlier) = claim_idempotency_key(&mut tx, key).await?
    {
        tx.commit().await?;
        return Ok(earlier);
    }
    let catalog = state.catalogs.of(&mut tx, tenant).await?;
    let now = state.clock.now();
    let created = create_keyed(&mut tx, &catalog.options, now, actor, input, files, key).await?;
    tx.commit().await?;
    Ok(created)
}

/// The ticket an earlier submission with idempotency `key` created (marked
/// `replayed`), if any. Until the transaction ends, other submissions with the
/// same key wait here, so the second sees the first's ticket once it commits
/// (or may create it if that one failed).
pub async fn claim_idempotency_key(
    tx: &mut TenantTx,
    key: &str,
) -> Result<Option<Created>, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1::text || ':' || $2, 0))")
        .bind(tenant)
        .bind(key)
        .execute(&mut **tx)
        .await?;
    let Some(number) = repo::number_for_idempotency_key(tx, tenant, key).await? else {
        return Ok(None);
    };
    let prefix = repo::ticket_prefix(tx, tenant).await?;
    Ok(Some(Created {
        number,
        display_number: super::model::display_number(&prefix, number),
        replayed: true,
    }))
}

pub async fn create(
    db: &Db,
    clock: &Clock,
    actor: &User,
    input: TicketInput,
) -> Result<Created, SaveError> {
    create_with_files(db, clock, actor, input, &[]).await
}

/// Creates a ticket with `files` (already in storage) attached to its
/// description, recorded in the same transaction.
pub async fn create_with_files(
    db: &Db,
    clock: &Clock,
    actor: &User,
    input: TicketInput,
    files: &[crate::attachments::StoredFile],
) -> Result<Created, SaveError> {
    let mut tx = db.tenant_tx(actor.tenant_id).await?;
    let created = create_in(&mut tx, clock.now(), actor, input, files).await?;
    tx.commit().await?;
    Ok(created)
}

/// Creates a ticket inside the caller's transaction (guest submission adds the
/// contact and the access link to the same one). The actor is the requester
/// unless they are staff.
pub async fn create_in(
    tx: &mut TenantTx,
    now: OffsetDateTime,
    actor: &User,
    input: TicketInput,
    files: &[crate::attachments::StoredFile],
) -> Result<Created, SaveError> {
    let options = TicketOptions::load(tx, actor.tenant_id).await?;
    create_keyed(tx, &options, now, actor, input, files, None).await
}

/// [`create_in`], recording the submission's idempotency key on the ticket
/// (see [`claim_idempotency_key`]).
pub async fn create_keyed(
    tx: &mut TenantTx,
    options: &TicketOptions,
    now: OffsetDateTime,
    actor: &User,
    input: TicketInput,
    files: &[crate::attachments::StoredFile],
    idempotency_key: Option<&str>,
) -> Result<Created, SaveError> {
    let tenant = actor.tenant_id;
    let mut errors = FieldErrors::new();
    let checked = check_common(&input, options, None, &mut errors);

    let staff = actor.role.is_staff();
    let requester = if staff {
        resolve_requester(tx, actor, &input.requester, &mut errors).await?
    } else {
        Some(actor.clone())
    };
    let (assignee, group) = if staff {
        (
            resolve_assignee(tx, &input.assignee, &mut errors).await?,
            resolve_group(tx, &input.group, &mut errors).await?,
        )
    } else {
        (None, None)
    };
    let status = options
        .default_status(StatusCategory::New)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the tenant has no `new` status")))?;
    let (Some(checked), Some(requester), true) = (checked, requester, errors.is_empty()) else {
        return Err(SaveError::Invalid(errors));
    };
    let assignee = match (assignee, group) {
        (None, Some(group)) => super::assignment::pick(tx, group).await?,
        _ => assignee,
    };
    // Customers' tags are not theirs to set.
    let tags = if staff { checked.tags } else { Vec::new() };

    let id = TicketId::generate();
    // The ticket's own rows, its messages and its search document come first:
    // the number is taken last, in the ticket's insert, because from then until
    // commit every other create of the tenant waits (numbers are gap-free).
    // These rows' references to the ticket are checked at commit (0018, 0021).
    events::record(
        tx,
        tenant,
        NewEvent::new(id, actor.id, EventKind::Created),
        now,
    )
    .await?;
    let owner = crate::attachments::repo::Owner {
        ticket: id,
        reply: None,
        uploader: actor.id,
        internal: false,
    };
    crate::attachments::repo::insert_all(tx, tenant, owner, files, now).await?;
    repo::add_follower(tx, tenant, id, requester.id, now).await?;
    if let Some(assignee) = assignee {
        repo::add_follower(tx, tenant, id, assignee, now).await?;
    }
    let notice = notify::prepare_ticket_created(
        tx,
        now,
        actor,
        notify::NewTicket {
            id,
            subject: &checked.subject,
            description: &checked.description,
            requester: requester.id,
            assignee,
        },
    )
    .await?;
    notice.queue(tx, now, actor).await?;
    let row = repo::NewTicketRow {
        id,
        subject: &checked.subject,
        description: &checked.description,
        type_id: checked.type_id,
        priority_id: checked.priority_id,
        priority_rank: checked.priority_rank,
        status_id: status.id,
        status_category: status.category,
        category_id: checked.category_id,
        requester_id: requester.id,
        assignee_id: assignee,
        group_id: group,
        tags: &tags,
        idempotency_key,
        now,
    };
    repo::insert_search_document(tx, tenant, &row).await?;
    let number = repo::insert_numbered(tx, tenant, row).await?;
    let prefix = notice.ticket_prefix();
    Ok(Created {
        number,
        display_number: super::model::display_number(prefix, number),
        replayed: false,
    })
}

/// Applies an edit form. Staff change every field; a customer changes the
/// subject and description of their own open ticket, and may close it.
pub async fn edit(
    db: &Db,
    clock: &Clock,
    actor: &User,
    number: i64,
    input: TicketInput,
) -> Result<(), SaveError> {
    let mut tx = db.tenant_tx(actor.tenant_id).await?;
    let options = TicketOptions::load(&mut tx, actor.tenant_id).await?;
    edit_in(&mut tx, &options, clock.now(), actor, number, input).await?;
    tx.commit().await?;
    Ok(())
}

/// [`edit`] inside the caller's transaction (assignment and bulk actions apply
/// the same rules to one or many tickets, then commit once). `options` are the
/// tenant's lists, loaded in `tx`.
pub(crate) async fn edit_in(
    tx: &mut TenantTx,
    options: &TicketOptions,
    now: OffsetDateTime,
    actor: &User,
    number: i64,
    input: TicketInput,
) -> Result<(), SaveError> {
    let tenant = actor.tenant_id;
    let current = super::load_visible(tx, actor, number).await?;
    repo::lock(tx, tenant, current.id).await?;
    // Re-read under the lock: the version check must see the latest row.
    let current = super::load_visible(tx, actor, number).await?;
    let scope = access::edit_scope(actor, &current);
    if scope == EditScope::Nothing {
        return Err(AppError::BadRequest(
            "This ticket is closed and can no longer be edited.".to_owned(),
        )
        .into());
    }
    if input.version.is_some_and(|v| v != current.version) {
        let changes = events::list(tx, tenant, current.id, actor.role.is_staff())
            .await?
            .into_iter()
            .filter(|e| e.created_at > input.loaded_at.unwrap_or(current.created_at))
            .collect();
        return Err(SaveError::Stale { changes });
    }

    let mut errors = FieldErrors::new();
    let mut input = input;
    if scope == EditScope::OwnText {
        // Everything but the text stays as it is.
        input.ticket_type = current.type_id.to_string();
        input.priority = current.priority_id.to_string();
        input.category_path = options
            .category_path_ids(current.category_id)
            .into_iter()
            .map(|id| id.to_string())
            .collect();
        input.tags = current.tags.join(", ");
    }
    // Fields left out of the form keep their value (a blank requester on an edit
    // is not "me", a missing type is not "the default").
    if input.ticket_type.trim().is_empty() {
        input.ticket_type = current.type_id.to_string();
    }
    if input.priority.trim().is_empty() {
        input.priority = current.priority_id.to_string();
    }
    if input.requester.trim().is_empty() {
        input.requester = current.requester_email.clone();
    }
    let checked = check_common(&input, options, Some(&current), &mut errors);

    let status = match parse_uuid(&input.status).map(StatusId) {
        None if input.status.trim().is_empty() => options.status(current.status_id),
        Some(id) if id == current.status_id => options.status(id),
        Some(id) => options.status(id).filter(|s| {
            !s.retired && (scope == EditScope::Everything || s.category == StatusCategory::Closed)
        }),
        None => None,
    };
    if status.is_none() {
        errors.insert("status", "Choose one of the listed statuses.".to_owned());
    }
    let (requester_id, assignee, group) = if scope == EditScope::Everything {
        let requester = resolve_requester(tx, actor, &input.requester, &mut errors).await?;
        (
            requester.map(|u| u.id),
            resolve_assignee(tx, &input.assignee, &mut errors).await?,
            resolve_group(tx, &input.group, &mut errors).await?,
        )
    } else {
        (
            Some(current.requester_id),
            current.assignee_id,
            current.group_id,
        )
    };
    let (Some(checked), Some(status), Some(requester_id), true) =
        (checked, status, requester_id, errors.is_empty())
    else {
        return Err(SaveError::Invalid(errors));
    };
    // A ticket entering a group unassigned goes to the group's auto-assignment.
    let assignee = match group {
        Some(group) if assignee.is_none() && Some(group) != current.group_id => {
            super::assignment::pick(tx, group).await?
        }
        _ => assignee,
    };

    let lifecycle = transition(&current, status.category, now);

    // The activity: one event per changed field, names rather than ids.
    let name_of_status = |id| {
        options
            .status(id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    let name_of_priority = |id| {
        options
            .priority(id)
            .map(|p| p.name.clone())
            .unwrap_or_default()
    };
    let name_of_type = |id| {
        options
            .ticket_type(id)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    };
    let name_of_category = |id: Option<CategoryId>| {
        id.map(|id| options.category_label(id))
            .unwrap_or_else(|| "None".to_owned())
    };
    let mut changes: Vec<(&str, String, String)> = Vec::new();
    if checked.subject != current.subject {
        changes.push(("subject", current.subject.clone(), checked.subject.clone()));
    }
    if checked.description != current.description {
        changes.push(("description", String::new(), String::new()));
    }
    if status.id != current.status_id {
        changes.push((
            "status",
            name_of_status(current.status_id),
            status.name.clone(),
        ));
    }
    if checked.priority_id != current.priority_id {
        changes.push((
            "priority",
            name_of_priority(current.priority_id),
            name_of_priority(checked.priority_id),
        ));
    }
    if checked.type_id != current.type_id {
        changes.push((
            "type",
            name_of_type(current.type_id),
            name_of_type(checked.type_id),
        ));
    }
    if checked.category_id != current.category_id {
        changes.push((
            "category",
            name_of_category(current.category_id),
            name_of_category(checked.category_id),
        ));
    }
    let resolution_notes = match input.resolution_notes.as_deref().map(str::trim) {
        Some(notes) if scope == EditScope::Everything => {
            if notes.chars().count() > super::model::RESOLUTION_NOTES_MAX_CHARS {
                errors.insert(
                    "resolution_notes",
                    "The resolution notes are too long.".to_owned(),
                );
                return Err(SaveError::Invalid(errors));
            }
            Some(notes.replace("\r\n", "\n")).filter(|n| !n.is_empty())
        }
        _ => current.resolution_notes.clone(),
    };
    if resolution_notes != current.resolution_notes {
        changes.push((
            "resolution notes",
            current.resolution_notes.clone().unwrap_or_default(),
            resolution_notes.clone().unwrap_or_default(),
        ));
    }
    if checked.tags != current.tags {
        changes.push(("tags", current.tags.join(", "), checked.tags.join(", ")));
    }
    if assignee != current.assignee_id {
        let old = user_name(tx, current.assignee_id).await?;
        let new = user_name(tx, assignee).await?;
        changes.push(("assignee", old, new));
    }
    if requester_id != current.requester_id {
        let old = current.requester_name.clone();
        let new = user_name(tx, Some(requester_id)).await?;
        changes.push(("requester", old, new));
    }
    if group != current.group_id {
        let old = group_name(tx, current.group_id).await?;
        let new = group_name(tx, group).await?;
        changes.push(("group", old, new));
    }
    if changes.is_empty() {
        return Ok(());
    }

    repo::update_fields(
        tx,
        tenant,
        current.id,
        repo::TicketFields {
            subject: &checked.subject,
            description: &checked.description,
            type_id: checked.type_id,
            priority_id: checked.priority_id,
            priority_rank: checked.priority_rank,
            status_id: status.id,
            status_category: status.category,
            category_id: checked.category_id,
            requester_id,
            assignee_id: assignee,
            group_id: group,
            tags: &checked.tags,
            resolved_at: lifecycle.resolved_at,
            closed_at: lifecycle.closed_at,
            reopened: lifecycle.reopened,
            resolution_notes: resolution_notes.as_deref(),
        },
        now,
    )
    .await?;
    for (field, old, new) in &changes {
        events::record(
            tx,
            tenant,
            // Tags and groups are staff working data: customers do not see them.
            NewEvent::field_changed(current.id, actor.id, field, old, new)
                .internal(matches!(*field, "tags" | "group")),
            now,
        )
        .await?;
    }
    if let Some(assignee) = assignee.filter(|a| Some(*a) != current.assignee_id) {
        // The new assignee follows the ticket.
        if repo::add_follower(tx, tenant, current.id, assignee, now).await? {
            let mut event = NewEvent::new(current.id, actor.id, EventKind::FollowerAdded);
            let name = user_name(tx, Some(assignee)).await?;
            event.new_value = Some(&name);
            events::record(tx, tenant, event, now).await?;
        }
    }
    notify::ticket_edited(tx, now, actor, current.id, &changes).await?;
    Ok(())
}

/// Follows or unfollows; returns whether the user follows afterwards.
pub async fn set_following(
    db: &Db,
    clock: &Clock,
    actor: &User,
    number: i64,
    follow: bool,
) -> Result<bool, AppError> {
    let mut tx = db.tenant_tx(actor.tenant_id).await?;
    let ticket = super::load_visible(&mut tx, actor, number).await?;
    set_following_in(&mut tx, clock.now(), actor, ticket.id, follow).await?;
    tx.commit().await?;
    Ok(follow)
}

/// [`set_following`] inside the caller's transaction, for a ticket the actor may see.
pub(crate) async fn set_following_in(
    tx: &mut TenantTx,
    now: OffsetDateTime,
    actor: &User,
    ticket: TicketId,
    follow: bool,
) -> Result<(), AppError> {
    let tenant = actor.tenant_id;
    let changed = if follow {
        repo::add_follower(tx, tenant, ticket, actor.id, now).await?
    } else {
        repo::remove_follower(tx, tenant, ticket, actor.id).await?
    };
    if changed {
        let kind = if follow {
            EventKind::FollowerAdded
        } else {
            EventKind::FollowerRemoved
        };
        let mut event = NewEvent::new(ticket, actor.id, kind);
        event.new_value = Some(&actor.name);
        events::record(tx, tenant, event, now).await?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{
        db::{TenantId, UserId},
        tickets::model::{PriorityId, TypeId},
    };
    use time::macros::datetime;

    /// A ticket in `category`, stamped as if it got there on 2026-01-01.
    pub(crate) fn ticket(category: StatusCategory) -> Ticket {
        let at = datetime!(2026-01-01 0:00 UTC);
        let stamp = |c| (category == c).then_some(at);
        Ticket {
            tenant_id: TenantId::generate(),
            id: TicketId::generate(),
            number: 1,
            subject: "s".into(),
            description: String::new(),
            type_id: TypeId::generate(),
            priority_id: PriorityId::generate(),
            status_id: StatusId::generate(),
            status_category: category,
            category_id: None,
            requester_id: UserId::generate(),
            requester_name: "R".into(),
            requester_email: "r@example.test".into(),
            assignee_id: None,
            assignee_name: None,
            group_id: None,
            tags: vec![],
            created_at: at,
            updated_at: at,
            last_reply_at: None,
            resolved_at: stamp(StatusCategory::Resolved),
            closed_at: stamp(StatusCategory::Closed),
            reopened: false,
            resolution_notes: None,
            version: 1,
        }
    }

    #[test]
    fn status_changes_stamp_and_clear_the_lifecycle_times() {
        use StatusCategory::*;
        let now = datetime!(2026-02-01 0:00 UTC);
        let then = Some(datetime!(2026-01-01 0:00 UTC));
        let cases = [
            (New, Open, None, None, false),
            (Open, Resolved, Some(now), None, false),
            (Resolved, Resolved, then, None, false),
            (Resolved, Closed, then, Some(now), false),
            (Closed, Waiting, None, None, true),
            (Resolved, New, None, None, true),
        ];
        for (from, to, resolved_at, closed_at, reopened) in cases {
            let expected = Lifecycle {
                resolved_at,
                closed_at,
                reopened,
            };
            assert_eq!(
                transition(&ticket(from), to, now),
                expected,
                "{from:?} → {to:?}"
            );
        }
    }
}
