//! Saved views: a name and the list's query string (filters, sort, queue,
//! quick filter), kept per staff member, or shared by an admin with all staff.
//!
//! Invariants:
//! - customers have no views and never see one (404);
//! - a personal view is seen and changed by its owner only; a shared view is
//!   seen by all staff and changed by its owner or an admin; anything else is
//!   404, whether it exists or not;
//! - positions order each list (one's personal views; the shared views).

use crate::{
    auth::model::{Role, User},
    clock::Clock,
    db::{Db, TenantId, TenantTx, UserId},
    error::AppError,
};
use sqlx::PgConnection;
use time::OffsetDateTime;

crate::db::id_newtype!(
    /// A saved view.
    ViewId
);

pub const NAME_MAX_CHARS: usize = 80;
pub const QUERY_MAX_CHARS: usize = 2000;

#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct SavedView {
    pub id: ViewId,
    pub owner_id: UserId,
    pub name: String,
    pub query: String,
    pub shared: bool,
    pub position: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

pub(super) const SELECT: &str =
    "select id, owner_id, name, query, shared, position, created_at from saved_views";

/// The views `user` sees: their own personal views, then the shared ones.
pub async fn visible(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: &User,
) -> Result<(Vec<SavedView>, Vec<SavedView>), sqlx::Error> {
    if !user.role.is_staff() {
        return Ok((Vec::new(), Vec::new()));
    }
    let all = sqlx::query_as::<_, SavedView>(&format!(
        "{SELECT} where tenant_id = $1 and (shared or owner_id = $2) order by position, created_at"
    ))
    .bind(tenant)
    .bind(user.id)
    .fetch_all(conn)
    .await?;
    Ok(all.into_iter().partition(|v| !v.shared))
}

/// The view `id` if `user` may see it; else 404.
pub async fn find_visible(
    conn: &mut PgConnection,
    user: &User,
    id: &str,
) -> Result<SavedView, AppError> {
    let id = uuid::Uuid::try_parse(id.trim())
        .map(ViewId)
        .map_err(|_| AppError::NotFound)?;
    if !user.role.is_staff() {
        return Err(AppError::NotFound);
    }
    sqlx::query_as::<_, SavedView>(&format!("{SELECT} where tenant_id = $1 and id = $2"))
        .bind(user.tenant_id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .filter(|v| v.shared || v.owner_id == user.id)
        .ok_or(AppError::NotFound)
}

fn may_change(user: &User, view: &SavedView) -> bool {
    view.owner_id == user.id || (view.shared && user.role == Role::Admin)
}

/// Loads and locks a view `user` may change.
async fn changeable(tx: &mut TenantTx, user: &User, id: &str) -> Result<SavedView, AppError> {
    let view = find_visible(tx, user, id).await?;
    if !may_change(user, &view) {
        return Err(AppError::NotFound);
    }
    sqlx::query("select 1 from saved_views where tenant_id = $1 and id = $2 for update")
        .bind(user.tenant_id)
        .bind(view.id)
        .execute(&mut **tx)
        .await?;
    Ok(view)
}

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// Bad input, worded for the form.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for ViewError {
    fn from(error: sqlx::Error) -> Self {
        ViewError::App(error.into())
    }
}

fn check_name(raw: &str) -> Result<String, ViewError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ViewError::Invalid("Give the view a name.".to_owned()));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(ViewError::Invalid(format!(
            "The name is too long: at most {NAME_MAX_CHARS} characters."
        )));
    }
    Ok(name.to_owned())
}

/// The list's query string as saved: without the page cursor, the notice and
/// the view itself (a view never points at another view).
pub fn clean_query(raw: &str) -> String {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(raw.trim_start_matches('?'))
            .unwrap_or_default()
            .into_iter()
            .filter(|(key, value)| {
                !value.is_empty() && !matches!(key.as_str(), "after" | "view" | "notice")
            })
            .collect();
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// Saves the list's current query under `name`. Only admins may share.
pub async fn create(
    db: &Db,
    clock: &Clock,
    user: &User,
    name: &str,
    query: &str,
    shared: bool,
) -> Result<ViewId, ViewError> {
    if !user.role.is_staff() {
        return Err(AppError::NotFound.into());
    }
    let name = check_name(name)?;
    let query = clean_query(query);
    if query.chars().count() > QUERY_MAX_CHARS {
        return Err(ViewError::Invalid(
            "These filters are too long to save.".to_owned(),
        ));
    }
    let shared = shared && user.role == Role::Admin;
    let tenant = user.tenant_id;
    let mut tx = db.tenant_tx(tenant).await?;
    let id = ViewId::generate();
    sqlx::query(
        "insert into saved_views (tenant_id, id, owner_id, name, query, shared, position, created_at) \
         values ($1, $2, $3, $4, $5, $6, \
                 (select coalesce(max(position), 0) + 1 from saved_views \
                   where tenant_id = $1 and (owner_id = $3 or shared)), $7)",
    )
    .bind(tenant)
    .bind(id)
    .bind(user.id)
    .bind(&name)
    .bind(&query)
    .bind(shared)
    .bind(clock.now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Renames a view; an admin also sets whether it is shared.
pub async fn update(
    db: &Db,
    user: &User,
    id: &str,
    name: &str,
    shared: Option<bool>,
) -> Result<(), ViewError> {
    let mut tx = db.tenant_tx(user.tenant_id).await?;
    let view = changeable(&mut tx, user, id).await?;
    let name = check_name(name)?;
    let shared = match shared {
        Some(shared) if user.role == Role::Admin => shared,
        _ => view.shared,
    };
    sqlx::query("update saved_views set name = $3, shared = $4 where tenant_id = $1 and id = $2")
        .bind(user.tenant_id)
        .bind(view.id)
        .bind(&name)
        .bind(shared)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Moves a view one place up or down in its list (swaps with the neighbour).
pub async fn reorder(db: &Db, user: &User, id: &str, up: bool) -> Result<(), ViewError> {
    let tenant = user.tenant_id;
    let mut tx = db.tenant_tx(tenant).await?;
    let view = changeable(&mut tx, user, id).await?;
    let (mine, shared) = visible(&mut tx, tenant, user).await?;
    let list = if view.shared { shared } else { mine };
    let mut list = list;
    let Some(at) = list.iter().position(|v| v.id == view.id) else {
        return Err(AppError::NotFound.into());
    };
    let other = if up { at.checked_sub(1) } else { Some(at + 1) };
    let Some(other) = other.filter(|i| *i < list.len()) else {
        return Ok(());
    };
    list.swap(at, other);
    // Renumbered from 1: positions may have tied (a shared view made personal).
    for (index, v) in list.iter().enumerate() {
        sqlx::query("update saved_views set position = $3 where tenant_id = $1 and id = $2")
            .bind(tenant)
            .bind(v.id)
            .bind(index as i32 + 1)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn delete(db: &Db, user: &User, id: &str) -> Result<(), ViewError> {
    let mut tx = db.tenant_tx(user.tenant_id).await?;
    let view = changeable(&mut tx, user, id).await?;
    sqlx::query("delete from saved_views where tenant_id = $1 and id = $2")
        .bind(user.tenant_id)
        .bind(view.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::clean_query;

    #[test]
    fn a_saved_query_drops_the_page_cursor_the_notice_and_empty_fields() {
        assert_eq!(
            clean_query("?queue=all&status=&after=u.1.2&quick=urgent&view=x&notice=saved"),
            "queue=all&quick=urgent"
        );
    }
}
