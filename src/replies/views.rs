use crate::web::chrome::Chrome;
use askama::Template;
use askama_web::WebTemplate;

pub struct RevisionView {
    pub change: String,
    pub by: String,
    pub when: String,
    pub body: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "replies/edit.html")]
pub struct EditReplyPage {
    pub chrome: Chrome,
    pub number: String,
    pub ticket_href: String,
    pub action: String,
    pub body: String,
    pub internal: bool,
    pub error: Option<String>,
    /// Staff see the earlier texts.
    pub revisions: Vec<RevisionView>,
}
