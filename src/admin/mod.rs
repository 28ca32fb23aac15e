//! Admin settings: the tenant's general settings, its lists (statuses,
//! priorities, types, categories), its tags, users, groups and the admin audit log.
//!
//! Invariants:
//! - every route takes the [`Admin`](crate::web::extract::Admin) extractor: agents
//!   and customers get 404, anonymous callers the login page;
//! - all work runs in one tenant transaction per action ([`crate::db::TenantTx`],
//!   row-level security), and every change writes its `admin_audit_log` row
//!   (who, area, action, subject, before → after) in that same transaction;
//! - the lifecycle categories `new`, `resolved` and `closed` keep exactly one
//!   status each; `open` and `waiting` always keep at least one status that is
//!   not retired; a category's default status is never retired;
//! - a ticket's copied `priority_rank` follows its priority's rank in the
//!   transaction that changes the rank (the list sorts by the copy);
//! - nothing in use is deleted (a status, priority, type or category with
//!   tickets, a category with children, a group with tickets): the action is
//!   refused with a message saying why;
//! - a tenant always keeps an active admin: the last one cannot be demoted or
//!   deactivated;
//! - tags have no table of their own: they live in `tickets.tags`. Renaming or
//!   deleting one rewrites every ticket that carries it in one statement
//!   (renaming onto an existing tag merges, leaving no duplicates), bumps each
//!   changed ticket's `version` and `updated_at` and writes one staff-only
//!   activity event per ticket. A tag that no ticket carries is not found (404),
//!   like an unknown id.
//!
//! Ids of rows travel in the form body (`id`), not the path, so every URL here is
//! a fixed page or action.

mod handlers;
mod mail;
pub mod repo;
pub mod service;
mod views;

/// The timezone suggestions of the general settings, offered to users too.
pub use views::TIMEZONES;

use crate::state::AppState;
use axum::{
    Router,
    routing::{get, post},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/admin", get(handlers::overview))
        .route(
            "/{tenant}/admin/general",
            get(handlers::general).post(handlers::save_general),
        )
        .route(
            "/{tenant}/admin/guests",
            get(handlers::guests).post(handlers::save_guests),
        )
        .route(
            "/{tenant}/admin/general/attachments",
            post(handlers::save_attachment_settings),
        )
        .route(
            "/{tenant}/admin/statuses",
            get(handlers::statuses).post(handlers::add_status),
        )
        .route(
            "/{tenant}/admin/statuses/update",
            post(handlers::update_status),
        )
        .route("/{tenant}/admin/statuses/move", post(handlers::move_status))
        .route(
            "/{tenant}/admin/statuses/retire",
            post(handlers::retire_status),
        )
        .route(
            "/{tenant}/admin/statuses/default",
            post(handlers::default_status),
        )
        .route(
            "/{tenant}/admin/statuses/delete",
            post(handlers::delete_status),
        )
        .route(
            "/{tenant}/admin/priorities",
            get(handlers::priorities).post(handlers::add_priority),
        )
        .route(
            "/{tenant}/admin/priorities/update",
            post(handlers::update_priority),
        )
        .route(
            "/{tenant}/admin/priorities/retire",
            post(handlers::retire_priority),
        )
        .route(
            "/{tenant}/admin/priorities/default",
            post(handlers::default_priority),
        )
        .route(
            "/{tenant}/admin/priorities/delete",
            post(handlers::delete_priority),
        )
        .route(
            "/{tenant}/admin/types",
            get(handlers::types).post(handlers::add_type),
        )
        .route("/{tenant}/admin/types/update", post(handlers::update_type))
        .route("/{tenant}/admin/types/move", post(handlers::move_type))
        .route("/{tenant}/admin/types/retire", post(handlers::retire_type))
        .route(
            "/{tenant}/admin/types/default",
            post(handlers::default_type),
        )
        .route("/{tenant}/admin/types/delete", post(handlers::delete_type))
        .route(
            "/{tenant}/admin/categories",
            get(handlers::categories).post(handlers::add_category),
        )
        .route(
            "/{tenant}/admin/categories/update",
            post(handlers::update_category),
        )
        .route(
            "/{tenant}/admin/categories/move",
            post(handlers::move_category),
        )
        .route(
            "/{tenant}/admin/categories/retire",
            post(handlers::retire_category),
        )
        .route(
            "/{tenant}/admin/categories/delete",
            post(handlers::delete_category),
        )
        .route("/{tenant}/admin/tags", get(handlers::tags))
        .route("/{tenant}/admin/tags/rename", post(handlers::rename_tag))
        .route("/{tenant}/admin/tags/delete", post(handlers::delete_tag))
        .route(
            "/{tenant}/admin/users",
            get(handlers::users).post(handlers::create_user),
        )
        .route("/{tenant}/admin/users/role", post(handlers::change_role))
        .route("/{tenant}/admin/users/active", post(handlers::set_active))
        .route(
            "/{tenant}/admin/users/password",
            post(handlers::set_password),
        )
        .route(
            "/{tenant}/admin/users/reset-link",
            post(handlers::send_reset_link),
        )
        .route(
            "/{tenant}/admin/groups",
            get(handlers::groups).post(handlers::create_group),
        )
        .route(
            "/{tenant}/admin/groups/update",
            post(handlers::update_group),
        )
        .route(
            "/{tenant}/admin/groups/delete",
            post(handlers::delete_group),
        )
        .route(
            "/{tenant}/admin/groups/members",
            post(handlers::group_members),
        )
        .route("/{tenant}/admin/groups/scope", post(handlers::group_scope))
        .route(
            "/{tenant}/admin/groups/auto-assign",
            post(handlers::group_auto_assign),
        )
        .route("/{tenant}/admin/audit", get(handlers::audit))
        .merge(mail::routes())
}
