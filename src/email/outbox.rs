//! The `email_outbox` table: enqueueing inside an action's transaction, and the
//! worker's claim and outcome updates.

use crate::db::{TenantId, TenantTx, UserId};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A message ready to be stored, rendered for one recipient.
#[derive(Debug, Clone)]
pub struct NewEmail {
    pub recipient_user_id: Option<UserId>,
    pub recipient_email: String,
    pub recipient_name: String,
    pub from_name: String,
    pub template: &'static str,
    pub ticket_id: Option<Uuid>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
    pub idempotency_key: String,
    /// The tenant's unsubscribe page (`/{slug}/unsubscribe`) for ticket mail to
    /// a user; the worker signs the link and sets `List-Unsubscribe`.
    pub unsubscribe_path: Option<String>,
}

/// Stores `email` in the caller's transaction, due at once. Returns false when a
/// row with the same idempotency key exists already (nothing is written).
pub async fn enqueue(
    tx: &mut TenantTx,
    email: &NewEmail,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant();
    let inserted = sqlx::query(
        "insert into email_outbox (tenant_id, id, recipient_user_id, recipient_email, \
             recipient_name, from_name, template, ticket_id, subject, body_text, body_html, \
             message_id, in_reply_to, thread_references, idempotency_key, unsubscribe_path, \
             status, attempts, next_attempt_at, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             'pending', 0, $17, $17) \
         on conflict (tenant_id, idempotency_key) do nothing",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(email.recipient_user_id)
    .bind(&email.recipient_email)
    .bind(&email.recipient_name)
    .bind(&email.from_name)
    .bind(email.template)
    .bind(email.ticket_id)
    .bind(&email.subject)
    .bind(&email.body_text)
    .bind(&email.body_html)
    .bind(&email.message_id)
    .bind(&email.in_reply_to)
    .bind(&email.references)
    .bind(&email.idempotency_key)
    .bind(&email.unsubscribe_path)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// A stored message as the worker delivers it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub tenant_id: TenantId,
    pub id: Uuid,
    pub recipient_user_id: Option<UserId>,
    pub ticket_id: Option<Uuid>,
    pub unsubscribe_path: Option<String>,
    pub recipient_email: String,
    pub recipient_name: String,
    pub from_name: String,
    pub template: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub thread_references: Option<String>,
    /// `email`, or `chat` (a webhook post of `payload` to `webhook_url`).
    pub channel: String,
    pub webhook_url: Option<String>,
    pub payload: Option<String>,
    pub attempts: i32,
    pub created_at: OffsetDateTime,
}

/// Switches the transaction to the mail worker's role: it sees every tenant's
/// outbox rows, and nothing else (see `0003_email_outbox.sql`).
pub async fn enter_worker_role(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("select set_config('role', 'tessera_mailer', true)")
        .execute(conn)
        .await
        .map(|_| ())
}

/// Locks the pending row that has been due longest, skipping rows another worker
/// holds. The lock lasts until the caller's transaction ends.
pub async fn claim_due(
    conn: &mut PgConnection,
    now: OffsetDateTime,
) -> Result<Option<OutboxRow>, sqlx::Error> {
    sqlx::query_as::<_, OutboxRow>(
        "select tenant_id, id, recipient_user_id, ticket_id, unsubscribe_path, \
                recipient_email, recipient_name, from_name, template, subject, \
                body_text, body_html, message_id, in_reply_to, thread_references, \
                channel, webhook_url, payload, attempts, \
                created_at \
           from email_outbox \
          where status = 'pending' and next_attempt_at <= $1 \
          order by next_attempt_at, tenant_id, id \
          limit 1 \
          for update skip locked",
    )
    .bind(now)
    .fetch_optional(conn)
    .await
}

pub async fn mark_sent(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update email_outbox \
            set status = 'sent', attempts = attempts + 1, sent_at = $3, last_error = null \
          where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records a failed attempt: due again at `retry_at`, or failed for good when
/// `retry_at` is `None`.
pub async fn mark_attempt_failed(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: Uuid,
    error: &str,
    retry_at: Option<OffsetDateTime>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update email_outbox \
            set attempts = attempts + 1, last_error = $3, \
                status = case when $4::timestamptz is null then 'failed' else 'pending' end, \
                next_attempt_at = coalesce($4, next_attempt_at) \
          where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(error)
    .bind(retry_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// One row of the admin outbox page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdminRow {
    pub id: Uuid,
    pub recipient_email: String,
    pub recipient_name: String,
    pub subject: String,
    pub template: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub next_attempt_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}

/// The tenant's rows, newest first, `limit` rows after the row `after` (keyset:
/// created_at, id, the order of `email_outbox_tenant_created_idx`).
pub async fn admin_page(
    tx: &mut TenantTx,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<AdminRow>, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_as::<_, AdminRow>(
        "select id, case when channel = 'chat' then 'chat webhook' else recipient_email end \
                    as recipient_email, recipient_name, subject, template, status, attempts, \
                last_error, created_at, next_attempt_at, sent_at \
           from email_outbox o \
          where o.tenant_id = $1 \
            and ($2::uuid is null or (o.created_at, o.id) < \
                 (select c.created_at, c.id from email_outbox c where c.tenant_id = $1 and c.id = $2)) \
          order by o.created_at desc, o.id desc limit $3",
    )
    .bind(tenant)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await
}

/// The row `id` of the transaction's tenant, locked: (recipient, subject, status).
pub async fn find_for_update(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<Option<(String, String, String)>, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_as(
        "select recipient_email, subject, status from email_outbox \
          where tenant_id = $1 and id = $2 for update",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// Puts a failed row back in the queue, due at `now`, with a fresh attempt
/// budget (the last error stays until the next attempt).
pub async fn requeue(tx: &mut TenantTx, id: Uuid, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query(
        "update email_outbox set status = 'pending', attempts = 0, next_attempt_at = $3 \
          where tenant_id = $1 and id = $2 and status = 'failed'",
    )
    .bind(tenant)
    .bind(id)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}
