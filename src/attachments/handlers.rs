//! The download route.

use super::{AttachmentId, service, storage, validate};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
    web::extract::CurrentUser,
};
use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use tokio_util::io::ReaderStream;

pub async fn download(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((_, number, id)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let number = crate::tickets::handlers::parse_path_number(&number)?;
    let id = uuid::Uuid::try_parse(&id)
        .map(AttachmentId)
        .map_err(|_| AppError::NotFound)?;
    let store = storage::from_config(&state.config);
    let service::Download { attachment, reader } =
        service::open(&state.db, &store, &user, number, id).await?;

    let mut response = Body::from_stream(ReaderStream::new(reader)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(validate::served_content_type(&attachment.content_type)),
    );
    if let Ok(value) = HeaderValue::from_str(&content_disposition(&attachment.filename)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CONTENT_LENGTH, attachment.size_bytes.into());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Even if a browser did render it, it would run nothing and reach nothing.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}

/// `attachment` with an ASCII fallback name and the exact name in RFC 5987
/// encoding (RFC 6266), so no name can break out of the header.
fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in filename.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn the_download_name_is_quoted_safely() {
        assert_eq!(
            content_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            content_disposition("a \"b\"; ü.txt"),
            "attachment; filename=\"a _b_; _.txt\"; filename*=UTF-8''a%20%22b%22%3B%20%C3%BC.txt"
        );
    }
}
