//! Attachment SQL.

use super::{AttachmentId, StoredFile};
use crate::{
    db::{TenantId, UserId},
    replies::repo::ReplyId,
    tickets::model::TicketId,
};
use sqlx::PgConnection;
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

/// Records stored files, in upload order.
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
        ids.push(id);
    }
    Ok(ids)
}

/// A ticket's attachments, oldest first; customers' pages pass `staff = false`
/// and get no note attachments.
pub async fn for_ticket(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: TicketId,
    staff: bool,
) -> Result<Vec<Attachment>, sqlx::Error> {
    sqlx::query_as::<_, Attachment>(&format!(
        "{SELECT} where tenant_id = $1 and ticket_id = $2 and ($3 or not internal) \
         order by created_at, id"
    ))
    .bind(tenant)
    .bind(ticket)
    .bind(staff)
    .fetch_all(conn)
    .await
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
