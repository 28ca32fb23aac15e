//! Admin pages. Each handler reads its input, calls one service action (or
//! loads one page in one transaction) and answers: 303 with a notice after a
//! change, the page again with 422 (errors at the fields) or 409 (a refusal).

use super::{
    repo,
    service::{self, AdminError, AttachmentSettingsInput, Ctx, GeneralInput, NewUserInput},
    views::*,
};
use crate::{
    auth::model::{Role, User},
    error::{AppError, AppResult},
    state::AppState,
    tenants::Tenant,
    tickets::model::{CategoryId, StatusCategory},
    web::{chrome::Chrome, extract::Admin, form::Fields, format},
};
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

fn ctx<'a>(state: &'a AppState, admin: &'a User) -> Ctx<'a> {
    Ctx {
        db: &state.db,
        clock: &state.clock,
        admin,
    }
}

/// The pages that take actions, for re-showing one after a failed action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Page {
    Statuses,
    Priorities,
    Types,
    Categories,
    Tags,
    Users,
    Groups,
}

impl Page {
    fn slug(self) -> &'static str {
        match self {
            Page::Statuses => "statuses",
            Page::Priorities => "priorities",
            Page::Types => "types",
            Page::Categories => "categories",
            Page::Tags => "tags",
            Page::Users => "users",
            Page::Groups => "groups",
        }
    }
}

/// Everything a handler needs to answer an action.
struct Request {
    state: AppState,
    admin: User,
    tenant: Tenant,
    chrome: Chrome,
}

impl Request {
    async fn render(self, page: Page, overlay: Overlay) -> AppResult<Response> {
        let Request {
            state,
            admin,
            tenant,
            chrome,
        } = self;
        Ok(match page {
            Page::Statuses => render_statuses(&state, &tenant, chrome, overlay)
                .await?
                .into_response(),
            Page::Priorities => render_priorities(&state, &tenant, chrome, overlay)
                .await?
                .into_response(),
            Page::Types => render_types(&state, &tenant, chrome, overlay)
                .await?
                .into_response(),
            Page::Categories => render_categories(&state, &tenant, chrome, overlay)
                .await?
                .into_response(),
            Page::Tags => {
                // The list is shown again as the failed form's page had it.
                let q = overlay.values.get("q").to_owned();
                render_tags(&state, &tenant, chrome, &q, overlay)
                    .await?
                    .into_response()
            }
            Page::Users => render_users(&state, &admin, &tenant, chrome, "", overlay)
                .await?
                .into_response(),
            Page::Groups => render_groups(&state, &tenant, chrome, overlay)
                .await?
                .into_response(),
        })
    }

    /// 303 back to the page with a notice, or the page with the errors.
    async fn respond(
        self,
        page: Page,
        target: &str,
        fields: Fields,
        result: Result<(), AdminError>,
        notice: &str,
    ) -> AppResult<Response> {
        match result {
            Ok(()) => Ok(Redirect::to(&format!(
                "{}/admin/{}?notice={notice}",
                self.tenant.base_path(),
                page.slug()
            ))
            .into_response()),
            Err(AdminError::Invalid(errors)) => {
                let overlay = Overlay::invalid(target, fields, errors);
                let response = self.render(page, overlay).await?;
                Ok((StatusCode::UNPROCESSABLE_ENTITY, response).into_response())
            }
            Err(AdminError::Refused(message)) => {
                let response = self.render(page, Overlay::refused(message)).await?;
                Ok((StatusCode::CONFLICT, response).into_response())
            }
            Err(AdminError::App(error)) => Err(error),
        }
    }
}

/// The common extractors of an action, in the order axum wants them.
macro_rules! action {
    ($name:ident, $page:expr, $notice:expr, |$ctx:ident, $fields:ident| $call:expr) => {
        pub async fn $name(
            State(state): State<AppState>,
            Admin(admin): Admin,
            tenant: Tenant,
            chrome: Chrome,
            $fields: Fields,
        ) -> AppResult<Response> {
            let result = {
                let $ctx = ctx(&state, &admin);
                let $fields = &$fields;
                let result = $call.await;
                result
            };
            let target = match $fields.get("id") {
                "" => "add".to_owned(),
                id => id.to_owned(),
            };
            Request {
                state,
                admin,
                tenant,
                chrome,
            }
            .respond($page, &target, $fields, result, $notice)
            .await
        }
    };
}

fn up(fields: &Fields) -> bool {
    fields.get("direction") == "up"
}

fn retire(fields: &Fields) -> bool {
    fields.get("retired") == "1"
}

// ---- overview and general ----

pub async fn overview(Admin(_admin): Admin, tenant: Tenant, chrome: Chrome) -> OverviewPage {
    OverviewPage {
        chrome,
        nav: nav(&tenant.base_path(), ""),
    }
}

fn general_page(
    chrome: Chrome,
    tenant: &Tenant,
    input: GeneralInput,
    errors: service::FieldErrors,
    attachments: AttachmentSettingsView,
) -> GeneralPage {
    let base = tenant.base_path();
    GeneralPage {
        attachments,
        chrome,
        nav: nav(&base, "general"),
        action: format!("{base}/admin/general"),
        name: input.name,
        ticket_prefix: input.ticket_prefix,
        reopen_window_days: input.reopen_window_days,
        customers_can_reopen: input.customers_can_reopen,
        guest_submission_enabled: input.guest_submission_enabled,
        notification_email: input.notification_email,
        default_timezone: input.default_timezone,
        timezones: TIMEZONES,
        errors,
    }
}

pub async fn general(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
) -> AppResult<GeneralPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let settings = repo::settings(&mut tx, tenant.id).await?;
    let files = crate::attachments::repo::settings(&mut tx, tenant.id).await?;
    tx.commit().await?;
    Ok(general_page(
        chrome,
        &tenant,
        GeneralInput::from_settings(&settings),
        Default::default(),
        attachment_settings_view(
            &state,
            &tenant,
            AttachmentSettingsInput::from_settings(&files),
            Default::default(),
        ),
    ))
}

pub async fn save_general(
    State(state): State<AppState>,
    Admin(admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
    fields: Fields,
) -> AppResult<Response> {
    let input = GeneralInput {
        name: fields.get("name").to_owned(),
        ticket_prefix: fields.get("ticket_prefix").to_owned(),
        reopen_window_days: fields.get("reopen_window_days").to_owned(),
        customers_can_reopen: fields.has("customers_can_reopen"),
        guest_submission_enabled: fields.has("guest_submission_enabled"),
        notification_email: fields.get("notification_email").to_owned(),
        default_timezone: fields.get("default_timezone").to_owned(),
    };
    match service::save_general(ctx(&state, &admin), &input).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "{}/admin/general?notice=saved",
            tenant.base_path()
        ))
        .into_response()),
        Err(AdminError::Invalid(errors)) => {
            let mut tx = state.db.tenant_tx(tenant.id).await?;
            let files = crate::attachments::repo::settings(&mut tx, tenant.id).await?;
            tx.commit().await?;
            let attachments = attachment_settings_view(
                &state,
                &tenant,
                AttachmentSettingsInput::from_settings(&files),
                Default::default(),
            );
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                general_page(chrome, &tenant, input, errors, attachments),
            )
                .into_response())
        }
        Err(AdminError::Refused(message)) => Err(AppError::Conflict(message)),
        Err(AdminError::App(error)) => Err(error),
    }
}

// ---- attachment settings (a block of the general page) ----

fn attachment_settings_view(
    state: &AppState,
    tenant: &Tenant,
    input: AttachmentSettingsInput,
    errors: service::FieldErrors,
) -> AttachmentSettingsView {
    use crate::attachments::policy;
    AttachmentSettingsView {
        action: format!("{}/admin/general/attachments", tenant.base_path()),
        max_file_mb: input.max_file_mb,
        operator_max_mb: policy::operator_max_mb(&state.config),
        allow_list: input.allow_list,
        formats: policy::FORMATS
            .iter()
            .map(|f| (f.name, input.formats.iter().any(|sent| sent == f.name)))
            .collect(),
        errors,
    }
}

pub async fn save_attachment_settings(
    State(state): State<AppState>,
    Admin(admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
    fields: Fields,
) -> AppResult<Response> {
    let input = AttachmentSettingsInput {
        max_file_mb: fields.get("max_file_mb").to_owned(),
        allow_list: fields.has("allow_list"),
        formats: fields.all("formats"),
    };
    let operator_max_mb = crate::attachments::policy::operator_max_mb(&state.config);
    match service::save_attachment_settings(ctx(&state, &admin), &input, operator_max_mb).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "{}/admin/general?notice=saved",
            tenant.base_path()
        ))
        .into_response()),
        Err(AdminError::Invalid(errors)) => {
            let mut tx = state.db.tenant_tx(tenant.id).await?;
            let settings = repo::settings(&mut tx, tenant.id).await?;
            tx.commit().await?;
            let attachments = attachment_settings_view(&state, &tenant, input, errors);
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                general_page(
                    chrome,
                    &tenant,
                    GeneralInput::from_settings(&settings),
                    Default::default(),
                    attachments,
                ),
            )
                .into_response())
        }
        Err(AdminError::Refused(message)) => Err(AppError::Conflict(message)),
        Err(AdminError::App(error)) => Err(error),
    }
}

// ---- statuses ----

fn category_label(category: StatusCategory) -> &'static str {
    match category {
        StatusCategory::New => "New",
        StatusCategory::Open => "Open",
        StatusCategory::Waiting => "Waiting on customer",
        StatusCategory::Resolved => "Resolved",
        StatusCategory::Closed => "Closed",
    }
}

async fn render_statuses(
    state: &AppState,
    tenant: &Tenant,
    chrome: Chrome,
    overlay: Overlay,
) -> AppResult<StatusesPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let statuses = repo::statuses(&mut tx, tenant.id).await?;
    tx.commit().await?;
    let base = tenant.base_path();
    let count = statuses.len();
    let rows = statuses
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let id = s.id.to_string();
            StatusRowView {
                name: FieldView::new(&overlay, &id, "name", s.name.clone()),
                color: FieldView::new(&overlay, &id, "color", s.color.clone()),
                label: s.name,
                category: s.category.as_str(),
                category_label: category_label(s.category),
                is_default: s.is_default,
                retired: s.retired,
                tickets: format::count(s.tickets),
                first: i == 0,
                last: i + 1 == count,
                intermediate: service::category_is_intermediate(s.category),
                id,
            }
        })
        .collect();
    let add_category = FieldView::new(&overlay, "add", "category", "open");
    let category_choices = [StatusCategory::Open, StatusCategory::Waiting]
        .into_iter()
        .map(|c| {
            Choice::new(
                c.as_str(),
                category_label(c),
                add_category.value == c.as_str(),
            )
        })
        .collect();
    Ok(StatusesPage {
        nav: nav(&base, "statuses"),
        problem: overlay.problem.clone(),
        rows,
        add_name: FieldView::new(&overlay, "add", "name", ""),
        add_color: FieldView::new(&overlay, "add", "color", "#0891b2"),
        add_category,
        category_choices,
        base,
        chrome,
    })
}

pub async fn statuses(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
) -> AppResult<StatusesPage> {
    render_statuses(&state, &tenant, chrome, Overlay::default()).await
}

action!(add_status, Page::Statuses, "admin_added", |c, f| {
    service::add_status(c, f.get("name"), f.get("category"), f.get("color"))
});
action!(update_status, Page::Statuses, "saved", |c, f| {
    service::update_status(c, f.get("id"), f.get("name"), f.get("color"))
});
action!(move_status, Page::Statuses, "saved", |c, f| {
    service::move_status(c, f.get("id"), up(f))
});
action!(retire_status, Page::Statuses, "saved", |c, f| {
    service::retire_status(c, f.get("id"), retire(f))
});
action!(default_status, Page::Statuses, "saved", |c, f| {
    service::default_status(c, f.get("id"))
});
action!(delete_status, Page::Statuses, "admin_deleted", |c, f| {
    service::delete_status(c, f.get("id"))
});

// ---- priorities ----

async fn render_priorities(
    state: &AppState,
    tenant: &Tenant,
    chrome: Chrome,
    overlay: Overlay,
) -> AppResult<PrioritiesPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let priorities = repo::priorities(&mut tx, tenant.id).await?;
    tx.commit().await?;
    let base = tenant.base_path();
    let rows = priorities
        .into_iter()
        .map(|p| {
            let id = p.id.to_string();
            PriorityRowView {
                name: FieldView::new(&overlay, &id, "name", p.name.clone()),
                rank: FieldView::new(&overlay, &id, "rank", p.rank.to_string()),
                color: FieldView::new(&overlay, &id, "color", p.color.clone()),
                label: p.name,
                is_default: p.is_default,
                retired: p.retired,
                tickets: format::count(p.tickets),
                id,
            }
        })
        .collect();
    Ok(PrioritiesPage {
        nav: nav(&base, "priorities"),
        problem: overlay.problem.clone(),
        rows,
        add_name: FieldView::new(&overlay, "add", "name", ""),
        add_rank: FieldView::new(&overlay, "add", "rank", ""),
        add_color: FieldView::new(&overlay, "add", "color", "#6b7280"),
        base,
        chrome,
    })
}

pub async fn priorities(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
) -> AppResult<PrioritiesPage> {
    render_priorities(&state, &tenant, chrome, Overlay::default()).await
}

action!(add_priority, Page::Priorities, "admin_added", |c, f| {
    service::add_priority(c, f.get("name"), f.get("rank"), f.get("color"))
});
action!(update_priority, Page::Priorities, "saved", |c, f| {
    service::update_priority(c, f.get("id"), f.get("name"), f.get("rank"), f.get("color"))
});
action!(retire_priority, Page::Priorities, "saved", |c, f| {
    service::retire_priority(c, f.get("id"), retire(f))
});
action!(default_priority, Page::Priorities, "saved", |c, f| {
    service::default_priority(c, f.get("id"))
});
action!(
    delete_priority,
    Page::Priorities,
    "admin_deleted",
    |c, f| { service::delete_priority(c, f.get("id")) }
);

// ---- types ----

async fn render_types(
    state: &AppState,
    tenant: &Tenant,
    chrome: Chrome,
    overlay: Overlay,
) -> AppResult<TypesPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let types = repo::types(&mut tx, tenant.id).await?;
    tx.commit().await?;
    let base = tenant.base_path();
    let count = types.len();
    let rows = types
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let id = t.id.to_string();
            TypeRowView {
                name: FieldView::new(&overlay, &id, "name", t.name.clone()),
                label: t.name,
                is_default: t.is_default,
                retired: t.retired,
                tickets: format::count(t.tickets),
                first: i == 0,
                last: i + 1 == count,
                id,
            }
        })
        .collect();
    Ok(TypesPage {
        nav: nav(&base, "types"),
        problem: overlay.problem.clone(),
        rows,
        add_name: FieldView::new(&overlay, "add", "name", ""),
        base,
        chrome,
    })
}

pub async fn types(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
) -> AppResult<TypesPage> {
    render_types(&state, &tenant, chrome, Overlay::default()).await
}

action!(add_type, Page::Types, "admin_added", |c, f| {
    service::add_type(c, f.get("name"))
});
action!(update_type, Page::Types, "saved", |c, f| {
    service::rename_type(c, f.get("id"), f.get("name"))
});
action!(move_type, Page::Types, "saved", |c, f| {
    service::move_type(c, f.get("id"), up(f))
});
action!(retire_type, Page::Types, "saved", |c, f| {
    service::retire_type(c, f.get("id"), retire(f))
});
action!(default_type, Page::Types, "saved", |c, f| {
    service::default_type(c, f.get("id"))
});
action!(delete_type, Page::Types, "admin_deleted", |c, f| {
    service::delete_type(c, f.get("id"))
});

// ---- categories ----

/// The tree depth first: each category followed by its children, siblings in order.
fn tree_order(all: &[repo::CategoryRow]) -> Vec<&repo::CategoryRow> {
    fn walk<'a>(
        all: &'a [repo::CategoryRow],
        parent: Option<CategoryId>,
        out: &mut Vec<&'a repo::CategoryRow>,
    ) {
        for c in all.iter().filter(|c| c.parent_id == parent) {
            out.push(c);
            if out.len() <= all.len() {
                walk(all, Some(c.id), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(all, None, &mut out);
    out
}

async fn render_categories(
    state: &AppState,
    tenant: &Tenant,
    chrome: Chrome,
    overlay: Overlay,
) -> AppResult<CategoriesPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let all = repo::categories(&mut tx, tenant.id).await?;
    tx.commit().await?;
    let base = tenant.base_path();
    let rows = tree_order(&all)
        .into_iter()
        .map(|c| {
            let id = c.id.to_string();
            let siblings: Vec<CategoryId> = all
                .iter()
                .filter(|o| o.parent_id == c.parent_id)
                .map(|o| o.id)
                .collect();
            CategoryRowView {
                name: FieldView::new(&overlay, &id, "name", c.name.clone()),
                path: service::category_path(&all, c.id),
                depth: c.depth,
                retired: c.retired,
                tickets: format::count(c.tickets),
                first: siblings.first() == Some(&c.id),
                last: siblings.last() == Some(&c.id),
                id,
            }
        })
        .collect();
    let add_parent = FieldView::new(&overlay, "add", "parent", "");
    let mut parent_choices = vec![Choice::new(
        "",
        "— Top level —",
        add_parent.value.is_empty(),
    )];
    parent_choices.extend(
        tree_order(&all)
            .into_iter()
            .filter(|c| c.depth < service::CATEGORY_MAX_DEPTH)
            .map(|c| {
                let id = c.id.to_string();
                let selected = add_parent.value == id;
                Choice::new(id, service::category_path(&all, c.id), selected)
            }),
    );
    Ok(CategoriesPage {
        nav: nav(&base, "categories"),
        problem: overlay.problem.clone(),
        rows,
        add_name: FieldView::new(&overlay, "add", "name", ""),
        add_parent,
        parent_choices,
        base,
        chrome,
    })
}

pub async fn categories(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
) -> AppResult<CategoriesPage> {
    render_categories(&state, &tenant, chrome, Overlay::default()).await
}

action!(add_category, Page::Categories, "admin_added", |c, f| {
    service::add_category(c, f.get("parent"), f.get("name"))
});
action!(update_category, Page::Categories, "saved", |c, f| {
    service::rename_category(c, f.get("id"), f.get("name"))
});
action!(move_category, Page::Categories, "saved", |c, f| {
    service::move_category(c, f.get("id"), up(f))
});
action!(retire_category, Page::Categories, "saved", |c, f| {
    service::retire_category(c, f.get("id"), retire(f))
});
action!(
    delete_category,
    Page::Categories,
    "admin_deleted",
    |c, f| { service::delete_category(c, f.get("id")) }
);

// ---- tags ----

const TAGS_SHOWN: i64 = 500;

async fn render_tags(
    state: &AppState,
    tenant: &Tenant,
    chrome: Chrome,
    q: &str,
    overlay: Overlay,
) -> AppResult<TagsPage> {
    // Tags are stored lowercase; so is the search.
    let search = q.trim().to_lowercase();
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let tags = repo::tags(&mut tx, tenant.id, &search, TAGS_SHOWN + 1).await?;
    tx.commit().await?;
    let base = tenant.base_path();
    let more = tags.len() as i64 > TAGS_SHOWN;
    let rows: Vec<TagRowView> = tags
        .into_iter()
        .take(TAGS_SHOWN as usize)
        .enumerate()
        .map(|(i, t)| TagRowView {
            name: FieldView {
                id: format!("name-{i}"),
                value: overlay.value(&t.tag, "name", t.tag.clone()),
                error: overlay.error(&t.tag, "name"),
            },
            tickets: format::count(t.tickets),
            tag: t.tag,
        })
        .collect();
    let showing = match (rows.len(), more) {
        (n, true) => format!("Showing the first {n} tags; search to narrow the list."),
        (0, false) if search.is_empty() => "No ticket has a tag yet.".to_owned(),
        (0, false) => format!("No tag contains “{search}”."),
        (1, false) => "Showing 1 tag.".to_owned(),
        (n, false) => format!("Showing {n} tags."),
    };
    Ok(TagsPage {
        nav: nav(&base, "tags"),
        problem: overlay.problem.clone(),
        q: q.trim().to_owned(),
        rows,
        showing,
        base,
        chrome,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct TagsQuery {
    #[serde(default)]
    q: String,
}

pub async fn tags(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
    Query(query): Query<TagsQuery>,
) -> AppResult<TagsPage> {
    render_tags(&state, &tenant, chrome, &query.q, Overlay::default()).await
}

/// The tag travels as `tag` (the stored value), so the failed form is that tag's row.
async fn tag_action(
    request: Request,
    fields: Fields,
    result: Result<(), AdminError>,
    notice: &str,
) -> AppResult<Response> {
    let target = fields.get("tag").to_owned();
    request
        .respond(Page::Tags, &target, fields, result, notice)
        .await
}

pub async fn rename_tag(
    State(state): State<AppState>,
    Admin(admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
    fields: Fields,
) -> AppResult<Response> {
    let result =
        service::rename_tag(ctx(&state, &admin), fields.get("tag"), fields.get("name")).await;
    let request = Request {
        state,
        admin,
        tenant,
        chrome,
    };
    tag_action(request, fields, result, "saved").await
}

pub async fn delete_tag(
    State(state): State<AppState>,
    Admin(admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
    fields: Fields,
) -> AppResult<Response> {
    let result = service::delete_tag(ctx(&state, &admin), fields.get("tag")).await;
    let request = Request {
        state,
        admin,
        tenant,
        chrome,
    };
    tag_action(request, fields, result, "admin_deleted").await
}

// ---- users ----

const USERS_SHOWN: i64 = 200;

fn role_choices(selected: &str) -> Vec<Choice> {
    [Role::Customer, Role::Agent, Role::Admin]
        .into_iter()
        .map(|r| {
            let value = r.label().to_lowercase();
            let chosen = value == selected;
            Choice::new(value, r.label(), chosen)
        })
        .collect()
}

async fn render_users(
    state: &AppState,
    admin: &User,
    tenant: &Tenant,
    chrome: Chrome,
    q: &str,
    overlay: Overlay,
) -> AppResult<UsersPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let users = repo::search_users(&mut tx, tenant.id, q.trim(), USERS_SHOWN + 1).await?;
    tx.commit().await?;
    let base = tenant.base_path();
    let more = users.len() as i64 > USERS_SHOWN;
    let rows: Vec<UserRowView> = users
        .into_iter()
        .take(USERS_SHOWN as usize)
        .map(|u| {
            let id = u.id.to_string();
            let role_field = FieldView::new(&overlay, &id, "role", u.role.label().to_lowercase());
            UserRowView {
                role_choices: role_choices(&role_field.value),
                role_field,
                password: FieldView::new(&overlay, &id, "password", ""),
                name: u.name,
                email: u.email,
                active: u.active,
                has_password: u.has_password,
                is_self: u.id == admin.id,
                id,
            }
        })
        .collect();
    let showing = match (rows.len(), more) {
        (n, true) => format!("Showing the first {n} users; search to narrow the list."),
        (1, false) => "Showing 1 user.".to_owned(),
        (n, false) => format!("Showing {n} users."),
    };
    let add_role = FieldView::new(&overlay, "add", "role", "customer");
    Ok(UsersPage {
        nav: nav(&base, "users"),
        problem: overlay.problem.clone(),
        q: q.to_owned(),
        rows,
        showing,
        add_email: FieldView::new(&overlay, "add", "email", ""),
        add_name: FieldView::new(&overlay, "add", "name", ""),
        add_password: FieldView::new(&overlay, "add", "password", ""),
        add_invite: overlay.target != "add" || overlay.values.get("invite") == "1",
        add_role_choices: role_choices(&add_role.value),
        add_role,
        base,
        chrome,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct UsersQuery {
    #[serde(default)]
    q: String,
}

pub async fn users(
    State(state): State<AppState>,
    Admin(admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
    Query(query): Query<UsersQuery>,
) -> AppResult<UsersPage> {
    render_users(
        &state,
        &admin,
        &tenant,
        chrome,
        &query.q,
        Overlay::default(),
    )
    .await
}

pub async fn create_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
    fields: Fields,
) -> AppResult<Response> {
    let input = NewUserInput {
        email: fields.get("email").to_owned(),
        name: fields.get("name").to_owned(),
        role: fields.get("role").to_owned(),
        password: fields.get("password").to_owned(),
        invite: fields.get("invite") == "1",
    };
    let notice = if input.invite && input.password.is_empty() {
        "admin_invited"
    } else {
        "admin_user_created"
    };
    let result = service::create_user(ctx(&state, &admin), input).await;
    Request {
        state,
        admin,
        tenant,
        chrome,
    }
    .respond(Page::Users, "add", fields, result, notice)
    .await
}
pub async fn change_role(
    State(state): State<AppState>,
    Admin(admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
    fields: Fields,
) -> AppResult<Response> {
    let result =
        service::change_role(ctx(&state, &admin), fields.get("id"), fields.get("role")).await;
    // An admin who gave up their own admin role may no longer see this page.
    if result.is_ok() && fields.get("id") == admin.id.to_string() && fields.get("role") != "admin" {
        return Ok(Redirect::to(&format!("{}/?notice=saved", tenant.base_path())).into_response());
    }
    let target = fields.get("id").to_owned();
    Request {
        state,
        admin,
        tenant,
        chrome,
    }
    .respond(Page::Users, &target, fields, result, "saved")
    .await
}
action!(set_active, Page::Users, "saved", |c, f| {
    service::set_active(c, f.get("id"), f.get("active") == "1")
});
action!(set_password, Page::Users, "admin_password_set", |c, f| {
    service::set_password(c, f.get("id"), f.get("password"))
});
action!(send_reset_link, Page::Users, "admin_reset_sent", |c, f| {
    service::send_reset_link(c, f.get("id"))
});

// ---- groups ----

async fn render_groups(
    state: &AppState,
    tenant: &Tenant,
    chrome: Chrome,
    overlay: Overlay,
) -> AppResult<GroupsPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let groups = repo::groups(&mut tx, tenant.id).await?;
    let members = repo::group_members(&mut tx, tenant.id).await?;
    let scopes = repo::group_categories(&mut tx, tenant.id).await?;
    let categories = repo::categories(&mut tx, tenant.id).await?;
    let staff: Vec<repo::UserRow> = repo::search_users(&mut tx, tenant.id, "", 1000)
        .await?
        .into_iter()
        .filter(|u| u.active && u.role.is_staff())
        .collect();
    tx.commit().await?;
    let base = tenant.base_path();
    let ordered = tree_order(&categories);
    let groups = groups
        .into_iter()
        .map(|g| {
            let id = g.id.to_string();
            let in_group: Vec<&repo::MemberRow> =
                members.iter().filter(|m| m.group_id == g.id).collect();
            let member_field = FieldView::new(&overlay, &id, "user", "");
            let mut candidates = vec![Choice::new("", "Choose an agent or admin", false)];
            candidates.extend(
                staff
                    .iter()
                    .filter(|u| !in_group.iter().any(|m| m.user_id == u.id))
                    .map(|u| {
                        let value = u.id.to_string();
                        let selected = member_field.value == value;
                        Choice::new(value, format!("{} ({})", u.name, u.email), selected)
                    }),
            );
            let scope: Vec<ScopeChoice> = ordered
                .iter()
                .map(|c| ScopeChoice {
                    id: format!("scope-{id}-{}", c.id),
                    value: c.id.to_string(),
                    label: service::category_path(&categories, c.id),
                    checked: scopes.iter().any(|(gid, cid)| *gid == g.id && *cid == c.id),
                })
                .collect();
            let chosen: Vec<&str> = scope
                .iter()
                .filter(|s| s.checked)
                .map(|s| s.label.as_str())
                .collect();
            GroupView {
                name: FieldView::new(&overlay, &id, "name", g.name.clone()),
                label: g.name,
                tickets: format::count(g.tickets),
                members: in_group
                    .iter()
                    .map(|m| MemberView {
                        user_id: m.user_id.to_string(),
                        name: m.name.clone(),
                        email: m.email.clone(),
                    })
                    .collect(),
                member_field,
                candidates,
                scope_error: overlay.error(&id, "categories"),
                auto_assign: crate::tickets::assignment::AutoAssign::ALL
                    .iter()
                    .map(|(mode, label)| {
                        Choice::new(mode.as_str(), *label, mode.as_str() == g.auto_assign)
                    })
                    .collect(),
                scope_summary: if chosen.is_empty() {
                    "All categories (no scope set)".to_owned()
                } else {
                    chosen.join(", ")
                },
                scope,
                id,
            }
        })
        .collect();
    Ok(GroupsPage {
        nav: nav(&base, "groups"),
        problem: overlay.problem.clone(),
        groups,
        add_name: FieldView::new(&overlay, "add", "name", ""),
        base,
        chrome,
    })
}

pub async fn groups(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
) -> AppResult<GroupsPage> {
    render_groups(&state, &tenant, chrome, Overlay::default()).await
}

action!(create_group, Page::Groups, "admin_added", |c, f| {
    service::create_group(c, f.get("name"))
});
action!(update_group, Page::Groups, "saved", |c, f| {
    service::rename_group(c, f.get("id"), f.get("name"))
});
action!(delete_group, Page::Groups, "admin_deleted", |c, f| {
    service::delete_group(c, f.get("id"))
});
action!(group_members, Page::Groups, "saved", |c, f| {
    service::change_member(c, f.get("id"), f.get("user"), f.get("op") != "remove")
});
action!(group_scope, Page::Groups, "saved", |c, f| {
    service::set_scope(c, f.get("id"), f.all("categories"))
});
action!(group_auto_assign, Page::Groups, "saved", |c, f| {
    service::set_auto_assign(c, f.get("id"), f.get("auto_assign"))
});

// ---- audit ----

const AUDIT_PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    after: String,
}

pub async fn audit(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
    Query(query): Query<AuditQuery>,
) -> AppResult<AuditPage> {
    let after = match query.after.trim() {
        "" => None,
        raw => Some(uuid::Uuid::try_parse(raw).map_err(|_| AppError::NotFound)?),
    };
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let mut rows = repo::audit_page(&mut tx, tenant.id, after, AUDIT_PAGE + 1).await?;
    tx.commit().await?;
    let base = tenant.base_path();
    let more = rows.len() as i64 > AUDIT_PAGE;
    rows.truncate(AUDIT_PAGE as usize);
    let next_href = more
        .then(|| rows.last())
        .flatten()
        .map(|last| format!("{base}/admin/audit?after={}", last.id));
    Ok(AuditPage {
        nav: nav(&base, "audit"),
        rows: rows
            .into_iter()
            .map(|r| AuditRowView {
                when: format::datetime(r.created_at),
                when_iso: format::iso(r.created_at),
                who: r.actor_name.unwrap_or_else(|| "System".to_owned()),
                area: r.area,
                action: r.action,
                subject: r.subject,
                before: r.before.unwrap_or_else(|| "—".to_owned()),
                after: r.after.unwrap_or_else(|| "—".to_owned()),
            })
            .collect(),
        next_href,
        first_href: after.map(|_| format!("{base}/admin/audit")),
        chrome,
    })
}

// ---- guests ----

fn guests_page(
    chrome: Chrome,
    tenant: &Tenant,
    enabled: bool,
    input: service::GuestSettingsInput,
    errors: service::FieldErrors,
) -> GuestsPage {
    let base = tenant.base_path();
    GuestsPage {
        chrome,
        nav: nav(&base, "guests"),
        action: format!("{base}/admin/guests"),
        general_href: format!("{base}/admin/general"),
        submit_href: format!("{base}/submit"),
        enabled,
        input,
        errors,
    }
}

pub async fn guests(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
) -> AppResult<GuestsPage> {
    let settings = crate::guests::service::settings(&state.db, &tenant).await?;
    Ok(guests_page(
        chrome,
        &tenant,
        settings.guest_submission_enabled,
        service::GuestSettingsInput::from_settings(&settings),
        Default::default(),
    ))
}

pub async fn save_guests(
    State(state): State<AppState>,
    Admin(admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
    fields: Fields,
) -> AppResult<Response> {
    let input = service::GuestSettingsInput {
        show_type: fields.has("show_type"),
        show_priority: fields.has("show_priority"),
        hourly_limit: fields.get("hourly_limit").to_owned(),
        daily_open_tickets: fields.get("daily_open_tickets").to_owned(),
    };
    match service::save_guest_settings(ctx(&state, &admin), &input).await {
        Ok(()) => Ok(
            Redirect::to(&format!("{}/admin/guests?notice=saved", tenant.base_path()))
                .into_response(),
        ),
        Err(AdminError::Invalid(errors)) => {
            let enabled = crate::guests::service::settings(&state.db, &tenant)
                .await?
                .guest_submission_enabled;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                guests_page(chrome, &tenant, enabled, input, errors),
            )
                .into_response())
        }
        Err(AdminError::Refused(message)) => Err(AppError::Conflict(message)),
        Err(AdminError::App(error)) => Err(error),
    }
}
