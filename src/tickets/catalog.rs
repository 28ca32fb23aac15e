//! A tenant's catalog: what its ticket pages read about the tenant's setup (the
//! option lists, the active staff and the groups, the attachment and reopening
//! settings). It changes seldom and is read on every page, so each process
//! keeps it per tenant with the version it was read at.
//!
//! Invariant: a catalog is used only while its version is at least the one on
//! the tenant row the request read (`tenants.catalog_version`, bumped by
//! trigger in the transaction of every change to what the catalog holds,
//! migration 0016). So a change made through any instance is seen by the next
//! request on every instance, and nothing here outlives a change.

use super::{
    lifecycle,
    options::{OPTIONS_COLUMNS, OptionsRow, TicketOptions},
    views::StaffOptions,
};
use crate::{
    attachments::policy,
    db::{TenantId, UserId},
    tenants::Tenant,
};
use sqlx::{PgConnection, types::Json};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

pub struct Catalog {
    pub version: i64,
    pub options: TicketOptions,
    /// Active agents and admins by name, as the assignee selects' options
    /// (written once here, not per page).
    pub staff_options: StaffOptions,
    /// Every agent's and admin's name, active or not: the list's assignees
    /// and most of its last repliers.
    pub staff_names: HashMap<UserId, String>,
    /// `(id, name)` by name.
    pub groups: Vec<(uuid::Uuid, String)>,
    pub attachments: policy::Settings,
    pub lifecycle: lifecycle::Settings,
}

#[derive(sqlx::FromRow)]
struct Row {
    version: i64,
    #[sqlx(flatten)]
    options: OptionsRow,
    /// Every agent and admin, `[id, name, active]` by name.
    staff: Json<Vec<(UserId, String, bool)>>,
    groups: Json<Vec<(uuid::Uuid, String)>>,
    max_file_mb: Option<i32>,
    allow_list: Option<bool>,
    formats: Option<Vec<String>>,
    reopen_window_days: Option<i32>,
    customers_can_reopen: Option<bool>,
}

impl Catalog {
    /// Reads the catalog and its version in one statement (one snapshot: the
    /// version is the one of what was read). A tenant without a settings row
    /// gets the defaults.
    pub async fn load(conn: &mut PgConnection, tenant: TenantId) -> Result<Self, sqlx::Error> {
        let row: Row = sqlx::query_as(&format!(
            "select t.catalog_version as version, {OPTIONS_COLUMNS}, \
               (select coalesce(json_agg(json_build_array(id, name, active) order by name), '[]') \
                  from users where tenant_id = $1 and role in ('agent', 'admin')) as staff, \
               (select coalesce(json_agg(json_build_array(id, name) order by name), '[]') \
                  from groups where tenant_id = $1) as groups, \
               s.attachment_max_file_mb as max_file_mb, s.attachment_allow_list as allow_list, \
               s.attachment_formats as formats, s.reopen_window_days, s.customers_can_reopen \
             from tenants t left join tenant_settings s on s.tenant_id = t.id \
            where t.id = $1"
        ))
        .bind(tenant)
        .fetch_one(conn)
        .await?;
        let attachments = policy::Settings::default();
        let lifecycle = lifecycle::Settings::default();
        Ok(Self {
            version: row.version,
            options: row.options.into(),
            staff_options: StaffOptions::new(
                row.staff
                    .iter()
                    .filter(|(_, _, active)| *active)
                    .map(|(id, name, _)| (*id, name.as_str())),
            ),
            staff_names: row
                .staff
                .0
                .into_iter()
                .map(|(id, name, _)| (id, name))
                .collect(),
            groups: row.groups.0,
            attachments: policy::Settings {
                max_file_mb: row.max_file_mb.unwrap_or(attachments.max_file_mb),
                allow_list: row.allow_list.unwrap_or(attachments.allow_list),
                formats: row.formats.unwrap_or(attachments.formats),
            },
            lifecycle: lifecycle::Settings {
                reopen_window_days: row
                    .reopen_window_days
                    .unwrap_or(lifecycle.reopen_window_days),
                customers_can_reopen: row
                    .customers_can_reopen
                    .unwrap_or(lifecycle.customers_can_reopen),
            },
        })
    }
}

/// The catalogs this process has read, by tenant.
#[derive(Default)]
pub struct Catalogs {
    by_tenant: Mutex<HashMap<TenantId, Arc<Catalog>>>,
}

/// More tenants than this seen by one process, and the map starts over: a
/// catalog is a few kilobytes (a tenant's staff dominate), and reading one is
/// a single statement.
const MAX_TENANTS: usize = 1000;

impl Catalogs {
    /// `tenant`'s catalog as of the tenant row the request read: the kept one
    /// if it is that new, else read now (through `conn`, inside the request's
    /// tenant scope) and kept.
    pub async fn of(
        &self,
        conn: &mut PgConnection,
        tenant: &Tenant,
    ) -> Result<Arc<Catalog>, sqlx::Error> {
        if let Some(kept) = self.kept(tenant.id)
            && kept.version >= tenant.catalog_version
        {
            return Ok(kept);
        }
        let fresh = Arc::new(Catalog::load(conn, tenant.id).await?);
        let mut by_tenant = self.lock();
        if by_tenant.len() >= MAX_TENANTS && !by_tenant.contains_key(&tenant.id) {
            by_tenant.clear();
        }
        let newest = by_tenant
            .entry(tenant.id)
            .and_modify(|kept| {
                if kept.version < fresh.version {
                    *kept = fresh.clone();
                }
            })
            .or_insert_with(|| fresh.clone());
        Ok(newest.clone())
    }

    fn kept(&self, tenant: TenantId) -> Option<Arc<Catalog>> {
        self.lock().get(&tenant).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Arc<Catalog>>> {
        // A panic while holding the lock leaves the map whole (every change
        // to it is one call), so a poisoned lock is still good to use.
        self.by_tenant
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
