//! Reply routes: add, edit, delete. Failures show the page again with the
//! message at the reply box, and nothing saved.

use super::{
    repo::{self, ReplyId},
    service::{self, NewReply, ReplyAction, ReplyError},
    views::{EditReplyPage, RevisionView},
};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
    tenants::Tenant,
    tickets::{
        handlers::{CHOOSE_FILES_AGAIN, ReplyBoxInput, detail_page, parse_path_number},
        model::display_number,
    },
    web::{
        chrome::Chrome,
        extract::CurrentUser,
        form::{Fields, Submission},
        format,
    },
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

fn parse_reply(raw: &str) -> AppResult<ReplyId> {
    uuid::Uuid::try_parse(raw)
        .map(ReplyId)
        .map_err(|_| AppError::NotFound)
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    chrome: Chrome,
    Path((_, number)): Path<(String, String)>,
    Submission {
        fields,
        upload,
        refusal,
    }: Submission,
) -> AppResult<Response> {
    let number = parse_path_number(&number)?;
    let internal = fields.get("internal") == "1" || fields.get("internal") == "on";
    let action = ReplyAction::parse(fields.get("action"));
    let body = fields.get("body");
    if let Some(refusal) = refusal {
        // The files were refused and removed: the page again, nothing saved.
        let reply_box = ReplyBoxInput {
            body: body.to_owned(),
            attachments_error: Some(refusal.message),
            ..ReplyBoxInput::default()
        };
        let page = detail_page(&state, &user, &tenant, chrome, number, reply_box, "").await?;
        return Ok((refusal.status, page).into_response());
    }
    let reply = NewReply {
        body,
        internal,
        action,
        resolution_notes: fields.get("resolution_notes"),
        files: upload.files(),
    };
    let saved = service::add(&state.db, &state.clock, &user, number, reply).await;
    let had_files = !upload.is_empty();
    match saved {
        Ok(_) => upload.keep(),
        Err(_) => upload.discard().await,
    }
    match saved {
        Ok(id) => {
            let notice = if internal && user.role.is_staff() {
                "note_added"
            } else {
                "reply_sent"
            };
            Ok(Redirect::to(&format!(
                "{}/tickets/{number}?notice={notice}#reply-{id}",
                tenant.base_path()
            ))
            .into_response())
        }
        Err(ReplyError::Invalid(message)) => {
            let reply_box = ReplyBoxInput {
                body: body.to_owned(),
                error: Some(message),
                attachments_error: had_files.then(|| CHOOSE_FILES_AGAIN.to_owned()),
            };
            let page = detail_page(&state, &user, &tenant, chrome, number, reply_box, "").await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(ReplyError::App(error)) => Err(error),
    }
}

async fn edit_page(
    state: &AppState,
    user: &crate::auth::model::User,
    tenant: &Tenant,
    chrome: Chrome,
    number: i64,
    reply: ReplyId,
    refill: Option<(String, String)>,
) -> Result<EditReplyPage, ReplyError> {
    let (body, error) = refill.map_or((None, None), |(body, error)| (Some(body), Some(error)));
    let (ticket, reply) =
        service::for_editing(&state.db, &state.clock, user, number, reply).await?;
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let prefix = tenant.ticket_prefix.clone();
    let revisions = if user.role.is_staff() {
        repo::revisions(&mut tx, tenant.id, reply.id).await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    let base = tenant.base_path();
    Ok(EditReplyPage {
        chrome,
        number: display_number(&prefix, ticket.number),
        ticket_href: format!("{base}/tickets/{number}"),
        action: format!("{base}/tickets/{number}/replies/{}", reply.id),
        body: body.unwrap_or_else(|| reply.body.clone()),
        internal: reply.internal,
        error,
        revisions: revisions
            .into_iter()
            .map(|r| RevisionView {
                change: r.change,
                by: r.changed_by_name,
                when: format::datetime(r.changed_at),
                body: r.body,
            })
            .collect(),
    })
}

/// A refused change: past the window, or not the author.
fn refused(message: String) -> AppError {
    AppError::Conflict(message)
}

pub async fn edit_form(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    chrome: Chrome,
    Path((_, number, reply)): Path<(String, String, String)>,
) -> AppResult<EditReplyPage> {
    let (number, reply) = (parse_path_number(&number)?, parse_reply(&reply)?);
    edit_page(&state, &user, &tenant, chrome, number, reply, None)
        .await
        .map_err(|error| match error {
            ReplyError::Invalid(message) => refused(message),
            ReplyError::App(error) => error,
        })
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    chrome: Chrome,
    Path((_, number, reply)): Path<(String, String, String)>,
    fields: Fields,
) -> AppResult<Response> {
    let (number, reply) = (parse_path_number(&number)?, parse_reply(&reply)?);
    let body = fields.get("body");
    match service::edit(&state.db, &state.clock, &user, number, reply, body).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "{}/tickets/{number}?notice=saved#reply-{reply}",
            tenant.base_path()
        ))
        .into_response()),
        Err(ReplyError::Invalid(message)) => {
            // Either the body is bad (show the form again) or the window closed.
            match edit_page(
                &state,
                &user,
                &tenant,
                chrome,
                number,
                reply,
                Some((body.to_owned(), message)),
            )
            .await
            {
                Ok(page) => Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response()),
                Err(ReplyError::Invalid(message)) => Err(refused(message)),
                Err(ReplyError::App(error)) => Err(error),
            }
        }
        Err(ReplyError::App(error)) => Err(error),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    tenant: Tenant,
    Path((_, number, reply)): Path<(String, String, String)>,
) -> AppResult<Redirect> {
    let (number, reply) = (parse_path_number(&number)?, parse_reply(&reply)?);
    service::delete(&state.db, &state.clock, &user, number, reply)
        .await
        .map_err(|error| match error {
            ReplyError::Invalid(message) => refused(message),
            ReplyError::App(error) => error,
        })?;
    Ok(Redirect::to(&format!(
        "{}/tickets/{number}?notice=reply_deleted",
        tenant.base_path()
    )))
}
