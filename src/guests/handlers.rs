//! Guest routes: the public submission form, the access link that trades its
//! token for a cookie, and the one ticket that cookie opens.

use super::{
    ACCESS_COOKIE,
    repo::GuestSettings,
    service::{self, GuestForm, SubmitError},
    views::{GuestReplyView, SubmitPage, SubmittedPage, TicketPage, UnavailablePage},
};
use crate::{
    attachments::{self, UploadField},
    auth::{self, model::User},
    error::{AppError, AppResult},
    markdown,
    replies::{
        self,
        service::{NewReply, ReplyAction, ReplyError},
    },
    state::AppState,
    tenants::Tenant,
    tickets::{
        self,
        handlers::{CHOOSE_FILES_AGAIN, category_levels_for, chosen_categories, parse_path_number},
        lifecycle,
        model::display_number,
        service::{FieldErrors, TicketInput},
        views::{CategoryLevelsPartial, Choice, category_levels},
    },
    web::{
        chrome::Chrome,
        extract::{ClientAddr, CurrentUser, Staff},
        form::{Fields, Submission},
        format,
    },
};
use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use std::net::IpAddr;

fn unavailable(
    chrome: Chrome,
    heading: &'static str,
    text: &'static str,
    submit_href: Option<String>,
) -> Response {
    (
        StatusCode::NOT_FOUND,
        UnavailablePage {
            chrome,
            heading,
            text,
            submit_href,
        },
    )
        .into_response()
}

fn submission_off(chrome: Chrome) -> Response {
    unavailable(
        chrome,
        "Guest submission is not available",
        "This helpdesk does not take requests without an account. Please sign in to open a ticket.",
        None,
    )
}

fn form_from(fields: &Fields) -> GuestForm {
    GuestForm {
        email: fields.get("email").trim().to_owned(),
        name: fields.get("name").trim().to_owned(),
        ticket: TicketInput {
            subject: fields.get("subject").to_owned(),
            description: fields.get("description").to_owned(),
            ticket_type: fields.get("type").to_owned(),
            priority: fields.get("priority").to_owned(),
            category_path: fields.all("category"),
            ..TicketInput::default()
        },
        idempotency_key: None,
    }
}

/// What the submit page shows besides the form's own input.
#[derive(Default)]
struct SubmitState {
    errors: FieldErrors,
    link_email: String,
}

async fn render_submit(
    state: &AppState,
    tenant: &Tenant,
    chrome: Chrome,
    settings: GuestSettings,
    form: &GuestForm,
    page: SubmitState,
) -> AppResult<SubmitPage> {
    let base = tenant.base_path();
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let catalog = state.catalogs.of(&mut tx, tenant).await?;
    tx.end_read();
    let options = &catalog.options;
    let policy = attachments::policy::Policy::new(&state.config, &catalog.attachments);
    let choose = |all: Vec<(String, String)>, chosen: &str, default: String| -> Vec<Choice> {
        let chosen = if chosen.is_empty() {
            default
        } else {
            chosen.to_owned()
        };
        all.into_iter()
            .map(|(value, label)| {
                let selected = value == chosen;
                Choice::new(value, label, selected)
            })
            .collect()
    };
    let type_choices = settings.guest_show_type.then(|| {
        choose(
            options
                .types
                .iter()
                .filter(|t| !t.retired)
                .map(|t| (t.id.to_string(), t.name.clone()))
                .collect(),
            &form.ticket.ticket_type,
            options
                .default_type()
                .map(|t| t.id.to_string())
                .unwrap_or_default(),
        )
    });
    let priority_choices = settings.guest_show_priority.then(|| {
        choose(
            options
                .priorities
                .iter()
                .filter(|p| !p.retired)
                .map(|p| (p.id.to_string(), p.name.clone()))
                .collect(),
            &form.ticket.priority,
            options
                .default_priority()
                .map(|p| p.id.to_string())
                .unwrap_or_default(),
        )
    });
    Ok(SubmitPage {
        chrome,
        action: format!("{base}/submit"),
        login_href: format!("{base}/login"),
        email: form.email.clone(),
        name: form.name.clone(),
        subject: form.ticket.subject.clone(),
        description: form.ticket.description.clone(),
        type_choices,
        priority_choices,
        categories: CategoryLevelsPartial {
            levels: category_levels(options, &chosen_categories(&form.ticket, options)),
            options_href: format!("{base}/submit/category-options"),
            error: page.errors.get("category").cloned(),
        },
        upload: UploadField::new(&policy, page.errors.get(attachments::FIELD).cloned()),
        link_action: format!("{base}/submit/link"),
        link_email: page.link_email,
        errors: page.errors,
        idempotency_key: form
            .idempotency_key
            .clone()
            .unwrap_or_else(crate::auth::tokens::random_token),
    })
}

pub async fn submit_page(
    State(state): State<AppState>,
    tenant: Tenant,
    chrome: Chrome,
) -> AppResult<Response> {
    let settings = service::settings(&state.db, &tenant).await?;
    if !settings.guest_submission_enabled {
        return Ok(submission_off(chrome));
    }
    let page = render_submit(
        &state,
        &tenant,
        chrome,
        settings,
        &GuestForm::default(),
        SubmitState::default(),
    )
    .await?;
    Ok(page.into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    tenant: Tenant,
    chrome: Chrome,
    ClientAddr(client): ClientAddr,
    Submission {
        fields,
        upload,
        refusal,
    }: Submission,
) -> AppResult<Response> {
    let settings = service::settings(&state.db, &tenant).await?;
    if !settings.guest_submission_enabled {
        upload.discard().await;
        return Ok(submission_off(chrome));
    }
    // A field people never see (hidden by CSS and from assistive technology):
    // only robots fill it in. They get a thank-you and nothing is saved.
    if !fields.get("website").is_empty() {
        upload.discard().await;
        return Ok(SubmittedPage {
            chrome,
            number: None,
            submit_href: format!("{}/submit", tenant.base_path()),
        }
        .into_response());
    }
    let mut form = form_from(&fields);
    match tickets::service::idempotency_key(fields.get("idempotency_key")) {
        Ok(key) => form.idempotency_key = key,
        Err(error) => {
            upload.discard().await;
            return Err(error);
        }
    }
    if let Some(refusal) = refusal {
        let page = SubmitState {
            errors: FieldErrors::from([(attachments::FIELD, refusal.message)]),
            ..SubmitState::default()
        };
        let page = render_submit(&state, &tenant, chrome, settings, &form, page).await?;
        return Ok((refusal.status, page).into_response());
    }
    if fields.has("refresh") {
        // The no-JavaScript way to fill the next category level.
        upload.discard().await;
        let page = render_submit(
            &state,
            &tenant,
            chrome,
            settings,
            &form,
            SubmitState::default(),
        )
        .await?;
        return Ok(page.into_response());
    }
    let had_files = !upload.is_empty();
    let saved = service::submit(
        &state.db,
        &state.clock,
        &tenant,
        client,
        form.clone(),
        upload.files(),
    )
    .await;
    match &saved {
        // A replayed submission stored nothing of this request's.
        Ok(submitted) if !submitted.replayed => upload.keep(),
        _ => upload.discard().await,
    }
    match saved {
        Ok(submitted) => Ok(SubmittedPage {
            chrome,
            number: Some(submitted.display_number),
            submit_href: format!("{}/submit", tenant.base_path()),
        }
        .into_response()),
        Err(SubmitError::Invalid(mut errors)) => {
            if had_files {
                errors.insert(attachments::FIELD, CHOOSE_FILES_AGAIN.to_owned());
            }
            let page = SubmitState {
                errors,
                ..SubmitState::default()
            };
            let page = render_submit(&state, &tenant, chrome, settings, &form, page).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(SubmitError::Disabled) => Ok(submission_off(chrome)),
        Err(SubmitError::App(error)) => Err(error),
    }
}

/// "Lost your link?": new links by email, the same answer whether or not the
/// address has tickets here.
pub async fn request_link(
    State(state): State<AppState>,
    tenant: Tenant,
    chrome: Chrome,
    ClientAddr(client): ClientAddr,
    fields: Fields,
) -> AppResult<Response> {
    let email = fields.get("link_email").trim().to_owned();
    match service::request_links(&state.db, &state.clock, &tenant, client, &email).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "{}/submit?notice=guest_links_sent",
            tenant.base_path()
        ))
        .into_response()),
        Err(SubmitError::Invalid(errors)) => {
            let settings = service::settings(&state.db, &tenant).await?;
            let page = SubmitState {
                errors,
                link_email: email,
            };
            let page = render_submit(
                &state,
                &tenant,
                chrome,
                settings,
                &GuestForm::default(),
                page,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(SubmitError::Disabled) => Ok(submission_off(chrome)),
        Err(SubmitError::App(error)) => Err(error),
    }
}

/// The next category levels of the public form (htmx).
pub async fn category_options(
    State(state): State<AppState>,
    tenant: Tenant,
    RawQuery(raw): RawQuery,
) -> AppResult<CategoryLevelsPartial> {
    let settings = service::settings(&state.db, &tenant).await?;
    if !settings.guest_submission_enabled {
        return Err(AppError::NotFound);
    }
    let href = format!("{}/submit/category-options", tenant.base_path());
    category_levels_for(&state, &tenant, raw.as_deref(), href).await
}

fn ticket_path(tenant: &Tenant, number: i64) -> String {
    format!("{}/access/tickets/{number}", tenant.base_path())
}

/// The link from the email: its token goes into a cookie that only this
/// ticket's pages receive, and the browser moves on to a URL without it.
pub async fn access(
    State(state): State<AppState>,
    tenant: Tenant,
    chrome: Chrome,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    Path((_, token)): Path<(String, String)>,
) -> AppResult<Response> {
    let Some(grant) = service::grant(&state.db, &state.clock, &tenant, client, &token).await?
    else {
        return Ok(link_dead(&tenant, chrome));
    };
    let path = ticket_path(&tenant, grant.number);
    let cookie = Cookie::build((ACCESS_COOKIE, token))
        .path(path.clone())
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies())
        .build();
    Ok((jar.add(cookie), Redirect::to(&path)).into_response())
}

fn link_dead(tenant: &Tenant, chrome: Chrome) -> Response {
    unavailable(
        chrome,
        "This link does not work",
        "It may have been revoked, or its request was closed a while ago. You can ask for a new link with your email address.",
        Some(format!("{}/submit#new-link", tenant.base_path())),
    )
}

/// The guest the cookie speaks for on ticket `number`, or 404.
async fn guest(
    state: &AppState,
    tenant: &Tenant,
    client: IpAddr,
    jar: &CookieJar,
    number: i64,
) -> AppResult<User> {
    for cookie in jar.iter().filter(|c| c.name() == ACCESS_COOKIE) {
        if let Some(grant) =
            service::grant(&state.db, &state.clock, tenant, client, cookie.value()).await?
            && grant.number == number
        {
            return Ok(grant.user);
        }
    }
    Err(AppError::NotFound)
}

/// What a failed reply refills the reply box with.
#[derive(Default)]
struct ReplyRefill {
    body: String,
    error: Option<String>,
    attachments_error: Option<String>,
}

async fn render_ticket(
    state: &AppState,
    tenant: &Tenant,
    chrome: Chrome,
    user: &User,
    number: i64,
    refill: ReplyRefill,
) -> AppResult<TicketPage> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let ticket = tickets::load_visible(&mut tx, user, number).await?;
    let catalog = state.catalogs.of(&mut tx, tenant).await?;
    let replies = replies::repo::for_ticket(&mut tx, tenant.id, ticket.id, false).await?;
    let files = attachments::repo::for_ticket(&mut tx, tenant.id, ticket.id, false).await?;
    let following = tickets::repo::is_following(&mut tx, tenant.id, ticket.id, user.id).await?;
    let zone = auth::repo::timezone_of(&mut tx, tenant.id, user).await?;
    tx.end_read();
    let options = &catalog.options;
    let settings = catalog.lifecycle;
    let policy = attachments::policy::Policy::new(&state.config, &catalog.attachments);

    // Guests are not signed in: their dates read in the helpdesk's default timezone.
    Ok(format::with_timezone(&zone, move || {
        let href = ticket_path(tenant, number);
        let files_of = |reply: Option<replies::repo::ReplyId>| -> Vec<attachments::AttachmentView> {
            files
                .iter()
                .filter(|file| file.reply_id == reply && !file.internal)
                .map(|file| attachments::AttachmentView::new(file, &href))
                .collect()
        };
        let replies = replies
            .iter()
            .filter(|reply| !reply.internal && reply.deleted_at.is_none())
            .map(|reply| GuestReplyView {
                id: reply.id.to_string(),
                author_name: reply.author_name.clone(),
                author_is_staff: reply.author_role.is_staff(),
                body: markdown::render(&reply.body),
                created: format::datetime(reply.created_at),
                created_iso: format::iso(reply.created_at),
                attachments: files_of(Some(reply.id)),
            })
            .collect();
        TicketPage {
            chrome,
            number: display_number(&tenant.ticket_prefix, number),
            subject: ticket.subject.clone(),
            status_name: options
                .status(ticket.status_id)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            status_category: ticket.status_category.as_str(),
            created: format::datetime(ticket.created_at),
            requester_name: ticket.requester_name.clone(),
            description: markdown::render(&ticket.description),
            attachments: files_of(None),
            resolution_notes: ticket
                .resolution_notes
                .as_deref()
                .filter(|notes| !notes.trim().is_empty())
                .map(markdown::render),
            replies,
            following,
            follow_action: format!("{href}/follow"),
            reply_action: format!("{href}/replies"),
            reply_body: refill.body,
            reply_error: refill.error,
            refusal: lifecycle::reply_refusal(user, &ticket, settings, state.clock.now()),
            upload: UploadField::new(&policy, refill.attachments_error),
        }
    }))
}

pub async fn ticket(
    State(state): State<AppState>,
    tenant: Tenant,
    chrome: Chrome,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    Path((_, number)): Path<(String, String)>,
) -> AppResult<Response> {
    let number = parse_path_number(&number)?;
    let user = match guest(&state, &tenant, client, &jar, number).await {
        Ok(user) => user,
        Err(AppError::NotFound) => return Ok(link_dead(&tenant, chrome)),
        Err(error) => return Err(error),
    };
    let page = render_ticket(
        &state,
        &tenant,
        chrome,
        &user,
        number,
        ReplyRefill::default(),
    )
    .await?;
    Ok(page.into_response())
}

pub async fn reply(
    State(state): State<AppState>,
    tenant: Tenant,
    chrome: Chrome,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    Path((_, number)): Path<(String, String)>,
    Submission {
        fields,
        upload,
        refusal,
    }: Submission,
) -> AppResult<Response> {
    let number = parse_path_number(&number)?;
    let user = match guest(&state, &tenant, client, &jar, number).await {
        Ok(user) => user,
        Err(error) => {
            upload.discard().await;
            return Err(error);
        }
    };
    let body = fields.get("body");
    if let Some(refusal) = refusal {
        let refill = ReplyRefill {
            body: body.to_owned(),
            attachments_error: Some(refusal.message),
            ..ReplyRefill::default()
        };
        let page = render_ticket(&state, &tenant, chrome, &user, number, refill).await?;
        return Ok((refusal.status, page).into_response());
    }
    let reply = NewReply {
        body,
        internal: false,
        action: ReplyAction::Send,
        resolution_notes: "",
        files: upload.files(),
    };
    let saved = replies::service::add(&state.db, &state.clock, &user, number, reply).await;
    let had_files = !upload.is_empty();
    match saved {
        Ok(_) => upload.keep(),
        Err(_) => upload.discard().await,
    }
    match saved {
        Ok(id) => Ok(Redirect::to(&format!(
            "{}?notice=reply_sent#reply-{id}",
            ticket_path(&tenant, number)
        ))
        .into_response()),
        Err(ReplyError::Invalid(message)) => {
            let refill = ReplyRefill {
                body: body.to_owned(),
                error: Some(message),
                attachments_error: had_files.then(|| CHOOSE_FILES_AGAIN.to_owned()),
            };
            let page = render_ticket(&state, &tenant, chrome, &user, number, refill).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(ReplyError::App(error)) => Err(error),
    }
}

/// Downloads work with the cookie alone: the same rules (and thumbnails and
/// ranges) as for the requester, so no files of internal notes or deleted replies.
pub async fn download(
    State(state): State<AppState>,
    tenant: Tenant,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    Path((slug, number, id)): Path<(String, String, String)>,
    query: RawQuery,
    headers: HeaderMap,
) -> AppResult<Response> {
    let parsed = parse_path_number(&number)?;
    let user = guest(&state, &tenant, client, &jar, parsed).await?;
    attachments::handlers::download(
        State(state),
        CurrentUser(user),
        Path((slug, number, id)),
        query,
        headers,
    )
    .await
}

pub async fn follow(
    State(state): State<AppState>,
    tenant: Tenant,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    Path((_, number)): Path<(String, String)>,
    fields: Fields,
) -> AppResult<Redirect> {
    let number = parse_path_number(&number)?;
    let user = guest(&state, &tenant, client, &jar, number).await?;
    let follow = fields.get("follow") == "1";
    tickets::service::set_following(&state.db, &state.clock, &user, number, follow).await?;
    Ok(Redirect::to(&ticket_path(&tenant, number)))
}

/// Staff: every access link of the ticket stops working.
pub async fn revoke(
    State(state): State<AppState>,
    Staff(user): Staff,
    tenant: Tenant,
    Path((_, number)): Path<(String, String)>,
) -> AppResult<Redirect> {
    let number = parse_path_number(&number)?;
    service::revoke(&state.db, &state.clock, &user, number).await?;
    Ok(Redirect::to(&format!(
        "{}/tickets/{number}?notice=guest_links_revoked",
        tenant.base_path()
    )))
}
