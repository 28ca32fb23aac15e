use crate::web::chrome::Chrome;
use askama::Template;
use askama_web::WebTemplate;

/// One on/off preference as a checkbox.
pub struct Toggle {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/notifications.html")]
pub struct PreferencesPage {
    pub chrome: Chrome,
    pub action: String,
    pub toggles: Vec<Toggle>,
    pub timezone: TimezoneForm,
}

/// The timezone dates are shown in: the helpdesk's default or one of the user's choosing.
pub struct TimezoneForm {
    pub action: String,
    /// `(value, label, selected)`; the empty value follows the helpdesk's default.
    pub choices: Vec<(String, String, bool)>,
    pub error: Option<String>,
}

/// "Stop following TKT-000013?" behind an unsubscribe link, and the answer.
#[derive(Template, WebTemplate)]
#[template(path = "account/unsubscribe.html")]
pub struct UnsubscribePage {
    pub chrome: Chrome,
    pub action: String,
    pub token: String,
    pub number: String,
    pub subject: String,
    pub following: bool,
    /// After the POST: the user no longer follows the ticket.
    pub done: bool,
    pub preferences_href: String,
}
