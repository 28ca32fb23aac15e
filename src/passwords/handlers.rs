//! The forgot-password and set-password pages.

use super::{
    service::{self, Purpose, SetPasswordError, ValidToken},
    views::{ForgotPage, InvalidLinkPage, ResetPage},
};
use crate::{
    auth::model::MIN_PASSWORD_CHARS,
    error::AppResult,
    state::AppState,
    tenants::Tenant,
    web::{chrome::Chrome, form::Fields},
};
use axum::{
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

fn forgot_form(
    tenant: &Tenant,
    chrome: Chrome,
    email: String,
    error: Option<String>,
) -> ForgotPage {
    let base = tenant.base_path();
    ForgotPage {
        chrome,
        action: format!("{base}/password/forgot"),
        login_href: format!("{base}/login"),
        email,
        error,
    }
}

pub async fn forgot_page(tenant: Tenant, chrome: Chrome) -> ForgotPage {
    forgot_form(&tenant, chrome, String::new(), None)
}

/// Always the same redirect for a well-formed address, account or not.
pub async fn forgot(
    State(state): State<AppState>,
    tenant: Tenant,
    chrome: Chrome,
    fields: Fields,
) -> AppResult<Response> {
    let email = fields.get("email");
    match service::request_reset(&state.db, &state.clock, tenant.id, email).await? {
        Ok(()) => Ok(Redirect::to(&format!(
            "{}/password/forgot?notice=reset_requested",
            tenant.base_path()
        ))
        .into_response()),
        Err(message) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            forgot_form(&tenant, chrome, email.to_owned(), Some(message)),
        )
            .into_response()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// The token is a secret: the page must not leak it through `Referer` or caches.
fn private(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn invalid_page(tenant: &Tenant, chrome: Chrome) -> Response {
    let base = tenant.base_path();
    private((
        StatusCode::GONE,
        InvalidLinkPage {
            chrome,
            forgot_href: format!("{base}/password/forgot"),
            login_href: format!("{base}/login"),
        },
    ))
}

fn reset_form(
    tenant: &Tenant,
    chrome: Chrome,
    token: &str,
    valid: ValidToken,
    error: Option<String>,
) -> ResetPage {
    ResetPage {
        chrome,
        action: format!("{}/password/reset", tenant.base_path()),
        token: token.to_owned(),
        email: valid.email,
        invite: valid.purpose == Purpose::Invite,
        min_chars: MIN_PASSWORD_CHARS,
        error,
    }
}

pub async fn reset_page(
    State(state): State<AppState>,
    tenant: Tenant,
    chrome: Chrome,
    Query(query): Query<TokenQuery>,
) -> AppResult<Response> {
    let token = query.token.trim();
    Ok(
        match service::check(&state.db, &state.clock, tenant.id, token).await? {
            Some(valid) => private(reset_form(&tenant, chrome, token, valid, None)),
            None => invalid_page(&tenant, chrome),
        },
    )
}

pub async fn reset(
    State(state): State<AppState>,
    tenant: Tenant,
    chrome: Chrome,
    session: Session,
    fields: Fields,
) -> AppResult<Response> {
    let token = fields.get("token").trim();
    let result = service::set_password(
        &state.db,
        &state.clock,
        tenant.id,
        token,
        fields.get("password").to_owned(),
        fields.get("password_confirm"),
    )
    .await;
    match result {
        Ok(user) => {
            crate::auth::session::end_other_sessions(&state.db, &session, tenant.id, user).await?;
            Ok(
                Redirect::to(&format!("{}/login?notice=password_set", tenant.base_path()))
                    .into_response(),
            )
        }
        Err(SetPasswordError::InvalidLink) => Ok(invalid_page(&tenant, chrome)),
        Err(SetPasswordError::Field {
            token: valid,
            message,
        }) => Ok(private((
            StatusCode::UNPROCESSABLE_ENTITY,
            reset_form(&tenant, chrome, token, valid, Some(message)),
        ))),
        Err(SetPasswordError::App(error)) => Err(error),
    }
}
