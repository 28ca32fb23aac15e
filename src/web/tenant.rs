//! Tenant resolution and the signed-in user, as route middleware on tenant routes.

use crate::{
    auth::{self, model::User},
    error::AppError,
    state::AppState,
    tenants::{self, Tenant},
    web::format,
};
use axum::{
    extract::{RawPathParams, Request, State},
    middleware::Next,
    response::Response,
};
use tower_sessions::Session;

/// The user signed in to the request's tenant, put in the request by
/// [`load_signed_in_user`] and read by the extractors in `web::extract`.
#[derive(Clone, Debug)]
pub struct SignedIn(pub User);

/// Resolves the `{tenant}` path segment; an unknown tenant is a 404.
pub async fn resolve_tenant(
    State(state): State<AppState>,
    params: RawPathParams,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let slug = params
        .iter()
        .find_map(|(name, value)| (name == "tenant").then_some(value))
        .ok_or(AppError::NotFound)?;
    let tenant = tenants::repo::find_by_slug(state.db.pool(), slug)
        .await?
        .ok_or(AppError::NotFound)?;
    tracing::Span::current().record("tenant", tenant.slug.as_str());
    request.extensions_mut().insert(tenant.clone());
    let mut response = next.run(request).await;
    // Lets the error-page renderer show the tenant's name.
    response.extensions_mut().insert(tenant);
    Ok(response)
}

/// Loads the user this session is signed in as for the request's tenant, if the
/// user still exists and is active, and runs the request in their timezone
/// (`web::format`). Anonymous requests cost no query.
pub async fn load_signed_in_user(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let tenant = request
        .extensions()
        .get::<Tenant>()
        .cloned()
        .ok_or(AppError::NotFound)?;
    if let Some(user_id) = auth::session::user_for(&session, tenant.id).await? {
        let mut tx = state.db.tenant_tx(tenant.id).await?;
        let found = auth::repo::find_user_and_timezone(&mut tx, tenant.id, user_id).await?;
        tx.commit().await?;
        if let Some((user, zone)) = found.filter(|(user, _)| user.active) {
            request.extensions_mut().insert(SignedIn(user));
            // Dates on the pages this request renders read in the user's timezone.
            return Ok(format::in_timezone(&zone, next.run(request)).await);
        }
    }
    Ok(next.run(request).await)
}
