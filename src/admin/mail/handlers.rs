//! Handlers of the mail admin pages: one page load or one service action each.

use super::views::*;
use crate::{
    admin::{
        service::{self, AdminError, Ctx},
        views::nav,
    },
    email::outbox,
    error::{AppError, AppResult},
    state::AppState,
    tenants::Tenant,
    web::{chrome::Chrome, extract::Admin, form::Fields, format},
};
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use uuid::Uuid;

const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    after: String,
}

/// The keyset cursor of a page: none, or a row id (anything else is not found).
fn cursor(raw: &str) -> AppResult<Option<Uuid>> {
    match raw.trim() {
        "" => Ok(None),
        raw => Uuid::try_parse(raw).map(Some).map_err(|_| AppError::NotFound),
    }
}

fn status_label(status: &str) -> String {
    match status {
        "pending" => "Queued",
        "sent" => "Sent",
        "failed" => "Failed",
        other => other,
    }
    .to_owned()
}

async fn outbox_page(
    state: &AppState,
    tenant: &Tenant,
    chrome: Chrome,
    after: Option<Uuid>,
    problem: Option<String>,
) -> AppResult<OutboxPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let mut rows = outbox::admin_page(&mut tx, after, PAGE + 1).await?;
    tx.commit().await?;
    let base = tenant.base_path();
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let next_href = more
        .then(|| rows.last())
        .flatten()
        .map(|last| format!("{base}/admin/outbox?after={}", last.id));
    Ok(OutboxPage {
        nav: nav(&base, "outbox"),
        rows: rows
            .into_iter()
            .map(|r| OutboxRowView {
                id: r.id.to_string(),
                recipient: if r.recipient_name.is_empty() {
                    r.recipient_email
                } else {
                    format!("{} <{}>", r.recipient_name, r.recipient_email)
                },
                subject: r.subject,
                template: r.template,
                delivery: match (r.status.as_str(), r.sent_at) {
                    (_, Some(sent)) => format!("sent {}", format::datetime(sent)),
                    ("pending", None) => {
                        format!("next attempt {}", format::datetime(r.next_attempt_at))
                    }
                    _ => "—".to_owned(),
                },
                failed: r.status == "failed",
                status: status_label(&r.status),
                attempts: r.attempts,
                last_error: r.last_error.unwrap_or_default(),
                created: format::datetime(r.created_at),
                created_iso: format::iso(r.created_at),
            })
            .collect(),
        next_href,
        first_href: after.map(|_| format!("{base}/admin/outbox")),
        base,
        problem,
        chrome,
    })
}

pub async fn outbox(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
    Query(query): Query<PageQuery>,
) -> AppResult<OutboxPage> {
    let after = cursor(&query.after)?;
    outbox_page(&state, &tenant, chrome, after, None).await
}

pub async fn retry(
    State(state): State<AppState>,
    Admin(admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
    fields: Fields,
) -> AppResult<Response> {
    let id = service::parse_id(fields.get("id"))?;
    let ctx = Ctx {
        db: &state.db,
        clock: &state.clock,
        admin: &admin,
    };
    match service::retry_email(ctx, id).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "{}/admin/outbox?notice=saved",
            tenant.base_path()
        ))
        .into_response()),
        Err(AdminError::Refused(message)) => {
            let page = outbox_page(&state, &tenant, chrome, None, Some(message)).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(AdminError::Invalid(_)) => Err(AppError::NotFound),
        Err(AdminError::App(error)) => Err(error),
    }
}
