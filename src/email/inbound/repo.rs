//! SQL of inbound mail: the tenant's settings, the record of each message, and
//! the lookups the matching rules make.

use crate::db::{TenantId, TenantTx, UserId};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The tenant's inbound settings (defaults when it never saved any).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct InboundSettings {
    pub inbound_secret_hash: Option<String>,
    pub accept_email_tickets: bool,
}

pub async fn settings(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<InboundSettings, sqlx::Error> {
    Ok(sqlx::query_as::<_, InboundSettings>(
        "select inbound_secret_hash, accept_email_tickets from email_settings where tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(conn)
    .await?
    .unwrap_or_default())
}

pub async fn set_secret_hash(
    conn: &mut PgConnection,
    tenant: TenantId,
    hash: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into email_settings (tenant_id, inbound_secret_hash, updated_at) values ($1, $2, $3) \
         on conflict (tenant_id) do update set inbound_secret_hash = excluded.inbound_secret_hash, \
             updated_at = excluded.updated_at",
    )
    .bind(tenant)
    .bind(hash)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

pub async fn set_accept_email_tickets(
    conn: &mut PgConnection,
    tenant: TenantId,
    accept: bool,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into email_settings (tenant_id, accept_email_tickets, updated_at) values ($1, $2, $3) \
         on conflict (tenant_id) do update set accept_email_tickets = excluded.accept_email_tickets, \
             updated_at = excluded.updated_at",
    )
    .bind(tenant)
    .bind(accept)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// One inbound message and what was decided.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub message_id: Option<String>,
    pub from_address: String,
    pub subject: String,
    pub size_bytes: i32,
    pub decision: &'static str,
    pub reason: String,
    pub ticket_id: Option<Uuid>,
    pub user_id: Option<UserId>,
    pub reply_id: Option<Uuid>,
}

pub async fn insert(tx: &mut TenantTx, r: &Record, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query(
        "insert into inbound_emails (tenant_id, id, message_id, from_address, subject, size_bytes, \
             decision, reason, ticket_id, user_id, reply_id, received_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(&r.message_id)
    .bind(&r.from_address)
    .bind(&r.subject)
    .bind(r.size_bytes)
    .bind(r.decision)
    .bind(&r.reason)
    .bind(r.ticket_id)
    .bind(r.user_id)
    .bind(r.reply_id)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// Serialises messages with the same Message-ID until the transaction ends, so
/// a message posted twice at once is handled once.
pub async fn lock_message_id(tx: &mut TenantTx, message_id: &str) -> Result<(), sqlx::Error> {
    let key = format!("inbound:{}:{message_id}", tx.tenant());
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(key)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// Whether a message with this Message-ID was accepted before.
pub async fn seen(tx: &mut TenantTx, message_id: &str) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_scalar(
        "select exists (select 1 from inbound_emails where tenant_id = $1 and message_id = $2 \
                          and decision in ('reply', 'ticket'))",
    )
    .bind(tenant)
    .bind(message_id)
    .fetch_one(&mut **tx)
    .await
}

/// The ticket and recipient of the outbox row a reply token names.
pub async fn outbox_target(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<Option<(Uuid, UserId)>, sqlx::Error> {
    let tenant = tx.tenant();
    let row: Option<(Option<Uuid>, Option<UserId>)> = sqlx::query_as(
        "select ticket_id, recipient_user_id from email_outbox where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.and_then(|(ticket, user)| ticket.zip(user)))
}

/// The ticket of the first of `ids` that Tessera sent or accepted for a ticket.
pub async fn ticket_of_message_ids(
    tx: &mut TenantTx,
    ids: &[String],
) -> Result<Option<Uuid>, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_scalar(
        "select ticket_id from ( \
             select ticket_id, message_id from email_outbox \
              where tenant_id = $1 and message_id = any($2) and ticket_id is not null \
             union all \
             select ticket_id, message_id from inbound_emails \
              where tenant_id = $1 and message_id = any($2) and decision in ('reply', 'ticket') \
         ) m order by array_position($2, m.message_id) limit 1",
    )
    .bind(tenant)
    .bind(ids)
    .fetch_optional(&mut **tx)
    .await
}

/// A ticket's number and whether `user` is its requester or a follower.
pub async fn ticket_participation(
    tx: &mut TenantTx,
    ticket: Uuid,
    user: Option<UserId>,
) -> Result<Option<(i64, bool)>, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_as(
        "select t.number, ($3::uuid is not null and (t.requester_id = $3 or exists ( \
                    select 1 from ticket_followers f \
                     where f.tenant_id = t.tenant_id and f.ticket_id = t.id and f.user_id = $3))) \
           from tickets t where t.tenant_id = $1 and t.id = $2",
    )
    .bind(tenant)
    .bind(ticket)
    .bind(user)
    .fetch_optional(&mut **tx)
    .await
}

pub async fn ticket_by_number(tx: &mut TenantTx, number: i64) -> Result<Option<Uuid>, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_scalar("select id from tickets where tenant_id = $1 and number = $2")
        .bind(tenant)
        .bind(number)
        .fetch_optional(&mut **tx)
        .await
}

/// The active user with this address.
pub async fn active_user_id_by_email(
    tx: &mut TenantTx,
    email: &str,
) -> Result<Option<UserId>, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_scalar(
        "select id from users where tenant_id = $1 and email_key = lower($2) and active",
    )
    .bind(tenant)
    .bind(email)
    .fetch_optional(&mut **tx)
    .await
}

/// One row of the admin page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdminRow {
    pub id: Uuid,
    pub from_address: String,
    pub subject: String,
    pub decision: String,
    pub reason: String,
    pub ticket_number: Option<i64>,
    pub received_at: OffsetDateTime,
}

/// Newest first, keyset by (received_at, id).
pub async fn admin_page(
    tx: &mut TenantTx,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<AdminRow>, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_as::<_, AdminRow>(
        "select i.id, i.from_address, i.subject, i.decision, i.reason, t.number as ticket_number, \
                i.received_at \
           from inbound_emails i \
           left join tickets t on t.tenant_id = i.tenant_id and t.id = i.ticket_id \
          where i.tenant_id = $1 \
            and ($2::uuid is null or (i.received_at, i.id) < \
                 (select c.received_at, c.id from inbound_emails c where c.tenant_id = $1 and c.id = $2)) \
          order by i.received_at desc, i.id desc limit $3",
    )
    .bind(tenant)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await
}
