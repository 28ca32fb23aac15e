//! Tenant SQL. Tenants are looked up before any tenant is set, so these run on
//! the pool (or a plain transaction), not inside a `TenantTx`.

use super::Tenant;
use crate::db::{Db, TenantId, TenantTx};
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

/// The tenant called `slug` and a transaction scoped to it, in one statement:
/// the row is read before the role changes, then the statement does what
/// `TenantTx::enter` does. `None` (nothing scoped) for an unknown slug.
pub async fn enter_by_slug(db: &Db, slug: &str) -> Result<Option<(Tenant, TenantTx)>, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    let tenant = sqlx::query_as::<_, Tenant>(&format!(
        "select {TENANT_COLUMNS}, \
                set_config('role', 'tessera_app', true) as scoped_role, \
                set_config('app.tenant_id', id::text, true) as scoped_tenant \
           from tenants where slug = $1"
    ))
    .bind(slug)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(tenant.map(|tenant| {
        let tx = TenantTx::entered(tx, tenant.id);
        (tenant, tx)
    }))
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
