//! Tenant resolution and the signed-in user, as route middleware on tenant routes.

use crate::{
    auth::{self, model::User, session_store},
    db::{self, TenantId},
    error::AppError,
    state::AppState,
    tenants::{self, Tenant},
    web::format,
};
use axum::{
    extract::{RawPathParams, Request, State},
    http::Method,
    middleware::Next,
    response::Response,
};
use sqlx::PgConnection;
use tower_sessions::Session;

/// The user signed in to the request's tenant, put in the request by
/// [`enter_tenant`] and read by the extractors in `web::extract`.
#[derive(Clone, Debug)]
pub struct SignedIn(pub User);

/// Resolves the `{tenant}` path segment (an unknown tenant is a 404) and the
/// user this session is signed in as there, if the user still exists and is
/// active (keeping the session alive); runs the request in their timezone
/// (`web::format`).
///
/// A request with a session cookie gets its transaction scoped to the tenant
/// and its session as it begins (the slug's tenant id is kept, see
/// [`tenants::Slugs`]), then one statement reads the tenant row, the session
/// and its user ([`auth::repo::request_start`]); tower-sessions is handed the
/// session read there. A read-only request's handler then goes on using that
/// transaction (`db::with_request_tx`): a page view is one transaction. A
/// request without a cookie costs one query, for the tenant.
pub async fn enter_tenant(
    State(state): State<AppState>,
    session: Session,
    params: RawPathParams,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let slug = params
        .iter()
        .find_map(|(name, value)| (name == "tenant").then_some(value))
        .ok_or(AppError::NotFound)?;
    let Some(session_id) = session.id() else {
        let tenant = tenants::repo::find_by_slug(state.db.pool(), slug)
            .await?
            .ok_or(AppError::NotFound)?;
        return Ok(run_for(tenant, request, next).await);
    };
    let id = match state.slugs.id_of(slug) {
        Some(id) => id,
        None => {
            let id = tenants::repo::id_by_slug(state.db.pool(), slug)
                .await?
                .ok_or(AppError::NotFound)?;
            state.slugs.remember(slug, id);
            id
        }
    };
    let session_id_text = session_id.to_string();
    let mut tx = state.db.session_tx(id, &session_id_text).await?;
    let start = match auth::repo::request_start(&mut tx, id, &session_id_text).await? {
        Some(start) if start.tenant.slug == slug => start,
        _ => {
            state.slugs.forget(slug);
            return Err(AppError::NotFound);
        }
    };
    let record = start
        .session_data
        .as_deref()
        .map(session_store::decode)
        .transpose()
        .map_err(tower_sessions::session::Error::Store)?;
    let signed_in = signed_in_user(&state, &session, &mut tx, id, start.user);
    let found = session_store::with_loaded(session_id, record, signed_in).await?;
    let tenant = start.tenant;
    let mut zone = None;
    if let Some((user, user_zone)) = found {
        request.extensions_mut().insert(SignedIn(user));
        zone = Some(user_zone);
    }
    let read_only = matches!(*request.method(), Method::GET | Method::HEAD);
    let work = async move {
        match zone {
            // Dates on the pages this request renders read in the user's timezone.
            Some(zone) => format::in_timezone(&zone, run_for(tenant, request, next)).await,
            None => run_for(tenant, request, next).await,
        }
    };
    if read_only {
        Ok(db::with_request_tx(tx, work).await)
    } else {
        // A write opens its own transaction when its input is in (uploads are
        // stored first); this one only read.
        tx.end_read();
        Ok(work.await)
    }
}

/// The active user `session` is signed in as at `tenant`, with the timezone
/// they read dates in, keeping the session alive. `read` is the user
/// [`auth::repo::request_start`] found by the logins stored beside the
/// session; a session stored without them has its user looked up here.
async fn signed_in_user(
    state: &AppState,
    session: &Session,
    conn: &mut PgConnection,
    tenant: TenantId,
    read: Option<(User, String)>,
) -> Result<Option<(User, String)>, AppError> {
    let Some(user_id) = auth::session::user_for(session, tenant).await? else {
        return Ok(None);
    };
    let found = match read {
        Some((user, zone)) if user.id == user_id => Some((user, zone)),
        _ => match auth::repo::find_user(conn, tenant, user_id).await? {
            Some(user) => {
                let zone = auth::repo::timezone_of(conn, tenant, &user).await?;
                Some((user, zone))
            }
            None => None,
        },
    };
    let Some((user, zone)) = found.filter(|(user, _)| user.active) else {
        return Ok(None);
    };
    let idle_timeout = time::Duration::hours(state.config.session.idle_timeout_hours);
    let every = auth::session::keep_alive_every(idle_timeout);
    auth::session::keep_alive(session, state.clock.now(), every).await?;
    Ok(Some((user, zone)))
}

/// Runs the request for `tenant`, which the error-page renderer also gets.
async fn run_for(tenant: Tenant, mut request: Request, next: Next) -> Response {
    tracing::Span::current().record("tenant", tenant.slug.as_str());
    request.extensions_mut().insert(tenant.clone());
    let mut response = next.run(request).await;
    response.extensions_mut().insert(tenant);
    response
}
