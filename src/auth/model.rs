use crate::db::{TenantId, UserId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type, Serialize, Deserialize)]
#[sqlx(type_name = "user_role", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Agent,
    Admin,
}

impl Role {
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Agent | Role::Admin)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Customer => "Customer",
            Role::Agent => "Agent",
            Role::Admin => "Admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "customer" => Some(Role::Customer),
            "agent" => Some(Role::Agent),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A signed-in (or signable-in) user of one tenant.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct User {
    pub tenant_id: TenantId,
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The user's own timezone (IANA name); `None` follows the helpdesk's default.
    pub timezone: Option<String>,
    pub active: bool,
}

/// A user to be created, already validated by [`NewUser::new`].
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: Option<String>,
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;

impl NewUser {
    /// Validates the fields; the name defaults to the part of the email before `@`.
    pub fn new(
        email: &str,
        name: Option<&str>,
        role: Role,
        password: Option<String>,
    ) -> Result<Self, String> {
        let email = normalize_email(email)?;
        let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => name.to_owned(),
            None => email.split('@').next().unwrap_or(&email).to_owned(),
        };
        if name.chars().count() > 120 || name.chars().any(char::is_control) {
            return Err("a name has at most 120 characters and no control characters".to_owned());
        }
        if let Some(password) = &password {
            check_password_strength(password)?;
        }
        Ok(Self {
            email,
            name,
            role,
            password,
        })
    }
}

/// Trims an email and checks it has the shape `local@domain`. Case is kept as
/// given; uniqueness and look-ups ignore it.
pub fn normalize_email(raw: &str) -> Result<String, String> {
    let email = raw.trim();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@')
                && !domain.starts_with('.') && !domain.ends_with('.'));
    if valid {
        Ok(email.to_owned())
    } else {
        Err(format!("`{email}` is not a valid email address"))
    }
}

pub fn check_password_strength(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!(
            "a password has at most {MAX_PASSWORD_CHARS} characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_one_at_sign_between_non_empty_parts() {
        assert_eq!(
            normalize_email("  Ann@Example.test ").as_deref(),
            Ok("Ann@Example.test")
        );
        for bad in [
            "",
            "ann",
            "@example.test",
            "ann@",
            "a b@example.test",
            "a@b@c",
            "ann@.test",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_have_a_minimum_length() {
        assert!(check_password_strength("short").is_err());
        assert!(check_password_strength("tessera-demo").is_ok());
    }

    #[test]
    fn a_missing_name_comes_from_the_email() {
        let user = NewUser::new("ann@example.test", None, Role::Agent, None);
        assert_eq!(user.map(|u| u.name).as_deref(), Ok("ann"));
    }
}
