//! Password resets and invitations: set-password links sent by email.
//!
//! Invariants:
//! - a link's token is 256 random bits ([`crate::auth::tokens::random_token`]);
//!   the database keeps only its SHA-256 (`account_tokens.token_hash`), so a copy
//!   of the database opens no account;
//! - a token is single use, expires (reset: 1 hour, invitation: 7 days), belongs
//!   to one tenant (row-level security: a token of tenant A is unknown in B) and
//!   works only for an active user; issuing a new token of the same purpose
//!   retires the user's older unused ones, and setting a password retires all of
//!   them;
//! - "forgot password" answers the same redirect and page whether or not the
//!   address has an account; an active account gets at most 3 reset emails an
//!   hour (more requests are dropped silently, so the answer still says nothing);
//! - the token travels as a query parameter (`/password/reset?token=…`) and then
//!   in the form body, never in a path: request logs record the path only. The
//!   set-password pages send `Referrer-Policy: no-referrer` and `no-store`;
//! - setting a password changes the hash, retires the tokens and ends every
//!   other session of the user (a session signed in as that user that makes the
//!   change stays, under a fresh id); the sign-in throttle stays as it is. The
//!   email is written to the outbox in the transaction that creates the token.

mod handlers;
pub mod repo;
pub mod service;
mod views;

use crate::state::AppState;
use axum::{Router, routing::get};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/password/forgot",
            get(handlers::forgot_page).post(handlers::forgot),
        )
        .route(
            "/{tenant}/password/reset",
            get(handlers::reset_page).post(handlers::reset),
        )
}
