//! Reply-by-email: mail services and MTAs post each inbound message, raw
//! (RFC 822), to `POST /{tenant}/api/inbound-email` with the tenant's secret as
//! `Authorization: Bearer …`. The rules are in [`service`].
//!
//! Invariants:
//! - without the tenant's secret (or when the tenant has none) the answer is
//!   401 and nothing is read or recorded; the secret is stored as a SHA-256
//!   hash and compared in constant time;
//! - the route takes no form token (it is not a browser form: the secret
//!   authenticates it; see [`crate::web::csrf`]) and reads at most
//!   `email.inbound_max_bytes` (a larger message is recorded as rejected);
//! - every message that is read is recorded with its decision and reason
//!   (`inbound_emails`, shown on the admin page), and nothing but a match by
//!   the rules ever becomes a reply.

mod handlers;
pub mod parse;
pub mod repo;
pub mod service;

use crate::state::AppState;
use axum::{Router, routing::post};

/// The endpoint's path under a tenant.
pub const ENDPOINT: &str = "/api/inbound-email";

/// Whether `path` is a tenant's inbound endpoint (`/{tenant}/api/inbound-email`).
pub fn is_endpoint(path: &str) -> bool {
    path.strip_suffix(ENDPOINT)
        .is_some_and(|tenant| tenant.len() > 1 && tenant[1..].find('/').is_none())
}

/// SHA-256 (hex) of an inbound secret, as stored.
pub fn secret_hash(secret: &str) -> String {
    use sha2::{Digest as _, Sha256};
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/{tenant}/api/inbound-email", post(handlers::receive))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_tenant_endpoint_path_is_recognised() {
        assert!(is_endpoint("/acme/api/inbound-email"));
        assert!(!is_endpoint("/api/inbound-email"));
        assert!(!is_endpoint("/acme/x/api/inbound-email"));
        assert!(!is_endpoint("/acme/api/inbound-email/x"));
        assert!(!is_endpoint("/acme/tickets"));
    }
}
