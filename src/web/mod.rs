//! The HTTP layer: router assembly, middleware, extractors and page chrome.
//!
//! Layer order, outermost first (a request passes them top to bottom):
//! 1. request id (set, then propagated to the response);
//! 2. tracing span per request (method, path without query, request id, tenant);
//! 3. security headers on every response, error pages included;
//! 4. error pages: any 4xx/5xx without a body of its own gets our HTML page
//!    (or JSON on API routes), so everything below may answer a bare status;
//! 5. panics → 500; 6. timeout → 504; 7. compression; 8. body size limit → 413
//!    (`server.body_limit_bytes`; multipart uploads: their own bound, see
//!    [`form::limit_body`]);
//! 9. cross-origin (Fetch Metadata) check; 10. form token (CSRF) check on every
//!    non-GET request; 11. sessions (loaded lazily, written only when changed);
//!
//! Then, on tenant routes only: resolve the tenant from the path → 404 when
//! unknown, and load the signed-in user of that tenant.

pub mod chrome;
pub mod csrf;
pub mod error_pages;
pub mod extract;
pub mod form;
pub mod format;
pub mod headers;
mod health;
mod static_files;
pub mod tenant;

use crate::state::AppState;
use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, Request, StatusCode},
    middleware,
    routing::get,
};
use std::time::Duration;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tower_sessions::{
    Expiry, SessionManagerLayer,
    cookie::{SameSite, time::Duration as CookieDuration},
};
use tracing::Level;

pub const SESSION_COOKIE: &str = "tessera_session";
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every route of the application with its layers.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The application router plus `extra` tenant routes (paths start with
/// `/{tenant}/`), which get the same layers; tests use it to probe extractors.
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    let tenant_routes = Router::new()
        .merge(crate::home::routes())
        .merge(crate::auth::routes())
        .merge(crate::passwords::routes())
        .merge(crate::tickets::routes())
        .merge(crate::replies::routes())
        .merge(crate::attachments::routes())
        .merge(crate::guests::routes())
        .merge(crate::admin::routes())
        .merge(crate::account::routes())
        .merge(crate::email::inbound::routes())
        .merge(extra)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            tenant::enter_tenant,
        ));

    let store = crate::auth::session_store::Sessions::new(state.db.pool().clone());
    let sessions = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(CookieDuration::hours(
            state.config.session.idle_timeout_hours,
        )));

    let timeout = Duration::from_secs(state.config.server.request_timeout_secs);
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/static/{*path}", get(static_files::serve))
        .merge(tenant_routes)
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            csrf::verify_form_token,
        ))
        .layer(tower_http::csrf::CsrfLayer::new())
        // Our limit (per request: uploads get theirs) replaces axum's default.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            form::limit_body,
        ))
        .layer(DefaultBodyLimit::disable())
        .layer(CompressionLayer::new())
        // 504, not 408: the time goes to the server's own work (a stalled
        // database, say), and clients may repeat a request answered 408.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            timeout,
        ))
        .layer(CatchPanicLayer::new())
        .layer(middleware::from_fn(error_pages::render))
        .layer(middleware::from_fn(headers::set))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let request_id = request
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok())
                        .unwrap_or_default();
                    // The path only (query strings may carry tokens), and
                    // access-link tokens cut out of it.
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %crate::guests::redact_token(request.uri().path()),
                        request_id,
                        tenant = tracing::field::Empty,
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}
