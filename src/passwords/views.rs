use crate::web::chrome::Chrome;
use askama::Template;
use askama_web::WebTemplate;

/// "Forgot your password?": the address to send a link to.
#[derive(Template, WebTemplate)]
#[template(path = "passwords/forgot.html")]
pub struct ForgotPage {
    pub chrome: Chrome,
    pub action: String,
    pub login_href: String,
    pub email: String,
    pub error: Option<String>,
}

/// The set-password form behind a valid link.
#[derive(Template, WebTemplate)]
#[template(path = "passwords/reset.html")]
pub struct ResetPage {
    pub chrome: Chrome,
    pub action: String,
    /// The link's token, carried on in a hidden field.
    pub token: String,
    pub email: String,
    /// An invitation (first password) rather than a reset.
    pub invite: bool,
    pub min_chars: usize,
    pub error: Option<String>,
}

/// An unknown, used or expired link.
#[derive(Template, WebTemplate)]
#[template(path = "passwords/invalid.html")]
pub struct InvalidLinkPage {
    pub chrome: Chrome,
    pub forgot_href: String,
    pub login_href: String,
}
