//! Working the queue: the list's sidebar (queues, quick filters, saved views),
//! bulk actions, saved-view management and the availability toggle. Thin: the
//! rules are in `bulk`, `saved_views` and `assignment`.

use super::{
    assignment::{self, Availability},
    bulk::{self, BulkAction, BulkError},
    catalog::Catalog,
    handlers::{list_href, list_page},
    list::{self, ListQuery, Queue, Quick, RawListQuery, SCOPE_ROWS_COLUMN, Scope},
    model::StatusId,
    saved_views::{self, SELECT as SAVED_VIEW_SELECT, SavedView, ViewError, ViewId},
    views::{AssigneeChoices, BulkBar, Choice, SideLink},
};
use crate::{
    auth::model::{Role, User},
    db::{Plans, TenantTx},
    error::{AppError, AppResult},
    state::AppState,
    tenants::Tenant,
    web::{
        chrome::{Chrome, Notice},
        extract::Staff,
        form::Fields,
    },
};
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use sqlx::types::Json;
use std::sync::Arc;

/// What the list page reads besides its rows and the tenant's catalog: the
/// viewer's queue scope, the status badges' counts, the viewer's saved views
/// and their availability. Customers get their own tickets' counts and no
/// views or availability.
pub struct Surroundings {
    pub scope: Option<Scope>,
    pub counts: Vec<(StatusId, i64)>,
    pub my_views: Vec<SavedView>,
    pub shared_views: Vec<SavedView>,
    pub availability: Option<Availability>,
}

#[derive(sqlx::FromRow)]
struct SurroundingsRow {
    scope_rows: Json<Vec<(uuid::Uuid, Option<uuid::Uuid>)>>,
    counts: Json<Vec<(StatusId, i64)>>,
    views: Json<Vec<SavedView>>,
    availability: Option<String>,
}

impl Surroundings {
    /// The rest beside `catalog`, in one statement (as separate queries, six
    /// round trips were half the page's time). `$3` says whether the viewer is
    /// staff: each `case` runs one branch only. The statement also plans what
    /// follows it in `tx` as `plans` says (the page, [`TenantTx::plan`]): a
    /// round trip less than setting that on its own.
    pub async fn load(
        tx: &mut TenantTx,
        catalog: &Catalog,
        viewer: &User,
        plans: Plans,
    ) -> Result<Self, sqlx::Error> {
        let row: SurroundingsRow = sqlx::query_as(&format!(
            "select {SCOPE_ROWS_COLUMN}, \
               case when $3 then \
                 (select coalesce(json_agg(json_build_array(status_id, n)), '[]') \
                    from ticket_status_counts where tenant_id = $1) \
               else \
                 (select coalesce(json_agg(json_build_array(status_id, n)), '[]') \
                    from (select status_id, count(*) as n from tickets \
                           where tenant_id = $1 and requester_id = $2 group by status_id) mine) \
               end as counts, \
               case when $3 then \
                 (select coalesce(json_agg(v order by v.position, v.created_at), '[]') \
                    from ({SAVED_VIEW_SELECT} where tenant_id = $1 and (shared or owner_id = $2)) v) \
               else '[]' end as views, \
               case when $3 then (select availability from users where tenant_id = $1 and id = $2) \
               end as availability, \
               set_config('plan_cache_mode', $4, true) as plans"
        ))
        .bind(viewer.tenant_id)
        .bind(viewer.id)
        .bind(viewer.role.is_staff())
        .bind(plans.mode())
        .fetch_one(&mut **tx)
        .await?;
        tx.planned(plans);
        let (shared_views, my_views) = row.views.0.into_iter().partition(|v| v.shared);
        Ok(Self {
            scope: list::scope_from_rows(row.scope_rows.0, &catalog.options),
            counts: row.counts.0,
            my_views,
            shared_views,
            availability: row
                .availability
                .map(|raw| Availability::parse(&raw).unwrap_or(Availability::Available)),
        })
    }
}

pub struct Sidebar {
    pub queues: Vec<SideLink>,
    pub quick_links: Vec<SideLink>,
    pub my_views: Vec<SideLink>,
    pub shared_views: Vec<SideLink>,
}

/// The sidebar's links. Queue and quick-filter links keep the other filters;
/// a current quick filter's link turns it off.
pub fn sidebar(
    base: &str,
    raw_query: Option<&str>,
    query: &ListQuery,
    current_view: Option<ViewId>,
    my_views: &[SavedView],
    shared_views: &[SavedView],
) -> Sidebar {
    let in_view = current_view.is_some();
    let queues = [
        (Queue::Mine, "My queue", ""),
        (Queue::All, "All tickets", "all"),
    ]
    .into_iter()
    .map(|(queue, label, value)| SideLink {
        label: label.to_owned(),
        href: list_href(base, raw_query, &[("queue", value)]),
        current: !in_view && query.queue == queue,
    })
    .collect();
    let quick_links = Quick::ALL
        .iter()
        .map(|(quick, label)| {
            let current = query.quick == Some(*quick);
            let value = if current { "" } else { quick.as_str() };
            SideLink {
                label: (*label).to_owned(),
                href: list_href(base, raw_query, &[("quick", value)]),
                current: !in_view && current,
            }
        })
        .collect();
    let view_links = |views: &[SavedView]| {
        views
            .iter()
            .map(|v| SideLink {
                label: v.name.clone(),
                href: format!("{base}/tickets?view={}", v.id),
                current: current_view == Some(v.id),
            })
            .collect()
    };
    Sidebar {
        queues,
        quick_links,
        my_views: view_links(my_views),
        shared_views: view_links(shared_views),
    }
}

pub fn bulk_bar(base: &str, raw_query: Option<&str>, catalog: &Arc<Catalog>) -> BulkBar {
    let options = &catalog.options;
    let pick = |label: &str| vec![Choice::new("", label, true)];
    let assignee_choices = AssigneeChoices::new(
        catalog,
        &[("", "Assign to…"), ("unassigned", "Nobody (unassign)")],
        "",
    );
    let mut status_choices = pick("Status…");
    status_choices.extend(
        options
            .statuses
            .iter()
            .filter(|s| !s.retired)
            .map(|s| Choice::new(s.id.to_string(), s.name.clone(), false)),
    );
    let mut priority_choices = pick("Priority…");
    priority_choices.extend(
        options
            .priorities
            .iter()
            .filter(|p| !p.retired)
            .map(|p| Choice::new(p.id.to_string(), p.name.clone(), false)),
    );
    BulkBar {
        action: format!("{base}/tickets/bulk"),
        assignee_choices,
        status_choices,
        priority_choices,
        back: list_href(base, raw_query, &[]),
    }
}

/// The bulk bar. Which action is the button pressed (`action`); success goes
/// back to the list as it was; a refusal shows the list with the reason (422).
pub async fn bulk(
    State(state): State<AppState>,
    Staff(user): Staff,
    tenant: Tenant,
    mut chrome: Chrome,
    fields: Fields,
) -> AppResult<Response> {
    let base = tenant.base_path();
    let numbers: Vec<i64> = fields
        .all("ticket")
        .iter()
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let action = match fields.get("action") {
        "assign" => BulkAction::Assign {
            assignee: fields.get("assignee").to_owned(),
        },
        "status" => BulkAction::Status {
            status: fields.get("status").to_owned(),
            resolution_notes: fields.get("resolution_notes").to_owned(),
        },
        "priority" => BulkAction::Priority {
            priority: fields.get("priority").to_owned(),
        },
        "add_tag" => BulkAction::AddTag {
            tag: fields.get("tag").to_owned(),
        },
        "remove_tag" => BulkAction::RemoveTag {
            tag: fields.get("tag").to_owned(),
        },
        "follow" => BulkAction::Follow,
        _ => return Err(AppError::BadRequest("Choose an action.".to_owned())),
    };
    // Back to the list only: never an address from elsewhere, nor one that
    // cannot be a `Location` (a control character made `Redirect::to` panic: 500).
    let back = Some(fields.get("back"))
        .filter(|b| {
            b.starts_with(&format!("{base}/tickets"))
                && !b.contains("//")
                && !b.contains('\\')
                && !b.chars().any(char::is_control)
        })
        .map_or_else(|| format!("{base}/tickets"), str::to_owned);
    let query = back.split_once('?').map(|(_, q)| q.to_owned());
    match bulk::apply(&state.db, &state.clock, &user, &numbers, &action).await {
        Ok(_) => {
            let sep = if query.is_some() { '&' } else { '?' };
            Ok(Redirect::to(&format!("{back}{sep}notice=saved")).into_response())
        }
        Err(BulkError::Invalid(text)) => {
            chrome.notice = Some(Notice {
                kind: "error",
                text,
            });
            let raw: RawListQuery =
                serde_urlencoded::from_str(query.as_deref().unwrap_or_default())
                    .unwrap_or_default();
            let page = list_page(&state, &user, &tenant, chrome, raw, query).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(BulkError::App(error)) => Err(error),
    }
}

/// One saved view on the management page.
pub struct ViewRow {
    pub id: String,
    pub name: String,
    pub href: String,
    pub shared: bool,
    pub changeable: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/views.html")]
pub struct ViewsPage {
    pub chrome: Chrome,
    pub base: String,
    pub admin: bool,
    pub sections: Vec<ViewSection>,
    pub error: Option<String>,
}

pub struct ViewSection {
    pub title: &'static str,
    pub rows: Vec<ViewRow>,
}

async fn views_page(
    state: &AppState,
    user: &User,
    tenant: &Tenant,
    chrome: Chrome,
    error: Option<String>,
) -> AppResult<ViewsPage> {
    let base = tenant.base_path();
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let (mine, shared) = saved_views::visible(&mut tx, tenant.id, user).await?;
    tx.commit().await?;
    let admin = user.role == Role::Admin;
    let row = |v: &SavedView| ViewRow {
        id: v.id.to_string(),
        name: v.name.clone(),
        href: format!("{base}/tickets?view={}", v.id),
        shared: v.shared,
        changeable: v.owner_id == user.id || (v.shared && admin),
    };
    Ok(ViewsPage {
        sections: vec![
            ViewSection {
                title: "My views",
                rows: mine.iter().map(row).collect(),
            },
            ViewSection {
                title: "Shared views",
                rows: shared.iter().map(row).collect(),
            },
        ],
        admin,
        error,
        chrome,
        base,
    })
}

pub async fn manage(
    State(state): State<AppState>,
    Staff(user): Staff,
    tenant: Tenant,
    chrome: Chrome,
) -> AppResult<ViewsPage> {
    views_page(&state, &user, &tenant, chrome, None).await
}

/// Answers a view change: back to the page on success, the page with the
/// reason on a refusal.
async fn answer(
    state: &AppState,
    user: &User,
    tenant: &Tenant,
    chrome: Chrome,
    result: Result<String, ViewError>,
) -> AppResult<Response> {
    match result {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(ViewError::Invalid(message)) => {
            let page = views_page(state, user, tenant, chrome, Some(message)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(ViewError::App(error)) => Err(error),
    }
}

/// "Save this view" from the list: opens the new view.
pub async fn create(
    State(state): State<AppState>,
    Staff(user): Staff,
    tenant: Tenant,
    chrome: Chrome,
    fields: Fields,
) -> AppResult<Response> {
    let base = tenant.base_path();
    let result = saved_views::create(
        &state.db,
        &state.clock,
        &user,
        fields.get("name"),
        fields.get("query"),
        fields.get("shared") == "1",
    )
    .await
    .map(|id| format!("{base}/tickets?view={id}"));
    answer(&state, &user, &tenant, chrome, result).await
}

pub async fn update(
    State(state): State<AppState>,
    Staff(user): Staff,
    tenant: Tenant,
    chrome: Chrome,
    Path((_, id)): Path<(String, String)>,
    fields: Fields,
) -> AppResult<Response> {
    let shared = fields
        .has("shared_present")
        .then(|| fields.get("shared") == "1");
    let result = saved_views::update(&state.db, &user, &id, fields.get("name"), shared)
        .await
        .map(|()| format!("{}/views?notice=saved", tenant.base_path()));
    answer(&state, &user, &tenant, chrome, result).await
}

pub async fn reorder(
    State(state): State<AppState>,
    Staff(user): Staff,
    tenant: Tenant,
    chrome: Chrome,
    Path((_, id)): Path<(String, String)>,
    fields: Fields,
) -> AppResult<Response> {
    let result = saved_views::reorder(&state.db, &user, &id, fields.get("direction") == "up")
        .await
        .map(|()| format!("{}/views", tenant.base_path()));
    answer(&state, &user, &tenant, chrome, result).await
}

pub async fn delete(
    State(state): State<AppState>,
    Staff(user): Staff,
    tenant: Tenant,
    chrome: Chrome,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let result = saved_views::delete(&state.db, &user, &id)
        .await
        .map(|()| format!("{}/views?notice=admin_deleted", tenant.base_path()));
    answer(&state, &user, &tenant, chrome, result).await
}

/// The availability toggle (staff): back to the list.
pub async fn set_availability(
    State(state): State<AppState>,
    Staff(user): Staff,
    tenant: Tenant,
    fields: Fields,
) -> AppResult<Redirect> {
    let to = Availability::parse(fields.get("availability"))
        .ok_or_else(|| AppError::BadRequest("Choose available or away.".to_owned()))?;
    assignment::set_availability(&state.db, &user, to).await?;
    Ok(Redirect::to(&format!(
        "{}/tickets?notice=saved",
        tenant.base_path()
    )))
}
