//! Accounts and signing in.
//!
//! Invariants:
//! - a login belongs to one tenant: the session maps tenant → user, so one browser
//!   may be signed in to several tenants and a login in one grants nothing in another;
//! - the session id is replaced at sign-in (no fixation);
//! - an unknown email and a wrong password get the same answer, after the same work;
//! - failed sign-ins are counted per account and per client address in PostgreSQL,
//!   so the limit holds across instances; over the limit the answer is 429 with the
//!   number of seconds to wait;
//! - passwords are hashed with argon2id off the async runtime.

pub mod handlers;
pub mod model;
pub mod password;
pub mod repo;
pub mod service;
pub mod session;
pub mod session_store;
pub mod tokens;
mod views;

use crate::state::AppState;
use axum::{Router, routing::get};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/login",
            get(handlers::login_page).post(handlers::login),
        )
        .route("/{tenant}/logout", axum::routing::post(handlers::logout))
}
