//! Guest rules: submitting a ticket without an account, the access links that
//! open it, their abuse limits, and revoking them.

use super::{
    email,
    repo::{self, Action, Grant, GuestSettings},
};
use crate::{
    attachments::StoredFile,
    auth::{
        self,
        model::{NewUser, Role, User},
        tokens::random_token,
    },
    clock::Clock,
    db::{Db, TenantTx, UserId},
    error::AppError,
    passwords::service::hash_token,
    tenants::Tenant,
    tickets::{
        self,
        model::TicketId,
        options::TicketOptions,
        service::{FieldErrors, SaveError, TicketInput},
    },
};
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};

/// The window of the per-hour limits.
const RATE_WINDOW: Duration = Duration::hours(1);

/// What the public form sent.
#[derive(Debug, Clone, Default)]
pub struct GuestForm {
    pub email: String,
    pub name: String,
    pub ticket: TicketInput,
    /// The form's hidden idempotency key: a repeated submission finds the
    /// ticket the first one made (see `tickets::service::create_idempotent`).
    pub idempotency_key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the form has errors")]
    Invalid(FieldErrors),
    /// The tenant does not take guest tickets.
    #[error("guest submission is off")]
    Disabled,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for SubmitError {
    fn from(error: sqlx::Error) -> Self {
        SubmitError::App(error.into())
    }
}

pub struct Submitted {
    pub display_number: String,
    /// The submission repeated an earlier one's idempotency key: nothing new
    /// was saved (the caller discards its files).
    pub replayed: bool,
}

/// The path of an access link, for emails (after the origin mark).
pub fn access_path(slug: &str, token: &str) -> String {
    format!("/{slug}/access/{token}")
}

/// Creates an access link to `ticket` speaking for `user` in the caller's
/// transaction, and returns its token: the only time it exists outside a hash.
pub async fn issue_link(
    tx: &mut TenantTx,
    now: OffsetDateTime,
    ticket: TicketId,
    user: UserId,
) -> Result<String, sqlx::Error> {
    let token = random_token();
    let tenant = tx.tenant();
    repo::insert_link(tx, tenant, ticket, user, &hash_token(&token), now).await?;
    Ok(token)
}

/// Tokens that open nothing, per client address per hour, before that address
/// gets 429 for every token: guessing 256-bit tokens is hopeless, and this
/// keeps anyone from trying at scale.
pub const GUESSES_PER_HOUR: i32 = 30;

/// What the link with `token` grants, if it works. A token that opens nothing
/// counts against `client`'s guesses.
pub async fn grant(
    db: &Db,
    clock: &Clock,
    tenant: &Tenant,
    client: IpAddr,
    token: &str,
) -> Result<Option<Grant>, AppError> {
    let mut tx = db.tenant_tx(tenant.id).await?;
    let now = clock.now();
    let address = address_key(client);
    check_rate(&mut tx, now, Action::Guess, &address, GUESSES_PER_HOUR).await?;
    // Tokens are 43 URL-safe characters; anything else cannot match.
    let grant = if token.len() == 43 {
        repo::find_grant(&mut tx, tenant.id, &hash_token(token), now).await?
    } else {
        None
    };
    if grant.is_none() {
        record_rate(&mut tx, now, Action::Guess, &[&address]).await?;
    }
    tx.commit().await?;
    Ok(grant)
}

pub async fn settings(db: &Db, tenant: &Tenant) -> Result<GuestSettings, AppError> {
    let mut tx = db.tenant_tx(tenant.id).await?;
    let settings = repo::settings(&mut tx, tenant.id).await?;
    tx.commit().await?;
    Ok(settings)
}

/// Refuses with 429 when `key` has used up the hour's `limit` of `action`.
async fn check_rate(
    tx: &mut TenantTx,
    now: OffsetDateTime,
    action: Action,
    key: &str,
    limit: i32,
) -> Result<(), AppError> {
    let tenant = tx.tenant();
    let (count, oldest) =
        repo::rate_events_since(tx, tenant, action, key, now - RATE_WINDOW).await?;
    if count >= i64::from(limit) {
        let free_at = oldest.map_or(now + RATE_WINDOW, |oldest| oldest + RATE_WINDOW);
        return Err(AppError::TooManyRequests {
            retry_after_secs: (free_at - now).whole_seconds().max(1),
        });
    }
    Ok(())
}

async fn record_rate(
    tx: &mut TenantTx,
    now: OffsetDateTime,
    action: Action,
    keys: &[&str],
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant();
    for key in keys {
        repo::record_rate_event(tx, tenant, action, key, now, now - RATE_WINDOW).await?;
    }
    Ok(())
}

fn address_key(client: IpAddr) -> String {
    format!("address:{client}")
}

fn email_key(email: &str) -> String {
    format!("email:{}", email.to_lowercase())
}

/// The contact for `email`: the existing customer of that address, or a new
/// one without a password. Staff and deactivated accounts cannot submit as guests.
async fn contact(
    tx: &mut TenantTx,
    email: &str,
    name: &str,
    errors: &mut FieldErrors,
) -> Result<Option<User>, AppError> {
    let new = match NewUser::new(email, Some(name), Role::Customer, None) {
        Ok(new) => new,
        Err(_) => {
            if NewUser::new(email, None, Role::Customer, None).is_ok() {
                errors.insert(
                    "name",
                    "Use at most 120 characters, on one line.".to_owned(),
                );
            } else {
                errors.insert(
                    "email",
                    "Enter your email address, like name@example.com.".to_owned(),
                );
            }
            return Ok(None);
        }
    };
    let user = auth::service::find_or_create_contact(tx, new)
        .await
        .map_err(|e| {
            AppError::Internal(anyhow::anyhow!("finding or creating a guest contact: {e}"))
        })?;
    if user.role.is_staff() {
        errors.insert(
            "email",
            "This address belongs to a team member: please sign in to open tickets.".to_owned(),
        );
        return Ok(None);
    }
    if !user.active {
        errors.insert(
            "email",
            "This address cannot open tickets here. Please contact the team another way."
                .to_owned(),
        );
        return Ok(None);
    }
    Ok(Some(user))
}

/// Files a guest's ticket: the contact, the ticket (whose confirmation email
/// carries the access link, see `email::notify`) and the rate-limit records,
/// in one transaction.
pub async fn submit(
    db: &Db,
    clock: &Clock,
    tenant: &Tenant,
    client: IpAddr,
    mut form: GuestForm,
    files: &[StoredFile],
) -> Result<Submitted, SubmitError> {
    let mut tx = db.tenant_tx(tenant.id).await?;
    let settings = repo::settings(&mut tx, tenant.id).await?;
    if !settings.guest_submission_enabled {
        return Err(SubmitError::Disabled);
    }
    // A retry of a submission that went through answers as that one did,
    // before the rate limits (it adds nothing to count).
    if let Some(key) = &form.idempotency_key
        && let Some(earlier) = tickets::service::claim_idempotency_key(&mut tx, key).await?
    {
        tx.commit().await?;
        return Ok(Submitted {
            display_number: earlier.display_number,
            replayed: true,
        });
    }
    let now = clock.now();
    let address = address_key(client);
    check_rate(
        &mut tx,
        now,
        Action::Submit,
        &address,
        settings.guest_hourly_limit,
    )
    .await?;

    // What guests are not shown, they do not choose.
    if !settings.guest_show_type {
        form.ticket.ticket_type.clear();
    }
    if !settings.guest_show_priority {
        form.ticket.priority.clear();
    }
    form.ticket.requester.clear();
    form.ticket.assignee.clear();
    form.ticket.group.clear();
    form.ticket.tags.clear();

    let mut errors = FieldErrors::new();
    let options = TicketOptions::load(&mut tx, tenant.id).await?;
    let has_categories = options.categories.iter().any(|c| !c.retired);
    if has_categories
        && form
            .ticket
            .category_path
            .iter()
            .all(|c| c.trim().is_empty())
    {
        errors.insert("category", "Choose a category.".to_owned());
    }
    let Some(guest) = contact(&mut tx, &form.email, &form.name, &mut errors).await? else {
        // Check the ticket fields too, so every error shows at once.
        tickets::service::check_input(&form.ticket, &options, &mut errors);
        return Err(SubmitError::Invalid(errors));
    };
    let email = email_key(&guest.email);
    check_rate(
        &mut tx,
        now,
        Action::Submit,
        &email,
        settings.guest_hourly_limit,
    )
    .await?;
    let open =
        repo::count_recent_open_tickets(&mut tx, tenant.id, guest.id, now - Duration::days(1))
            .await?;
    if open >= i64::from(settings.guest_daily_open_tickets) {
        errors.insert(
            "email",
            format!(
                "You have {open} open requests from the last day. Please wait for our answer, \
                 or reply on one of them with the link we emailed you."
            ),
        );
    }
    if !errors.is_empty() {
        tickets::service::check_input(&form.ticket, &options, &mut errors);
        return Err(SubmitError::Invalid(errors));
    }
    let key = form.idempotency_key.as_deref();
    let created = match tickets::service::create_keyed(
        &mut tx,
        &options,
        now,
        &guest,
        form.ticket,
        files,
        key,
    )
    .await
    {
        Ok(created) => created,
        Err(SaveError::Invalid(errors)) => return Err(SubmitError::Invalid(errors)),
        Err(SaveError::Stale { .. }) => {
            return Err(AppError::Conflict("stale guest create".to_owned()).into());
        }
        Err(SaveError::App(error)) => return Err(error.into()),
    };
    record_rate(&mut tx, now, Action::Submit, &[&address, &email]).await?;
    tx.commit().await?;
    Ok(Submitted {
        display_number: created.display_number,
        replayed: false,
    })
}

/// Emails fresh links to the open tickets of the contact with `email`, if there
/// is one; the caller answers the same either way. Rate-limited per client
/// address and per email address (429), counted whether or not it exists.
pub async fn request_links(
    db: &Db,
    clock: &Clock,
    tenant: &Tenant,
    client: IpAddr,
    email: &str,
) -> Result<(), SubmitError> {
    let Ok(email) = auth::model::normalize_email(email) else {
        let mut errors = FieldErrors::new();
        errors.insert(
            "link_email",
            "Enter your email address, like name@example.com.".to_owned(),
        );
        return Err(SubmitError::Invalid(errors));
    };
    let mut tx = db.tenant_tx(tenant.id).await?;
    let settings = repo::settings(&mut tx, tenant.id).await?;
    if !settings.guest_submission_enabled {
        return Err(SubmitError::Disabled);
    }
    let now = clock.now();
    let address = address_key(client);
    let email_key = email_key(&email);
    check_rate(
        &mut tx,
        now,
        Action::Link,
        &address,
        settings.guest_hourly_limit,
    )
    .await?;
    check_rate(
        &mut tx,
        now,
        Action::Link,
        &email_key,
        settings.guest_hourly_limit,
    )
    .await?;
    record_rate(&mut tx, now, Action::Link, &[&address, &email_key]).await?;
    if let Some((user, _)) = auth::repo::find_credentials(&mut tx, tenant.id, &email).await?
        && user.active
        && !user.role.is_staff()
    {
        let tickets = repo::open_tickets_of(&mut tx, tenant.id, user.id).await?;
        if !tickets.is_empty() {
            let mut links = Vec::with_capacity(tickets.len());
            for (id, number, subject) in tickets {
                let token = issue_link(&mut tx, now, id, user.id).await?;
                links.push(email::TicketLink {
                    number: tickets::model::display_number(&tenant.ticket_prefix, number),
                    subject,
                    link: access_path(&tenant.slug, &token),
                });
            }
            email::enqueue_links(&mut tx, now, tenant, &user, links).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Staff revoke every access link of ticket `number`; returns how many worked.
pub async fn revoke(db: &Db, clock: &Clock, actor: &User, number: i64) -> Result<u64, AppError> {
    if !actor.role.is_staff() {
        return Err(AppError::NotFound);
    }
    let mut tx = db.tenant_tx(actor.tenant_id).await?;
    let ticket = tickets::load_visible(&mut tx, actor, number).await?;
    let now = clock.now();
    let revoked = repo::revoke_links(&mut tx, actor.tenant_id, ticket.id, actor.id, now).await?;
    if revoked > 0 {
        let mut event = tickets::events::NewEvent::new(
            ticket.id,
            actor.id,
            tickets::events::EventKind::FieldChanged,
        );
        event.field = Some("guest access");
        event.new_value = Some("revoked");
        tickets::events::record(&mut tx, actor.tenant_id, event, now).await?;
    }
    tx.commit().await?;
    Ok(revoked)
}
