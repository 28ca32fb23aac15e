//! Priorities: name, colour, rank (copied onto tickets), retire, default, delete.

use super::*;

const PRIORITY_NAME_MAX: usize = 40;

fn priority_name_taken(e: sqlx::Error) -> AdminError {
    if name_taken(&e, &["ticket_priorities_tenant_name_key"]) {
        invalid("name", "A priority with this name exists already.")
    } else {
        e.into()
    }
}

pub async fn add_priority(ctx: Ctx<'_>, name: &str, rank: &str, color: &str) -> AdminResult<()> {
    let mut errors = FieldErrors::new();
    let name = check_name(name, PRIORITY_NAME_MAX).map_err(|e| errors.insert("name", e));
    let rank = check_rank(rank).map_err(|e| errors.insert("rank", e));
    let color = check_color(color).map_err(|e| errors.insert("color", e));
    let (Ok(name), Ok(rank), Ok(color)) = (name, rank, color) else {
        return Err(AdminError::Invalid(errors));
    };
    let mut tx = ctx.begin().await?;
    repo::insert_priority(&mut tx, ctx.tenant(), &name, rank, &color)
        .await
        .map_err(priority_name_taken)?;
    ctx.audit(
        &mut tx,
        entry(
            "priorities",
            "add",
            &name,
            None,
            Some(format!("{name} (rank {rank}, {color})")),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn load_priority(
    tx: &mut TenantTx,
    ctx: Ctx<'_>,
    id: &str,
) -> AdminResult<(Vec<repo::PriorityRow>, repo::PriorityRow)> {
    let id = PriorityId(parse_id(id)?);
    let all = repo::priorities(tx, ctx.tenant()).await?;
    let found = all
        .iter()
        .find(|p| p.id == id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok((all, found))
}

pub async fn update_priority(
    ctx: Ctx<'_>,
    id: &str,
    name: &str,
    rank: &str,
    color: &str,
) -> AdminResult<()> {
    let mut errors = FieldErrors::new();
    let name = check_name(name, PRIORITY_NAME_MAX).map_err(|e| errors.insert("name", e));
    let rank = check_rank(rank).map_err(|e| errors.insert("rank", e));
    let color = check_color(color).map_err(|e| errors.insert("color", e));
    let mut tx = ctx.begin().await?;
    let (_, p) = load_priority(&mut tx, ctx, id).await?;
    let (Ok(name), Ok(rank), Ok(color)) = (name, rank, color) else {
        return Err(AdminError::Invalid(errors));
    };
    if p.name == name && p.rank == rank && p.color == color {
        return Ok(());
    }
    repo::update_priority(&mut tx, ctx.tenant(), p.id, &name, rank, &color)
        .await
        .map_err(priority_name_taken)?;
    for (action, before, after) in [
        ("rename", p.name.clone(), name.clone()),
        ("change rank", p.rank.to_string(), rank.to_string()),
        ("recolour", p.color.clone(), color.clone()),
    ] {
        if before != after {
            ctx.audit(
                &mut tx,
                entry("priorities", action, &p.name, Some(before), Some(after)),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub async fn retire_priority(ctx: Ctx<'_>, id: &str, retire: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, p) = load_priority(&mut tx, ctx, id).await?;
    if p.retired == retire {
        return Ok(());
    }
    if retire {
        if p.is_default {
            return Err(refused(format!(
                "“{}” is the default priority. Make another priority the default first.",
                p.name
            )));
        }
        if !all.iter().any(|o| o.id != p.id && !o.retired) {
            return Err(refused(format!(
                "“{}” is the last active priority; one always remains.",
                p.name
            )));
        }
    }
    repo::set_retired(&mut tx, ctx.tenant(), List::Priorities, p.id.0, retire).await?;
    ctx.audit(
        &mut tx,
        entry(
            "priorities",
            if retire { "retire" } else { "unretire" },
            &p.name,
            None,
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn default_priority(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, p) = load_priority(&mut tx, ctx, id).await?;
    if p.is_default {
        return Ok(());
    }
    if p.retired {
        return Err(refused(format!(
            "“{}” is retired; bring it back before making it the default.",
            p.name
        )));
    }
    let before = all.iter().find(|o| o.is_default).map(|o| o.name.clone());
    repo::set_default_priority(&mut tx, ctx.tenant(), p.id).await?;
    ctx.audit(
        &mut tx,
        entry(
            "priorities",
            "set default",
            "Default priority",
            before,
            Some(p.name.clone()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_priority(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, p) = load_priority(&mut tx, ctx, id).await?;
    if p.is_default {
        return Err(refused(format!(
            "“{}” is the default priority. Make another priority the default first.",
            p.name
        )));
    }
    if repo::in_use(&mut tx, ctx.tenant(), List::Priorities, p.id.0).await? {
        return Err(refused(format!(
            "“{}” is in use by {} ticket(s) and cannot be deleted. Retire it instead: it stays on those tickets but is no longer offered.",
            p.name, p.tickets
        )));
    }
    if !all.iter().any(|o| o.id != p.id && !o.retired) {
        return Err(refused(format!(
            "“{}” is the last active priority; one always remains.",
            p.name
        )));
    }
    repo::delete(&mut tx, ctx.tenant(), List::Priorities, p.id.0)
        .await
        .map_err(in_use_now(&p.name))?;
    ctx.audit(
        &mut tx,
        entry("priorities", "delete", &p.name, Some(p.name.clone()), None),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
