//! The chat webhook: where new and reopened tickets are announced.

use super::*;
use crate::{
    config::ChatConfig,
    email::chat::{self, Webhook},
};

/// Saves the webhook (an empty URL removes it) after checking the URL is
/// allowed: https, and not resolving to an internal address (see [`chat`]).
pub async fn save_chat_webhook(
    ctx: Ctx<'_>,
    config: ChatConfig,
    url: &str,
    on_new_ticket: bool,
    on_reopened: bool,
) -> AdminResult<()> {
    let url = match url.trim() {
        "" => String::new(),
        url => chat::check_url(config, url)
            .await
            .map_err(|e| invalid("url", e))?,
    };
    let mut tx = ctx.begin().await?;
    let before = chat::settings(&mut tx, ctx.tenant()).await?;
    let hook = Webhook {
        url,
        on_new_ticket,
        on_reopened,
    };
    chat::save(&mut tx, ctx.tenant(), &hook, ctx.clock.now()).await?;
    let describe = |h: &Webhook| {
        format!(
            "{} (new tickets: {}, reopened: {})",
            h.url,
            yes_no(h.on_new_ticket),
            yes_no(h.on_reopened)
        )
    };
    ctx.audit(
        &mut tx,
        entry(
            "chat",
            if hook.url.is_empty() {
                "remove"
            } else {
                "update"
            },
            "chat webhook",
            before.as_ref().map(describe),
            (!hook.url.is_empty()).then(|| describe(&hook)),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
