//! General settings: name, number prefix, reopen window, guest submission, notification address, timezone.

use super::*;

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
pub(super) fn check_general(input: &GeneralInput) -> (Settings, FieldErrors) {
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
    ctx.audit_settings(&mut tx, "general", &changes).await?;
    tx.commit().await?;
    Ok(())
}
