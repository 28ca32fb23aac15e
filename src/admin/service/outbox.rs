//! The outbox: putting a message that failed for good back in the queue.

use super::*;
use crate::email::outbox;

/// Requeues the failed message `id`: due at once, with a fresh attempt budget.
/// Only failed messages are retried (pending ones are queued already, sent ones
/// were delivered); an id that is not the tenant's is not found.
pub async fn retry_email(ctx: Ctx<'_>, id: Uuid) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (recipient, subject, status) = outbox::find_for_update(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if status != "failed" {
        return Err(refused(format!(
            "Only failed messages can be retried; this one is {status}."
        )));
    }
    outbox::requeue(&mut tx, id, ctx.clock.now()).await?;
    let subject = format!("{subject} → {recipient}");
    ctx.audit(
        &mut tx,
        entry(
            "outbox",
            "retry",
            &subject,
            Some("failed".to_owned()),
            Some("pending".to_owned()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
