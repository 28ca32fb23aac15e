//! The admin pages about mail: the outbox (what was sent, what failed, retry)
//! and, with inbound mail, the messages received and what was decided.

mod handlers;
mod views;

use crate::state::AppState;
use axum::{
    Router,
    routing::{get, post},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/admin/outbox", get(handlers::outbox))
        .route("/{tenant}/admin/outbox/retry", post(handlers::retry))
        .route("/{tenant}/admin/inbound", get(handlers::inbound))
        .route(
            "/{tenant}/admin/chat",
            get(handlers::chat).post(handlers::save_chat),
        )
        .route(
            "/{tenant}/admin/inbound/secret",
            post(handlers::new_inbound_secret),
        )
        .route(
            "/{tenant}/admin/inbound/settings",
            post(handlers::inbound_settings),
        )
}
