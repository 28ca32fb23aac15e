//! Turns every error response into a page a person can read, or a JSON error on
//! API routes: ours (carrying an [`ErrorBody`]) and those of axum and tower-http
//! (bare statuses with a plain-text body: rejections, 404, 405, 413, 504).
//! Responses that already have an HTML or JSON body (a form re-rendered with its
//! field errors) pass unchanged.

use super::chrome::Chrome;
use crate::{error::ErrorBody, tenants::Tenant};
use askama::Template;
use axum::{
    Json,
    extract::Request,
    http::{HeaderValue, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    title: &'static str,
    message: String,
}

pub async fn render(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().split('/').nth(2) == Some("api");
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let ours = response.extensions().get::<ErrorBody>().cloned();
    let has_own_body = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.starts_with("application/json"));
    if ours.is_none() && has_own_body {
        return response;
    }
    let error = ours.unwrap_or_else(|| ErrorBody::for_status(status));
    let tenant = response.extensions().get::<Tenant>().cloned();
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);

    let body = if is_api {
        Json(serde_json::json!({
            "error": { "code": error.code, "message": error.message }
        }))
        .into_response()
    } else {
        let page = ErrorPage {
            chrome: Chrome::minimal(tenant.as_ref()),
            status: status.as_u16(),
            title: error.title,
            message: error.message,
        };
        match page.render() {
            Ok(html) => Html(html).into_response(),
            Err(render_error) => {
                tracing::error!(%render_error, "rendering the error page");
                error.title.into_response()
            }
        }
    };
    let (body_parts, body) = body.into_parts();
    if let Some(content_type) = body_parts.headers.get(header::CONTENT_TYPE) {
        parts
            .headers
            .insert(header::CONTENT_TYPE, content_type.clone());
    } else {
        parts
            .headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    }
    Response::from_parts(parts, body)
}
