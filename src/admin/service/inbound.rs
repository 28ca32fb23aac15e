//! Inbound mail settings: the secret mail services post with, and whether mail
//! that matches no ticket opens one.

use super::*;
use crate::{
    auth::tokens,
    email::inbound::{repo as inbound_repo, secret_hash},
};

/// Makes a new inbound secret (the old one stops working) and returns it: the
/// one time it is shown; only its hash is kept.
pub async fn new_inbound_secret(ctx: Ctx<'_>) -> AdminResult<String> {
    let secret = tokens::random_token();
    let mut tx = ctx.begin().await?;
    inbound_repo::set_secret_hash(
        &mut tx,
        ctx.tenant(),
        &secret_hash(&secret),
        ctx.clock.now(),
    )
    .await?;
    ctx.audit(
        &mut tx,
        entry("inbound", "new secret", "inbound email secret", None, None),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

pub async fn set_accept_email_tickets(ctx: Ctx<'_>, accept: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let before = inbound_repo::settings(&mut tx, ctx.tenant()).await?;
    if before.accept_email_tickets == accept {
        return Ok(());
    }
    inbound_repo::set_accept_email_tickets(&mut tx, ctx.tenant(), accept, ctx.clock.now()).await?;
    ctx.audit(
        &mut tx,
        entry(
            "inbound",
            "update",
            "new tickets by email",
            Some(yes_no(before.accept_email_tickets)),
            Some(yes_no(accept)),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
