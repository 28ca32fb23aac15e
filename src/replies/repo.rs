//! Reply SQL.

use crate::{
    auth::model::Role,
    db::{TenantId, UserId},
    tickets::model::TicketId,
};
use sqlx::PgConnection;
use time::OffsetDateTime;

crate::db::id_newtype!(
    /// A reply or internal note.
    ReplyId
);
crate::db::id_newtype!(
    /// An earlier text of a reply.
    RevisionId
);

pub const BODY_MAX_CHARS: usize = 100_000;

/// A reply with its author's and deleter's names: a row of [`REPLY_SELECT`],
/// or an element of [`replies_json`]'s array.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct Reply {
    pub id: ReplyId,
    pub ticket_id: TicketId,
    pub author_id: UserId,
    pub author_name: String,
    pub author_role: Role,
    pub body: String,
    pub internal: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub edited_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
    pub deleted_by_name: Option<String>,
}

/// [`Reply`]'s columns, up to the conditions.
macro_rules! reply_select {
    () => {
        "select r.id, r.ticket_id, r.author_id, a.name as author_name, \
            a.role as author_role, r.body, r.internal, r.created_at, r.edited_at, r.deleted_at, \
            d.name as deleted_by_name \
       from replies r \
       join users a on a.tenant_id = r.tenant_id and a.id = r.author_id \
       left join users d on d.tenant_id = r.tenant_id and d.id = r.deleted_by"
    };
}

/// The replies a viewer reads, `$3` saying whether they are staff: customers
/// get no notes and no deleted replies.
macro_rules! visible_to_viewer {
    () => {
        " and ($3 or (not r.internal and r.deleted_at is null))"
    };
}

const REPLY_SELECT: &str = reply_select!();
const VISIBLE: &str = visible_to_viewer!();

/// A ticket's conversation as [`for_ticket`] reads it, in one JSON array of
/// [`Reply`] (each row as an object of its columns): a column, so the ticket's
/// page reads it with the ticket (a round trip less per view). `$1` is the
/// tenant, `$3` whether the viewer is staff, and the ticket's id the given
/// expression.
macro_rules! replies_json {
    ($ticket:literal) => {
        concat!(
            "(select coalesce(json_agg(x order by x.created_at, x.id), '[]') from (",
            $crate::replies::repo::reply_select!(),
            " where r.tenant_id = $1 and r.ticket_id = ",
            $ticket,
            $crate::replies::repo::visible_to_viewer!(),
            ") x)"
        )
    };
}
pub(crate) use {replies_json, reply_select, visible_to_viewer};

/// The conversation, oldest first. Customers' pages pass `staff = false`: no
/// notes and no deleted replies, filtered here in SQL.
pub async fn for_ticket(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: TicketId,
    staff: bool,
) -> Result<Vec<Reply>, sqlx::Error> {
    sqlx::query_as::<_, Reply>(&format!(
        "{REPLY_SELECT} where r.tenant_id = $1 and r.ticket_id = $2{VISIBLE} \
         order by r.created_at, r.id"
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
    id: ReplyId,
) -> Result<Option<Reply>, sqlx::Error> {
    sqlx::query_as::<_, Reply>(&format!(
        "{REPLY_SELECT} where r.tenant_id = $1 and r.ticket_id = $2 and r.id = $3"
    ))
    .bind(tenant)
    .bind(ticket)
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn insert(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: TicketId,
    author: UserId,
    body: &str,
    internal: bool,
    now: OffsetDateTime,
) -> Result<ReplyId, sqlx::Error> {
    let id = ReplyId::generate();
    sqlx::query(
        "insert into replies (tenant_id, id, ticket_id, author_id, body, internal, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(id)
    .bind(ticket)
    .bind(author)
    .bind(body)
    .bind(internal)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Keeps the text a reply had before an edit or delete.
pub async fn save_revision(
    conn: &mut PgConnection,
    tenant: TenantId,
    reply: ReplyId,
    body: &str,
    change: &str,
    by: UserId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into reply_revisions (tenant_id, id, reply_id, body, change, changed_by, changed_at) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(RevisionId::generate())
    .bind(reply)
    .bind(body)
    .bind(change)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_body(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ReplyId,
    body: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query("update replies set body = $3, edited_at = $4 where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .bind(body)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn mark_deleted(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ReplyId,
    by: UserId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update replies set deleted_at = $4, deleted_by = $3 where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Earlier texts of a reply, oldest first.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Revision {
    pub body: String,
    pub change: String,
    pub changed_by_name: String,
    pub changed_at: OffsetDateTime,
}

pub async fn revisions(
    conn: &mut PgConnection,
    tenant: TenantId,
    reply: ReplyId,
) -> Result<Vec<Revision>, sqlx::Error> {
    sqlx::query_as::<_, Revision>(
        "select v.body, v.change, u.name as changed_by_name, v.changed_at \
           from reply_revisions v join users u on u.tenant_id = v.tenant_id and u.id = v.changed_by \
          where v.tenant_id = $1 and v.reply_id = $2 order by v.changed_at, v.id",
    )
    .bind(tenant)
    .bind(reply)
    .fetch_all(conn)
    .await
}
