//! Tickets: the list, create, detail, edit, following and the activity log;
//! assignment, queues, bulk actions and saved views.
//!
//! Invariants:
//! - a ticket is addressed by its per-tenant `number`, handed out gaplessly in the
//!   creating transaction;
//! - who may see or change a ticket is decided in `access` and nowhere else; a
//!   ticket the caller may not see answers 404 ([`load_visible`]);
//! - every change writes its activity events, follower changes and counters in
//!   the same transaction;
//! - the list is keyset-paged and index-served, and counts at most `list::COUNT_CAP`
//!   tickets (unfiltered totals come from the status counters).

pub mod access;
pub mod assignment;
pub mod bulk;
pub mod catalog;
mod detail_context;
pub mod events;
pub(crate) mod handlers;
pub mod lifecycle;
pub mod list;
pub mod model;
pub mod options;
mod queue_handlers;
pub mod repo;
pub mod saved_views;
pub mod service;
pub(crate) mod views;

use crate::{auth::model::User, error::AppError, state::AppState};
use axum::{
    Router,
    routing::{get, post},
};
use model::Ticket;
use sqlx::PgConnection;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/tickets",
            get(handlers::list).post(handlers::create),
        )
        .route("/{tenant}/tickets/new", get(handlers::new_form))
        .route("/{tenant}/tickets/side", get(handlers::side))
        .route(
            "/{tenant}/tickets/category-options",
            get(handlers::category_options),
        )
        .route("/{tenant}/tickets/preview", post(handlers::preview))
        .route(
            "/{tenant}/tickets/{number}",
            get(handlers::detail).post(handlers::update),
        )
        .route("/{tenant}/tickets/{number}/edit", get(handlers::edit_form))
        .route(
            "/{tenant}/tickets/{number}/activity",
            get(handlers::activity),
        )
        .route("/{tenant}/tickets/{number}/follow", post(handlers::follow))
        .route("/{tenant}/tickets/{number}/reopen", post(handlers::reopen))
        .route("/{tenant}/tickets/{number}/assign", post(handlers::assign))
        .route("/{tenant}/tickets/bulk", post(queue_handlers::bulk))
        .route(
            "/{tenant}/views",
            get(queue_handlers::manage).post(queue_handlers::create),
        )
        .route("/{tenant}/views/{id}", post(queue_handlers::update))
        .route("/{tenant}/views/{id}/move", post(queue_handlers::reorder))
        .route("/{tenant}/views/{id}/delete", post(queue_handlers::delete))
        .route(
            "/{tenant}/availability",
            post(queue_handlers::set_availability),
        )
}

/// The ticket `number` if `user` may see it; otherwise 404, whether it exists or not.
pub async fn load_visible(
    conn: &mut PgConnection,
    user: &User,
    number: i64,
) -> Result<Ticket, AppError> {
    repo::find_by_number(conn, user.tenant_id, number)
        .await?
        .filter(|ticket| access::can_see_ticket(user, ticket))
        .ok_or(AppError::NotFound)
}
