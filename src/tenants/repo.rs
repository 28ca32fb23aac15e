//! Tenant SQL. Tenants are looked up before any tenant is set, so these run on
//! the pool (or a plain transaction), not inside a `TenantTx`.

use super::Tenant;
use crate::db::TenantId;
use sqlx::{PgConnection, PgPool};

const TENANT_COLUMNS: &str = "id, slug, name, is_demo, ticket_prefix, catalog_version";

pub async fn find_by_slug(pool: &PgPool, slug: &str) -> Result<Option<Tenant>, sqlx::Error> {
    sqlx::query_as::<_, Tenant>(&format!(
        "select {TENANT_COLUMNS} from tenants where slug = $1"
    ))
    .bind(slug)
    .fetch_optional(pool)
    .await
}

/// The id of the tenant called `slug`, if there is one.
pub async fn id_by_slug(pool: &PgPool, slug: &str) -> Result<Option<TenantId>, sqlx::Error> {
    sqlx::query_scalar("select id from tenants where slug = $1")
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
    sqlx::query_as::<_, Tenant>(&format!(
        "insert into tenants (id, slug, name, is_demo) values ($1, $2, $3, $4) \
         returning {TENANT_COLUMNS}"
    ))
    .bind(id)
    .bind(slug)
    .bind(name)
    .bind(is_demo)
    .fetch_one(conn)
    .await
}
