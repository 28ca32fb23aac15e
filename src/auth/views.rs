use crate::web::chrome::Chrome;
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    /// Where the form posts, with the page to return to after signing in.
    pub action: String,
    /// The email as typed, so a failed attempt does not clear it.
    pub email: String,
    pub form_error: Option<String>,
    /// The "Forgot your password?" page.
    pub forgot_href: String,
    /// "No account? Submit a request": set when the tenant takes guest requests.
    pub submit_href: Option<String>,
}
