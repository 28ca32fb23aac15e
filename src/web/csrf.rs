//! Form tokens against cross-site request forgery (signed double submit).
//!
//! Every browser gets a random `tessera_csrf` cookie (HttpOnly, SameSite=Lax) the
//! first time it asks for a page; pages embed `HMAC(secret, cookie)` as the hidden
//! `csrf_token` field. Every non-GET request must carry that token, in the form
//! body (for forms with files: their first field) or the `X-CSRF-Token` header
//! (htmx), or it is refused with 403 before any handler runs. Setting the
//! cookie writes no session row, so anonymous pages stay free. The Fetch
//! Metadata layer (`tower_http::csrf`) adds a second, header-based check for
//! browsers that send `Sec-Fetch-Site`.

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

    // Inbound mail is posted by mail services, not browsers: it carries no
    // cookie (so no session rides on it) and is authenticated by the tenant's
    // secret instead (see `email::inbound`).
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) || crate::email::inbound::is_endpoint(request.uri().path());
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
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(boundary) = multipart_boundary(content_type) {
        return take_multipart_token(request, &boundary).await;
    }
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
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

/// How much of a multipart body is read to find the token.
const MULTIPART_PEEK: usize = 16 * 1024;

/// Forms with files (`multipart/form-data`) cannot set a header without
/// JavaScript, and their body may be large, so it is not read whole here. Our
/// forms put the hidden `csrf_token` field first; browsers send fields in
/// document order, so the token is the first part. Only that first part is read
/// (at most [`MULTIPART_PEEK`] bytes); the bytes read are put back in front of
/// the rest of the body for the handler. A token anywhere else is not found and
/// the request is refused. (The alternative, the token in the action's query
/// string, would put it in URLs, logs and history.)
async fn take_multipart_token(
    request: Request,
    boundary: &str,
) -> Result<(Request, Option<String>), StatusCode> {
    use futures_util::StreamExt as _;

    let (parts, body) = request.into_parts();
    let mut rest = body.into_data_stream();
    let mut prefix = Vec::new();
    let token = loop {
        if let Some(found) = first_part_token(&prefix, boundary) {
            break found;
        }
        if prefix.len() > MULTIPART_PEEK {
            break None;
        }
        match rest.next().await {
            Some(Ok(chunk)) => prefix.extend_from_slice(&chunk),
            Some(Err(_)) => return Err(StatusCode::BAD_REQUEST),
            None => break first_part_token(&prefix, boundary).flatten(),
        }
    };
    let prefix = futures_util::stream::once(std::future::ready(Ok::<_, axum::Error>(
        axum::body::Bytes::from(prefix),
    )));
    let body = Body::from_stream(prefix.chain(rest));
    Ok((Request::from_parts(parts, body), token))
}

/// The boundary of a `multipart/form-data` content type.
fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

/// The token, if the first part of `body` is the `csrf_token` field: `None`
/// while more bytes are needed, `Some(None)` when the first part is something
/// else or malformed.
fn first_part_token(body: &[u8], boundary: &str) -> Option<Option<String>> {
    let opening = format!("--{boundary}\r\n");
    if body.len() < opening.len() {
        return None;
    }
    let Some(after_opening) = body.strip_prefix(opening.as_bytes()) else {
        return Some(None);
    };
    let headers_end = find(after_opening, b"\r\n\r\n")?;
    let headers = String::from_utf8_lossy(&after_opening[..headers_end]);
    let is_token = headers.lines().any(|line| {
        let Some((name, value)) = line.split_once(':') else {
            return false;
        };
        name.trim().eq_ignore_ascii_case("content-disposition")
            && value
                .split(';')
                .map(str::trim)
                .any(|param| param == format!("name=\"{FIELD}\""))
            && !value.contains("filename")
    });
    if !is_token {
        return Some(None);
    }
    let value = &after_opening[headers_end + 4..];
    let closing = format!("\r\n--{boundary}");
    let end = find(value, closing.as_bytes())?;
    Some(
        std::str::from_utf8(&value[..end])
            .ok()
            .map(|token| token.trim().to_owned()),
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_found_only_as_the_first_multipart_field() {
        let boundary = "XyZ";
        let body = |first: &str| {
            format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"{first}\"\r\n\r\nabc123\r\n--XyZ\r\n"
            )
        };
        assert_eq!(
            first_part_token(body("csrf_token").as_bytes(), boundary),
            Some(Some("abc123".to_owned()))
        );
        assert_eq!(
            first_part_token(body("subject").as_bytes(), boundary),
            Some(None)
        );
        let whole = body("csrf_token");
        assert_eq!(
            first_part_token(&whole.as_bytes()[..40], boundary),
            None,
            "needs more"
        );
        assert_eq!(
            first_part_token(b"garbage that is long enough", boundary),
            Some(None)
        );
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=\"a b\""),
            Some("a b".to_owned())
        );
        assert_eq!(
            multipart_boundary("application/x-www-form-urlencoded"),
            None
        );
    }
}
