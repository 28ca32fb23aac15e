//! Users: create or invite, role changes, activation, passwords and reset links.

use super::*;

/// What the new-user form sent.
#[derive(Clone, Debug, Default)]
pub struct NewUserInput {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
    /// Email an invitation with a set-password link (when no password is given).
    pub invite: bool,
}

pub async fn create_user(ctx: Ctx<'_>, input: NewUserInput) -> AdminResult<()> {
    let invite = input.invite && input.password.is_empty();
    let mut errors = FieldErrors::new();
    let email = normalize_email(&input.email).map_err(|_| {
        errors.insert(
            "email",
            "Enter an email address like ann@example.com.".to_owned(),
        )
    });
    let name = input.name.trim();
    if name.chars().count() > 120 || name.chars().any(char::is_control) {
        errors.insert("name", "A name has at most 120 characters.".to_owned());
    }
    let role = Role::parse(&input.role)
        .ok_or_else(|| errors.insert("role", "Choose customer, agent or admin.".to_owned()));
    let password = if input.password.is_empty() {
        None
    } else {
        if let Err(e) = check_password_strength(&input.password) {
            errors.insert("password", format!("Too weak: {e}."));
        }
        Some(input.password.clone())
    };
    let (Ok(email), Ok(role), true) = (email, role, errors.is_empty()) else {
        return Err(AdminError::Invalid(errors));
    };
    let user = NewUser::new(&email, Some(name), role, password).map_err(|e| invalid("email", e))?;
    let mut tx = ctx.begin().await?;
    let created = match auth::repo::find_credentials(&mut tx, ctx.tenant(), &user.email).await? {
        Some((contact, None)) if contact.role == Role::Customer => {
            adopt_contact(&mut tx, ctx, &contact, user).await?
        }
        _ => auth::service::create_user_in(&mut tx, user)
            .await
            .map_err(|e| match e {
                auth::service::CreateUserError::EmailTaken(_) => {
                    invalid("email", "A user with this email exists already.")
                }
                auth::service::CreateUserError::Database(e) => e.into(),
                auth::service::CreateUserError::Internal(e) => e.into(),
            })?,
    };
    if invite {
        passwords::service::issue_in(
            &mut tx,
            ctx.clock.now(),
            &created,
            passwords::service::Purpose::Invite,
            Some(&ctx.admin.name),
        )
        .await?;
    }
    ctx.audit(
        &mut tx,
        entry(
            "users",
            if invite { "invite" } else { "create" },
            &created.email,
            None,
            Some(format!("{} ({})", created.name, created.role.label())),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A contact (a guest, or someone staff opened tickets for) becomes an account:
/// the same row, so the tickets they filed before are theirs when they sign in.
async fn adopt_contact(
    tx: &mut TenantTx,
    ctx: Ctx<'_>,
    contact: &User,
    account: NewUser,
) -> AdminResult<User> {
    let adopted = repo::adopt_contact(
        tx,
        ctx.tenant(),
        contact.id,
        &account.name,
        account.role,
        ctx.clock.now(),
    )
    .await?;
    if let Some(password) = account.password {
        let hash = auth::password::hash(password).await?;
        passwords::repo::set_password_hash(tx, ctx.tenant(), contact.id, &hash, ctx.clock.now())
            .await?;
    }
    Ok(adopted)
}

async fn load_user(tx: &mut TenantTx, ctx: Ctx<'_>, id: &str) -> AdminResult<repo::UserRow> {
    let id = UserId(parse_id(id)?);
    Ok(repo::find_user_for_update(tx, ctx.tenant(), id)
        .await?
        .ok_or(AppError::NotFound)?)
}

/// Refuses when `user` is the tenant's last active admin.
async fn ensure_not_last_admin(
    tx: &mut TenantTx,
    ctx: Ctx<'_>,
    user: &repo::UserRow,
    doing: &str,
) -> AdminResult<()> {
    if user.role != Role::Admin || !user.active {
        return Ok(());
    }
    let admins = repo::lock_active_admins(tx, ctx.tenant()).await?;
    if admins.iter().all(|id| *id == user.id) {
        return Err(refused(format!(
            "{} is the last active admin and cannot be {doing}. Make another user an admin first.",
            user.name
        )));
    }
    Ok(())
}

pub async fn change_role(ctx: Ctx<'_>, id: &str, role: &str) -> AdminResult<()> {
    let role = Role::parse(role);
    let mut tx = ctx.begin().await?;
    let user = load_user(&mut tx, ctx, id).await?;
    let role = role.ok_or_else(|| invalid("role", "Choose customer, agent or admin."))?;
    if user.role == role {
        return Ok(());
    }
    if role != Role::Admin {
        ensure_not_last_admin(&mut tx, ctx, &user, "demoted").await?;
    }
    let now = ctx.clock.now();
    repo::set_role(&mut tx, ctx.tenant(), user.id, role, now).await?;
    if !role.is_staff() {
        repo::remove_memberships(&mut tx, ctx.tenant(), user.id).await?;
    }
    ctx.audit(
        &mut tx,
        entry(
            "users",
            "change role",
            &user.email,
            Some(user.role.label().to_owned()),
            Some(role.label().to_owned()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_active(ctx: Ctx<'_>, id: &str, active: bool) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let user = load_user(&mut tx, ctx, id).await?;
    if user.active == active {
        return Ok(());
    }
    if !active {
        if user.id == ctx.admin.id {
            return Err(refused(
                "You cannot deactivate your own account. Ask another admin to do it.",
            ));
        }
        ensure_not_last_admin(&mut tx, ctx, &user, "deactivated").await?;
    }
    repo::set_active(&mut tx, ctx.tenant(), user.id, active, ctx.clock.now()).await?;
    ctx.audit(
        &mut tx,
        entry(
            "users",
            if active { "reactivate" } else { "deactivate" },
            &user.email,
            Some(if active { "inactive" } else { "active" }.to_owned()),
            Some(if active { "active" } else { "inactive" }.to_owned()),
        ),
    )
    .await?;
    tx.commit().await?;
    if !active {
        // Signed out everywhere at once: reactivating later revives no session.
        auth::session::end_sessions_of(ctx.db, user.id).await?;
    }
    Ok(())
}

pub async fn set_password(ctx: Ctx<'_>, id: &str, password: &str) -> AdminResult<()> {
    let id = parse_id(id)?;
    if let Err(e) = check_password_strength(password) {
        // Checked for existence first: an unknown id stays a 404.
        let mut tx = ctx.begin().await?;
        load_user(&mut tx, ctx, &id.to_string()).await?;
        return Err(invalid("password", format!("Too weak: {e}.")));
    }
    // Hashed before the transaction: no connection waits on argon2.
    let hash = auth::password::hash(password.to_owned()).await?;
    let mut tx = ctx.begin().await?;
    let user = load_user(&mut tx, ctx, &id.to_string()).await?;
    repo::set_password_hash(&mut tx, ctx.tenant(), user.id, &hash, ctx.clock.now()).await?;
    ctx.audit(
        &mut tx,
        entry(
            "users",
            "set password",
            &user.email,
            None,
            Some("(set by an admin)".to_owned()),
        ),
    )
    .await?;
    tx.commit().await?;
    // Whoever knew the old password is out. An admin setting their own
    // password here signs out everywhere too, this browser included.
    auth::session::end_sessions_of(ctx.db, user.id).await?;
    Ok(())
}

/// Emails `id` a password reset link (valid 1 hour); older unused reset links
/// stop working.
pub async fn send_reset_link(ctx: Ctx<'_>, id: &str) -> AdminResult<()> {
    let mut tx = ctx.begin().await?;
    let row = load_user(&mut tx, ctx, id).await?;
    if !row.active {
        return Err(refused(format!(
            "{} is deactivated and cannot sign in. Reactivate the account first.",
            row.name
        )));
    }
    let user = auth::repo::find_user(&mut tx, ctx.tenant(), row.id)
        .await?
        .ok_or(AppError::NotFound)?;
    passwords::service::issue_in(
        &mut tx,
        ctx.clock.now(),
        &user,
        passwords::service::Purpose::Reset,
        None,
    )
    .await?;
    ctx.audit(
        &mut tx,
        entry(
            "users",
            "send reset link",
            &user.email,
            None,
            Some("(link emailed, valid 1 hour)".to_owned()),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
