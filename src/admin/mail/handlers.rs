//! Handlers of the mail admin pages: one page load or one service action each.

use super::views::*;
use crate::{
    admin::{
        service::{self, AdminError, Ctx},
        views::nav,
    },
    email::{inbound::repo as inbound_repo, outbox},
    error::{AppError, AppResult},
    state::AppState,
    tenants::Tenant,
    tickets::model::display_number,
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
        raw => Uuid::try_parse(raw)
            .map(Some)
            .map_err(|_| AppError::NotFound),
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
        Ok(()) => Ok(
            Redirect::to(&format!("{}/admin/outbox?notice=saved", tenant.base_path()))
                .into_response(),
        ),
        Err(AdminError::Refused(message)) => {
            let page = outbox_page(&state, &tenant, chrome, None, Some(message)).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(AdminError::Invalid(_)) => Err(AppError::NotFound),
        Err(AdminError::App(error)) => Err(error),
    }
}

fn decision_label(decision: &str) -> String {
    match decision {
        "reply" => "Reply added",
        "ticket" => "New ticket",
        "rejected" => "Rejected",
        "duplicate" => "Duplicate (ignored)",
        other => other,
    }
    .to_owned()
}

async fn inbound_page(
    state: &AppState,
    tenant: &Tenant,
    chrome: Chrome,
    after: Option<Uuid>,
    new_secret: Option<String>,
) -> AppResult<InboundPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let settings = inbound_repo::settings(&mut tx, tenant.id).await?;
    let mut rows = inbound_repo::admin_page(&mut tx, after, PAGE + 1).await?;
    tx.commit().await?;
    let base = tenant.base_path();
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let next_href = more
        .then(|| rows.last())
        .flatten()
        .map(|last| format!("{base}/admin/inbound?after={}", last.id));
    Ok(InboundPage {
        nav: nav(&base, "inbound"),
        endpoint: format!(
            "{}{base}{}",
            state.config.server.public_url.trim_end_matches('/'),
            crate::email::inbound::ENDPOINT
        ),
        has_secret: settings.inbound_secret_hash.is_some(),
        new_secret,
        accept_email_tickets: settings.accept_email_tickets,
        reply_to: state.config.email.reply_to.clone(),
        rows: rows
            .into_iter()
            .map(|r| InboundRowView {
                received: format::datetime(r.received_at),
                received_iso: format::iso(r.received_at),
                from: r.from_address,
                subject: r.subject,
                decision: decision_label(&r.decision),
                reason: r.reason,
                ticket: r.ticket_number.map(|n| {
                    (
                        display_number(&tenant.ticket_prefix, n),
                        format!("{base}/tickets/{n}"),
                    )
                }),
            })
            .collect(),
        next_href,
        first_href: after.map(|_| format!("{base}/admin/inbound")),
        base,
        chrome,
    })
}

pub async fn inbound(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
    Query(query): Query<PageQuery>,
) -> AppResult<InboundPage> {
    let after = cursor(&query.after)?;
    inbound_page(&state, &tenant, chrome, after, None).await
}

/// Answers with the page itself (not a redirect) so the new secret is shown
/// once without travelling in a URL.
pub async fn new_inbound_secret(
    State(state): State<AppState>,
    Admin(admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
) -> AppResult<Response> {
    let ctx = Ctx {
        db: &state.db,
        clock: &state.clock,
        admin: &admin,
    };
    let secret = service::new_inbound_secret(ctx)
        .await
        .map_err(admin_error)?;
    let page = inbound_page(&state, &tenant, chrome, None, Some(secret)).await?;
    Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], page).into_response())
}

pub async fn inbound_settings(
    State(state): State<AppState>,
    Admin(admin): Admin,
    tenant: Tenant,
    fields: Fields,
) -> AppResult<Response> {
    let ctx = Ctx {
        db: &state.db,
        clock: &state.clock,
        admin: &admin,
    };
    service::set_accept_email_tickets(ctx, fields.get("accept_email_tickets") == "on")
        .await
        .map_err(admin_error)?;
    Ok(Redirect::to(&format!(
        "{}/admin/inbound?notice=saved",
        tenant.base_path()
    ))
    .into_response())
}

fn admin_error(error: AdminError) -> AppError {
    match error {
        AdminError::App(error) => error,
        AdminError::Invalid(_) => AppError::NotFound,
        AdminError::Refused(message) => AppError::Conflict(message),
    }
}

pub async fn chat(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
) -> AppResult<ChatPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let hook = crate::email::chat::settings(&mut tx, tenant.id).await?;
    tx.commit().await?;
    let base = tenant.base_path();
    let hook = hook.unwrap_or(crate::email::chat::Webhook {
        url: String::new(),
        on_new_ticket: true,
        on_reopened: true,
    });
    Ok(ChatPage {
        chrome,
        nav: nav(&base, "chat"),
        action: format!("{base}/admin/chat"),
        url: hook.url,
        on_new_ticket: hook.on_new_ticket,
        on_reopened: hook.on_reopened,
        error: None,
    })
}

pub async fn save_chat(
    State(state): State<AppState>,
    Admin(admin): Admin,
    tenant: Tenant,
    chrome: Chrome,
    fields: Fields,
) -> AppResult<Response> {
    let ctx = Ctx {
        db: &state.db,
        clock: &state.clock,
        admin: &admin,
    };
    let (url, on_new, on_reopened) = (
        fields.get("url"),
        fields.get("on_new_ticket") == "on",
        fields.get("on_reopened") == "on",
    );
    match service::save_chat_webhook(ctx, state.config.chat, url, on_new, on_reopened).await {
        Ok(()) => Ok(
            Redirect::to(&format!("{}/admin/chat?notice=saved", tenant.base_path()))
                .into_response(),
        ),
        Err(AdminError::Invalid(mut errors)) => {
            let base = tenant.base_path();
            let page = ChatPage {
                chrome,
                nav: nav(&base, "chat"),
                action: format!("{base}/admin/chat"),
                url: url.to_owned(),
                on_new_ticket: on_new,
                on_reopened,
                error: errors.remove("url"),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(admin_error(error)),
    }
}
