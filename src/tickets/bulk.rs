//! Bulk actions on the tickets selected in the staff list: assign, status
//! (resolve with one set of notes), priority, add or remove a tag, follow.
//!
//! Invariants:
//! - one transaction per action: every selected ticket changes, or none does;
//! - each ticket goes through the same rule as its own edit
//!   ([`service::edit_in`], [`service::set_following_in`]), so it gets its own
//!   activity events, and its followers one email about it.

use super::{
    model::{display_number, parse_tags},
    options::TicketOptions,
    service::{self, SaveError, TicketInput},
};
use crate::{auth::model::User, clock::Clock, db::Db, error::AppError};

/// At most this many tickets per action (ten list pages).
pub const MAX_TICKETS: usize = 500;

#[derive(Debug, Clone)]
pub enum BulkAction {
    Assign {
        assignee: String,
    },
    Status {
        status: String,
        resolution_notes: String,
    },
    Priority {
        priority: String,
    },
    AddTag {
        tag: String,
    },
    RemoveTag {
        tag: String,
    },
    Follow,
}

#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    /// Nothing was saved; worded for the list's notice.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for BulkError {
    fn from(error: sqlx::Error) -> Self {
        BulkError::App(error.into())
    }
}

/// Applies `action` to tickets `numbers`; returns how many there were.
pub async fn apply(
    db: &Db,
    clock: &Clock,
    actor: &User,
    numbers: &[i64],
    action: &BulkAction,
) -> Result<usize, BulkError> {
    if !actor.role.is_staff() {
        return Err(AppError::NotFound.into());
    }
    let mut numbers = numbers.to_vec();
    numbers.sort_unstable();
    numbers.dedup();
    if numbers.is_empty() {
        return Err(BulkError::Invalid("Select at least one ticket.".to_owned()));
    }
    if numbers.len() > MAX_TICKETS {
        return Err(BulkError::Invalid(format!(
            "Select at most {MAX_TICKETS} tickets at a time."
        )));
    }
    if let BulkAction::AddTag { tag } | BulkAction::RemoveTag { tag } = action
        && !parse_tags(tag).is_ok_and(|tags| tags.len() == 1)
    {
        return Err(BulkError::Invalid("Enter one tag.".to_owned()));
    }
    let tenant = actor.tenant_id;
    let mut tx = db.tenant_tx(tenant).await?;
    let options = TicketOptions::load(&mut tx, tenant).await?;
    let prefix = super::repo::ticket_prefix(&mut tx, tenant).await?;
    let now = clock.now();
    // Ascending numbers: two bulk actions over the same tickets lock them in
    // the same order, so they queue instead of deadlocking.
    for &number in &numbers {
        let refused = |why: String| {
            BulkError::Invalid(format!(
                "{}: {why} Nothing was changed.",
                display_number(&prefix, number)
            ))
        };
        let ticket = match super::load_visible(&mut tx, actor, number).await {
            Ok(ticket) => ticket,
            Err(AppError::NotFound) => return Err(refused("no such ticket.".to_owned())),
            Err(error) => return Err(error.into()),
        };
        let mut input = TicketInput {
            version: None,
            loaded_at: None,
            ..TicketInput::from_ticket(&ticket, &options)
        };
        match action {
            BulkAction::Follow => {
                service::set_following_in(&mut tx, now, actor, ticket.id, true).await?;
                continue;
            }
            BulkAction::Assign { assignee } => input.assignee = assignee.clone(),
            BulkAction::Status {
                status,
                resolution_notes,
            } => {
                input.status = status.clone();
                if !resolution_notes.trim().is_empty() {
                    input.resolution_notes = Some(resolution_notes.clone());
                }
            }
            BulkAction::Priority { priority } => input.priority = priority.clone(),
            BulkAction::AddTag { tag } => input.tags = format!("{}, {tag}", input.tags),
            BulkAction::RemoveTag { tag } => {
                let tag = tag.trim().to_lowercase();
                input.tags = ticket
                    .tags
                    .iter()
                    .filter(|t| **t != tag)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
            }
        }
        // A blank choice would mean "keep" (or, for the assignee, "nobody") to
        // the edit rule: refuse it here; unassigning is the explicit "unassigned".
        let blank = match action {
            BulkAction::Status { status, .. } => status.trim().is_empty(),
            BulkAction::Priority { priority } => priority.trim().is_empty(),
            BulkAction::Assign { assignee } => assignee.trim().is_empty(),
            _ => false,
        };
        if blank {
            return Err(BulkError::Invalid("Choose a value first.".to_owned()));
        }
        match service::edit_in(&mut tx, &options, now, actor, number, input).await {
            Ok(()) => {}
            Err(SaveError::Invalid(errors)) => {
                let why = errors.into_values().next().unwrap_or_default();
                return Err(refused(why));
            }
            Err(SaveError::Stale { .. }) => return Err(refused("it changed.".to_owned())),
            Err(SaveError::App(error)) => return Err(error.into()),
        }
    }
    tx.commit().await?;
    Ok(numbers.len())
}
