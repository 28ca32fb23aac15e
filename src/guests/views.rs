//! Page structs of the guest pages.

use crate::{
    attachments::{AttachmentView, UploadField},
    markdown::SafeHtml,
    tickets::{
        service::FieldErrors,
        views::{CategoryLevelsPartial, Choice},
    },
    web::chrome::Chrome,
};
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "guests/submit.html")]
pub struct SubmitPage {
    pub chrome: Chrome,
    pub action: String,
    pub login_href: String,
    pub email: String,
    pub name: String,
    pub subject: String,
    pub description: String,
    /// Shown when the tenant lets guests choose.
    pub type_choices: Option<Vec<Choice>>,
    pub priority_choices: Option<Vec<Choice>>,
    pub categories: CategoryLevelsPartial,
    pub upload: UploadField,
    pub errors: FieldErrors,
    pub link_action: String,
    pub link_email: String,
    /// The hidden idempotency key: submitting twice files one request.
    pub idempotency_key: String,
}

impl SubmitPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "guests/submitted.html")]
pub struct SubmittedPage {
    pub chrome: Chrome,
    /// None when the honeypot caught a robot: the page says nothing it could use.
    pub number: Option<String>,
    pub submit_href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "guests/unavailable.html")]
pub struct UnavailablePage {
    pub chrome: Chrome,
    pub heading: &'static str,
    pub text: &'static str,
    pub submit_href: Option<String>,
}

pub struct GuestReplyView {
    pub id: String,
    pub author_name: String,
    pub author_is_staff: bool,
    pub body: SafeHtml,
    pub created: String,
    pub created_iso: String,
    pub attachments: Vec<AttachmentView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "guests/ticket.html")]
pub struct TicketPage {
    pub chrome: Chrome,
    pub number: String,
    pub subject: String,
    pub status_name: String,
    pub status_category: &'static str,
    pub created: String,
    pub requester_name: String,
    pub description: SafeHtml,
    pub attachments: Vec<AttachmentView>,
    pub resolution_notes: Option<SafeHtml>,
    pub replies: Vec<GuestReplyView>,
    pub following: bool,
    pub follow_action: String,
    pub reply_action: String,
    pub reply_body: String,
    pub reply_error: Option<String>,
    /// Why the ticket takes no replies, if it does not.
    pub refusal: Option<&'static str>,
    pub upload: UploadField,
}
