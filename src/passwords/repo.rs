//! Account-token SQL. Every function runs inside a `TenantTx`.

use crate::db::{TenantId, UserId};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A token row to store: the hash, never the token.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub id: Uuid,
    pub user: UserId,
    pub purpose: &'a str,
    pub token_hash: &'a [u8],
    pub expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
}

pub async fn insert_token(
    conn: &mut PgConnection,
    tenant: TenantId,
    token: &NewToken<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into account_tokens \
             (tenant_id, id, user_id, purpose, token_hash, expires_at, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(token.id)
    .bind(token.user)
    .bind(token.purpose)
    .bind(token.token_hash)
    .bind(token.expires_at)
    .bind(token.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the user's unused tokens used: of one purpose, or (`None`) all.
pub async fn retire_unused(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    purpose: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update account_tokens set used_at = $4 \
          where tenant_id = $1 and user_id = $2 and used_at is null \
            and ($3::text is null or purpose = $3)",
    )
    .bind(tenant)
    .bind(user)
    .bind(purpose)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many tokens of `purpose` the user got since `since`.
pub async fn count_since(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    purpose: &str,
    since: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select count(*) from account_tokens \
          where tenant_id = $1 and user_id = $2 and purpose = $3 and created_at > $4",
    )
    .bind(tenant)
    .bind(user)
    .bind(purpose)
    .bind(since)
    .fetch_one(conn)
    .await
}

/// A token found by its hash, with its user's state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: Uuid,
    pub user_id: UserId,
    pub purpose: String,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
    pub email: String,
    pub active: bool,
}

/// The token with this hash, locked against a concurrent use.
pub async fn find_by_hash_for_update(
    conn: &mut PgConnection,
    tenant: TenantId,
    token_hash: &[u8],
) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as::<_, TokenRow>(
        "select t.id, t.user_id, t.purpose, t.expires_at, t.used_at, u.email, u.active \
           from account_tokens t \
           join users u on u.tenant_id = t.tenant_id and u.id = t.user_id \
          where t.tenant_id = $1 and t.token_hash = $2 \
          for update of t",
    )
    .bind(tenant)
    .bind(token_hash)
    .fetch_optional(conn)
    .await
}

pub async fn mark_used(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query("update account_tokens set used_at = $3 where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_password_hash(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    hash: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update users set password_hash = $3, updated_at = $4 where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(user)
    .bind(hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
