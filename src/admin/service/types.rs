//! Ticket types: add, rename, reorder, retire, default, delete.

use super::*;

const TYPE_NAME_MAX: usize = 40;

fn type_name_taken(e: sqlx::Error) -> AdminError {
    if name_taken(&e, &["ticket_types_tenant_name_key"]) {
        invalid("name", "A type with this name exists already.")
    } else {
        e.into()
    }
}

pub async fn add_type(ctx: Ctx<'_>, name: &str) -> AdminResult<()> {
    let name = check_name(name, TYPE_NAME_MAX).map_err(|e| invalid("name", e))?;
    let mut tx = ctx.begin().await?;
    repo::types(&mut tx, ctx.tenant()).await?;
    repo::insert_type(&mut tx, ctx.tenant(), &name)
        .await
        .map_err(type_name_taken)?;
    ctx.audit(
        &mut tx,
        entry("types", "add", &name, None, Some(name.clone())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn load_type(
    tx: &mut TenantTx,
    ctx: Ctx<'_>,
    id: &str,
) -> AdminResult<(Vec<repo::TypeRow>, repo::TypeRow)> {
    let id = TypeId(parse_id(id)?);
    let all = repo::types(tx, ctx.tenant()).await?;
    let found = all
        .iter()
        .find(|t| t.id == id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok((all, found))
}

pub async fn rename_type(ctx: Ctx<'_>, id: &str, name: &str) -> AdminResult<()> {
    let name = check_name(name, TYPE_NAME_MAX).map_err(|e| invalid("name", e));
    let mut tx = ctx.begin().await?;
    let (_, t) = load_type(&mut tx, ctx, id).await?;
    let name = name?;
    if t.name == name {
        return Ok(());
    }
    repo::rename_type(&mut tx, ctx.tenant(), t.id, &name)
        .await
        .map_err(type_name_taken)?;
    ctx.audit(
        &mut tx,
        entry("types", "rename", &t.name, Some(t.name.clone()), Some(name)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn move_type(ctx: Ctx<'_>, id: &str, up: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, t) = load_type(&mut tx, ctx, id).await?;
    let ids: Vec<Uuid> = all.iter().map(|t| t.id.0).collect();
    let Some(order) = moved(&ids, t.id.0, up) else {
        return Ok(());
    };
    repo::set_positions(&mut tx, ctx.tenant(), List::Types, &order).await?;
    ctx.audit(
        &mut tx,
        entry(
            "types",
            if up { "move up" } else { "move down" },
            &t.name,
            None,
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn retire_type(ctx: Ctx<'_>, id: &str, retire: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, t) = load_type(&mut tx, ctx, id).await?;
    if t.retired == retire {
        return Ok(());
    }
    if retire {
        if t.is_default {
            return Err(refused(format!(
                "“{}” is the default type. Make another type the default first.",
                t.name
            )));
        }
        if !all.iter().any(|o| o.id != t.id && !o.retired) {
            return Err(refused(format!(
                "“{}” is the last active type; one always remains.",
                t.name
            )));
        }
    }
    repo::set_retired(&mut tx, ctx.tenant(), List::Types, t.id.0, retire).await?;
    ctx.audit(
        &mut tx,
        entry(
            "types",
            if retire { "retire" } else { "unretire" },
            &t.name,
            None,
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn default_type(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, t) = load_type(&mut tx, ctx, id).await?;
    if t.is_default {
        return Ok(());
    }
    if t.retired {
        return Err(refused(format!(
            "“{}” is retired; bring it back before making it the default.",
            t.name
        )));
    }
    let before = all.iter().find(|o| o.is_default).map(|o| o.name.clone());
    repo::set_default_type(&mut tx, ctx.tenant(), t.id).await?;
    ctx.audit(
        &mut tx,
        entry(
            "types",
            "set default",
            "Default type",
            before,
            Some(t.name.clone()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_type(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, t) = load_type(&mut tx, ctx, id).await?;
    if t.is_default {
        return Err(refused(format!(
            "“{}” is the default type. Make another type the default first.",
            t.name
        )));
    }
    if repo::in_use(&mut tx, ctx.tenant(), List::Types, t.id.0).await? {
        return Err(refused(format!(
            "“{}” is in use by {} ticket(s) and cannot be deleted. Retire it instead: it stays on those tickets but is no longer offered.",
            t.name, t.tickets
        )));
    }
    if !all.iter().any(|o| o.id != t.id && !o.retired) {
        return Err(refused(format!(
            "“{}” is the last active type; one always remains.",
            t.name
        )));
    }
    repo::delete(&mut tx, ctx.tenant(), List::Types, t.id.0)
        .await
        .map_err(in_use_now(&t.name))?;
    ctx.audit(
        &mut tx,
        entry("types", "delete", &t.name, Some(t.name.clone()), None),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
