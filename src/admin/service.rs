//! The admin rules. Each action is one tenant transaction that checks, changes
//! and writes its audit row; it answers field errors (`Invalid`), a refusal with
//! a message (`Refused`, e.g. deleting something in use), or not found for ids
//! that are not the tenant's.

use super::repo::{self, AuditEntry, List, Settings};
use crate::{
    auth::{
        self,
        model::{NewUser, Role, User, check_password_strength, normalize_email},
    },
    clock::Clock,
    db::{Db, TenantTx, UserId, violated_constraint},
    error::AppError,
    passwords,
    tickets::model::{CategoryId, GroupId, PriorityId, StatusCategory, StatusId, TypeId},
};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Field name → message.
pub type FieldErrors = BTreeMap<&'static str, String>;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// The action is not allowed as things stand; the message says why.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for AdminError {
    fn from(error: sqlx::Error) -> Self {
        AdminError::App(error.into())
    }
}

impl From<anyhow::Error> for AdminError {
    fn from(error: anyhow::Error) -> Self {
        AdminError::App(error.into())
    }
}

type AdminResult<T> = Result<T, AdminError>;

fn invalid(field: &'static str, message: impl Into<String>) -> AdminError {
    AdminError::Invalid(BTreeMap::from([(field, message.into())]))
}

fn refused(message: impl Into<String>) -> AdminError {
    AdminError::Refused(message.into())
}

/// Who acts, and with what: every action needs the database, the clock and the admin.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub clock: &'a Clock,
    pub admin: &'a User,
}

impl Ctx<'_> {
    async fn begin(&self) -> AdminResult<TenantTx> {
        Ok(self.db.tenant_tx(self.admin.tenant_id).await?)
    }

    async fn audit(&self, tx: &mut TenantTx, entry: AuditEntry<'_>) -> AdminResult<()> {
        repo::insert_audit(
            tx,
            self.admin.tenant_id,
            self.admin.id,
            &entry,
            self.clock.now(),
        )
        .await?;
        Ok(())
    }

    fn tenant(&self) -> crate::db::TenantId {
        self.admin.tenant_id
    }
}

fn entry<'a>(
    area: &'a str,
    action: &'a str,
    subject: &'a str,
    before: Option<String>,
    after: Option<String>,
) -> AuditEntry<'a> {
    AuditEntry {
        area,
        action,
        subject,
        before,
        after,
    }
}

/// An id from a form; anything that is not a UUID is an unknown row.
pub fn parse_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::try_parse(raw.trim()).map_err(|_| AppError::NotFound)
}

/// A display name: trimmed, 1 to `max` characters, no control characters.
pub fn check_name(raw: &str, max: usize) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Enter a name.".to_owned());
    }
    if name.chars().count() > max {
        return Err(format!("The name is too long: at most {max} characters."));
    }
    if name.chars().any(char::is_control) {
        return Err("The name cannot contain control characters.".to_owned());
    }
    Ok(name.to_owned())
}

/// A colour as `#rrggbb` (any case in, lowercase out).
pub fn check_color(raw: &str) -> Result<String, String> {
    let color = raw.trim().to_ascii_lowercase();
    let ok = color.len() == 7
        && color.starts_with('#')
        && color[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(color)
    } else {
        Err("Enter a colour as #rrggbb, for example #2563eb.".to_owned())
    }
}

pub const RANK_MAX: i32 = 1000;

pub fn check_rank(raw: &str) -> Result<i32, String> {
    raw.trim()
        .parse::<i32>()
        .ok()
        .filter(|rank| (0..=RANK_MAX).contains(rank))
        .ok_or_else(|| {
            format!("Enter a whole number from 0 to {RANK_MAX} (higher is more urgent).")
        })
}

/// The ids in a new order with `id` moved one place up or down; `None` when it
/// is not there or already at that end.
pub fn moved(ids: &[Uuid], id: Uuid, up: bool) -> Option<Vec<Uuid>> {
    let at = ids.iter().position(|x| *x == id)?;
    let other = if up { at.checked_sub(1)? } else { at + 1 };
    if other >= ids.len() {
        return None;
    }
    let mut ids = ids.to_vec();
    ids.swap(at, other);
    Some(ids)
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

// ---- general settings ----

/// What the general settings form sent.
#[derive(Clone, Debug, Default)]
pub struct GeneralInput {
    pub name: String,
    pub ticket_prefix: String,
    pub reopen_window_days: String,
    pub customers_can_reopen: bool,
    pub guest_submission_enabled: bool,
    pub notification_email: String,
    pub default_timezone: String,
}

impl GeneralInput {
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            name: s.name.clone(),
            ticket_prefix: s.ticket_prefix.clone(),
            reopen_window_days: s.reopen_window_days.to_string(),
            customers_can_reopen: s.customers_can_reopen,
            guest_submission_enabled: s.guest_submission_enabled,
            notification_email: s.notification_email.clone().unwrap_or_default(),
            default_timezone: s.default_timezone.clone(),
        }
    }
}

pub const REOPEN_WINDOW_MAX_DAYS: i32 = 365;

/// Checks the form apart from the timezone (which needs the database).
fn check_general(input: &GeneralInput) -> (Settings, FieldErrors) {
    let mut errors = FieldErrors::new();
    let name = check_name(&input.name, 120).unwrap_or_else(|e| {
        errors.insert("name", e);
        String::new()
    });
    let prefix = input.ticket_prefix.trim().to_owned();
    if prefix.chars().count() > 10
        || !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        errors.insert(
            "ticket_prefix",
            "Use at most 10 letters, digits or hyphens, for example TKT-.".to_owned(),
        );
    }
    let days = input
        .reopen_window_days
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|d| (0..=REOPEN_WINDOW_MAX_DAYS).contains(d))
        .unwrap_or_else(|| {
            errors.insert(
                "reopen_window_days",
                format!("Enter a whole number of days from 0 to {REOPEN_WINDOW_MAX_DAYS}."),
            );
            0
        });
    let email = input.notification_email.trim();
    let notification_email = if email.is_empty() {
        None
    } else {
        match normalize_email(email) {
            Ok(email) => Some(email),
            Err(_) => {
                errors.insert(
                    "notification_email",
                    "Enter an email address like team@example.com, or leave it empty.".to_owned(),
                );
                None
            }
        }
    };
    let settings = Settings {
        name,
        ticket_prefix: prefix,
        reopen_window_days: days,
        customers_can_reopen: input.customers_can_reopen,
        guest_submission_enabled: input.guest_submission_enabled,
        notification_email,
        default_timezone: input.default_timezone.trim().to_owned(),
    };
    (settings, errors)
}

pub async fn save_general(ctx: Ctx<'_>, input: &GeneralInput) -> AdminResult<()> {
    let (new, mut errors) = check_general(input);
    let mut tx = ctx.begin().await?;
    let tenant = ctx.tenant();
    if new.default_timezone.is_empty()
        || new.default_timezone.len() > 64
        || !repo::timezone_exists(&mut tx, &new.default_timezone).await?
    {
        errors.insert(
            "default_timezone",
            "Enter a timezone name such as UTC, Europe/Berlin or America/New_York.".to_owned(),
        );
    }
    if !errors.is_empty() {
        return Err(AdminError::Invalid(errors));
    }
    let old = repo::settings_for_update(&mut tx, tenant).await?;
    if old == new {
        return Ok(());
    }
    repo::save_settings(&mut tx, tenant, &new, ctx.clock.now()).await?;
    let changes: [(&str, String, String); 7] = [
        ("Helpdesk name", old.name.clone(), new.name.clone()),
        (
            "Ticket number prefix",
            old.ticket_prefix.clone(),
            new.ticket_prefix.clone(),
        ),
        (
            "Reopen window (days)",
            old.reopen_window_days.to_string(),
            new.reopen_window_days.to_string(),
        ),
        (
            "Customers can reopen",
            yes_no(old.customers_can_reopen),
            yes_no(new.customers_can_reopen),
        ),
        (
            "Guest submission",
            yes_no(old.guest_submission_enabled),
            yes_no(new.guest_submission_enabled),
        ),
        (
            "Notification email",
            old.notification_email.clone().unwrap_or_default(),
            new.notification_email.clone().unwrap_or_default(),
        ),
        (
            "Default timezone",
            old.default_timezone.clone(),
            new.default_timezone.clone(),
        ),
    ];
    for (subject, before, after) in changes {
        if before != after {
            ctx.audit(
                &mut tx,
                entry(
                    "general",
                    "update",
                    subject,
                    Some(before).filter(|s| !s.is_empty()),
                    Some(after).filter(|s| !s.is_empty()),
                ),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

// ---- statuses ----

const STATUS_NAME_MAX: usize = 40;

fn status_category_label(category: StatusCategory) -> &'static str {
    match category {
        StatusCategory::New => "New",
        StatusCategory::Open => "Open",
        StatusCategory::Waiting => "Waiting on customer",
        StatusCategory::Resolved => "Resolved",
        StatusCategory::Closed => "Closed",
    }
}

/// Only intermediate statuses come and go; new, resolved and closed keep one each.
pub fn category_is_intermediate(category: StatusCategory) -> bool {
    matches!(category, StatusCategory::Open | StatusCategory::Waiting)
}

pub fn parse_category(raw: &str) -> Option<StatusCategory> {
    match raw {
        "open" => Some(StatusCategory::Open),
        "waiting" => Some(StatusCategory::Waiting),
        _ => None,
    }
}

/// A delete that lost a race with a new reference (a ticket created meanwhile).
fn in_use_now(what: &str) -> impl FnOnce(sqlx::Error) -> AdminError + '_ {
    move |error| match &error {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => refused(format!(
            "“{what}” was just put to use and cannot be deleted."
        )),
        _ => error.into(),
    }
}

fn name_taken(error: &sqlx::Error, constraints: &[&str]) -> bool {
    violated_constraint(error).is_some_and(|c| constraints.contains(&c))
}

pub async fn add_status(ctx: Ctx<'_>, name: &str, category: &str, color: &str) -> AdminResult<()> {
    let mut errors = FieldErrors::new();
    let name = check_name(name, STATUS_NAME_MAX).map_err(|e| errors.insert("name", e));
    let category = parse_category(category).ok_or_else(|| {
        errors.insert(
            "category",
            "Choose Open or Waiting on customer: only those categories take more statuses."
                .to_owned(),
        )
    });
    let color = check_color(color).map_err(|e| errors.insert("color", e));
    let (Ok(name), Ok(category), Ok(color)) = (name, category, color) else {
        return Err(AdminError::Invalid(errors));
    };
    let mut tx = ctx.begin().await?;
    let tenant = ctx.tenant();
    repo::statuses(&mut tx, tenant).await?;
    repo::insert_status(&mut tx, tenant, &name, category, &color)
        .await
        .map_err(|e| {
            if name_taken(&e, &["ticket_statuses_tenant_name_key"]) {
                invalid("name", "A status with this name exists already.")
            } else {
                e.into()
            }
        })?;
    ctx.audit(
        &mut tx,
        entry(
            "statuses",
            "add",
            &name,
            None,
            Some(format!(
                "{} ({}, {color})",
                name,
                status_category_label(category)
            )),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn load_status(
    tx: &mut TenantTx,
    ctx: Ctx<'_>,
    id: &str,
) -> AdminResult<(Vec<repo::StatusRow>, repo::StatusRow)> {
    let id = StatusId(parse_id(id)?);
    let all = repo::statuses(tx, ctx.tenant()).await?;
    let status = all
        .iter()
        .find(|s| s.id == id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok((all, status))
}

pub async fn update_status(ctx: Ctx<'_>, id: &str, name: &str, color: &str) -> AdminResult<()> {
    let mut errors = FieldErrors::new();
    let name = check_name(name, STATUS_NAME_MAX).map_err(|e| errors.insert("name", e));
    let color = check_color(color).map_err(|e| errors.insert("color", e));
    let mut tx = ctx.begin().await?;
    let (_, status) = load_status(&mut tx, ctx, id).await?;
    let (Ok(name), Ok(color)) = (name, color) else {
        return Err(AdminError::Invalid(errors));
    };
    if status.name == name && status.color == color {
        return Ok(());
    }
    repo::update_status(&mut tx, ctx.tenant(), status.id, &name, &color)
        .await
        .map_err(|e| {
            if name_taken(&e, &["ticket_statuses_tenant_name_key"]) {
                invalid("name", "A status with this name exists already.")
            } else {
                e.into()
            }
        })?;
    if status.name != name {
        ctx.audit(
            &mut tx,
            entry(
                "statuses",
                "rename",
                &status.name,
                Some(status.name.clone()),
                Some(name.clone()),
            ),
        )
        .await?;
    }
    if status.color != color {
        ctx.audit(
            &mut tx,
            entry(
                "statuses",
                "recolour",
                &name,
                Some(status.color.clone()),
                Some(color),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn move_status(ctx: Ctx<'_>, id: &str, up: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, status) = load_status(&mut tx, ctx, id).await?;
    let ids: Vec<Uuid> = all.iter().map(|s| s.id.0).collect();
    let Some(order) = moved(&ids, status.id.0, up) else {
        return Ok(());
    };
    repo::set_positions(&mut tx, ctx.tenant(), List::Statuses, &order).await?;
    let position = |ids: &[Uuid]| {
        ids.iter()
            .position(|x| *x == status.id.0)
            .map(|p| (p + 1).to_string())
    };
    ctx.audit(
        &mut tx,
        entry(
            "statuses",
            if up { "move up" } else { "move down" },
            &status.name,
            position(&ids),
            position(&order),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn retire_status(ctx: Ctx<'_>, id: &str, retire: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, status) = load_status(&mut tx, ctx, id).await?;
    if status.retired == retire {
        return Ok(());
    }
    if retire {
        if !category_is_intermediate(status.category) {
            return Err(refused(format!(
                "“{}” cannot be retired: the {} category always keeps its status. Rename it instead.",
                status.name,
                status_category_label(status.category)
            )));
        }
        if status.is_default {
            return Err(refused(format!(
                "“{}” is the default status of its category. Make another status the default first.",
                status.name
            )));
        }
        let others = all
            .iter()
            .filter(|s| s.category == status.category && !s.retired && s.id != status.id)
            .count();
        if others == 0 {
            return Err(refused(format!(
                "“{}” is the last active status of the {} category; a category always keeps one.",
                status.name,
                status_category_label(status.category)
            )));
        }
    }
    repo::set_retired(&mut tx, ctx.tenant(), List::Statuses, status.id.0, retire).await?;
    ctx.audit(
        &mut tx,
        entry(
            "statuses",
            if retire { "retire" } else { "unretire" },
            &status.name,
            Some(if retire { "active" } else { "retired" }.to_owned()),
            Some(if retire { "retired" } else { "active" }.to_owned()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn default_status(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, status) = load_status(&mut tx, ctx, id).await?;
    if status.is_default {
        return Ok(());
    }
    if status.retired {
        return Err(refused(format!(
            "“{}” is retired; bring it back before making it the default.",
            status.name
        )));
    }
    let before = all
        .iter()
        .find(|s| s.category == status.category && s.is_default)
        .map(|s| s.name.clone());
    repo::set_default_status(&mut tx, ctx.tenant(), status.id, status.category).await?;
    ctx.audit(
        &mut tx,
        entry(
            "statuses",
            "set default",
            status_category_label(status.category),
            before,
            Some(status.name.clone()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_status(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, status) = load_status(&mut tx, ctx, id).await?;
    if !category_is_intermediate(status.category) {
        return Err(refused(format!(
            "“{}” cannot be deleted: the {} category always keeps its status.",
            status.name,
            status_category_label(status.category)
        )));
    }
    if status.is_default {
        return Err(refused(format!(
            "“{}” is the default status of its category. Make another status the default first.",
            status.name
        )));
    }
    if repo::in_use(&mut tx, ctx.tenant(), List::Statuses, status.id.0).await? {
        return Err(refused(format!(
            "“{}” is in use by {} ticket(s) and cannot be deleted. Move those tickets to another status, or retire it instead: a retired status stays on old tickets but is no longer offered.",
            status.name, status.tickets
        )));
    }
    let others = all
        .iter()
        .filter(|s| s.category == status.category && !s.retired && s.id != status.id)
        .count();
    if others == 0 {
        return Err(refused(format!(
            "“{}” is the last active status of its category; a category always keeps one.",
            status.name
        )));
    }
    repo::delete(&mut tx, ctx.tenant(), List::Statuses, status.id.0)
        .await
        .map_err(in_use_now(&status.name))?;
    ctx.audit(
        &mut tx,
        entry(
            "statuses",
            "delete",
            &status.name,
            Some(status.name.clone()),
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- priorities ----

const PRIORITY_NAME_MAX: usize = 40;

fn priority_name_taken(e: sqlx::Error) -> AdminError {
    if name_taken(&e, &["ticket_priorities_tenant_name_key"]) {
        invalid("name", "A priority with this name exists already.")
    } else {
        e.into()
    }
}

pub async fn add_priority(ctx: Ctx<'_>, name: &str, rank: &str, color: &str) -> AdminResult<()> {
    let mut errors = FieldErrors::new();
    let name = check_name(name, PRIORITY_NAME_MAX).map_err(|e| errors.insert("name", e));
    let rank = check_rank(rank).map_err(|e| errors.insert("rank", e));
    let color = check_color(color).map_err(|e| errors.insert("color", e));
    let (Ok(name), Ok(rank), Ok(color)) = (name, rank, color) else {
        return Err(AdminError::Invalid(errors));
    };
    let mut tx = ctx.begin().await?;
    repo::insert_priority(&mut tx, ctx.tenant(), &name, rank, &color)
        .await
        .map_err(priority_name_taken)?;
    ctx.audit(
        &mut tx,
        entry(
            "priorities",
            "add",
            &name,
            None,
            Some(format!("{name} (rank {rank}, {color})")),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn load_priority(
    tx: &mut TenantTx,
    ctx: Ctx<'_>,
    id: &str,
) -> AdminResult<(Vec<repo::PriorityRow>, repo::PriorityRow)> {
    let id = PriorityId(parse_id(id)?);
    let all = repo::priorities(tx, ctx.tenant()).await?;
    let found = all
        .iter()
        .find(|p| p.id == id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok((all, found))
}

pub async fn update_priority(
    ctx: Ctx<'_>,
    id: &str,
    name: &str,
    rank: &str,
    color: &str,
) -> AdminResult<()> {
    let mut errors = FieldErrors::new();
    let name = check_name(name, PRIORITY_NAME_MAX).map_err(|e| errors.insert("name", e));
    let rank = check_rank(rank).map_err(|e| errors.insert("rank", e));
    let color = check_color(color).map_err(|e| errors.insert("color", e));
    let mut tx = ctx.begin().await?;
    let (_, p) = load_priority(&mut tx, ctx, id).await?;
    let (Ok(name), Ok(rank), Ok(color)) = (name, rank, color) else {
        return Err(AdminError::Invalid(errors));
    };
    if p.name == name && p.rank == rank && p.color == color {
        return Ok(());
    }
    repo::update_priority(&mut tx, ctx.tenant(), p.id, &name, rank, &color)
        .await
        .map_err(priority_name_taken)?;
    for (action, before, after) in [
        ("rename", p.name.clone(), name.clone()),
        ("change rank", p.rank.to_string(), rank.to_string()),
        ("recolour", p.color.clone(), color.clone()),
    ] {
        if before != after {
            ctx.audit(
                &mut tx,
                entry("priorities", action, &p.name, Some(before), Some(after)),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub async fn retire_priority(ctx: Ctx<'_>, id: &str, retire: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, p) = load_priority(&mut tx, ctx, id).await?;
    if p.retired == retire {
        return Ok(());
    }
    if retire {
        if p.is_default {
            return Err(refused(format!(
                "“{}” is the default priority. Make another priority the default first.",
                p.name
            )));
        }
        if !all.iter().any(|o| o.id != p.id && !o.retired) {
            return Err(refused(format!(
                "“{}” is the last active priority; one always remains.",
                p.name
            )));
        }
    }
    repo::set_retired(&mut tx, ctx.tenant(), List::Priorities, p.id.0, retire).await?;
    ctx.audit(
        &mut tx,
        entry(
            "priorities",
            if retire { "retire" } else { "unretire" },
            &p.name,
            None,
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn default_priority(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, p) = load_priority(&mut tx, ctx, id).await?;
    if p.is_default {
        return Ok(());
    }
    if p.retired {
        return Err(refused(format!(
            "“{}” is retired; bring it back before making it the default.",
            p.name
        )));
    }
    let before = all.iter().find(|o| o.is_default).map(|o| o.name.clone());
    repo::set_default_priority(&mut tx, ctx.tenant(), p.id).await?;
    ctx.audit(
        &mut tx,
        entry(
            "priorities",
            "set default",
            "Default priority",
            before,
            Some(p.name.clone()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_priority(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, p) = load_priority(&mut tx, ctx, id).await?;
    if p.is_default {
        return Err(refused(format!(
            "“{}” is the default priority. Make another priority the default first.",
            p.name
        )));
    }
    if repo::in_use(&mut tx, ctx.tenant(), List::Priorities, p.id.0).await? {
        return Err(refused(format!(
            "“{}” is in use by {} ticket(s) and cannot be deleted. Retire it instead: it stays on those tickets but is no longer offered.",
            p.name, p.tickets
        )));
    }
    if !all.iter().any(|o| o.id != p.id && !o.retired) {
        return Err(refused(format!(
            "“{}” is the last active priority; one always remains.",
            p.name
        )));
    }
    repo::delete(&mut tx, ctx.tenant(), List::Priorities, p.id.0)
        .await
        .map_err(in_use_now(&p.name))?;
    ctx.audit(
        &mut tx,
        entry("priorities", "delete", &p.name, Some(p.name.clone()), None),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- types ----

const TYPE_NAME_MAX: usize = 40;

fn type_name_taken(e: sqlx::Error) -> AdminError {
    if name_taken(&e, &["ticket_types_tenant_name_key"]) {
        invalid("name", "A type with this name exists already.")
    } else {
        e.into()
    }
}

pub async fn add_type(ctx: Ctx<'_>, name: &str) -> AdminResult<()> {
    let name = check_name(name, TYPE_NAME_MAX).map_err(|e| invalid("name", e))?;
    let mut tx = ctx.begin().await?;
    repo::types(&mut tx, ctx.tenant()).await?;
    repo::insert_type(&mut tx, ctx.tenant(), &name)
        .await
        .map_err(type_name_taken)?;
    ctx.audit(
        &mut tx,
        entry("types", "add", &name, None, Some(name.clone())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn load_type(
    tx: &mut TenantTx,
    ctx: Ctx<'_>,
    id: &str,
) -> AdminResult<(Vec<repo::TypeRow>, repo::TypeRow)> {
    let id = TypeId(parse_id(id)?);
    let all = repo::types(tx, ctx.tenant()).await?;
    let found = all
        .iter()
        .find(|t| t.id == id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok((all, found))
}

pub async fn rename_type(ctx: Ctx<'_>, id: &str, name: &str) -> AdminResult<()> {
    let name = check_name(name, TYPE_NAME_MAX).map_err(|e| invalid("name", e));
    let mut tx = ctx.begin().await?;
    let (_, t) = load_type(&mut tx, ctx, id).await?;
    let name = name?;
    if t.name == name {
        return Ok(());
    }
    repo::rename_type(&mut tx, ctx.tenant(), t.id, &name)
        .await
        .map_err(type_name_taken)?;
    ctx.audit(
        &mut tx,
        entry("types", "rename", &t.name, Some(t.name.clone()), Some(name)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn move_type(ctx: Ctx<'_>, id: &str, up: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, t) = load_type(&mut tx, ctx, id).await?;
    let ids: Vec<Uuid> = all.iter().map(|t| t.id.0).collect();
    let Some(order) = moved(&ids, t.id.0, up) else {
        return Ok(());
    };
    repo::set_positions(&mut tx, ctx.tenant(), List::Types, &order).await?;
    ctx.audit(
        &mut tx,
        entry(
            "types",
            if up { "move up" } else { "move down" },
            &t.name,
            None,
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn retire_type(ctx: Ctx<'_>, id: &str, retire: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, t) = load_type(&mut tx, ctx, id).await?;
    if t.retired == retire {
        return Ok(());
    }
    if retire {
        if t.is_default {
            return Err(refused(format!(
                "“{}” is the default type. Make another type the default first.",
                t.name
            )));
        }
        if !all.iter().any(|o| o.id != t.id && !o.retired) {
            return Err(refused(format!(
                "“{}” is the last active type; one always remains.",
                t.name
            )));
        }
    }
    repo::set_retired(&mut tx, ctx.tenant(), List::Types, t.id.0, retire).await?;
    ctx.audit(
        &mut tx,
        entry(
            "types",
            if retire { "retire" } else { "unretire" },
            &t.name,
            None,
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn default_type(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, t) = load_type(&mut tx, ctx, id).await?;
    if t.is_default {
        return Ok(());
    }
    if t.retired {
        return Err(refused(format!(
            "“{}” is retired; bring it back before making it the default.",
            t.name
        )));
    }
    let before = all.iter().find(|o| o.is_default).map(|o| o.name.clone());
    repo::set_default_type(&mut tx, ctx.tenant(), t.id).await?;
    ctx.audit(
        &mut tx,
        entry(
            "types",
            "set default",
            "Default type",
            before,
            Some(t.name.clone()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_type(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, t) = load_type(&mut tx, ctx, id).await?;
    if t.is_default {
        return Err(refused(format!(
            "“{}” is the default type. Make another type the default first.",
            t.name
        )));
    }
    if repo::in_use(&mut tx, ctx.tenant(), List::Types, t.id.0).await? {
        return Err(refused(format!(
            "“{}” is in use by {} ticket(s) and cannot be deleted. Retire it instead: it stays on those tickets but is no longer offered.",
            t.name, t.tickets
        )));
    }
    if !all.iter().any(|o| o.id != t.id && !o.retired) {
        return Err(refused(format!(
            "“{}” is the last active type; one always remains.",
            t.name
        )));
    }
    repo::delete(&mut tx, ctx.tenant(), List::Types, t.id.0)
        .await
        .map_err(in_use_now(&t.name))?;
    ctx.audit(
        &mut tx,
        entry("types", "delete", &t.name, Some(t.name.clone()), None),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- categories ----

const CATEGORY_NAME_MAX: usize = 80;
pub const CATEGORY_MAX_DEPTH: i16 = 3;

fn category_name_taken(e: sqlx::Error) -> AdminError {
    if name_taken(&e, &["categories_sibling_name_key"]) {
        invalid(
            "name",
            "A category with this name exists at this place already.",
        )
    } else {
        e.into()
    }
}

/// "Technical › Access › Password reset".
pub fn category_path(all: &[repo::CategoryRow], id: CategoryId) -> String {
    let mut names = Vec::new();
    let mut next = all.iter().find(|c| c.id == id);
    while let Some(c) = next {
        names.push(c.name.as_str());
        if names.len() > CATEGORY_MAX_DEPTH as usize {
            break;
        }
        next = c
            .parent_id
            .and_then(|parent| all.iter().find(|p| p.id == parent));
    }
    names.reverse();
    names.join(" › ")
}

pub async fn add_category(ctx: Ctx<'_>, parent: &str, name: &str) -> AdminResult<()> {
    let name = check_name(name, CATEGORY_NAME_MAX).map_err(|e| invalid("name", e));
    let mut tx = ctx.begin().await?;
    let all = repo::categories(&mut tx, ctx.tenant()).await?;
    let parent = match parent.trim() {
        "" => None,
        raw => {
            let found = Uuid::try_parse(raw)
                .ok()
                .and_then(|id| all.iter().find(|c| c.id.0 == id));
            match found {
                Some(p) if p.depth < CATEGORY_MAX_DEPTH => Some((p.id, p.depth)),
                Some(_) => {
                    return Err(invalid(
                        "parent",
                        "Categories go three levels deep at most: choose a parent higher up.",
                    ));
                }
                None => return Err(invalid("parent", "Choose a parent from the list.")),
            }
        }
    };
    let name = name?;
    let depth = parent.map_or(1, |(_, depth)| depth + 1);
    let parent = parent.map(|(id, _)| id);
    let id = repo::insert_category(&mut tx, ctx.tenant(), parent, depth, &name)
        .await
        .map_err(category_name_taken)?;
    let mut all = all;
    all.push(repo::CategoryRow {
        id,
        parent_id: parent,
        name: name.clone(),
        depth,
        retired: false,
        tickets: 0,
    });
    let path = category_path(&all, id);
    ctx.audit(
        &mut tx,
        entry("categories", "add", &path, None, Some(path.clone())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn load_category(
    tx: &mut TenantTx,
    ctx: Ctx<'_>,
    id: &str,
) -> AdminResult<(Vec<repo::CategoryRow>, repo::CategoryRow)> {
    let id = CategoryId(parse_id(id)?);
    let all = repo::categories(tx, ctx.tenant()).await?;
    let found = all
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok((all, found))
}

pub async fn rename_category(ctx: Ctx<'_>, id: &str, name: &str) -> AdminResult<()> {
    let name = check_name(name, CATEGORY_NAME_MAX).map_err(|e| invalid("name", e));
    let mut tx = ctx.begin().await?;
    let (all, c) = load_category(&mut tx, ctx, id).await?;
    let name = name?;
    if c.name == name {
        return Ok(());
    }
    repo::rename_category(&mut tx, ctx.tenant(), c.id, &name)
        .await
        .map_err(category_name_taken)?;
    let path = category_path(&all, c.id);
    ctx.audit(
        &mut tx,
        entry(
            "categories",
            "rename",
            &path,
            Some(c.name.clone()),
            Some(name),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn move_category(ctx: Ctx<'_>, id: &str, up: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, c) = load_category(&mut tx, ctx, id).await?;
    let siblings: Vec<Uuid> = all
        .iter()
        .filter(|o| o.parent_id == c.parent_id)
        .map(|o| o.id.0)
        .collect();
    let Some(order) = moved(&siblings, c.id.0, up) else {
        return Ok(());
    };
    repo::set_positions(&mut tx, ctx.tenant(), List::Categories, &order).await?;
    let path = category_path(&all, c.id);
    ctx.audit(
        &mut tx,
        entry(
            "categories",
            if up { "move up" } else { "move down" },
            &path,
            None,
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn retire_category(ctx: Ctx<'_>, id: &str, retire: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, c) = load_category(&mut tx, ctx, id).await?;
    if c.retired == retire {
        return Ok(());
    }
    repo::set_retired(&mut tx, ctx.tenant(), List::Categories, c.id.0, retire).await?;
    let path = category_path(&all, c.id);
    ctx.audit(
        &mut tx,
        entry(
            "categories",
            if retire { "retire" } else { "unretire" },
            &path,
            None,
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_category(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, c) = load_category(&mut tx, ctx, id).await?;
    let path = category_path(&all, c.id);
    let children = all.iter().filter(|o| o.parent_id == Some(c.id)).count();
    if children > 0 {
        return Err(refused(format!(
            "“{path}” has {children} subcategories. Delete or retire those first, or retire this category instead."
        )));
    }
    if repo::in_use(&mut tx, ctx.tenant(), List::Categories, c.id.0).await? {
        return Err(refused(format!(
            "“{path}” is in use by {} ticket(s) and cannot be deleted. Retire it instead: it stays on those tickets but is no longer offered.",
            c.tickets
        )));
    }
    repo::delete(&mut tx, ctx.tenant(), List::Categories, c.id.0)
        .await
        .map_err(in_use_now(&path))?;
    ctx.audit(
        &mut tx,
        entry("categories", "delete", &path, Some(path.clone()), None),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- tags ----

/// A tag's new name, normalised as a ticket form would: exactly one tag.
pub fn check_tag_name(raw: &str) -> Result<String, String> {
    use crate::tickets::model::{TAG_MAX_CHARS, parse_tags};
    match parse_tags(raw).as_deref() {
        Ok([tag]) => Ok(tag.clone()),
        Ok([]) => Err("Enter a tag.".to_owned()),
        Ok(_) => Err("Enter one tag: a tag cannot contain a comma.".to_owned()),
        Err(_) if raw.contains(',') => {
            Err("Enter one tag: a tag cannot contain a comma.".to_owned())
        }
        Err(_) => Err(format!(
            "A tag has at most {TAG_MAX_CHARS} characters and no control characters."
        )),
    }
}

fn tickets_phrase(n: u64) -> String {
    if n == 1 {
        "1 ticket".to_owned()
    } else {
        format!("{n} tickets")
    }
}

/// Renames `tag` to `name` on every ticket that carries it; when some tickets
/// carry `name` already the two merge. `tag` is a stored tag as the page sent
/// it; one that no ticket carries is not found.
pub async fn rename_tag(ctx: Ctx<'_>, tag: &str, name: &str) -> AdminResult<()> {
    let name = check_tag_name(name).map_err(|e| invalid("name", e));
    let mut tx = ctx.begin().await?;
    if tag.is_empty() || !repo::tag_exists(&mut tx, ctx.tenant(), tag).await? {
        return Err(AppError::NotFound.into());
    }
    let name = name?;
    if name == tag {
        return Ok(());
    }
    let merge = repo::tag_exists(&mut tx, ctx.tenant(), &name).await?;
    let changed = repo::retag(
        &mut tx,
        ctx.tenant(),
        tag,
        Some(&name),
        ctx.admin.id,
        ctx.clock.now(),
    )
    .await?;
    if changed == 0 {
        // Another action took the tag off its last ticket meanwhile.
        return Err(AppError::NotFound.into());
    }
    let subject = format!("{tag} ({})", tickets_phrase(changed));
    ctx.audit(
        &mut tx,
        entry(
            "tags",
            if merge { "merge" } else { "rename" },
            &subject,
            Some(tag.to_owned()),
            Some(name),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes `tag` off every ticket that carries it (the tickets stay).
pub async fn delete_tag(ctx: Ctx<'_>, tag: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let changed = if tag.is_empty() {
        0
    } else {
        repo::retag(
            &mut tx,
            ctx.tenant(),
            tag,
            None,
            ctx.admin.id,
            ctx.clock.now(),
        )
        .await?
    };
    if changed == 0 {
        return Err(AppError::NotFound.into());
    }
    let subject = format!("{tag} ({})", tickets_phrase(changed));
    ctx.audit(
        &mut tx,
        entry("tags", "delete", &subject, Some(tag.to_owned()), None),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- users ----

/// What the new-user form sent.
#[derive(Clone, Debug, Default)]
pub struct NewUserInput {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
    /// Email an invitation with a set-password link (when no password is given).
    pub invite: bool,
}

pub async fn create_user(ctx: Ctx<'_>, input: NewUserInput) -> AdminResult<()> {
    let invite = input.invite && input.password.is_empty();
    let mut errors = FieldErrors::new();
    let email = normalize_email(&input.email).map_err(|_| {
        errors.insert(
            "email",
            "Enter an email address like ann@example.com.".to_owned(),
        )
    });
    let name = input.name.trim();
    if name.chars().count() > 120 || name.chars().any(char::is_control) {
        errors.insert("name", "A name has at most 120 characters.".to_owned());
    }
    let role = Role::parse(&input.role)
        .ok_or_else(|| errors.insert("role", "Choose customer, agent or admin.".to_owned()));
    let password = if input.password.is_empty() {
        None
    } else {
        if let Err(e) = check_password_strength(&input.password) {
            errors.insert("password", format!("Too weak: {e}."));
        }
        Some(input.password.clone())
    };
    let (Ok(email), Ok(role), true) = (email, role, errors.is_empty()) else {
        return Err(AdminError::Invalid(errors));
    };
    let user = NewUser::new(&email, Some(name), role, password).map_err(|e| invalid("email", e))?;
    let mut tx = ctx.begin().await?;
    let created = auth::service::create_user_in(&mut tx, user)
        .await
        .map_err(|e| match e {
            auth::service::CreateUserError::EmailTaken(_) => {
                invalid("email", "A user with this email exists already.")
            }
            auth::service::CreateUserError::Database(e) => e.into(),
            auth::service::CreateUserError::Internal(e) => e.into(),
        })?;
    if invite {
        passwords::service::issue_in(
            &mut tx,
            ctx.clock.now(),
            &created,
            passwords::service::Purpose::Invite,
            Some(&ctx.admin.name),
        )
        .await?;
    }
    ctx.audit(
        &mut tx,
        entry(
            "users",
            if invite { "invite" } else { "create" },
            &created.email,
            None,
            Some(format!("{} ({})", created.name, created.role.label())),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn load_user(tx: &mut TenantTx, ctx: Ctx<'_>, id: &str) -> AdminResult<repo::UserRow> {
    let id = UserId(parse_id(id)?);
    Ok(repo::find_user_for_update(tx, ctx.tenant(), id)
        .await?
        .ok_or(AppError::NotFound)?)
}

/// Refuses when `user` is the tenant's last active admin.
async fn ensure_not_last_admin(
    tx: &mut TenantTx,
    ctx: Ctx<'_>,
    user: &repo::UserRow,
    doing: &str,
) -> AdminResult<()> {
    if user.role != Role::Admin || !user.active {
        return Ok(());
    }
    let admins = repo::lock_active_admins(tx, ctx.tenant()).await?;
    if admins.iter().all(|id| *id == user.id) {
        return Err(refused(format!(
            "{} is the last active admin and cannot be {doing}. Make another user an admin first.",
            user.name
        )));
    }
    Ok(())
}

pub async fn change_role(ctx: Ctx<'_>, id: &str, role: &str) -> AdminResult<()> {
    let role = Role::parse(role);
    let mut tx = ctx.begin().await?;
    let user = load_user(&mut tx, ctx, id).await?;
    let role = role.ok_or_else(|| invalid("role", "Choose customer, agent or admin."))?;
    if user.role == role {
        return Ok(());
    }
    if role != Role::Admin {
        ensure_not_last_admin(&mut tx, ctx, &user, "demoted").await?;
    }
    let now = ctx.clock.now();
    repo::set_role(&mut tx, ctx.tenant(), user.id, role, now).await?;
    if !role.is_staff() {
        repo::remove_memberships(&mut tx, ctx.tenant(), user.id).await?;
    }
    ctx.audit(
        &mut tx,
        entry(
            "users",
            "change role",
            &user.email,
            Some(user.role.label().to_owned()),
            Some(role.label().to_owned()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_active(ctx: Ctx<'_>, id: &str, active: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let user = load_user(&mut tx, ctx, id).await?;
    if user.active == active {
        return Ok(());
    }
    if !active {
        if user.id == ctx.admin.id {
            return Err(refused(
                "You cannot deactivate your own account. Ask another admin to do it.",
            ));
        }
        ensure_not_last_admin(&mut tx, ctx, &user, "deactivated").await?;
    }
    repo::set_active(&mut tx, ctx.tenant(), user.id, active, ctx.clock.now()).await?;
    ctx.audit(
        &mut tx,
        entry(
            "users",
            if active { "reactivate" } else { "deactivate" },
            &user.email,
            Some(if active { "inactive" } else { "active" }.to_owned()),
            Some(if active { "active" } else { "inactive" }.to_owned()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_password(ctx: Ctx<'_>, id: &str, password: &str) -> AdminResult<()> {
    let id = parse_id(id)?;
    if let Err(e) = check_password_strength(password) {
        // Checked for existence first: an unknown id stays a 404.
        let mut tx = ctx.begin().await?;
        load_user(&mut tx, ctx, &id.to_string()).await?;
        return Err(invalid("password", format!("Too weak: {e}.")));
    }
    // Hashed before the transaction: no connection waits on argon2.
    let hash = auth::password::hash(password.to_owned()).await?;
    let mut tx = ctx.begin().await?;
    let user = load_user(&mut tx, ctx, &id.to_string()).await?;
    repo::set_password_hash(&mut tx, ctx.tenant(), user.id, &hash, ctx.clock.now()).await?;
    ctx.audit(
        &mut tx,
        entry(
            "users",
            "set password",
            &user.email,
            None,
            Some("(set by an admin)".to_owned()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Emails `id` a password reset link (valid 1 hour); older unused reset links
/// stop working.
pub async fn send_reset_link(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let row = load_user(&mut tx, ctx, id).await?;
    if !row.active {
        return Err(refused(format!(
            "{} is deactivated and cannot sign in. Reactivate the account first.",
            row.name
        )));
    }
    let user = auth::repo::find_user(&mut tx, ctx.tenant(), row.id)
        .await?
        .ok_or(AppError::NotFound)?;
    passwords::service::issue_in(
        &mut tx,
        ctx.clock.now(),
        &user,
        passwords::service::Purpose::Reset,
        None,
    )
    .await?;
    ctx.audit(
        &mut tx,
        entry(
            "users",
            "send reset link",
            &user.email,
            None,
            Some("(link emailed, valid 1 hour)".to_owned()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- groups ----

const GROUP_NAME_MAX: usize = 80;

fn group_name_taken(e: sqlx::Error) -> AdminError {
    if name_taken(&e, &["groups_tenant_name_key"]) {
        invalid("name", "A group with this name exists already.")
    } else {
        e.into()
    }
}

pub async fn create_group(ctx: Ctx<'_>, name: &str) -> AdminResult<()> {
    let name = check_name(name, GROUP_NAME_MAX).map_err(|e| invalid("name", e))?;
    let mut tx = ctx.begin().await?;
    repo::insert_group(&mut tx, ctx.tenant(), &name)
        .await
        .map_err(group_name_taken)?;
    ctx.audit(
        &mut tx,
        entry("groups", "create", &name, None, Some(name.clone())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn load_group(tx: &mut TenantTx, ctx: Ctx<'_>, id: &str) -> AdminResult<repo::GroupRow> {
    let id = GroupId(parse_id(id)?);
    Ok(repo::find_group_for_update(tx, ctx.tenant(), id)
        .await?
        .ok_or(AppError::NotFound)?)
}

pub async fn rename_group(ctx: Ctx<'_>, id: &str, name: &str) -> AdminResult<()> {
    let name = check_name(name, GROUP_NAME_MAX).map_err(|e| invalid("name", e));
    let mut tx = ctx.begin().await?;
    let group = load_group(&mut tx, ctx, id).await?;
    let name = name?;
    if group.name == name {
        return Ok(());
    }
    repo::rename_group(&mut tx, ctx.tenant(), group.id, &name)
        .await
        .map_err(group_name_taken)?;
    ctx.audit(
        &mut tx,
        entry(
            "groups",
            "rename",
            &group.name,
            Some(group.name.clone()),
            Some(name),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_group(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let group = load_group(&mut tx, ctx, id).await?;
    if group.tickets > 0 {
        return Err(refused(format!(
            "“{}” is assigned {} ticket(s) and cannot be deleted. Reassign those tickets first.",
            group.name, group.tickets
        )));
    }
    repo::delete_group(&mut tx, ctx.tenant(), group.id)
        .await
        .map_err(in_use_now(&group.name))?;
    ctx.audit(
        &mut tx,
        entry(
            "groups",
            "delete",
            &group.name,
            Some(group.name.clone()),
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn change_member(ctx: Ctx<'_>, id: &str, user: &str, add: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let group = load_group(&mut tx, ctx, id).await?;
    let Some(member) = Uuid::try_parse(user.trim()).ok() else {
        return Err(invalid("user", "Choose an agent or admin."));
    };
    let member = repo::find_user_for_update(&mut tx, ctx.tenant(), UserId(member))
        .await?
        .ok_or_else(|| invalid("user", "Choose an agent or admin."))?;
    let changed = if add {
        if !member.role.is_staff() || !member.active {
            return Err(invalid(
                "user",
                "Only active agents and admins can be group members.",
            ));
        }
        repo::add_member(&mut tx, ctx.tenant(), group.id, member.id).await?
    } else {
        repo::remove_member(&mut tx, ctx.tenant(), group.id, member.id).await?
    };
    if !changed {
        return Ok(());
    }
    ctx.audit(
        &mut tx,
        entry(
            "groups",
            if add { "add member" } else { "remove member" },
            &group.name,
            (!add).then(|| member.email.clone()),
            add.then(|| member.email.clone()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_scope(ctx: Ctx<'_>, id: &str, categories: Vec<String>) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let group = load_group(&mut tx, ctx, id).await?;
    let all = repo::categories(&mut tx, ctx.tenant()).await?;
    let mut chosen: Vec<CategoryId> = Vec::new();
    for raw in &categories {
        let found = Uuid::try_parse(raw.trim())
            .ok()
            .and_then(|id| all.iter().find(|c| c.id.0 == id));
        match found {
            Some(c) if !chosen.contains(&c.id) => chosen.push(c.id),
            Some(_) => {}
            None => return Err(invalid("categories", "Choose categories from the list.")),
        }
    }
    let before: Vec<CategoryId> = repo::group_categories(&mut tx, ctx.tenant())
        .await?
        .into_iter()
        .filter(|(g, _)| *g == group.id)
        .map(|(_, c)| c)
        .collect();
    let label = |ids: &[CategoryId]| {
        let mut names: Vec<String> = ids.iter().map(|id| category_path(&all, *id)).collect();
        names.sort();
        if names.is_empty() {
            "(all categories)".to_owned()
        } else {
            names.join(", ")
        }
    };
    let (before, after) = (label(&before), label(&chosen));
    if before == after {
        return Ok(());
    }
    repo::set_group_categories(&mut tx, ctx.tenant(), group.id, &chosen).await?;
    ctx.audit(
        &mut tx,
        entry(
            "groups",
            "change scope",
            &group.name,
            Some(before),
            Some(after),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_swaps_with_the_neighbour_and_stops_at_the_ends() {
        let [a, b, c] = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
        let ids = [a, b, c];
        assert_eq!(moved(&ids, b, true), Some(vec![b, a, c]));
        assert_eq!(moved(&ids, b, false), Some(vec![a, c, b]));
        assert_eq!(moved(&ids, a, true), None);
        assert_eq!(moved(&ids, c, false), None);
        assert_eq!(moved(&ids, Uuid::nil(), true), None);
    }

    #[test]
    fn colours_are_six_hex_digits() {
        assert_eq!(check_color("#A1b2C3").as_deref(), Ok("#a1b2c3"));
        for bad in ["", "#fff", "a1b2c3", "#a1b2c3d", "#ggggggg", "#gggggg"] {
            assert!(check_color(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn general_settings_are_checked_field_by_field() {
        let input = GeneralInput {
            name: " ".to_owned(),
            ticket_prefix: "TOO-LONG-PREFIX".to_owned(),
            reopen_window_days: "366".to_owned(),
            notification_email: "not-an-email".to_owned(),
            default_timezone: "UTC".to_owned(),
            ..GeneralInput::default()
        };
        let (_, errors) = check_general(&input);
        let fields: Vec<&str> = errors.keys().copied().collect();
        assert_eq!(
            fields,
            [
                "name",
                "notification_email",
                "reopen_window_days",
                "ticket_prefix"
            ]
        );
        let ok = GeneralInput {
            name: "Acme".to_owned(),
            ticket_prefix: "AC-".to_owned(),
            reopen_window_days: "0".to_owned(),
            default_timezone: "UTC".to_owned(),
            ..GeneralInput::default()
        };
        assert!(check_general(&ok).1.is_empty());
    }

    #[test]
    fn ranks_are_bounded_whole_numbers() {
        assert_eq!(check_rank(" 5 "), Ok(5));
        for bad in ["", "-1", "1001", "2.5", "x"] {
            assert!(check_rank(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_tag_name_is_one_normalised_tag() {
        assert_eq!(
            check_tag_name("  Printer  Jam ").as_deref(),
            Ok("printer-jam")
        );
        assert_eq!(check_tag_name("VIP,").as_deref(), Ok("vip"));
        for bad in ["", " , ", "a, b", &"x".repeat(41), "bad\u{7}tag"] {
            assert!(check_tag_name(bad).is_err(), "{bad:?}");
        }
    }
}
