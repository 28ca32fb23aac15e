//! The signed-in user's own settings (notification preferences), and the
//! unsubscribe link of ticket mail, which works without signing in.
//!
//! Invariants:
//! - a user changes only their own preferences; "only tickets assigned to me"
//!   is a staff preference (customers' forms do not show it and it is saved off);
//! - the unsubscribe link carries a token signed for tenant, user and ticket
//!   ([`crate::email::links`]); GET only shows what it would do, the POST (from
//!   that page, with its form token) stops the user following the ticket. A
//!   token that does not verify for this tenant changes nothing.

mod handlers;
pub mod repo;
pub mod service;
mod views;

use crate::state::AppState;
use axum::{Router, routing::get};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/account/notifications",
            get(handlers::preferences).post(handlers::save_preferences),
        )
        .route(
            "/{tenant}/account/timezone",
            axum::routing::post(handlers::save_timezone),
        )
        .route(
            "/{tenant}/unsubscribe",
            get(handlers::unsubscribe_page).post(handlers::unsubscribe),
        )
}
