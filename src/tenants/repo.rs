//! Tenant SQL. Tenants are looked up before any tenant is set, so these run on
//! the pool (or a plain transaction), not inside a `TenantTx`.

use super::Tenant;
use crate::db::TenantId;
use sqlx::{PgConnection, PgPool};

pub async fn find_by_slug(pool: &PgPool, slug: &str) -> Result<Option<Tenant>, sqlx::Error> {
    sqlx::query_as::<_, Tenant>(
        "select id, slug, name, is_demo, ticket_prefix from tenants where slug = $1",
    )
    .bind(slug)
    .fetch_optional(pool)
    .await
}

pub async fn insert(
    conn: &mut PgConnection,
    id: TenantId,
    slug: &str,
    name: &str,
    is_demo: bool,
) -> Result<Tenant, sqlx::Error> {
    sqlx::query_as::<_, Tenant>(
        "insert into tenants (id, slug, name, is_demo) values ($1, $2, $3, $4) \
         returning id, slug, name, is_demo, ticket_prefix",
    )
    .bind(id)
    .bind(slug)
    .bind(name)
    .bind(is_demo)
    .fetch_one(conn)
    .await
}
