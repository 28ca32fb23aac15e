//! Preferences page, and the unsubscribe page of ticket mail.

use super::{repo, service, views::*};
use crate::{
    email::notify::Preferences,
    error::AppResult,
    state::AppState,
    tenants::Tenant,
    tickets::model::display_number,
    web::{chrome::Chrome, extract::CurrentUser, form::Fields},
};
use axum::{
    extract::{Query, State},
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

pub async fn preferences(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    chrome: Chrome,
) -> AppResult<PreferencesPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let p = repo::preferences(&mut tx, tenant.id, user.id).await?;
    tx.commit().await?;
    Ok(PreferencesPage {
        chrome,
        action: format!("{}/account/notifications", tenant.base_path()),
        toggles: toggles(p, user.role.is_staff()),
    })
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
