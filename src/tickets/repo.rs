//! Ticket SQL: tickets, followers, events and counters. Every function takes the
//! tenant and runs inside a `TenantTx`.

use super::model::{
    CategoryId, GroupId, PriorityId, StatusCategory, StatusId, Ticket, TicketId, TypeId,
};
use crate::db::{TenantId, UserId};
use sqlx::PgConnection;
use time::OffsetDateTime;

/// The columns of [`Ticket`], from [`TICKET_TABLES`].
pub(crate) const TICKET_COLUMNS: &str = "t.tenant_id, t.id, t.number, t.subject, t.description, \
       t.type_id, t.priority_id, t.status_id, t.status_category, t.category_id, \
       t.requester_id, r.name as requester_name, r.email as requester_email, \
       t.assignee_id, a.name as assignee_name, t.group_id, t.tags, \
       t.created_at, t.updated_at, t.last_reply_at, t.resolved_at, t.closed_at, \
       t.reopened, t.resolution_notes, t.version";
pub(crate) const TICKET_TABLES: &str = "from tickets t \
  join users r on r.tenant_id = t.tenant_id and r.id = t.requester_id \
  left join users a on a.tenant_id = t.tenant_id and a.id = t.assignee_id";

pub async fn ticket_prefix(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("select ticket_prefix from tenants where id = $1")
        .bind(tenant)
        .fetch_one(conn)
        .await
}

/// A ticket row to insert; its number is taken by [`insert_numbered`].
pub struct NewTicketRow<'a> {
    pub id: TicketId,
    pub subject: &'a str,
    pub description: &'a str,
    pub type_id: TypeId,
    pub priority_id: PriorityId,
    pub priority_rank: i32,
    pub status_id: StatusId,
    pub status_category: StatusCategory,
    pub category_id: Option<CategoryId>,
    pub requester_id: UserId,
    pub assignee_id: Option<UserId>,
    pub group_id: Option<GroupId>,
    pub tags: &'a [String],
    /// The submission's idempotency key, if the client sent one.
    pub idempotency_key: Option<&'a str>,
    pub now: OffsetDateTime,
}

/// Writes a new ticket's search document before the ticket itself: its create
/// does so ahead of taking the number (its words are the costliest part of the
/// ticket's insert), and the insert's trigger then leaves the row be (0021).
/// `updated_at` and `closed` are the ticket's, as the list by search reads them.
pub async fn insert_search_document(
    conn: &mut PgConnection,
    tenant: TenantId,
    row: &NewTicketRow<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into ticket_search (tenant_id, ticket_id, updated_at, closed, doc) \
         values ($1, $2, $3, $4, ticket_search_head($5, $6))",
    )
    .bind(tenant)
    .bind(row.id)
    .bind(row.now)
    .bind(row.status_category == StatusCategory::Closed)
    .bind(row.subject)
    .bind(row.description)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Inserts the ticket with the tenant's next number, and returns the number,
/// in one statement. The
/// counter row stays locked until the transaction ends, so concurrent creates
/// of the tenant queue here and numbers have no gaps: whatever the transaction
/// does after this statement, every other create waits for.
///
/// So the ticket's messages are stored before, printing its number as marks
/// (`email::TicketNumber::New`), and this statement puts the number there: as
/// digits, and six-digit padded as `tickets::model::display_number` shows it.
pub async fn insert_numbered(
    conn: &mut PgConnection,
    tenant: TenantId,
    row: NewTicketRow<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "with taken as ( \
           insert into ticket_counters as c (tenant_id, next_number) values ($1, 2) \
           on conflict (tenant_id) do update set next_number = c.next_number + 1 \
           returning next_number - 1 as number), \
         ticket as ( \
           insert into tickets (tenant_id, id, number, subject, description, type_id, \
             priority_id, priority_rank, status_id, status_category, category_id, \
             requester_id, assignee_id, group_id, tags, idempotency_key, created_at, \
             updated_at) \
           select $1, $2, taken.number, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             $16, $15, $15 \
             from taken \
           returning number), \
         shown as ( \
           select number::text as digits, \
                  case when number < 1000000 then lpad(number::text, 6, '0') \
                       else number::text end as padded \
             from ticket), \
         filled as ( \
           update email_outbox o \
              set subject = replace(replace(o.subject, $17, n.digits), $18, n.padded), \
                  body_text = replace(replace(o.body_text, $17, n.digits), $18, n.padded), \
                  body_html = replace(replace(o.body_html, $17, n.digits), $18, n.padded), \
                  payload = replace(replace(o.payload, $17, n.digits), $18, n.padded) \
             from shown n \
            where o.tenant_id = $1 and o.ticket_id = $2) \
         select number from ticket",
    )
    .bind(tenant)
    .bind(row.id)
    .bind(row.subject)
    .bind(row.description)
    .bind(row.type_id)
    .bind(row.priority_id)
    .bind(row.priority_rank)
    .bind(row.status_id)
    .bind(row.status_category)
    .bind(row.category_id)
    .bind(row.requester_id)
    .bind(row.assignee_id)
    .bind(row.group_id)
    .bind(row.tags)
    .bind(row.now)
    .bind(row.idempotency_key)
    .bind(crate::email::NEW_NUMBER_MARK)
    .bind(crate::email::NEW_NUMBER_PADDED_MARK)
    .fetch_one(conn)
    .await
}

/// The number of the ticket a submission with idempotency `key` created, if any.
pub async fn number_for_idempotency_key(
    conn: &mut PgConnection,
    tenant: TenantId,
    key: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("select number from tickets where tenant_id = $1 and idempotency_key = $2")
        .bind(tenant)
        .bind(key)
        .fetch_optional(conn)
        .await
}

pub async fn find_by_number(
    conn: &mut PgConnection,
    tenant: TenantId,
    number: i64,
) -> Result<Option<Ticket>, sqlx::Error> {
    sqlx::query_as::<_, Ticket>(&format!(
        "select {TICKET_COLUMNS} {TICKET_TABLES} where t.tenant_id = $1 and t.number = $2"
    ))
    .bind(tenant)
    .bind(number)
    .fetch_optional(conn)
    .await
}

/// Locks the ticket row for the rest of the transaction (changes to one ticket
/// are applied one after another).
pub async fn lock(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: TicketId,
) -> Result<(), sqlx::Error> {
    sqlx::query("select 1 from tickets where tenant_id = $1 and id = $2 for update")
        .bind(tenant)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The fields the edit form changes, all written at once.
pub struct TicketFields<'a> {
    pub subject: &'a str,
    pub description: &'a str,
    pub type_id: TypeId,
    pub priority_id: PriorityId,
    pub priority_rank: i32,
    pub status_id: StatusId,
    pub status_category: StatusCategory,
    pub category_id: Option<CategoryId>,
    pub requester_id: UserId,
    pub assignee_id: Option<UserId>,
    pub group_id: Option<GroupId>,
    pub tags: &'a [String],
    pub resolved_at: Option<OffsetDateTime>,
    pub closed_at: Option<OffsetDateTime>,
    pub reopened: bool,
    pub resolution_notes: Option<&'a str>,
}

pub async fn update_fields(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: TicketId,
    fields: TicketFields<'_>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update tickets set subject = $3, description = $4, type_id = $5, priority_id = $6, \
           priority_rank = $7, status_id = $8, status_category = $9, category_id = $10, \
           requester_id = $11, assignee_id = $12, group_id = $13, tags = $14, resolved_at = $15, \
           closed_at = $16, reopened = $17, updated_at = $18, version = version + 1, \
           resolution_notes = $19 \
         where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(fields.subject)
    .bind(fields.description)
    .bind(fields.type_id)
    .bind(fields.priority_id)
    .bind(fields.priority_rank)
    .bind(fields.status_id)
    .bind(fields.status_category)
    .bind(fields.category_id)
    .bind(fields.requester_id)
    .bind(fields.assignee_id)
    .bind(fields.group_id)
    .bind(fields.tags)
    .bind(fields.resolved_at)
    .bind(fields.closed_at)
    .bind(fields.reopened)
    .bind(now)
    .bind(fields.resolution_notes)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the ticket to `status` with the lifecycle times that implies.
pub async fn set_status(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: TicketId,
    status: &super::model::Status,
    lifecycle: &super::service::Lifecycle,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update tickets set status_id = $3, status_category = $4, resolved_at = $5, \
           closed_at = $6, reopened = $7 \
         where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(status.id)
    .bind(status.category)
    .bind(lifecycle.resolved_at)
    .bind(lifecycle.closed_at)
    .bind(lifecycle.reopened)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_resolution_notes(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: TicketId,
    notes: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update tickets set resolution_notes = $3 where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .bind(notes)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a reply on the ticket: last reply, first staff response, activity
/// time, and whether it awaits staff (a public reply by a customer: "Needs response").
/// Only a public reply moves the version: a note is invisible to the customer, so
/// it must not make their open edit form stale.
pub async fn touch_for_reply(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: TicketId,
    author: UserId,
    public: bool,
    staff: bool,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update tickets set updated_at = $5, \
           version = version + case when $3 then 1 else 0 end, \
           last_reply_at = case when $3 then $5 else last_reply_at end, \
           last_reply_by = case when $3 then $6 else last_reply_by end, \
           awaiting_staff = case when $3 then not $4 else awaiting_staff end, \
           first_response_at = case when $3 and $4 and first_response_at is null then $5 \
                                    else first_response_at end \
         where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(public)
    .bind(staff)
    .bind(now)
    .bind(author)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn is_following(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: TicketId,
    user: UserId,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists(select 1 from ticket_followers \
                        where tenant_id = $1 and ticket_id = $2 and user_id = $3)",
    )
    .bind(tenant)
    .bind(ticket)
    .bind(user)
    .fetch_one(conn)
    .await
}

/// Adds a follower; true when they were not following before.
pub async fn add_follower(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: TicketId,
    user: UserId,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "insert into ticket_followers (tenant_id, ticket_id, user_id, created_at) \
         values ($1, $2, $3, $4) on conflict do nothing",
    )
    .bind(tenant)
    .bind(ticket)
    .bind(user)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Removes a follower; true when they were following.
pub async fn remove_follower(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: TicketId,
    user: UserId,
) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query(
        "delete from ticket_followers where tenant_id = $1 and ticket_id = $2 and user_id = $3",
    )
    .bind(tenant)
    .bind(ticket)
    .bind(user)
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected() == 1)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct Follower {
    pub user_id: UserId,
    pub name: String,
}

/// Exact ticket counts per status for the whole tenant (kept by trigger).
pub async fn status_counts(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<Vec<(StatusId, i64)>, sqlx::Error> {
    sqlx::query_as("select status_id, n from ticket_status_counts where tenant_id = $1")
        .bind(tenant)
        .fetch_all(conn)
        .await
}
