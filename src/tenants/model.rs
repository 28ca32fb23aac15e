use crate::db::TenantId;

/// A tenant as the web layer sees it on every request.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub is_demo: bool,
    /// Shown before ticket numbers: `TKT-` in `TKT-000013`.
    pub ticket_prefix: String,
    /// Bumped with every change to what `tickets::catalog` keeps.
    pub catalog_version: i64,
}

impl Tenant {
    /// The path prefix of every page of this tenant, e.g. `/acme`.
    pub fn base_path(&self) -> String {
        format!("/{}", self.slug)
    }
}

/// Top-level paths that belong to Tessera itself, never to a tenant.
const RESERVED: &[&str] = &[
    "static", "healthz", "readyz", "metrics", "api", "admin", "assets", "login", "logout",
];

/// A validated tenant slug: 1–40 characters of `a-z`, `0-9` and inner hyphens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantSlug(String);

impl TenantSlug {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let slug = raw.trim();
        let valid_chars = slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if slug.is_empty() || slug.len() > 40 {
            return Err("a tenant slug has 1 to 40 characters".to_owned());
        }
        if !valid_chars || slug.starts_with('-') || slug.ends_with('-') {
            return Err(
                "a tenant slug uses lowercase letters, digits and inner hyphens only".to_owned(),
            );
        }
        if RESERVED.contains(&slug) {
            return Err(format!("`{slug}` is reserved and cannot be a tenant slug"));
        }
        Ok(Self(slug.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::TenantSlug;

    #[test]
    fn slugs_are_lowercase_words_with_inner_hyphens() {
        for good in ["demo", "acme-support", "a", "team42"] {
            assert!(TenantSlug::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Demo",
            "-acme",
            "acme-",
            "ac me",
            "static",
            "healthz",
            &"x".repeat(41),
        ] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad}");
        }
    }
}
