//! Tags: rename (merging) and delete across every ticket that carries them.

use super::*;

/// A tag's new name, normalised as a ticket form would: exactly one tag.
pub fn check_tag_name(raw: &str) -> Result<String, String> {
    use crate::tickets::model::{TAG_MAX_CHARS, parse_tags};
    match parse_tags(raw).as_deref() {
        Ok([tag]) => Ok(tag.clone()),
        Ok([]) => Err("Enter a tag.".to_owned()),
        Ok(_) => Err("Enter one tag: a tag cannot contain a comma.".to_owned()),
        Err(_) if raw.contains(',') => {
            Err("Enter one tag: a tag cannot contain a comma.".to_owned())
        }
        Err(_) => Err(format!(
            "A tag has at most {TAG_MAX_CHARS} characters and no control characters."
        )),
    }
}

fn tickets_phrase(n: u64) -> String {
    if n == 1 {
        "1 ticket".to_owned()
    } else {
        format!("{n} tickets")
    }
}

/// Renames `tag` to `name` on every ticket that carries it; when some tickets
/// carry `name` already the two merge. `tag` is a stored tag as the page sent
/// it; one that no ticket carries is not found.
pub async fn rename_tag(ctx: Ctx<'_>, tag: &str, name: &str) -> AdminResult<()> {
    let name = check_tag_name(name).map_err(|e| invalid("name", e));
    let mut tx = ctx.begin().await?;
    if tag.is_empty() || !repo::tag_exists(&mut tx, ctx.tenant(), tag).await? {
        return Err(AppError::NotFound.into());
    }
    let name = name?;
    if name == tag {
        return Ok(());
    }
    let merge = repo::tag_exists(&mut tx, ctx.tenant(), &name).await?;
    let changed = repo::retag(
        &mut tx,
        ctx.tenant(),
        tag,
        Some(&name),
        ctx.admin.id,
        ctx.clock.now(),
    )
    .await?;
    if changed == 0 {
        // Another action took the tag off its last ticket meanwhile.
        return Err(AppError::NotFound.into());
    }
    let subject = format!("{tag} ({})", tickets_phrase(changed));
    ctx.audit(
        &mut tx,
        entry(
            "tags",
            if merge { "merge" } else { "rename" },
            &subject,
            Some(tag.to_owned()),
            Some(name),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes `tag` off every ticket that carries it (the tickets stay).
pub async fn delete_tag(ctx: Ctx<'_>, tag: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let changed = if tag.is_empty() {
        0
    } else {
        repo::retag(
            &mut tx,
            ctx.tenant(),
            tag,
            None,
            ctx.admin.id,
            ctx.clock.now(),
        )
        .await?
    };
    if changed == 0 {
        return Err(AppError::NotFound.into());
    }
    let subject = format!("{tag} ({})", tickets_phrase(changed));
    ctx.audit(
        &mut tx,
        entry("tags", "delete", &subject, Some(tag.to_owned()), None),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
