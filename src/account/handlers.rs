//! Preferences page, and the unsubscribe page of ticket mail.

use super::{repo, service, views::*};
use crate::{
    admin::TIMEZONES,
    auth::model::User,
    email::notify::Preferences,
    error::AppResult,
    state::AppState,
    tenants::Tenant,
    tickets::model::display_number,
    web::{chrome::Chrome, extract::CurrentUser, form::Fields, format},
};
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

fn toggles(p: Preferences, staff: bool) -> Vec<Toggle> {
    let mut toggles = vec![
        Toggle {
            name: "ticket_created",
            label: "New tickets",
            hint: "A confirmation with the number when a ticket is opened for you.",
            checked: p.ticket_created,
        },
        Toggle {
            name: "replies",
            label: "Replies",
            hint: "Public replies on tickets you follow.",
            checked: p.replies,
        },
        Toggle {
            name: "changes",
            label: "Status and priority changes",
            hint: "On tickets you follow.",
            checked: p.changes,
        },
    ];
    if staff {
        toggles.extend([
            Toggle {
                name: "assignment",
                label: "Assignments",
                hint: "When a ticket is assigned to you.",
                checked: p.assignment,
            },
            Toggle {
                name: "internal_notes",
                label: "Internal notes",
                hint: "Notes by other staff on tickets you follow.",
                checked: p.internal_notes,
            },
            Toggle {
                name: "only_assigned",
                label: "Only tickets assigned to me",
                hint: "Replies, notes and changes only for tickets assigned to you, even when you follow others.",
                checked: p.only_assigned,
            },
        ]);
    }
    toggles
}

async fn preferences_page(
    state: &AppState,
    user: &User,
    tenant: &Tenant,
    chrome: Chrome,
    chosen: Option<&str>,
    error: Option<String>,
) -> AppResult<PreferencesPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let p = repo::preferences(&mut tx, tenant.id, user.id).await?;
    let default = repo::default_timezone(&mut tx, tenant.id).await?;
    tx.commit().await?;
    let chosen = chosen.unwrap_or_default();
    let mut names: Vec<&str> = TIMEZONES.to_vec();
    if !chosen.is_empty() && !names.contains(&chosen) {
        names.push(chosen);
    }
    let mut choices = vec![(
        String::new(),
        format!("The helpdesk's default ({default})"),
        chosen.is_empty(),
    )];
    choices.extend(
        names
            .into_iter()
            .map(|name| (name.to_owned(), name.to_owned(), name == chosen)),
    );
    Ok(PreferencesPage {
        chrome,
        action: format!("{}/account/notifications", tenant.base_path()),
        toggles: toggles(p, user.role.is_staff()),
        timezone: TimezoneForm {
            action: format!("{}/account/timezone", tenant.base_path()),
            choices,
            error,
        },
    })
}

pub async fn preferences(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    chrome: Chrome,
) -> AppResult<PreferencesPage> {
    let chosen = user.timezone.clone();
    preferences_page(&state, &user, &tenant, chrome, chosen.as_deref(), None).await
}

/// Sets the timezone dates are shown in; empty follows the helpdesk's default.
pub async fn save_timezone(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    chrome: Chrome,
    fields: Fields,
) -> AppResult<Response> {
    let chosen = fields.get("timezone").trim().to_owned();
    if !chosen.is_empty() && !format::is_timezone(&chosen) {
        let error = "Choose a timezone from the list.".to_owned();
        let page = preferences_page(&state, &user, &tenant, chrome, Some(&chosen), Some(error));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page.await?).into_response());
    }
    let zone = (!chosen.is_empty()).then_some(chosen.as_str());
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    repo::set_timezone(&mut tx, tenant.id, user.id, zone).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "{}/account/notifications?notice=saved",
        tenant.base_path()
    ))
    .into_response())
}

pub async fn save_preferences(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    fields: Fields,
) -> AppResult<Response> {
    // A checkbox that is not ticked is not sent.
    let on = |name| fields.get(name) == "on";
    let staff = user.role.is_staff();
    let p = Preferences {
        ticket_created: on("ticket_created"),
        replies: on("replies"),
        changes: on("changes"),
        assignment: if staff { on("assignment") } else { true },
        internal_notes: on("internal_notes"),
        only_assigned: on("only_assigned"),
    };
    service::save_preferences(&state.db, &state.clock, &user, p).await?;
    Ok(Redirect::to(&format!(
        "{}/account/notifications?notice=saved",
        tenant.base_path()
    ))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn unsubscribe_view(
    chrome: Chrome,
    tenant: &Tenant,
    token: String,
    found: repo::FollowedTicket,
    done: bool,
) -> UnsubscribePage {
    let base = tenant.base_path();
    UnsubscribePage {
        chrome,
        action: format!("{base}/unsubscribe"),
        token,
        number: display_number(&tenant.ticket_prefix, found.number),
        subject: found.subject,
        following: found.following,
        done,
        preferences_href: format!("{base}/account/notifications"),
    }
}

/// Shows what the link would do; changes nothing (mail scanners follow links).
pub async fn unsubscribe_page(
    State(state): State<AppState>,
    tenant: Tenant,
    chrome: Chrome,
    Query(query): Query<TokenQuery>,
) -> AppResult<UnsubscribePage> {
    let (_, _, found) =
        service::unsubscribe_target(&state.db, state.secret_bytes(), tenant.id, &query.token)
            .await?;
    Ok(unsubscribe_view(chrome, &tenant, query.token, found, false))
}

pub async fn unsubscribe(
    State(state): State<AppState>,
    tenant: Tenant,
    chrome: Chrome,
    fields: Fields,
) -> AppResult<UnsubscribePage> {
    let token = fields.get("token").to_owned();
    let found = service::unsubscribe(
        &state.db,
        &state.clock,
        state.secret_bytes(),
        tenant.id,
        &token,
    )
    .await?;
    Ok(unsubscribe_view(
        chrome,
        &tenant,
        String::new(),
        found,
        true,
    ))
}
