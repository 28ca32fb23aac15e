//! Guests: people without an account who file a ticket at `/{t}/submit` (when
//! the tenant allows it) and follow it through a secret access link.
//!
//! - A guest is a contact: a customer row without a password, found or created
//!   by email. Their ticket is an ordinary ticket with them as requester.
//! - An access link `/{t}/access/{token}` carries 256 random bits; only their
//!   SHA-256 is stored (`ticket_access_links`). It opens one ticket, acting as
//!   its requester, while the ticket is open and for 30 days after it closes,
//!   until staff revoke the ticket's links. Every notification to a guest
//!   requester carries a fresh link (see `email::notify`), as does the "lost
//!   your link?" email.
//! - The first visit trades the token for an `HttpOnly` cookie whose path is
//!   that ticket's guest pages (`/{t}/access/tickets/{number}`), and redirects
//!   there: the token leaves the address bar and history, and the request log
//!   never shows it ([`redact_token`]). The pages send `Referrer-Policy:
//!   no-referrer` and `X-Robots-Tag: noindex`.
//! - The cookie grants what the requester may do on that ticket (read the
//!   conversation without notes, reply, download, follow) and nothing else: no
//!   list, no other ticket, no sign-in.
//! - Abuse: accepted submissions and link requests are counted per client
//!   address and per email per hour; open tickets per email per day are capped;
//!   a honeypot field catches form robots. All limits are tenant settings.

mod email;
mod handlers;
pub mod repo;
pub mod service;
mod views;

use crate::state::AppState;
use axum::{
    Router,
    http::{HeaderName, HeaderValue, header},
    routing::{get, post},
};
use std::borrow::Cow;
use tower_http::set_header::SetResponseHeaderLayer;

/// The cookie that carries an access token, scoped to one ticket's guest pages.
pub const ACCESS_COOKIE: &str = "tessera_access";

pub fn routes() -> Router<AppState> {
    let access = Router::new()
        .route("/{tenant}/access/{token}", get(handlers::access))
        .route("/{tenant}/access/tickets/{number}", get(handlers::ticket))
        .route(
            "/{tenant}/access/tickets/{number}/replies",
            post(handlers::reply),
        )
        .route(
            "/{tenant}/access/tickets/{number}/follow",
            post(handlers::follow),
        )
        .route(
            "/{tenant}/access/tickets/{number}/attachments/{id}",
            get(handlers::download),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-robots-tag"),
            HeaderValue::from_static("noindex, nofollow"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        ));
    Router::new()
        .route(
            "/{tenant}/submit",
            get(handlers::submit_page).post(handlers::submit),
        )
        .route("/{tenant}/submit/link", post(handlers::request_link))
        .route(
            "/{tenant}/submit/category-options",
            get(handlers::category_options),
        )
        .route(
            "/{tenant}/tickets/{number}/access-links/revoke",
            post(handlers::revoke),
        )
        .merge(access)
}

/// The request path as logs may show it: whatever follows `/{t}/access/`
/// (but the guest pages under `tickets/`) may be a token, and becomes `…`.
pub fn redact_token(path: &str) -> Cow<'_, str> {
    let mut segments = path.splitn(4, '/');
    match (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) {
        (Some(""), Some(tenant), Some("access"), Some(rest))
            if rest != "tickets" && !rest.starts_with("tickets/") =>
        {
            Cow::Owned(format!("/{tenant}/access/…"))
        }
        _ => Cow::Borrowed(path),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_token;

    #[test]
    fn access_tokens_never_reach_the_log() {
        assert_eq!(redact_token("/acme/access/AbC_123-x"), "/acme/access/…");
        assert_eq!(
            redact_token("/acme/access/tickets/42"),
            "/acme/access/tickets/42"
        );
        assert_eq!(redact_token("/acme/tickets/42"), "/acme/tickets/42");
        assert_eq!(redact_token("/acme/access/x/y"), "/acme/access/…");
        assert_eq!(redact_token("/acme/access/tok/"), "/acme/access/…");
    }
}
