//! The one application error type.
//!
//! A handler returns `Result<_, AppError>`. The error knows its status and a stable
//! code; it is logged once here (server errors with their cause) and answered with
//! an [`ErrorBody`] that `web::error_pages` renders as an HTML page or, on API
//! routes, as `{"error":{"code","message"}}`. Internals never reach the client.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The thing does not exist, or the caller may not see it (existence does not leak).
    #[error("not found")]
    NotFound,
    /// The caller must sign in to this tenant first; answered with a redirect.
    #[error("sign-in required")]
    SignInRequired { login_href: String },
    #[error("the form's security token is missing or expired")]
    CsrfRejected,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: i64 },
    /// The database (or the session store in it) cannot be reached right now:
    /// 503, so clients retry instead of waiting. A [`AppError::Database`] or
    /// [`AppError::Internal`] caused by an unreachable database answers the same.
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(error: tower_sessions::session::Error) -> Self {
        use tower_sessions::{session::Error, session_store::Error as StoreError};
        // The store reports its database errors as text; the store is the
        // database, so a backend failure is the database being unreachable.
        let unavailable = matches!(error, Error::Store(StoreError::Backend(_)));
        let error = anyhow::Error::new(error).context("session store");
        if unavailable {
            AppError::Unavailable(error)
        } else {
            AppError::Internal(error)
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        AppError::Internal(anyhow::Error::new(error).context("rendering a template"))
    }
}

/// What an error response says, picked up by the error-page renderer.
#[derive(Debug, Clone)]
pub struct ErrorBody {
    pub code: &'static str,
    pub title: &'static str,
    pub message: String,
}

impl ErrorBody {
    /// The standard wording for a status that carries no [`ErrorBody`] of its own
    /// (axum's rejections, the router's 404, the body-size limit, the timeout).
    pub fn for_status(status: StatusCode) -> Self {
        let (code, title, message) = match status.as_u16() {
            400 => (
                "bad_request",
                "Bad request",
                "The request could not be understood.",
            ),
            403 => ("forbidden", "Not allowed", "This request was refused."),
            404 => (
                "not_found",
                "Page not found",
                "There is nothing here, or you may not see it.",
            ),
            405 => (
                "method_not_allowed",
                "Not allowed",
                "This address does not accept that method.",
            ),
            408 => (
                "timeout",
                "Too slow",
                "The request took too long. Please try again.",
            ),
            413 => (
                "payload_too_large",
                "Too large",
                "What you sent is larger than allowed.",
            ),
            415 => (
                "unsupported_media_type",
                "Bad request",
                "That kind of content is not accepted here.",
            ),
            422 => (
                "invalid_input",
                "Invalid input",
                "Some of what you sent is not valid.",
            ),
            429 => (
                "rate_limited",
                "Slow down",
                "Too many requests. Please wait a moment.",
            ),
            504 => (
                "timeout",
                "Too slow",
                "This took too long to answer. Please try again in a moment; if you were saving something, check whether it was saved before sending it again.",
            ),
            503 => (
                "unavailable",
                "Temporarily unavailable",
                "The helpdesk cannot reach its database right now. Nothing was saved; please try again in a moment.",
            ),
            _ if status.is_server_error() => (
                "internal",
                "Something went wrong",
                "An unexpected error happened. It has been logged; please try again.",
            ),
            _ => ("error", "Error", "The request failed."),
        };
        Self {
            code,
            title,
            message: message.to_owned(),
        }
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::SignInRequired { .. } => StatusCode::SEE_OTHER,
            AppError::CsrfRejected => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(error) if crate::db::is_unavailable(error) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Internal(error)
                if error
                    .chain()
                    .filter_map(|cause| cause.downcast_ref::<sqlx::Error>())
                    .any(crate::db::is_unavailable) =>
            {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error and its causes on one line, for the log.
    fn cause_line(&self) -> String {
        let mut line = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(next) = cause {
            line.push_str(": ");
            line.push_str(&next.to_string());
            cause = next.source();
        }
        line
    }

    fn body(&self) -> ErrorBody {
        let status = self.status();
        let mut body = ErrorBody::for_status(status);
        match self {
            AppError::CsrfRejected => {
                body.code = "csrf_rejected";
                body.title = "Form expired";
                body.message =
                    "This form's security token is missing or has expired. Go back, reload the page and try again."
                        .to_owned();
            }
            AppError::BadRequest(message) | AppError::Conflict(message) => {
                body.message = message.clone();
            }
            AppError::TooManyRequests { retry_after_secs } => {
                body.message =
                    format!("Too many requests. Try again in {retry_after_secs} seconds.");
            }
            _ => {}
        }
        body
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::SignInRequired { login_href } = &self {
            return Redirect::to(login_href).into_response();
        }
        let status = self.status();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Expected while the database is away; the cause, not a stack of it.
            tracing::warn!(error = %self.cause_line(), "request failed: database unavailable");
        } else if status.is_server_error() {
            // The one place a server error is logged, with its whole cause
            // chain (`{:#}`) but no backtrace or driver internals: logs carry
            // no stack traces or source paths (issue #10).
            let cause = format!("{self:#}");
            tracing::error!(error = %cause, "request failed");
        }
        let mut response = status.into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if let AppError::TooManyRequests { retry_after_secs } = &self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response.extensions_mut().insert(self.body());
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;
