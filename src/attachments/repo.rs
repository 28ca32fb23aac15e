//! Attachment SQL.

use super::{AttachmentId, StoredFile};
use crate::{
    db::{TenantId, UserId},
    replies::repo::ReplyId,
    tickets::{
        events::{self, EventKind, NewEvent},
        model::TicketId,
    },
};
use sqlx::{PgConnection, types::Json};
use time::OffsetDateTime;

/// An attachment row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Attachment {
    pub id: AttachmentId,
    pub ticket_id: TicketId,
    pub reply_id: Option<ReplyId>,
    pub uploader_id: UserId,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: Vec<u8>,
    pub storage_key: String,
    pub internal: bool,
    pub created_at: OffsetDateTime,
}

const SELECT: &str = "select id, ticket_id, reply_id, uploader_id, filename, content_type, \
        size_bytes, sha256, storage_key, internal, created_at from attachments";

/// Where new attachments belong.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    pub ticket: TicketId,
    /// None: the ticket's description.
    pub reply: Option<ReplyId>,
    pub uploader: UserId,
    pub internal: bool,
}

/// Records stored files, in upload order, each with an "attached report.pdf
/// (1.2 MB)" activity event (staff-only for files on an internal note).
pub async fn insert_all(
    conn: &mut PgConnection,
    tenant: TenantId,
    owner: Owner,
    files: &[StoredFile],
    now: OffsetDateTime,
) -> Result<Vec<AttachmentId>, sqlx::Error> {
    let mut ids = Vec::with_capacity(files.len());
    for file in files {
        let id = AttachmentId::generate();
        sqlx::query(
            "insert into attachments (tenant_id, id, ticket_id, reply_id, uploader_id, filename, \
                 content_type, size_bytes, sha256, storage_key, internal, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(tenant)
        .bind(id)
        .bind(owner.ticket)
        .bind(owner.reply)
        .bind(owner.uploader)
        .bind(&file.filename)
        .bind(&file.content_type)
        .bind(i64::try_from(file.size).unwrap_or(i64::MAX))
        .bind(file.sha256.as_slice())
        .bind(file.key.as_str())
        .bind(owner.internal)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        let what = format!(
            "{} ({})",
            file.filename,
            super::validate::format_size(file.size)
        );
        let event = NewEvent {
            new_value: Some(&what),
            ..NewEvent::new(owner.ticket, owner.uploader, EventKind::Attached)
        }
        .internal(owner.internal);
        events::record(&mut *conn, tenant, event, now).await?;
        ids.push(id);
    }
    Ok(ids)
}

/// A file as a ticket's page lists it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Listed {
    pub id: AttachmentId,
    pub reply_id: Option<ReplyId>,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub internal: bool,
}

/// A ticket's files as its page lists them, oldest first, in one JSON array:
/// a column, so the ticket's page reads them with the ticket. `$1` is the
/// tenant, `$3` whether the viewer is staff (customers get no note files), and
/// the ticket's id the given expression.
macro_rules! listed_json {
    ($ticket:literal) => {
        concat!(
            "(select coalesce(json_agg(json_build_object(\
               'id', a.id, 'reply_id', a.reply_id, 'filename', a.filename, \
               'content_type', a.content_type, 'size_bytes', a.size_bytes, 'internal', a.internal) \
               order by a.created_at, a.id), '[]') \
             from attachments a where a.tenant_id = $1 and a.ticket_id = ",
            $ticket,
            " and ($3 or not a.internal))"
        )
    };
}
pub(crate) use listed_json;

/// [`listed_json`] of the ticket `$2`.
const LISTED_JSON: &str = listed_json!("$2");

/// A ticket's files as its page lists them ([`LISTED_JSON`]).
pub async fn for_ticket(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: TicketId,
    staff: bool,
) -> Result<Vec<Listed>, sqlx::Error> {
    let Json(files) = sqlx::query_scalar(&format!("select {LISTED_JSON}"))
        .bind(tenant)
        .bind(ticket)
        .bind(staff)
        .fetch_one(conn)
        .await?;
    Ok(files)
}

pub async fn find(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: TicketId,
    id: AttachmentId,
) -> Result<Option<Attachment>, sqlx::Error> {
    sqlx::query_as::<_, Attachment>(&format!(
        "{SELECT} where tenant_id = $1 and ticket_id = $2 and id = $3"
    ))
    .bind(tenant)
    .bind(ticket)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The tenant's attachment settings (its `tenant_settings` row; the defaults
/// when a tenant has none yet).
pub async fn settings(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<super::policy::Settings, sqlx::Error> {
    let found = sqlx::query_as::<_, super::policy::Settings>(
        "select attachment_max_file_mb as max_file_mb, attachment_allow_list as allow_list, \
                attachment_formats as formats \
         from tenant_settings where tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(conn)
    .await?;
    Ok(found.unwrap_or_default())
}

/// The settings locked for a change (the row is made if missing).
pub async fn settings_for_update(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<super::policy::Settings, sqlx::Error> {
    sqlx::query("insert into tenant_settings (tenant_id) values ($1) on conflict do nothing")
        .bind(tenant)
        .execute(&mut *conn)
        .await?;
    sqlx::query_as::<_, super::policy::Settings>(
        "select attachment_max_file_mb as max_file_mb, attachment_allow_list as allow_list, \
                attachment_formats as formats \
         from tenant_settings where tenant_id = $1 for no key update",
    )
    .bind(tenant)
    .fetch_one(conn)
    .await
}

pub async fn save_settings(
    conn: &mut PgConnection,
    tenant: TenantId,
    settings: &super::policy::Settings,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update tenant_settings set attachment_max_file_mb = $2, attachment_allow_list = $3, \
                attachment_formats = $4, updated_at = $5 \
         where tenant_id = $1",
    )
    .bind(tenant)
    .bind(settings.max_file_mb)
    .bind(settings.allow_list)
    .bind(&settings.formats)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
