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

    /// Audits each setting of `area` whose value changed: (label, before, after),
    /// empty values recorded as none.
    async fn audit_settings(
        &self,
        tx: &mut TenantTx,
        area: &str,
        changes: &[(&str, String, String)],
    ) -> AdminResult<()> {
        for (subject, before, after) in changes {
            if before != after {
                let value = |v: &String| Some(v.clone()).filter(|v| !v.is_empty());
                self.audit(
                    tx,
                    entry(area, "update", subject, value(before), value(after)),
                )
                .await?;
            }
        }
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

mod attachment_settings;
mod categories;
mod chat;
mod general;
mod groups;
mod guests;
mod inbound;
mod outbox;
mod priorities;
mod statuses;
mod tags;
mod types;
mod users;

pub use attachment_settings::*;
pub use categories::*;
pub use chat::*;
pub use general::*;
pub use groups::*;
pub use guests::*;
pub use inbound::*;
pub use outbox::*;
pub use priorities::*;
pub use statuses::*;
pub use tags::*;
pub use types::*;
pub use users::*;

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
