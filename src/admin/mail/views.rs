//! Page structs for the mail admin pages.

use crate::{
    admin::views::NavLink,
    web::chrome::Chrome,
};
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
