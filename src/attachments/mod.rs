//! Attachments: files uploaded with a ticket, a reply or an internal note, and
//! their download.
//!
//! Invariants:
//! - an upload holds at most [`MAX_FILES_PER_UPLOAD`] files of at most
//!   the tenant's size (admin setting, bounded by the operator's
//!   `attachments.max_file_bytes`) each; programs and scripts are refused by
//!   extension *and* by content (PE, ELF, Mach-O, `#!`, infer's app types),
//!   whatever the client claims; the client's content type is never trusted;
//!   with the tenant's allow-list on, a file's extension must be listed and its
//!   content must be that format ([`policy`]);
//! - files stream to storage (never whole in memory) under random keys, hashed
//!   and measured on the way; the file is stored *before* its row commits, in the
//!   same transaction as the ticket or reply; when the action fails, the stored
//!   files are removed and nothing is saved ([`service::Upload`]);
//! - a download goes through `tickets::load_visible` and the reply's visibility:
//!   files on internal notes are staff-only; anything else answers 404;
//! - downloads are `Content-Disposition: attachment`, `nosniff`,
//!   `Content-Security-Policy: default-src 'none'; sandbox`,
//!   `Cache-Control: private, no-store`, with our content type only for a short
//!   safe list (images, PDF, plain text), else `application/octet-stream`;
//!   only PNG, JPEG, GIF and WebP (sniffed, never SVG) may be asked for
//!   `inline` (`?inline=1`, the ticket page's thumbnails); single byte ranges
//!   are served (206/416);
//! - a periodic sweep (`jobs::orphan_sweep`) deletes stored files older than an
//!   hour that have no row (a crash between storing and committing);
//! - the bytes live in the configured backend (`attachments.backend`): a local
//!   directory or an S3-compatible bucket ([`storage::Store`]);
//! - each recorded file adds an "attached report.pdf (1.2 MB)" activity event
//!   (staff-only when on an internal note).

pub(crate) mod handlers;
pub mod policy;
pub mod range;
pub mod repo;
pub mod s3;
pub mod service;
pub mod storage;
pub mod validate;

use crate::state::AppState;
use axum::{Router, routing::get};
pub use validate::MAX_FILES_PER_UPLOAD;

crate::db::id_newtype!(
    /// A file attached to a ticket, reply or note.
    AttachmentId
);

/// The form field that carries files.
pub const FIELD: &str = "attachments";

/// A file in storage, not yet (or just) recorded in the database.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub key: storage::ObjectKey,
    /// Normalised (see [`validate::normalise_filename`]).
    pub filename: String,
    /// Sniffed from the content.
    pub content_type: String,
    pub size: u64,
    pub sha256: [u8; 32],
}

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/{tenant}/tickets/{number}/attachments/{id}",
        get(handlers::download),
    )
}

/// An attachment as a page lists it.
#[derive(Debug, Clone)]
pub struct AttachmentView {
    pub filename: String,
    pub size: String,
    pub href: String,
    /// For PNG, JPEG, GIF and WebP (by content): the inline variant of `href`,
    /// shown as a thumbnail.
    pub thumbnail_src: Option<String>,
}

impl AttachmentView {
    /// `ticket_href` is the ticket page's path.
    pub fn new(attachment: &repo::Listed, ticket_href: &str) -> Self {
        let href = format!("{ticket_href}/attachments/{}", attachment.id);
        Self {
            filename: attachment.filename.clone(),
            size: validate::format_size(u64::try_from(attachment.size_bytes).unwrap_or(0)),
            thumbnail_src: validate::is_inline_image(&attachment.content_type)
                .then(|| format!("{href}?inline=1")),
            href,
        }
    }
}

/// The file picker of a form: its limits line and an error about the files.
#[derive(Debug, Clone, Default)]
pub struct UploadField {
    /// "Up to 10 files, max 25 MB each."
    pub limits: String,
    /// The input's `accept` hint; empty for any file.
    pub accept: String,
    pub error: Option<String>,
}

impl UploadField {
    pub fn new(policy: &policy::Policy, error: Option<String>) -> Self {
        Self {
            limits: policy.limits_line(),
            accept: policy.accept(),
            error,
        }
    }
}

/// The largest request body an upload may send: every file at its limit, plus
/// the ordinary form fields.
pub fn upload_body_limit(config: &crate::config::Config) -> usize {
    let files = config
        .attachments
        .max_file_bytes
        .saturating_mul(MAX_FILES_PER_UPLOAD as u64);
    usize::try_from(files)
        .unwrap_or(usize::MAX)
        .saturating_add(config.server.body_limit_bytes)
        // Multipart framing: part headers and boundaries.
        .saturating_add(64 * 1024)
}
