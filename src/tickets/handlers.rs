//! Ticket pages. Each handler reads its input, calls the service or loads what
//! the page shows in one transaction, and renders.

use super::{
    access::{self, EditScope},
    assignment::{self, Assignment},
    catalog::Catalog,
    detail_context::DetailContext,
    events::{self, Event},
    lifecycle,
    list::{self, ListQuery, RawListQuery},
    load_visible,
    model::{CategoryId, StatusCategory, StatusId, Ticket, display_number, parse_number},
    options::TicketOptions,
    queue_handlers::Surroundings,
    repo, saved_views,
    service::{self, FieldErrors, SaveError, TicketInput},
    views::*,
};
use crate::{
    attachments::{self, AttachmentView, UploadField},
    auth::{self, model::User},
    db::{TenantTx, UserId},
    error::{AppError, AppResult},
    markdown,
    replies::{self, service::facts},
    state::AppState,
    tenants::Tenant,
    web::{
        chrome::{Chrome, Notice},
        extract::{CurrentUser, Staff},
        form::{Fields, Submission},
        format,
    },
};
use axum::{
    extract::{Path, Query, RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use std::sync::Arc;
use time::OffsetDateTime;

/// The fixed choice before the staff in an assignee select that sets the
/// ticket's assignee (forms, the assignment panel).
const UNASSIGNED: &[(&str, &str)] = &[("", "Unassigned")];

/// The `{number}` path segment; anything but a positive number is a 404.
pub(crate) fn parse_path_number(raw: &str) -> AppResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(AppError::NotFound)
}

/// Rebuilds the list's query string with some parameters replaced (`""` removes).
pub(crate) fn list_href(base: &str, raw: Option<&str>, changes: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = raw
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|(key, value)| {
            !value.is_empty()
                && !matches!(key.as_str(), "after" | "view" | "notice")
                && !changes.iter().any(|(k, _)| k == key)
        })
        .collect();
    for (key, value) in changes {
        if !value.is_empty() {
            pairs.push(((*key).to_owned(), (*value).to_owned()));
        }
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if query.is_empty() {
        format!("{base}/tickets")
    } else {
        format!("{base}/tickets?{query}")
    }
}

/// "Showing 42 tickets", or "Showing 200+ tickets" when `capped` (there are
/// more than `count`).
fn showing_line(count: i64, capped: bool, include_closed: bool) -> String {
    let number = if capped {
        format!("{}+", format::count(count))
    } else {
        format::count(count)
    };
    let noun = if count == 1 && !capped {
        "ticket"
    } else {
        "tickets"
    };
    if include_closed {
        format!("Showing {number} {noun}")
    } else {
        format!("Showing {number} {noun} (closed tickets hidden)")
    }
}

/// The page of `query` and how many tickets it matches (`true`: more than
/// shown). A search says how many are on its page, or that there are more:
/// counting its matches means testing every ticket that might match (600 ms
/// for common words at a 300k-ticket tenant). The unfiltered staff list is
/// counted exactly by the status counters (`counters`, if the page has read
/// them already); any other list up to the cap, with its first page. The
/// transaction plans the page as the list asks ([`ListQuery::plans`]) from
/// here to its end: callers end it after the page.
async fn page_and_count(
    tx: &mut TenantTx,
    user: &User,
    query: &ListQuery,
    catalog: &Catalog,
    counters: Option<&[(StatusId, i64)]>,
) -> Result<(list::Page, i64, bool), sqlx::Error> {
    let tenant = user.tenant_id;
    tx.plan(query.plans(user)).await?;
    if query.words.is_some() {
        let page = list::fetch_page(tx, tenant, user, query, catalog).await?;
        let shown = i64::try_from(page.rows.len()).unwrap_or(i64::MAX);
        let more = page.next.is_some();
        return Ok((page, shown, more));
    }
    if user.role.is_staff() && query.is_unfiltered() {
        let page = list::fetch_page(tx, tenant, user, query, catalog).await?;
        let counts = match counters {
            Some(counts) => counts.to_vec(),
            None => repo::status_counts(tx, tenant).await?,
        };
        let total = counts
            .iter()
            .filter(|(status, _)| {
                query.include_closed
                    || catalog
                        .options
                        .status(*status)
                        .is_some_and(|s| s.category != StatusCategory::Closed)
            })
            .map(|(_, n)| n)
            .sum();
        return Ok((page, total, false));
    }
    let (page, n) = list::fetch_page_counted(tx, tenant, user, query, catalog).await?;
    Ok((page, n.min(list::COUNT_CAP), n > list::COUNT_CAP))
}

/// The condensed default list shown beside a ticket or form on wide screens,
/// fetched by the page once it is in view ([`SideSlot`]); `current` is the
/// ticket shown beside it.
pub async fn side(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    Query(query): Query<SideQuery>,
) -> AppResult<SidePartial> {
    let current = query.current.trim().parse::<i64>().ok();
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let catalog = state.catalogs.of(&mut tx, &tenant).await?;
    let list = ListQuery::default();
    let (page, n, capped) = page_and_count(&mut tx, &user, &list, &catalog, None).await?;
    tx.end_read();
    let base = tenant.base_path();
    Ok(SidePartial {
        side: SideList {
            rows: page
                .rows
                .iter()
                .map(|row| RowView::new(row, &base, &tenant.ticket_prefix, current))
                .collect(),
            showing: showing_line(n, capped, false),
            list_href: format!("{base}/tickets"),
        },
    })
}

#[derive(serde::Deserialize, Default)]
pub struct SideQuery {
    #[serde(default)]
    current: String,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    chrome: Chrome,
    Query(raw): Query<RawListQuery>,
    RawQuery(raw_query): RawQuery,
) -> AppResult<Response> {
    list_page(&state, &user, &tenant, chrome, raw, raw_query).await
}

/// The list for `raw` (the parsed `raw_query`). A `view` parameter applies a
/// saved view: its query string replaces the request's.
pub(crate) async fn list_page(
    state: &AppState,
    user: &User,
    tenant: &Tenant,
    chrome: Chrome,
    mut raw: RawListQuery,
    mut raw_query: Option<String>,
) -> AppResult<Response> {
    let user = user.clone();
    let base = tenant.base_path();
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let prefix = tenant.ticket_prefix.clone();
    let mut current_view = None;
    if !raw.view.trim().is_empty() {
        let view = saved_views::find_visible(&mut tx, &user, &raw.view).await?;
        raw = serde_urlencoded::from_str(&view.query).unwrap_or_default();
        raw_query = Some(view.query.clone());
        current_view = Some(view.id);
    }

    // A ticket number in the search box opens that ticket.
    if let Some(number) = parse_number(&prefix, &raw.q)
        && load_visible(&mut tx, &user, number).await.is_ok()
    {
        return Ok(Redirect::to(&format!("{base}/tickets/{number}")).into_response());
    }
    let catalog = state.catalogs.of(&mut tx, tenant).await?;
    let options = &catalog.options;
    let mut query = ListQuery::parse(&raw, &user, options);
    if query.requester.is_none() && !raw.requester.trim().is_empty() && user.role.is_staff() {
        // A requester given by email.
        query.requester = Some(
            auth::repo::find_credentials(&mut tx, tenant.id, raw.requester.trim())
                .await?
                .map_or(UserId(uuid::Uuid::nil()), |(u, _)| u.id),
        );
    }
    let plans = query.plans(&user);
    let mut around = Surroundings::load(&mut tx, &catalog, &user, plans).await?;
    query.set_scope(around.scope.take());
    let (page, n, capped) =
        page_and_count(&mut tx, &user, &query, &catalog, Some(&around.counts)).await?;
    let Surroundings {
        counts,
        my_views,
        shared_views,
        availability,
        ..
    } = around;
    tx.end_read();

    let raw_query = raw_query.as_deref();
    let pairs: Vec<(String, String)> = raw_query
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let shown = Shown::from_query(&pairs, user.role.is_staff());
    let sidebar = super::queue_handlers::sidebar(
        &base,
        raw_query,
        &query,
        current_view,
        &my_views,
        &shared_views,
    );
    // "No tickets yet" only when the viewer has none at all (in any status).
    let none_at_all = counts.iter().all(|(_, n)| *n == 0);
    let badges = options
        .statuses
        .iter()
        .filter(|s| !s.retired)
        .map(|status| {
            let n = counts
                .iter()
                .find(|(id, _)| *id == status.id)
                .map_or(0, |(_, n)| *n);
            let id = status.id.to_string();
            let closed = if status.category == StatusCategory::Closed {
                "1"
            } else {
                ""
            };
            StatusBadge {
                name: status.name.clone(),
                count: format::count(n),
                category: status.category.as_str(),
                href: list_href(&base, None, &[("status", &id), ("closed", closed)]),
                current: query.status == Some(status.id),
            }
        })
        .collect();
    let choices = |all: Vec<(String, String)>, selected: &str| {
        let mut out = vec![Choice::new("", "Any", selected.is_empty())];
        out.extend(all.into_iter().map(|(value, label)| {
            let chosen = value == selected;
            Choice::new(value, label, chosen)
        }));
        out
    };
    let assignee_choices = AssigneeChoices::new(
        &catalog,
        &[("", "Any"), ("me", "Me"), ("unassigned", "Unassigned")],
        raw.assignee.as_str(),
    );
    let next_href = page.next.map(|cursor| {
        let mut href = list_href(&base, raw_query, &[]);
        href.push(if href.contains('?') { '&' } else { '?' });
        href.push_str(&format!("after={}", cursor.encode()));
        href
    });
    let page_view = ListPage {
        rows: page
            .rows
            .iter()
            .map(|row| RowView::new(row, &base, &prefix, None))
            .collect(),
        showing: showing_line(n, capped, query.include_closed),
        closed_toggle_href: list_href(
            &base,
            raw_query,
            &[("closed", if query.include_closed { "" } else { "1" })],
        ),
        closed_toggle_label: if query.include_closed {
            "Hide closed tickets"
        } else {
            "Show closed tickets"
        },
        badges,
        q: raw.q.clone(),
        filters_open: !query.is_unfiltered() && query.words.is_none() || raw.sort.len() > 1,
        empty_text: if !query.is_unfiltered() {
            "No tickets match."
        } else if none_at_all {
            "No tickets yet."
        } else {
            "No open tickets."
        },
        status_choices: choices(
            options
                .statuses
                .iter()
                .map(|s| (s.id.to_string(), s.name.clone()))
                .collect(),
            &raw.status,
        ),
        priority_choices: choices(
            options
                .priorities
                .iter()
                .map(|p| (p.id.to_string(), p.name.clone()))
                .collect(),
            &raw.priority,
        ),
        type_choices: choices(
            options
                .types
                .iter()
                .map(|t| (t.id.to_string(), t.name.clone()))
                .collect(),
            &raw.ticket_type,
        ),
        category_choices: choices(
            options
                .categories
                .iter()
                .map(|c| (c.id.to_string(), options.category_label(c.id)))
                .collect(),
            &raw.category,
        ),
        assignee_choices,
        sort_choices: sort_choices(query.sort),
        requester: raw.requester.clone(),
        tag: raw.tag.clone(),
        created_from: raw.created_from.clone(),
        created_to: raw.created_to.clone(),
        updated_from: raw.updated_from.clone(),
        updated_to: raw.updated_to.clone(),
        include_closed: query.include_closed,
        next_href,
        first_href: query.after.map(|_| list_href(&base, raw_query, &[])),
        staff: user.role.is_staff(),
        queue: query.queue.as_str(),
        quick: query.quick.map_or("", |q| q.as_str()),
        queues: sidebar.queues,
        quick_links: sidebar.quick_links,
        my_views: sidebar.my_views,
        shared_views: sidebar.shared_views,
        save_view_action: format!("{base}/views"),
        away: availability == Some(assignment::Availability::Away),
        admin: user.role == auth::model::Role::Admin,
        columns: shown.choices(user.role.is_staff()),
        shown,
        availability_action: format!("{base}/availability"),
        current_query: saved_views::clean_query(raw_query.unwrap_or_default()),
        bulk: user
            .role
            .is_staff()
            .then(|| super::queue_handlers::bulk_bar(&base, raw_query, &catalog)),
        chrome,
        base,
    };
    Ok(page_view.into_response())
}

/// The tenant's groups as choices, `selected` chosen.
fn group_choice_list(groups: &[(uuid::Uuid, String)], selected: &str) -> Vec<Choice> {
    let mut choices = vec![Choice::new("", "No group", selected.is_empty())];
    choices.extend(groups.iter().map(|(id, name)| {
        let id = id.to_string();
        let chosen = id == selected;
        Choice::new(id, name.clone(), chosen)
    }));
    choices
}

fn input_from(fields: &Fields) -> TicketInput {
    TicketInput {
        subject: fields.get("subject").to_owned(),
        description: fields.get("description").to_owned(),
        ticket_type: fields.get("type").to_owned(),
        priority: fields.get("priority").to_owned(),
        category_path: fields.all("category"),
        requester: fields.get("requester").to_owned(),
        status: fields.get("status").to_owned(),
        assignee: fields.get("assignee").to_owned(),
        group: fields.get("group").to_owned(),
        tags: fields.get("tags").to_owned(),
        version: fields.get("version").parse().ok(),
        resolution_notes: fields
            .has("resolution_notes")
            .then(|| fields.get("resolution_notes").to_owned()),
        loaded_at: fields
            .get("loaded_at")
            .parse::<i128>()
            .ok()
            .and_then(|nanos| OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()),
    }
}

/// The chosen category path as ids, top level first (dropping anything unparseable).
pub(crate) fn chosen_categories(input: &TicketInput, options: &TicketOptions) -> Vec<CategoryId> {
    let ids: Vec<CategoryId> = input
        .category_path
        .iter()
        .filter_map(|raw| uuid::Uuid::try_parse(raw.trim()).ok().map(CategoryId))
        .collect();
    options.by_depth(&ids)
}

/// Fills a form view from input; `ticket` is set on the edit form.
fn form_view(
    user: &User,
    tenant: &Tenant,
    catalog: &Arc<Catalog>,
    input: &TicketInput,
    ticket: Option<&Ticket>,
    errors: FieldErrors,
) -> TicketFormView {
    let options = &catalog.options;
    let base = tenant.base_path();
    let staff = user.role.is_staff();
    let scope = ticket.map_or(EditScope::Everything, |t| access::edit_scope(user, t));
    let select = |all: Vec<(String, String)>, selected: &str| -> Vec<Choice> {
        all.into_iter()
            .map(|(value, label)| {
                let chosen = value == selected;
                Choice::new(value, label, chosen)
            })
            .collect()
    };
    let current = |id: &str| {
        ticket.is_some_and(|t| {
            [
                t.type_id.to_string(),
                t.priority_id.to_string(),
                t.status_id.to_string(),
            ]
            .iter()
            .any(|v| v == id)
        })
    };
    let default_type = options
        .default_type()
        .map(|t| t.id.to_string())
        .unwrap_or_default();
    let default_priority = options
        .default_priority()
        .map(|p| p.id.to_string())
        .unwrap_or_default();
    let type_choices = select(
        options
            .types
            .iter()
            .filter(|t| !t.retired || current(&t.id.to_string()))
            .map(|t| (t.id.to_string(), t.name.clone()))
            .collect(),
        if input.ticket_type.is_empty() {
            &default_type
        } else {
            &input.ticket_type
        },
    );
    let priority_choices = select(
        options
            .priorities
            .iter()
            .filter(|p| !p.retired || current(&p.id.to_string()))
            .map(|p| (p.id.to_string(), p.name.clone()))
            .collect(),
        if input.priority.is_empty() {
            &default_priority
        } else {
            &input.priority
        },
    );
    let status_choices = match ticket {
        None => Vec::new(),
        Some(ticket) => select(
            options
                .statuses
                .iter()
                .filter(|s| {
                    s.id == ticket.status_id
                        || (!s.retired
                            && (scope == EditScope::Everything
                                || s.category == StatusCategory::Closed))
                })
                .map(|s| (s.id.to_string(), s.name.clone()))
                .collect(),
            &input.status,
        ),
    };
    let assignee_choices = AssigneeChoices::new(catalog, UNASSIGNED, input.assignee.as_str());
    let group_choices = if staff {
        group_choice_list(&catalog.groups, &input.group)
    } else {
        Vec::new()
    };
    TicketFormView {
        action: match ticket {
            Some(t) => format!("{base}/tickets/{}", t.number),
            None => format!("{base}/tickets"),
        },
        submit_label: if ticket.is_some() {
            "Save changes"
        } else {
            "Create ticket"
        },
        subject: input.subject.clone(),
        description: input.description.clone(),
        type_choices,
        priority_choices,
        categories: CategoryLevelsPartial {
            levels: category_levels(options, &chosen_categories(input, options)),
            options_href: format!("{base}/tickets/category-options"),
            error: errors.get("category").cloned(),
        },
        staff,
        requester: input.requester.clone(),
        assignee_choices,
        group_choices,
        status_choices,
        tags: input.tags.clone(),
        resolution_notes: input.resolution_notes.clone().unwrap_or_default(),
        text_only: scope == EditScope::OwnText,
        version: input.version.map(|v| v.to_string()).unwrap_or_default(),
        loaded_at: input
            .loaded_at
            .map(|at| at.unix_timestamp_nanos().to_string())
            .unwrap_or_default(),
        errors,
        preview_href: format!("{base}/tickets/preview"),
        upload: None,
        idempotency_key: String::new(),
    }
}

/// The create form; `key` is the submission's idempotency key when the form
/// comes back (a new one otherwise).
async fn render_new(
    state: &AppState,
    user: &User,
    tenant: &Tenant,
    chrome: Chrome,
    input: &TicketInput,
    errors: FieldErrors,
    key: Option<String>,
) -> AppResult<NewPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let catalog = state.catalogs.of(&mut tx, tenant).await?;
    let mut form = form_view(user, tenant, &catalog, input, None, errors);
    let policy = attachments::policy::Policy::new(&state.config, &catalog.attachments);
    form.upload = Some(UploadField::new(
        &policy,
        form.errors.get(attachments::FIELD).cloned(),
    ));
    form.idempotency_key = key.unwrap_or_else(auth::tokens::random_token);
    let side = SideSlot::new(&tenant.base_path(), None);
    tx.commit().await?;
    Ok(NewPage {
        chrome,
        base: tenant.base_path(),
        form,
        side,
    })
}

pub async fn new_form(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    chrome: Chrome,
) -> AppResult<NewPage> {
    render_new(
        &state,
        &user,
        &tenant,
        chrome,
        &TicketInput::default(),
        FieldErrors::new(),
        None,
    )
    .await
}

/// The request header a client may send instead of the form's hidden field.
const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    chrome: Chrome,
    headers: HeaderMap,
    Submission {
        fields,
        upload,
        refusal,
    }: Submission,
) -> AppResult<Response> {
    let input = input_from(&fields);
    let key = match headers.get(IDEMPOTENCY_KEY_HEADER) {
        Some(value) => service::idempotency_key(value.to_str().unwrap_or("\u{0}")),
        None => service::idempotency_key(fields.get("idempotency_key")),
    };
    let key = match key {
        Ok(key) => key,
        Err(error) => {
            upload.discard().await;
            return Err(error);
        }
    };
    if let Some(refusal) = refusal {
        // The files were refused and removed: the form again, nothing saved.
        let errors = FieldErrors::from([(attachments::FIELD, refusal.message)]);
        let page = render_new(&state, &user, &tenant, chrome, &input, errors, key).await?;
        return Ok((refusal.status, page).into_response());
    }
    if fields.has("refresh") {
        // The no-JavaScript way to fill the next category level.
        upload.discard().await;
        return Ok(render_new(
            &state,
            &user,
            &tenant,
            chrome,
            &input,
            FieldErrors::new(),
            key,
        )
        .await?
        .into_response());
    }
    let saved = service::create_idempotent(
        &state,
        &tenant,
        &user,
        input.clone(),
        upload.files(),
        key.as_deref(),
    )
    .await;
    let had_files = !upload.is_empty();
    match &saved {
        // A replayed submission stored nothing of this request's.
        Ok(created) if !created.replayed => upload.keep(),
        _ => upload.discard().await,
    }
    match saved {
        Ok(created) => Ok(Redirect::to(&format!(
            "{}/tickets/{}?notice=created",
            tenant.base_path(),
            created.number
        ))
        .into_response()),
        Err(SaveError::Invalid(mut errors)) => {
            if had_files {
                errors.insert(attachments::FIELD, CHOOSE_FILES_AGAIN.to_owned());
            }
            let page = render_new(&state, &user, &tenant, chrome, &input, errors, key).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(SaveError::Stale { .. }) => Err(AppError::Conflict("stale create".to_owned())),
        Err(SaveError::App(error)) => Err(error),
    }
}

pub async fn category_options(
    State(state): State<AppState>,
    CurrentUser(_): CurrentUser,
    tenant: Tenant,
    RawQuery(raw): RawQuery,
) -> AppResult<CategoryLevelsPartial> {
    let href = format!("{}/tickets/category-options", tenant.base_path());
    category_levels_for(&state, &tenant, raw.as_deref(), href).await
}

/// The category picker's levels for the choices in `query` (the chained
/// dropdowns' htmx request), each level asking `options_href` for the next.
pub(crate) async fn category_levels_for(
    state: &AppState,
    tenant: &Tenant,
    query: Option<&str>,
    options_href: String,
) -> AppResult<CategoryLevelsPartial> {
    let fields = query
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default();
    let input = TicketInput {
        category_path: Fields(fields).all("category"),
        ..TicketInput::default()
    };
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let options = TicketOptions::load(&mut tx, tenant.id).await?;
    tx.commit().await?;
    Ok(CategoryLevelsPartial {
        levels: category_levels(&options, &chosen_categories(&input, &options)),
        options_href,
        error: None,
    })
}

pub async fn preview(CurrentUser(_): CurrentUser, fields: Fields) -> PreviewPartial {
    let source = [fields.get("description"), fields.get("body")].concat();
    PreviewPartial {
        html: markdown::render(&source),
    }
}

fn event_text(event: &Event) -> String {
    let value = |v: &Option<String>| {
        v.clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "none".to_owned())
    };
    match event.kind.as_str() {
        "created" => "created the ticket".to_owned(),
        "field_changed" => match event.field.as_deref() {
            Some("description") => "edited the description".to_owned(),
            Some(field) => format!(
                "changed {field} from {} to {}",
                value(&event.old_value),
                value(&event.new_value)
            ),
            None => "changed the ticket".to_owned(),
        },
        "reply_added" => "replied".to_owned(),
        "note_added" => "added an internal note".to_owned(),
        "reply_edited" if event.internal => "edited an internal note".to_owned(),
        "reply_edited" => "edited a reply".to_owned(),
        "reply_deleted" if event.internal => "deleted an internal note".to_owned(),
        "reply_deleted" => "deleted a reply".to_owned(),
        "follower_added" => format!("added {} as a follower", value(&event.new_value)),
        "follower_removed" => format!("removed {} as a follower", value(&event.new_value)),
        "reopened" => "reopened the ticket".to_owned(),
        "attached" => format!("attached {}", value(&event.new_value)),
        other => other.replace('_', " "),
    }
}

pub async fn detail(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    chrome: Chrome,
    Path((_, number)): Path<(String, String)>,
    Query(notice): Query<NoticeQuery>,
) -> AppResult<DetailPage> {
    let number = parse_path_number(&number)?;
    let reply_box = ReplyBoxInput::default();
    detail_page(
        &state,
        &user,
        &tenant,
        chrome,
        number,
        reply_box,
        &notice.notice,
    )
    .await
}

#[derive(serde::Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

/// What a failed reply refills the reply box with.
#[derive(Default)]
pub(crate) struct ReplyBoxInput {
    pub body: String,
    pub error: Option<String>,
    /// About the files (refused, or to be chosen again).
    pub attachments_error: Option<String>,
}

/// Shown at the file picker when a form failed after its files arrived.
pub(crate) const CHOOSE_FILES_AGAIN: &str =
    "Nothing was saved: please choose your files again after correcting the form.";

/// Builds the detail page; `reply_box` refills a reply that failed.
pub(crate) async fn detail_page(
    state: &AppState,
    user: &User,
    tenant: &Tenant,
    mut chrome: Chrome,
    number: i64,
    reply_box: ReplyBoxInput,
    notice: &str,
) -> AppResult<DetailPage> {
    let base = tenant.base_path();
    let staff = user.role.is_staff();
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let (ticket, context) = DetailContext::load(state, &mut tx, tenant, user, number)
        .await?
        .ok_or(AppError::NotFound)?;
    let prefix = tenant.ticket_prefix.clone();
    let catalog = context.catalog.clone();
    let options = &catalog.options;
    let side = SideSlot::new(&base, Some(number));
    tx.end_read();
    let DetailContext {
        replies,
        files,
        following,
        followers,
        guest_links,
        ..
    } = context;
    let settings = catalog.lifecycle;
    let policy = attachments::policy::Policy::new(&state.config, &catalog.attachments);
    let assignment =
        staff.then(|| assignment_panel(tenant, &ticket, &chrome.csrf_token, None, &catalog));

    let display = display_number(&prefix, number);
    if notice == "created" {
        chrome.notice = Some(Notice::success(format!("Ticket {display} created")));
    }
    let now = state.clock.now();
    let href = format!("{base}/tickets/{number}");
    let files_of = |reply: Option<replies::repo::ReplyId>| -> Vec<AttachmentView> {
        files
            .iter()
            .filter(|file| file.reply_id == reply)
            .map(|file| AttachmentView::new(file, &href))
            .collect()
    };
    let reply_views = replies
        .iter()
        .map(|reply| {
            let facts = facts(user, reply);
            let changeable = access::can_change_reply(user, facts, now);
            ReplyView {
                id: reply.id.to_string(),
                author_name: reply.author_name.clone(),
                author_is_staff: reply.author_role.is_staff(),
                internal: reply.internal,
                deleted_note: reply.deleted_at.map(|at| {
                    format!(
                        "Reply deleted by {} on {}",
                        reply.deleted_by_name.clone().unwrap_or_default(),
                        format::datetime(at)
                    )
                }),
                body: if reply.deleted_at.is_some() {
                    markdown::SafeHtml::empty()
                } else {
                    markdown::render(&reply.body)
                },
                created: format::datetime(reply.created_at),
                created_iso: format::iso(reply.created_at),
                edited: reply.edited_at.is_some(),
                edit_href: changeable.then(|| format!("{href}/replies/{}/edit", reply.id)),
                delete_action: changeable.then(|| format!("{href}/replies/{}/delete", reply.id)),
                attachments: if reply.deleted_at.is_some() {
                    Vec::new()
                } else {
                    files_of(Some(reply.id))
                },
            }
        })
        .collect();
    Ok(DetailPage {
        chrome,
        number: display,
        subject: ticket.subject.clone(),
        status_name: options
            .status(ticket.status_id)
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        status_category: ticket.status_category.as_str(),
        priority_name: options
            .priority(ticket.priority_id)
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        type_name: options
            .ticket_type(ticket.type_id)
            .map(|t| t.name.clone())
            .unwrap_or_default(),
        category: ticket
            .category_id
            .map(|id| options.category_label(id))
            .unwrap_or_else(|| "None".to_owned()),
        requester_name: ticket.requester_name.clone(),
        assignee_name: ticket
            .assignee_name
            .clone()
            .unwrap_or_else(|| "Unassigned".to_owned()),
        tags: ticket.tags.clone(),
        created: format::datetime(ticket.created_at),
        reopened: ticket.reopened,
        description: markdown::render(&ticket.description),
        attachments: files_of(None),
        staff,
        following,
        follow_action: format!("{href}/follow"),
        guest_links,
        followers: followers
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        can_edit: access::edit_scope(user, &ticket) != EditScope::Nothing,
        reopen_action: lifecycle::can_reopen(user, &ticket, settings, now)
            .then(|| format!("{href}/reopen")),
        resolution_notes: ticket
            .resolution_notes
            .as_deref()
            .filter(|notes| !notes.trim().is_empty())
            .map(markdown::render),
        replies: reply_views,
        reply_box: ReplyBox {
            action: format!("{href}/replies"),
            staff,
            body: reply_box.body,
            error: reply_box.error,
            refusal: lifecycle::reply_refusal(user, &ticket, settings, now),
            upload: UploadField::new(&policy, reply_box.attachments_error),
        },
        side,
        assignment,
        href,
        base,
    })
}

/// The assignment form of `ticket` with its current values, choosing among
/// `staff` and `groups`.
fn assignment_panel(
    tenant: &Tenant,
    ticket: &Ticket,
    csrf_token: &str,
    error: Option<String>,
    catalog: &Arc<Catalog>,
) -> AssignmentPanel {
    let assignee = ticket
        .assignee_id
        .map(|id| id.to_string())
        .unwrap_or_default();
    let group = ticket.group_id.map(|id| id.to_string()).unwrap_or_default();
    let assignee_choices = AssigneeChoices::new(catalog, UNASSIGNED, assignee);
    let group_choices = group_choice_list(&catalog.groups, &group);
    let group_name = group_choices
        .iter()
        .find(|c| c.selected && !c.value.is_empty())
        .map(|c| c.label.clone())
        .unwrap_or_default();
    AssignmentPanel {
        action: format!("{}/tickets/{}/assign", tenant.base_path(), ticket.number),
        csrf_token: csrf_token.to_owned(),
        assignee_name: ticket.assignee_name.clone().unwrap_or_default(),
        group_name,
        assignee_choices,
        group_choices,
        unassigned: ticket.assignee_id.is_none(),
        error,
    }
}

/// The assignment form and "Assign to me" (staff). An htmx request gets the
/// panel back in place; a plain form post is redirected to the ticket.
pub async fn assign(
    State(state): State<AppState>,
    Staff(user): Staff,
    tenant: Tenant,
    mut chrome: Chrome,
    Path((_, number)): Path<(String, String)>,
    headers: HeaderMap,
    fields: Fields,
) -> AppResult<Response> {
    let number = parse_path_number(&number)?;
    let change = if fields.get("me") == "1" {
        Assignment {
            assignee: Some(user.id.to_string()),
            group: None,
        }
    } else {
        Assignment {
            assignee: fields
                .has("assignee")
                .then(|| fields.get("assignee").to_owned()),
            group: fields.has("group").then(|| fields.get("group").to_owned()),
        }
    };
    let error = match assignment::assign(&state.db, &state.clock, &user, number, change).await {
        Ok(()) => None,
        Err(SaveError::Invalid(errors)) => Some(
            errors
                .into_values()
                .next()
                .unwrap_or_else(|| "Choose again.".to_owned()),
        ),
        Err(SaveError::Stale { .. }) => Some("The ticket changed: try again.".to_owned()),
        Err(SaveError::App(error)) => return Err(error),
    };
    if headers.contains_key("hx-request") {
        let mut tx = state.db.tenant_tx(tenant.id).await?;
        let ticket = load_visible(&mut tx, &user, number).await?;
        let catalog = state.catalogs.of(&mut tx, &tenant).await?;
        tx.commit().await?;
        let panel = assignment_panel(&tenant, &ticket, &chrome.csrf_token, error, &catalog);
        // 200 even with an error: htmx swaps only successful answers, and the
        // panel carries the error next to the field.
        return Ok(AssignmentPartial { panel }.into_response());
    }
    match error {
        None => Ok(Redirect::to(&format!(
            "{}/tickets/{number}?notice=saved",
            tenant.base_path()
        ))
        .into_response()),
        Some(text) => {
            chrome.notice = Some(Notice {
                kind: "error",
                text,
            });
            let page = detail_page(
                &state,
                &user,
                &tenant,
                chrome,
                number,
                ReplyBoxInput::default(),
                "",
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// What an edit form shows besides the ticket: the submitted input (else the
/// ticket's values), field errors, and changes made meanwhile by others.
#[derive(Default)]
struct EditState {
    input: Option<TicketInput>,
    errors: FieldErrors,
    stale: Option<Vec<Event>>,
}

async fn render_edit(
    state: &AppState,
    user: &User,
    tenant: &Tenant,
    chrome: Chrome,
    number: i64,
    EditState {
        input,
        errors,
        stale,
    }: EditState,
) -> AppResult<EditPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let ticket = load_visible(&mut tx, user, number).await?;
    if access::edit_scope(user, &ticket) == EditScope::Nothing {
        return Err(AppError::BadRequest(
            "This ticket is closed and can no longer be edited.".to_owned(),
        ));
    }
    let prefix = tenant.ticket_prefix.clone();
    let catalog = state.catalogs.of(&mut tx, tenant).await?;
    let options = &catalog.options;
    let mut input = input.unwrap_or_else(|| TicketInput::from_ticket(&ticket, options));
    if stale.is_some() {
        // Saving again applies this form over the changes listed.
        input.version = Some(ticket.version);
        input.loaded_at = Some(ticket.updated_at);
    }
    let form = form_view(user, tenant, &catalog, &input, Some(&ticket), errors);
    let side = SideSlot::new(&tenant.base_path(), Some(number));
    tx.commit().await?;
    let base = tenant.base_path();
    Ok(EditPage {
        chrome,
        number: display_number(&prefix, number),
        ticket_href: format!("{base}/tickets/{number}"),
        form,
        stale: stale.map(|events| {
            events
                .iter()
                .map(|e| ChangeView {
                    text: format!(
                        "{} {} ({})",
                        e.actor_name.clone().unwrap_or_else(|| "Someone".to_owned()),
                        event_text(e),
                        format::datetime(e.created_at)
                    ),
                })
                .collect()
        }),
        side,
    })
}

pub async fn edit_form(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    chrome: Chrome,
    Path((_, number)): Path<(String, String)>,
) -> AppResult<EditPage> {
    let number = parse_path_number(&number)?;
    render_edit(&state, &user, &tenant, chrome, number, EditState::default()).await
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    chrome: Chrome,
    Path((_, number)): Path<(String, String)>,
    fields: Fields,
) -> AppResult<Response> {
    let number = parse_path_number(&number)?;
    let input = input_from(&fields);
    if fields.has("refresh") {
        let page = render_edit(
            &state,
            &user,
            &tenant,
            chrome,
            number,
            EditState {
                input: Some(input),
                ..EditState::default()
            },
        )
        .await?;
        return Ok(page.into_response());
    }
    match service::edit(&state.db, &state.clock, &user, number, input.clone()).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "{}/tickets/{number}?notice=saved",
            tenant.base_path()
        ))
        .into_response()),
        Err(SaveError::Invalid(errors)) => {
            let page = render_edit(
                &state,
                &user,
                &tenant,
                chrome,
                number,
                EditState {
                    input: Some(input),
                    errors,
                    ..EditState::default()
                },
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(SaveError::Stale { changes }) => {
            let page = render_edit(
                &state,
                &user,
                &tenant,
                chrome,
                number,
                EditState {
                    input: Some(input),
                    stale: Some(changes),
                    ..EditState::default()
                },
            )
            .await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(SaveError::App(error)) => Err(error),
    }
}

pub async fn activity(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    chrome: Chrome,
    Path((_, number)): Path<(String, String)>,
) -> AppResult<ActivityPage> {
    let number = parse_path_number(&number)?;
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let ticket = load_visible(&mut tx, &user, number).await?;
    let prefix = tenant.ticket_prefix.clone();
    let events = events::list(&mut tx, tenant.id, ticket.id, user.role.is_staff()).await?;
    let side = SideSlot::new(&tenant.base_path(), Some(number));
    tx.commit().await?;
    let base = tenant.base_path();
    Ok(ActivityPage {
        chrome,
        number: display_number(&prefix, number),
        href: format!("{base}/tickets/{number}"),
        subject: ticket.subject,
        events: events
            .iter()
            .map(|e| EventView {
                when: format::datetime(e.created_at),
                when_iso: format::iso(e.created_at),
                actor: e.actor_name.clone().unwrap_or_else(|| "Tessera".to_owned()),
                text: event_text(e),
                internal: e.internal,
            })
            .collect(),
        side,
        base,
    })
}

pub async fn follow(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    Path((_, number)): Path<(String, String)>,
    fields: Fields,
) -> AppResult<Redirect> {
    let number = parse_path_number(&number)?;
    let follow = fields.get("follow") == "1";
    service::set_following(&state.db, &state.clock, &user, number, follow).await?;
    Ok(Redirect::to(&format!(
        "{}/tickets/{number}",
        tenant.base_path()
    )))
}

/// The "Reopen" button (customers within the window, staff any time).
pub async fn reopen(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    Path((_, number)): Path<(String, String)>,
) -> AppResult<Redirect> {
    let number = parse_path_number(&number)?;
    lifecycle::reopen(&state.db, &state.clock, &user, number).await?;
    Ok(Redirect::to(&format!(
        "{}/tickets/{number}?notice=reopened",
        tenant.base_path()
    )))
}
