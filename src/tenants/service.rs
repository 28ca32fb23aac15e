//! Creating tenants.

use super::{Tenant, TenantSlug, repo};
use crate::{
    auth::{self, model::NewUser},
    db::{Db, TenantId, TenantTx, violated_constraint},
};

#[derive(Debug, thiserror::Error)]
pub enum CreateTenantError {
    #[error("{0}")]
    Invalid(String),
    #[error("a tenant with the slug `{0}` already exists")]
    SlugTaken(String),
    #[error(transparent)]
    Admin(#[from] auth::service::CreateUserError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Creates a tenant and its first admin, all or nothing.
pub async fn create_tenant(
    db: &Db,
    slug: &str,
    name: &str,
    admin: NewUser,
    is_demo: bool,
) -> Result<Tenant, CreateTenantError> {
    let slug = TenantSlug::parse(slug).map_err(CreateTenantError::Invalid)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(CreateTenantError::Invalid(
            "a tenant name has 1 to 120 characters".to_owned(),
        ));
    }
    let id = TenantId::generate();
    let mut tx = db.pool().begin().await?;
    let tenant = repo::insert(&mut tx, id, slug.as_str(), name, is_demo)
        .await
        .map_err(|error| match violated_constraint(&error) {
            Some("tenants_slug_key") => CreateTenantError::SlugTaken(slug.as_str().to_owned()),
            _ => CreateTenantError::Database(error),
        })?;
    let mut tx = TenantTx::enter(tx, id).await?;
    sqlx::query("select seed_ticket_defaults_and_settings($1)")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    auth::service::create_user_in(&mut tx, admin).await?;
    tx.commit().await?;
    Ok(tenant)
}
