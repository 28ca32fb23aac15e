//! Page structs for the mail admin pages.

use crate::{admin::views::NavLink, web::chrome::Chrome};
use askama::Template;
use askama_web::WebTemplate;

/// One outbox row as the page shows it.
pub struct OutboxRowView {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub template: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: String,
    pub created: String,
    pub created_iso: String,
    /// When it was sent, or when the next attempt is due (pending), or "—".
    pub delivery: String,
    pub failed: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/outbox.html")]
pub struct OutboxPage {
    pub chrome: Chrome,
    pub nav: Vec<NavLink>,
    pub base: String,
    pub rows: Vec<OutboxRowView>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
    pub problem: Option<String>,
}

/// One inbound message as the page shows it.
pub struct InboundRowView {
    pub received: String,
    pub received_iso: String,
    pub from: String,
    pub subject: String,
    pub decision: String,
    pub reason: String,
    /// The ticket it went to: (display number, link).
    pub ticket: Option<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/inbound.html")]
pub struct InboundPage {
    pub chrome: Chrome,
    pub nav: Vec<NavLink>,
    pub base: String,
    pub endpoint: String,
    pub has_secret: bool,
    /// A secret just made: shown this once.
    pub new_secret: Option<String>,
    pub accept_email_tickets: bool,
    pub reply_to: Option<String>,
    pub rows: Vec<InboundRowView>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/chat.html")]
pub struct ChatPage {
    pub chrome: Chrome,
    pub nav: Vec<NavLink>,
    pub action: String,
    pub url: String,
    pub on_new_ticket: bool,
    pub on_reopened: bool,
    pub error: Option<String>,
}
