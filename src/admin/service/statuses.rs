//! Statuses: add, rename, recolour, reorder, retire, default, delete.

use super::*;

const STATUS_NAME_MAX: usize = 40;

fn status_category_label(category: StatusCategory) -> &'static str {
    match category {
        StatusCategory::New => "New",
        StatusCategory::Open => "Open",
        StatusCategory::Waiting => "Waiting on customer",
        StatusCategory::Resolved => "Resolved",
        StatusCategory::Closed => "Closed",
    }
}

pub async fn add_status(ctx: Ctx<'_>, name: &str, category: &str, color: &str) -> AdminResult<()> {
    let mut errors = FieldErrors::new();
    let name = check_name(name, STATUS_NAME_MAX).map_err(|e| errors.insert("name", e));
    let category = parse_category(category).ok_or_else(|| {
        errors.insert(
            "category",
            "Choose Open or Waiting on customer: only those categories take more statuses."
                .to_owned(),
        )
    });
    let color = check_color(color).map_err(|e| errors.insert("color", e));
    let (Ok(name), Ok(category), Ok(color)) = (name, category, color) else {
        return Err(AdminError::Invalid(errors));
    };
    let mut tx = ctx.begin().await?;
    let tenant = ctx.tenant();
    repo::statuses(&mut tx, tenant).await?;
    repo::insert_status(&mut tx, tenant, &name, category, &color)
        .await
        .map_err(|e| {
            if name_taken(&e, &["ticket_statuses_tenant_name_key"]) {
                invalid("name", "A status with this name exists already.")
            } else {
                e.into()
            }
        })?;
    ctx.audit(
        &mut tx,
        entry(
            "statuses",
            "add",
            &name,
            None,
            Some(format!(
                "{} ({}, {color})",
                name,
                status_category_label(category)
            )),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn load_status(
    tx: &mut TenantTx,
    ctx: Ctx<'_>,
    id: &str,
) -> AdminResult<(Vec<repo::StatusRow>, repo::StatusRow)> {
    let id = StatusId(parse_id(id)?);
    let all = repo::statuses(tx, ctx.tenant()).await?;
    let status = all
        .iter()
        .find(|s| s.id == id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok((all, status))
}

pub async fn update_status(ctx: Ctx<'_>, id: &str, name: &str, color: &str) -> AdminResult<()> {
    let mut errors = FieldErrors::new();
    let name = check_name(name, STATUS_NAME_MAX).map_err(|e| errors.insert("name", e));
    let color = check_color(color).map_err(|e| errors.insert("color", e));
    let mut tx = ctx.begin().await?;
    let (_, status) = load_status(&mut tx, ctx, id).await?;
    let (Ok(name), Ok(color)) = (name, color) else {
        return Err(AdminError::Invalid(errors));
    };
    if status.name == name && status.color == color {
        return Ok(());
    }
    repo::update_status(&mut tx, ctx.tenant(), status.id, &name, &color)
        .await
        .map_err(|e| {
            if name_taken(&e, &["ticket_statuses_tenant_name_key"]) {
                invalid("name", "A status with this name exists already.")
            } else {
                e.into()
            }
        })?;
    if status.name != name {
        ctx.audit(
            &mut tx,
            entry(
                "statuses",
                "rename",
                &status.name,
                Some(status.name.clone()),
                Some(name.clone()),
            ),
        )
        .await?;
    }
    if status.color != color {
        ctx.audit(
            &mut tx,
            entry(
                "statuses",
                "recolour",
                &name,
                Some(status.color.clone()),
                Some(color),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn move_status(ctx: Ctx<'_>, id: &str, up: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, status) = load_status(&mut tx, ctx, id).await?;
    let ids: Vec<Uuid> = all.iter().map(|s| s.id.0).collect();
    let Some(order) = moved(&ids, status.id.0, up) else {
        return Ok(());
    };
    repo::set_positions(&mut tx, ctx.tenant(), List::Statuses, &order).await?;
    let position = |ids: &[Uuid]| {
        ids.iter()
            .position(|x| *x == status.id.0)
            .map(|p| (p + 1).to_string())
    };
    ctx.audit(
        &mut tx,
        entry(
            "statuses",
            if up { "move up" } else { "move down" },
            &status.name,
            position(&ids),
            position(&order),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn retire_status(ctx: Ctx<'_>, id: &str, retire: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, status) = load_status(&mut tx, ctx, id).await?;
    if status.retired == retire {
        return Ok(());
    }
    if retire {
        if !category_is_intermediate(status.category) {
            return Err(refused(format!(
                "“{}” cannot be retired: the {} category always keeps its status. Rename it instead.",
                status.name,
                status_category_label(status.category)
            )));
        }
        if status.is_default {
            return Err(refused(format!(
                "“{}” is the default status of its category. Make another status the default first.",
                status.name
            )));
        }
        let others = all
            .iter()
            .filter(|s| s.category == status.category && !s.retired && s.id != status.id)
            .count();
        if others == 0 {
            return Err(refused(format!(
                "“{}” is the last active status of the {} category; a category always keeps one.",
                status.name,
                status_category_label(status.category)
            )));
        }
    }
    repo::set_retired(&mut tx, ctx.tenant(), List::Statuses, status.id.0, retire).await?;
    ctx.audit(
        &mut tx,
        entry(
            "statuses",
            if retire { "retire" } else { "unretire" },
            &status.name,
            Some(if retire { "active" } else { "retired" }.to_owned()),
            Some(if retire { "retired" } else { "active" }.to_owned()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn default_status(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, status) = load_status(&mut tx, ctx, id).await?;
    if status.is_default {
        return Ok(());
    }
    if status.retired {
        return Err(refused(format!(
            "“{}” is retired; bring it back before making it the default.",
            status.name
        )));
    }
    let before = all
        .iter()
        .find(|s| s.category == status.category && s.is_default)
        .map(|s| s.name.clone());
    repo::set_default_status(&mut tx, ctx.tenant(), status.id, status.category).await?;
    ctx.audit(
        &mut tx,
        entry(
            "statuses",
            "set default",
            status_category_label(status.category),
            before,
            Some(status.name.clone()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_status(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, status) = load_status(&mut tx, ctx, id).await?;
    if !category_is_intermediate(status.category) {
        return Err(refused(format!(
            "“{}” cannot be deleted: the {} category always keeps its status.",
            status.name,
            status_category_label(status.category)
        )));
    }
    if status.is_default {
        return Err(refused(format!(
            "“{}” is the default status of its category. Make another status the default first.",
            status.name
        )));
    }
    if repo::in_use(&mut tx, ctx.tenant(), List::Statuses, status.id.0).await? {
        return Err(refused(format!(
            "“{}” is in use by {} ticket(s) and cannot be deleted. Move those tickets to another status, or retire it instead: a retired status stays on old tickets but is no longer offered.",
            status.name, status.tickets
        )));
    }
    let others = all
        .iter()
        .filter(|s| s.category == status.category && !s.retired && s.id != status.id)
        .count();
    if others == 0 {
        return Err(refused(format!(
            "“{}” is the last active status of its category; a category always keeps one.",
            status.name
        )));
    }
    repo::delete(&mut tx, ctx.tenant(), List::Statuses, status.id.0)
        .await
        .map_err(in_use_now(&status.name))?;
    ctx.audit(
        &mut tx,
        entry(
            "statuses",
            "delete",
            &status.name,
            Some(status.name.clone()),
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
