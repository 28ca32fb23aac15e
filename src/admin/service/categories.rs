//! The category tree (up to three levels): add, rename, reorder, retire, delete.

use super::*;

const CATEGORY_NAME_MAX: usize = 80;
pub const CATEGORY_MAX_DEPTH: i16 = 3;

fn category_name_taken(e: sqlx::Error) -> AdminError {
    if name_taken(&e, &["categories_sibling_name_key"]) {
        invalid(
            "name",
            "A category with this name exists at this place already.",
        )
    } else {
        e.into()
    }
}

/// "Technical › Access › Password reset".
pub fn category_path(all: &[repo::CategoryRow], id: CategoryId) -> String {
    let mut names = Vec::new();
    let mut next = all.iter().find(|c| c.id == id);
    while let Some(c) = next {
        names.push(c.name.as_str());
        if names.len() > CATEGORY_MAX_DEPTH as usize {
            break;
        }
        next = c
            .parent_id
            .and_then(|parent| all.iter().find(|p| p.id == parent));
    }
    names.reverse();
    names.join(" › ")
}

pub async fn add_category(ctx: Ctx<'_>, parent: &str, name: &str) -> AdminResult<()> {
    let name = check_name(name, CATEGORY_NAME_MAX).map_err(|e| invalid("name", e));
    let mut tx = ctx.begin().await?;
    let all = repo::categories(&mut tx, ctx.tenant()).await?;
    let parent = match parent.trim() {
        "" => None,
        raw => {
            let found = Uuid::try_parse(raw)
                .ok()
                .and_then(|id| all.iter().find(|c| c.id.0 == id));
            match found {
                Some(p) if p.depth < CATEGORY_MAX_DEPTH => Some((p.id, p.depth)),
                Some(_) => {
                    return Err(invalid(
                        "parent",
                        "Categories go three levels deep at most: choose a parent higher up.",
                    ));
                }
                None => return Err(invalid("parent", "Choose a parent from the list.")),
            }
        }
    };
    let name = name?;
    let depth = parent.map_or(1, |(_, depth)| depth + 1);
    let parent = parent.map(|(id, _)| id);
    let id = repo::insert_category(&mut tx, ctx.tenant(), parent, depth, &name)
        .await
        .map_err(category_name_taken)?;
    let mut all = all;
    all.push(repo::CategoryRow {
        id,
        parent_id: parent,
        name: name.clone(),
        depth,
        retired: false,
        tickets: 0,
    });
    let path = category_path(&all, id);
    ctx.audit(
        &mut tx,
        entry("categories", "add", &path, None, Some(path.clone())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn load_category(
    tx: &mut TenantTx,
    ctx: Ctx<'_>,
    id: &str,
) -> AdminResult<(Vec<repo::CategoryRow>, repo::CategoryRow)> {
    let id = CategoryId(parse_id(id)?);
    let all = repo::categories(tx, ctx.tenant()).await?;
    let found = all
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok((all, found))
}

pub async fn rename_category(ctx: Ctx<'_>, id: &str, name: &str) -> AdminResult<()> {
    let name = check_name(name, CATEGORY_NAME_MAX).map_err(|e| invalid("name", e));
    let mut tx = ctx.begin().await?;
    let (all, c) = load_category(&mut tx, ctx, id).await?;
    let name = name?;
    if c.name == name {
        return Ok(());
    }
    repo::rename_category(&mut tx, ctx.tenant(), c.id, &name)
        .await
        .map_err(category_name_taken)?;
    let path = category_path(&all, c.id);
    ctx.audit(
        &mut tx,
        entry(
            "categories",
            "rename",
            &path,
            Some(c.name.clone()),
            Some(name),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn move_category(ctx: Ctx<'_>, id: &str, up: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, c) = load_category(&mut tx, ctx, id).await?;
    let siblings: Vec<Uuid> = all
        .iter()
        .filter(|o| o.parent_id == c.parent_id)
        .map(|o| o.id.0)
        .collect();
    let Some(order) = moved(&siblings, c.id.0, up) else {
        return Ok(());
    };
    repo::set_positions(&mut tx, ctx.tenant(), List::Categories, &order).await?;
    let path = category_path(&all, c.id);
    ctx.audit(
        &mut tx,
        entry(
            "categories",
            if up { "move up" } else { "move down" },
            &path,
            None,
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn retire_category(ctx: Ctx<'_>, id: &str, retire: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, c) = load_category(&mut tx, ctx, id).await?;
    if c.retired == retire {
        return Ok(());
    }
    repo::set_retired(&mut tx, ctx.tenant(), List::Categories, c.id.0, retire).await?;
    let path = category_path(&all, c.id);
    ctx.audit(
        &mut tx,
        entry(
            "categories",
            if retire { "retire" } else { "unretire" },
            &path,
            None,
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_category(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let (all, c) = load_category(&mut tx, ctx, id).await?;
    let path = category_path(&all, c.id);
    let children = all.iter().filter(|o| o.parent_id == Some(c.id)).count();
    if children > 0 {
        return Err(refused(format!(
            "“{path}” has {children} subcategories. Delete or retire those first, or retire this category instead."
        )));
    }
    if repo::in_use(&mut tx, ctx.tenant(), List::Categories, c.id.0).await? {
        return Err(refused(format!(
            "“{path}” is in use by {} ticket(s) and cannot be deleted. Retire it instead: it stays on those tickets but is no longer offered.",
            c.tickets
        )));
    }
    repo::delete(&mut tx, ctx.tenant(), List::Categories, c.id.0)
        .await
        .map_err(in_use_now(&path))?;
    ctx.audit(
        &mut tx,
        entry("categories", "delete", &path, Some(path.clone()), None),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
