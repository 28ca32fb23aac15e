//! The page chrome every full page renders: tenant, user, navigation, CSRF
//! token, notices, demo banner. Built once per request by its extractor, so
//! templates never query or compute anything.

use super::{csrf::CsrfToken, tenant::SignedIn};
use crate::{auth::model::Role, tenants::Tenant};
use axum::{extract::FromRequestParts, http::request::Parts};
use std::convert::Infallible;

pub struct Chrome {
    pub tenant_name: String,
    pub home_href: String,
    pub logout_href: String,
    pub csrf_token: String,
    pub user: Option<ChromeUser>,
    pub nav: Vec<NavItem>,
    pub notice: Option<Notice>,
    pub demo: bool,
    /// Staff get the keyboard shortcuts (`static/shortcuts.js` and its help dialog).
    pub shortcuts: bool,
}

pub struct ChromeUser {
    pub name: String,
    pub role_label: &'static str,
}

pub struct NavItem {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

pub struct Notice {
    /// `info`, `success` or `error`: a CSS modifier; the text always says it too.
    pub kind: &'static str,
    pub text: String,
}

impl Notice {
    pub fn success(text: impl Into<String>) -> Self {
        Notice {
            kind: "success",
            text: text.into(),
        }
    }

    /// Notices travel as a fixed code in the `notice` query parameter after a
    /// redirect (no session write needed); unknown codes show nothing.
    fn from_code(code: &str) -> Option<Self> {
        let (kind, text) = match code {
            "signed_out" => ("info", "You have signed out."),
            "signed_in" => ("success", "You are signed in."),
            "saved" => ("success", "Your changes are saved."),
            "reply_sent" => ("success", "Your reply was added."),
            "note_added" => ("success", "Your internal note was added."),
            "reply_deleted" => ("info", "The reply was deleted."),
            "reopened" => ("success", "The ticket is open again."),
            "admin_added" => ("success", "Added."),
            "admin_deleted" => ("info", "Deleted."),
            "admin_user_created" => ("success", "The user was created."),
            "admin_password_set" => ("success", "The password was set."),
            "admin_invited" => (
                "success",
                "The user was created and an invitation email was sent.",
            ),
            "admin_reset_sent" => ("success", "A password reset link was emailed to the user."),
            "reset_requested" => (
                "info",
                "If an account exists for that address, we sent a link to choose a new password. It works once, for 1 hour.",
            ),
            "password_set" => ("success", "Your password is set. Sign in with it."),
            "guest_links_sent" => (
                "info",
                "If that address has open requests here, we emailed it a new link to each.",
            ),
            "guest_links_revoked" => (
                "success",
                "The guest access links of this ticket no longer work.",
            ),
            _ => return None,
        };
        Some(Notice {
            kind,
            text: text.to_owned(),
        })
    }
}

/// The main navigation for a role: customers follow their own requests, staff
/// work the queue, admins also shape the tenant.
fn nav_for(role: Role, base: &str, current_path: &str) -> Vec<NavItem> {
    let mut items = vec![("Home", format!("{base}/"))];
    match role {
        Role::Customer => {
            items.push(("My tickets", format!("{base}/tickets")));
            items.push(("New ticket", format!("{base}/tickets/new")));
        }
        Role::Agent | Role::Admin => {
            items.push(("Queue", format!("{base}/tickets")));
            items.push(("New ticket", format!("{base}/tickets/new")));
            if role == Role::Admin {
                items.push(("Settings", format!("{base}/admin")));
            }
        }
    }
    // The current item is the one whose address is the longest prefix of the
    // page's: a ticket page belongs to the queue, an admin sub-page to Settings.
    let matches = |href: &str| {
        current_path == href
            || (href != format!("{base}/") && current_path.starts_with(&format!("{href}/")))
            || (href == format!("{base}/") && current_path == base)
    };
    let current = items
        .iter()
        .filter(|(_, href)| matches(href))
        .max_by_key(|(_, href)| href.len())
        .map(|(_, href)| href.clone());
    items
        .into_iter()
        .map(|(label, href)| NavItem {
            current: Some(&href) == current.as_ref(),
            label,
            href,
        })
        .collect()
}

impl Chrome {
    /// Chrome for pages rendered outside a handler (error pages): tenant only.
    pub fn minimal(tenant: Option<&Tenant>) -> Self {
        Self {
            tenant_name: tenant.map_or_else(|| "Tessera".to_owned(), |t| t.name.clone()),
            home_href: tenant.map_or_else(|| "/".to_owned(), |t| format!("{}/", t.base_path())),
            logout_href: String::new(),
            csrf_token: String::new(),
            user: None,
            nav: Vec::new(),
            notice: None,
            demo: tenant.is_some_and(|t| t.is_demo),
            shortcuts: false,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Chrome {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let tenant = parts.extensions.get::<Tenant>();
        let mut chrome = Chrome::minimal(tenant);
        if let Some(CsrfToken(token)) = parts.extensions.get::<CsrfToken>() {
            chrome.csrf_token = token.clone();
        }
        chrome.notice = parts.uri.query().and_then(|query| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(query)
                .ok()?
                .into_iter()
                .find(|(key, _)| key == "notice")
                .and_then(|(_, code)| Notice::from_code(&code))
        });
        if let (Some(tenant), Some(SignedIn(user))) = (tenant, parts.extensions.get::<SignedIn>()) {
            let base = tenant.base_path();
            chrome.logout_href = format!("{base}/logout");
            chrome.nav = nav_for(user.role, &base, parts.uri.path());
            chrome.shortcuts = user.role.is_staff();
            chrome.user = Some(ChromeUser {
                name: user.name.clone(),
                role_label: user.role.label(),
            });
        }
        Ok(chrome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_nav_item_is_the_longest_prefix_of_the_page() {
        let current = |path: &str| {
            nav_for(Role::Admin, "/acme", path)
                .into_iter()
                .filter(|item| item.current)
                .map(|item| item.label)
                .collect::<Vec<_>>()
        };
        assert_eq!(current("/acme/"), ["Home"]);
        assert_eq!(current("/acme"), ["Home"]);
        assert_eq!(current("/acme/tickets"), ["Queue"]);
        assert_eq!(current("/acme/tickets/12"), ["Queue"]);
        assert_eq!(current("/acme/tickets/new"), ["New ticket"]);
        assert_eq!(current("/acme/admin/statuses"), ["Settings"]);
        assert!(current("/acme/login").is_empty());
    }
}
