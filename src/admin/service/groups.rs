//! Groups: create, rename, delete, members and category scope.

use super::*;

const GROUP_NAME_MAX: usize = 80;

fn group_name_taken(e: sqlx::Error) -> AdminError {
    if name_taken(&e, &["groups_tenant_name_key"]) {
        invalid("name", "A group with this name exists already.")
    } else {
        e.into()
    }
}

pub async fn create_group(ctx: Ctx<'_>, name: &str) -> AdminResult<()> {
    let name = check_name(name, GROUP_NAME_MAX).map_err(|e| invalid("name", e))?;
    let mut tx = ctx.begin().await?;
    repo::insert_group(&mut tx, ctx.tenant(), &name)
        .await
        .map_err(group_name_taken)?;
    ctx.audit(
        &mut tx,
        entry("groups", "create", &name, None, Some(name.clone())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn load_group(tx: &mut TenantTx, ctx: Ctx<'_>, id: &str) -> AdminResult<repo::GroupRow> {
    let id = GroupId(parse_id(id)?);
    Ok(repo::find_group_for_update(tx, ctx.tenant(), id)
        .await?
        .ok_or(AppError::NotFound)?)
}

pub async fn rename_group(ctx: Ctx<'_>, id: &str, name: &str) -> AdminResult<()> {
    let name = check_name(name, GROUP_NAME_MAX).map_err(|e| invalid("name", e));
    let mut tx = ctx.begin().await?;
    let group = load_group(&mut tx, ctx, id).await?;
    let name = name?;
    if group.name == name {
        return Ok(());
    }
    repo::rename_group(&mut tx, ctx.tenant(), group.id, &name)
        .await
        .map_err(group_name_taken)?;
    ctx.audit(
        &mut tx,
        entry(
            "groups",
            "rename",
            &group.name,
            Some(group.name.clone()),
            Some(name),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_group(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let group = load_group(&mut tx, ctx, id).await?;
    if group.tickets > 0 {
        return Err(refused(format!(
            "“{}” is assigned {} ticket(s) and cannot be deleted. Reassign those tickets first.",
            group.name, group.tickets
        )));
    }
    repo::delete_group(&mut tx, ctx.tenant(), group.id)
        .await
        .map_err(in_use_now(&group.name))?;
    ctx.audit(
        &mut tx,
        entry(
            "groups",
            "delete",
            &group.name,
            Some(group.name.clone()),
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn change_member(ctx: Ctx<'_>, id: &str, user: &str, add: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let group = load_group(&mut tx, ctx, id).await?;
    let Some(member) = Uuid::try_parse(user.trim()).ok() else {
        return Err(invalid("user", "Choose an agent or admin."));
    };
    let member = repo::find_user_for_update(&mut tx, ctx.tenant(), UserId(member))
        .await?
        .ok_or_else(|| invalid("user", "Choose an agent or admin."))?;
    let changed = if add {
        if !member.role.is_staff() || !member.active {
            return Err(invalid(
                "user",
                "Only active agents and admins can be group members.",
            ));
        }
        repo::add_member(&mut tx, ctx.tenant(), group.id, member.id).await?
    } else {
        repo::remove_member(&mut tx, ctx.tenant(), group.id, member.id).await?
    };
    if !changed {
        return Ok(());
    }
    ctx.audit(
        &mut tx,
        entry(
            "groups",
            if add { "add member" } else { "remove member" },
            &group.name,
            (!add).then(|| member.email.clone()),
            add.then(|| member.email.clone()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_scope(ctx: Ctx<'_>, id: &str, categories: Vec<String>) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let group = load_group(&mut tx, ctx, id).await?;
    let all = repo::categories(&mut tx, ctx.tenant()).await?;
    let mut chosen: Vec<CategoryId> = Vec::new();
    for raw in &categories {
        let found = Uuid::try_parse(raw.trim())
            .ok()
            .and_then(|id| all.iter().find(|c| c.id.0 == id));
        match found {
            Some(c) if !chosen.contains(&c.id) => chosen.push(c.id),
            Some(_) => {}
            None => return Err(invalid("categories", "Choose categories from the list.")),
        }
    }
    let before: Vec<CategoryId> = repo::group_categories(&mut tx, ctx.tenant())
        .await?
        .into_iter()
        .filter(|(g, _)| *g == group.id)
        .map(|(_, c)| c)
        .collect();
    let label = |ids: &[CategoryId]| {
        let mut names: Vec<String> = ids.iter().map(|id| category_path(&all, *id)).collect();
        names.sort();
        if names.is_empty() {
            "(all categories)".to_owned()
        } else {
            names.join(", ")
        }
    };
    let (before, after) = (label(&before), label(&chosen));
    if before == after {
        return Ok(());
    }
    repo::set_group_categories(&mut tx, ctx.tenant(), group.id, &chosen).await?;
    ctx.audit(
        &mut tx,
        entry(
            "groups",
            "change scope",
            &group.name,
            Some(before),
            Some(after),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets how the group hands out tickets that enter it unassigned.
pub async fn set_auto_assign(ctx: Ctx<'_>, id: &str, mode: &str) -> AdminResult<()> {
    use crate::tickets::assignment::{self, AutoAssign};
    let mode = AutoAssign::parse(mode.trim())
        .ok_or_else(|| invalid("auto_assign", "Choose one of the listed ways."))?;
    let mut tx = ctx.begin().await?;
    let group = load_group(&mut tx, ctx, id).await?;
    if group.auto_assign == mode.as_str() {
        return Ok(());
    }
    assignment::set_group_mode(&mut tx, group.id, mode).await?;
    ctx.audit(
        &mut tx,
        entry(
            "groups",
            "change auto-assignment",
            &group.name,
            Some(group.auto_assign.clone()),
            Some(mode.as_str().to_owned()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
