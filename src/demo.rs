//! Demo data for `tessera serve --demo`: tenant `demo` with one account per role.
//! Safe to run on every start: what exists is left alone.

use crate::{
    auth::{
        model::{NewUser, Role},
        service::{CreateUserError, create_user},
    },
    db::Db,
    tenants::{self, Tenant},
};

pub const TENANT_SLUG: &str = "demo";
pub const PASSWORD: &str = "tessera-demo";

/// The demo accounts: email, display name, role.
pub const ACCOUNTS: [(&str, &str, Role); 3] = [
    ("admin@demo.test", "Ada Admin", Role::Admin),
    ("agent@demo.test", "Alex Agent", Role::Agent),
    ("customer@demo.test", "Casey Customer", Role::Customer),
];

pub async fn ensure(db: &Db) -> anyhow::Result<Tenant> {
    let account = |(email, name, role): (&str, &str, Role)| {
        NewUser::new(email, Some(name), role, Some(PASSWORD.to_owned())).map_err(anyhow::Error::msg)
    };
    let tenant = match tenants::repo::find_by_slug(db.pool(), TENANT_SLUG).await? {
        Some(tenant) => tenant,
        None => {
            tenants::service::create_tenant(
                db,
                TENANT_SLUG,
                "Demo Support",
                account(ACCOUNTS[0])?,
                true,
            )
            .await?
        }
    };
    for entry in ACCOUNTS {
        match create_user(db, tenant.id, account(entry)?).await {
            Ok(_) | Err(CreateUserError::EmailTaken(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(tenant)
}

/// The banner `serve --demo` prints.
pub fn banner(base_url: &str) -> String {
    let mut text = format!(
        "\n=== demo data ===\nSign in at {base_url}/{TENANT_SLUG}/login with password `{PASSWORD}` as:\n"
    );
    for (email, _, role) in ACCOUNTS {
        text.push_str(&format!(
            "  {email:<22} ({})\n",
            role.label().to_lowercase()
        ));
    }
    text
}
