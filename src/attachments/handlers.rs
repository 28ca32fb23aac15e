//! The download route.

use super::{AttachmentId, range::Part, service, validate};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
    web::extract::CurrentUser,
};
use axum::{
    body::Body,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use tokio_util::io::ReaderStream;

/// The policy of every download: it loads nothing and runs nothing.
pub const DOWNLOAD_CSP: &str = "default-src 'none'; sandbox";

/// `?inline=1` asks for an image to be shown in the page (a thumbnail); it is
/// honoured only for the images of [`validate::INLINE_IMAGES`], by their sniffed type.
pub async fn download(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((_, number, id)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    request_headers: HeaderMap,
) -> AppResult<Response> {
    let number = crate::tickets::handlers::parse_path_number(&number)?;
    let id = uuid::Uuid::try_parse(&id)
        .map(AttachmentId)
        .map_err(|_| AppError::NotFound)?;
    let range = request_headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let service::Download {
        attachment,
        part,
        reader,
    } = service::open(&state.db, &state.store, &user, number, id, range).await?;

    let size = u64::try_from(attachment.size_bytes).unwrap_or(0);
    let mut response = match reader {
        Some(reader) => Body::from_stream(ReaderStream::new(reader)).into_response(),
        None => Body::empty().into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(validate::served_content_type(&attachment.content_type)),
    );
    let inline =
        asks_inline(query.as_deref()) && validate::is_inline_image(&attachment.content_type);
    let disposition = if inline { "inline" } else { "attachment" };
    if let Ok(value) =
        HeaderValue::from_str(&content_disposition(disposition, &attachment.filename))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let (status, length, content_range) = match part {
        Part::Whole => (StatusCode::OK, size, None),
        Part::Range { first, last } => (
            StatusCode::PARTIAL_CONTENT,
            last - first + 1,
            Some(format!("bytes {first}-{last}/{size}")),
        ),
        Part::Unsatisfiable => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            0,
            Some(format!("bytes */{size}")),
        ),
    };
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, length.into());
    if let Some(value) = content_range.and_then(|v| HeaderValue::from_str(&v).ok()) {
        headers.insert(header::CONTENT_RANGE, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Even if a browser did render it, it would run nothing (`sandbox`: a
    // unique origin, no scripts, no forms) and load nothing (`default-src 'none'`).
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOWNLOAD_CSP),
    );
    // Private files stay out of every cache, the browser's disk included.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

fn asks_inline(query: Option<&str>) -> bool {
    query
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .is_some_and(|pairs| pairs.iter().any(|(k, v)| k == "inline" && v == "1"))
}

/// `attachment` (or `inline`) with an ASCII fallback name and the exact name in
/// RFC 5987 encoding (RFC 6266), so no name can break out of the header.
fn content_disposition(disposition: &str, filename: &str) -> String {
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
    format!("{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn the_download_name_is_quoted_safely() {
        assert_eq!(
            content_disposition("attachment", "report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            content_disposition("attachment", "a \"b\"; ü.txt"),
            "attachment; filename=\"a _b_; _.txt\"; filename*=UTF-8''a%20%22b%22%3B%20%C3%BC.txt"
        );
    }
}
