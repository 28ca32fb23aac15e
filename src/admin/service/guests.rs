//! Guest settings: which fields guests choose, and the abuse limits.

use super::*;
use crate::guests::repo::{self as guest_repo, GuestSettings};

/// What the guest settings form sent.
#[derive(Clone, Debug, Default)]
pub struct GuestSettingsInput {
    pub show_type: bool,
    pub show_priority: bool,
    pub hourly_limit: String,
    pub daily_open_tickets: String,
}

impl GuestSettingsInput {
    pub fn from_settings(s: &GuestSettings) -> Self {
        Self {
            show_type: s.guest_show_type,
            show_priority: s.guest_show_priority,
            hourly_limit: s.guest_hourly_limit.to_string(),
            daily_open_tickets: s.guest_daily_open_tickets.to_string(),
        }
    }
}

fn whole_number(
    raw: &str,
    range: std::ops::RangeInclusive<i32>,
    field: &'static str,
    errors: &mut FieldErrors,
) -> i32 {
    raw.trim()
        .parse::<i32>()
        .ok()
        .filter(|n| range.contains(n))
        .unwrap_or_else(|| {
            errors.insert(
                field,
                format!(
                    "Enter a whole number from {} to {}.",
                    range.start(),
                    range.end()
                ),
            );
            *range.start()
        })
}

pub async fn save_guest_settings(ctx: Ctx<'_>, input: &GuestSettingsInput) -> AdminResult<()> {
    let mut errors = FieldErrors::new();
    let hourly = whole_number(&input.hourly_limit, 1..=1000, "hourly_limit", &mut errors);
    let daily = whole_number(
        &input.daily_open_tickets,
        1..=100,
        "daily_open_tickets",
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(AdminError::Invalid(errors));
    }
    let mut tx = ctx.begin().await?;
    let tenant = ctx.tenant();
    let old = guest_repo::settings(&mut tx, tenant).await?;
    let new = GuestSettings {
        guest_show_type: input.show_type,
        guest_show_priority: input.show_priority,
        guest_hourly_limit: hourly,
        guest_daily_open_tickets: daily,
        ..old
    };
    guest_repo::save_settings(&mut tx, tenant, &new, ctx.clock.now()).await?;
    let changes = [
        (
            "Guests choose the type",
            yes_no(old.guest_show_type),
            yes_no(new.guest_show_type),
        ),
        (
            "Guests choose the priority",
            yes_no(old.guest_show_priority),
            yes_no(new.guest_show_priority),
        ),
        (
            "Guest requests per hour",
            old.guest_hourly_limit.to_string(),
            new.guest_hourly_limit.to_string(),
        ),
        (
            "Open guest tickets per email per day",
            old.guest_daily_open_tickets.to_string(),
            new.guest_daily_open_tickets.to_string(),
        ),
    ];
    ctx.audit_settings(&mut tx, "guests", &changes).await?;
    tx.commit().await?;
    Ok(())
}
