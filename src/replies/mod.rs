//! Replies and internal notes on a ticket.
//!
//! Invariants:
//! - internal notes are staff-only: never listed, counted or searchable for
//!   customers (the search document leaves them out);
//! - a reply is never lost: every edit and delete keeps the earlier text as a
//!   revision, and deletes are soft (staff see who deleted it);
//! - replying moves the ticket's last-reply and first-response times in the same
//!   transaction, and the replying agent starts following.

mod handlers;
pub mod repo;
pub mod service;
mod views;

use crate::state::AppState;
use axum::{
    Router,
    routing::{get, post},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/tickets/{number}/replies", post(handlers::create))
        .route(
            "/{tenant}/tickets/{number}/replies/{reply}/edit",
            get(handlers::edit_form),
        )
        .route(
            "/{tenant}/tickets/{number}/replies/{reply}",
            post(handlers::update),
        )
        .route(
            "/{tenant}/tickets/{number}/replies/{reply}/delete",
            post(handlers::delete),
        )
}
