//! Ticket ids, numbers, the per-tenant option lists, and validated input.

use crate::db::{TenantId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

crate::db::id_newtype!(
    /// A ticket.
    TicketId
);
crate::db::id_newtype!(
    /// One of a tenant's statuses.
    StatusId
);
crate::db::id_newtype!(
    /// One of a tenant's priorities.
    PriorityId
);
crate::db::id_newtype!(
    /// One of a tenant's ticket types.
    TypeId
);
crate::db::id_newtype!(
    /// A node of a tenant's category tree.
    CategoryId
);
crate::db::id_newtype!(
    /// A group (team) of agents.
    GroupId
);

pub const SUBJECT_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 100_000;
pub const TAG_MAX_CHARS: usize = 40;
pub const RESOLUTION_NOTES_MAX_CHARS: usize = 20_000;
pub const MAX_TAGS: usize = 20;

/// The fixed lifecycle categories a tenant's statuses belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type, Serialize, Deserialize)]
#[sqlx(type_name = "status_category", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum StatusCategory {
    New,
    Open,
    Waiting,
    Resolved,
    Closed,
}

impl StatusCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCategory::New => "new",
            StatusCategory::Open => "open",
            StatusCategory::Waiting => "waiting",
            StatusCategory::Resolved => "resolved",
            StatusCategory::Closed => "closed",
        }
    }
}

/// A ticket number as people see it: the tenant's prefix and six digits.
pub fn display_number(prefix: &str, number: i64) -> String {
    format!("{prefix}{number:06}")
}

/// Reads a ticket number as people type it: `13`, `000013`, `TKT-13`, `tkt-000013`.
pub fn parse_number(prefix: &str, input: &str) -> Option<i64> {
    let input = input.trim();
    let digits = if input.len() > prefix.len()
        && input.is_char_boundary(prefix.len())
        && input[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        &input[prefix.len()..]
    } else {
        input.trim_start_matches('#')
    };
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n > 0)
}

#[derive(Clone, Debug, sqlx::FromRow, Deserialize)]
pub struct Status {
    pub id: StatusId,
    pub name: String,
    pub category: StatusCategory,
    pub color: String,
    pub is_default: bool,
    pub retired: bool,
}

#[derive(Clone, Debug, sqlx::FromRow, Deserialize)]
pub struct Priority {
    pub id: PriorityId,
    pub name: String,
    pub rank: i32,
    pub color: String,
    pub is_default: bool,
    pub retired: bool,
}

#[derive(Clone, Debug, sqlx::FromRow, Deserialize)]
pub struct TicketType {
    pub id: TypeId,
    pub name: String,
    pub is_default: bool,
    pub retired: bool,
}

#[derive(Clone, Debug, sqlx::FromRow, Deserialize)]
pub struct Category {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub name: String,
    pub depth: i16,
    pub retired: bool,
}

/// One ticket with everything its pages show (names resolved).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Ticket {
    pub tenant_id: TenantId,
    pub id: TicketId,
    pub number: i64,
    pub subject: String,
    pub description: String,
    pub type_id: TypeId,
    pub priority_id: PriorityId,
    pub status_id: StatusId,
    pub status_category: StatusCategory,
    pub category_id: Option<CategoryId>,
    pub requester_id: UserId,
    pub requester_name: String,
    pub requester_email: String,
    pub assignee_id: Option<UserId>,
    pub assignee_name: Option<String>,
    pub group_id: Option<GroupId>,
    pub tags: Vec<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub last_reply_at: Option<OffsetDateTime>,
    pub resolved_at: Option<OffsetDateTime>,
    pub closed_at: Option<OffsetDateTime>,
    pub reopened: bool,
    /// Shown to the requester; kept when the ticket is reopened.
    pub resolution_notes: Option<String>,
    pub version: i32,
}

/// Normalises tags: trimmed, lowercase, inner whitespace as `-`, no duplicates.
pub fn parse_tags(input: &str) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for raw in input.split(',') {
        let tag = raw
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-")
            .to_lowercase();
        if tag.is_empty() {
            continue;
        }
        if tag.chars().count() > TAG_MAX_CHARS || tag.chars().any(char::is_control) {
            return Err(format!("a tag has at most {TAG_MAX_CHARS} characters"));
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} tags"));
    }
    Ok(tags)
}

/// Checks a subject: required, at most 200 characters, no control characters.
pub fn check_subject(subject: &str) -> Result<String, String> {
    let subject = subject.trim();
    if subject.is_empty() {
        return Err("Enter a subject.".to_owned());
    }
    if subject.chars().count() > SUBJECT_MAX_CHARS {
        return Err(format!(
            "The subject is too long: at most {SUBJECT_MAX_CHARS} characters."
        ));
    }
    Ok(subject.chars().filter(|c| !c.is_control()).collect())
}

pub fn check_description(description: &str) -> Result<String, String> {
    if description.chars().count() > DESCRIPTION_MAX_CHARS {
        return Err(format!(
            "The description is too long: at most {DESCRIPTION_MAX_CHARS} characters."
        ));
    }
    Ok(description.trim_end().replace("\r\n", "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_shown_with_the_prefix_and_six_digits() {
        assert_eq!(display_number("TKT-", 13), "TKT-000013");
        assert_eq!(display_number("", 1234567), "1234567");
    }

    #[test]
    fn numbers_are_read_the_ways_people_type_them() {
        for input in [
            "13",
            "000013",
            "TKT-13",
            "tkt-000013",
            " TKT-000013 ",
            "#13",
        ] {
            assert_eq!(parse_number("TKT-", input), Some(13), "{input}");
        }
        for input in [
            "",
            "TKT-",
            "13a",
            "0",
            "-13",
            "TKT-x",
            "printer",
            "9999999999999",
        ] {
            assert_eq!(parse_number("TKT-", input), None, "{input}");
        }
    }

    #[test]
    fn tags_are_normalised_and_deduplicated() {
        assert_eq!(
            parse_tags(" VIP, printer jam,vip ,, "),
            Ok(vec!["vip".to_owned(), "printer-jam".to_owned()])
        );
        assert!(parse_tags(&"x".repeat(41)).is_err());
    }

    #[test]
    fn subjects_are_required_and_bounded() {
        assert!(check_subject("  ").is_err());
        assert!(check_subject(&"é".repeat(201)).is_err());
        assert_eq!(
            check_subject(" Printer on fire ").as_deref(),
            Ok("Printer on fire")
        );
    }
}
