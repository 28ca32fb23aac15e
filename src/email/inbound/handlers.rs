//! The inbound endpoint: authenticate, read the bounded body, hand it to the rules.

use super::{repo, secret_hash, service};
use crate::{email::links::constant_time_eq, error::AppResult, state::AppState, tenants::Tenant};
use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use http_body_util::{BodyExt as _, Limited};

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        Json(serde_json::json!({ "error": "unauthorized" })),
    )
        .into_response()
}

pub async fn receive(
    State(state): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    let provided = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let settings = repo::settings(&mut tx, tenant.id).await?;
    tx.commit().await?;
    let authorized = match (&settings.inbound_secret_hash, provided) {
        (Some(stored), provided) if !provided.is_empty() => {
            constant_time_eq(stored.as_bytes(), secret_hash(provided).as_bytes())
        }
        _ => false,
    };
    if !authorized {
        return Ok(unauthorized());
    }
    let ctx = service::Ctx {
        db: &state.db,
        clock: &state.clock,
        config: &state.config,
        secret: state.secret_bytes(),
        tenant: tenant.id,
        ticket_prefix: &tenant.ticket_prefix,
    };
    let limit = state.config.email.inbound_max_bytes;
    let outcome = match Limited::new(body, limit).collect().await {
        Ok(collected) => service::receive(&ctx, &collected.to_bytes()).await?,
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            let size = headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(limit + 1);
            service::refuse_unread(&ctx, size, format!("oversized: more than {limit} bytes"))
                .await?
        }
        Err(_) => return Ok(StatusCode::BAD_REQUEST.into_response()),
    };
    Ok(Json(outcome).into_response())
}
