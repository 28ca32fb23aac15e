//! Saving preferences, and leaving a ticket by its unsubscribe link.

use super::repo::{self, FollowedTicket};
use crate::{
    auth::model::User,
    clock::Clock,
    db::{Db, TenantId, UserId},
    email::{links, notify::Preferences},
    error::AppError,
    tickets::{
        events::{self, EventKind, NewEvent},
        model::TicketId,
        repo as ticket_repo,
    },
};
use uuid::Uuid;

/// Saves `user`'s preferences; "only tickets assigned to me" is staff-only.
pub async fn save_preferences(
    db: &Db,
    clock: &Clock,
    user: &User,
    mut preferences: Preferences,
) -> Result<(), AppError> {
    if !user.role.is_staff() {
        preferences.only_assigned = false;
        preferences.internal_notes = true;
    }
    let mut tx = db.tenant_tx(user.tenant_id).await?;
    repo::save_preferences(&mut tx, user.tenant_id, user.id, preferences, clock.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// The user and ticket of a valid unsubscribe token of `tenant`, with what the
/// page shows; not found for a token that does not verify or names nothing.
pub async fn unsubscribe_target(
    db: &Db,
    secret: &[u8],
    tenant: TenantId,
    token: &str,
) -> Result<(UserId, Uuid, FollowedTicket), AppError> {
    let (user, ticket) =
        links::parse_unsubscribe_token(secret, tenant, token).ok_or(AppError::NotFound)?;
    let mut tx = db.tenant_tx(tenant).await?;
    let found = repo::followed_ticket(&mut tx, tenant, user, ticket)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok((user, ticket, found))
}

/// Stops the token's user following the token's ticket (an activity event
/// records it, as when they click "Unfollow"). Returns the ticket it was about.
pub async fn unsubscribe(
    db: &Db,
    clock: &Clock,
    secret: &[u8],
    tenant: TenantId,
    token: &str,
) -> Result<FollowedTicket, AppError> {
    let (user, ticket, found) = unsubscribe_target(db, secret, tenant, token).await?;
    let ticket = TicketId(ticket);
    let now = clock.now();
    let mut tx = db.tenant_tx(tenant).await?;
    if ticket_repo::remove_follower(&mut tx, tenant, ticket, user).await? {
        let mut event = NewEvent::new(ticket, user, EventKind::FollowerRemoved);
        event.new_value = Some(&found.user_name);
        events::record(&mut tx, tenant, event, now).await?;
    }
    tx.commit().await?;
    Ok(FollowedTicket {
        following: false,
        ..found
    })
}
