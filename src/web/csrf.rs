//! Form tokens against cross-site request forgery (signed double submit).
//!
//! Every browser gets a random `tessera_csrf` cookie (HttpOnly, SameSite=Lax) the
//! first time it asks for a page; pages embed `HMAC(secret, cookie)` as the hidden
//! `csrf_token` field. Every non-GET request must carry that token, in the form
//! body or the `X-CSRF-Token` header (htmx), or it is refused with 403 before any
//! handler runs. Setting the cookie writes no session row, so anonymous pages stay
//! free. The Fetch Metadata layer (`tower_http::csrf`) adds a second, header-based
//! check for browsers that send `Sec-Fetch-Site`.

use crate::{auth::tokens, error::AppError, state::AppState};
use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

pub const COOKIE: &str = "tessera_csrf";
pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";
const PURPOSE: &str = "csrf";

/// The token for this request's forms, for the page chrome.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

pub async fn verify_form_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let secret = state.secret_bytes();
    let seed = CookieJar::from_headers(request.headers())
        .get(COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| value.len() == 43);

    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    let mut request = if safe {
        request
    } else {
        let Some(seed) = &seed else {
            return AppError::CsrfRejected.into_response();
        };
        let (request, provided) =
            match take_token(request, state.config.server.body_limit_bytes).await {
                Ok(found) => found,
                Err(status) => return status.into_response(),
            };
        match provided {
            Some(token) if tokens::verify(secret, PURPOSE, seed, &token) => request,
            _ => return AppError::CsrfRejected.into_response(),
        }
    };

    let is_new = seed.is_none();
    let seed = seed.unwrap_or_else(tokens::random_token);
    request
        .extensions_mut()
        .insert(CsrfToken(tokens::sign(secret, PURPOSE, &seed)));
    let mut response = next.run(request).await;
    if is_new {
        let cookie = Cookie::build((COOKIE, seed))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(state.config.secure_cookies())
            .build();
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Finds the submitted token: the header, else the `csrf_token` field of a
/// URL-encoded body (which is read, then handed on unchanged).
async fn take_token(
    request: Request,
    limit: usize,
) -> Result<(Request, Option<String>), StatusCode> {
    if let Some(value) = request.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        let token = value.to_owned();
        return Ok((request, Some(token)));
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE)?;
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|fields| fields.into_iter().find(|(name, _)| name == FIELD))
        .map(|(_, value)| value);
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}
