//! Page structs for the admin pages. Values are formatted here; templates only
//! place them. A page re-shown after a failed action carries an [`Overlay`]: what
//! was sent, to which form (`target`: `add` or a row's id), and the errors.

use super::service::FieldErrors;
use crate::web::{chrome::Chrome, form::Fields};
use askama::Template;
use askama_web::WebTemplate;

/// The submitted values and errors of the one form that failed.
#[derive(Debug, Default)]
pub struct Overlay {
    pub target: String,
    pub values: Fields,
    pub errors: FieldErrors,
    /// A refusal (something in use, the last admin, …), shown above the list.
    pub problem: Option<String>,
}

impl Overlay {
    pub fn invalid(target: impl Into<String>, values: Fields, errors: FieldErrors) -> Self {
        Self {
            target: target.into(),
            values,
            errors,
            problem: None,
        }
    }

    pub fn refused(message: String) -> Self {
        Self {
            problem: Some(message),
            ..Self::default()
        }
    }

    /// What the field of `target` shows: the sent value if that form failed.
    pub fn value(&self, target: &str, field: &str, current: impl Into<String>) -> String {
        if self.target == target && self.values.has(field) {
            self.values.get(field).to_owned()
        } else {
            current.into()
        }
    }

    pub fn error(&self, target: &str, field: &str) -> Option<String> {
        if self.target == target {
            self.errors.get(field).cloned()
        } else {
            None
        }
    }
}

/// One entry of the settings navigation.
pub struct NavLink {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
    pub text: &'static str,
}

pub const SECTIONS: [(&str, &str, &str); 13] = [
    (
        "General",
        "general",
        "Helpdesk name, ticket numbers, reopen window, guest submission, notifications, timezone.",
    ),
    (
        "Statuses",
        "statuses",
        "The lifecycle: add, rename, recolour, reorder and retire statuses; defaults per category.",
    ),
    (
        "Priorities",
        "priorities",
        "Names, colours and ranks (the list sorts by rank).",
    ),
    ("Types", "types", "Issue, Bug, Feature… and the default."),
    (
        "Categories",
        "categories",
        "The category tree, up to three levels.",
    ),
    (
        "Tags",
        "tags",
        "The tags on tickets: how often each is used; rename, merge and delete.",
    ),
    (
        "Users",
        "users",
        "Create users, change roles, deactivate and reactivate.",
    ),
    (
        "Groups",
        "groups",
        "Teams of agents, their members and their scope.",
    ),
    (
        "Guests",
        "guests",
        "The public submission form: what guests choose, and limits against abuse.",
    ),
    (
        "Outbox",
        "outbox",
        "Every email sent: status, attempts, errors; retry failed ones.",
    ),
    (
        "Inbound email",
        "inbound",
        "Replies by email: the secret for mail services, new tickets by email, every message received and what was decided.",
    ),
    (
        "Chat",
        "chat",
        "A Slack-compatible webhook announcing new and reopened tickets.",
    ),
    (
        "Audit log",
        "audit",
        "Every settings change: who, what, when.",
    ),
];

pub fn nav(base: &str, current: &str) -> Vec<NavLink> {
    SECTIONS
        .iter()
        .map(|(label, slug, text)| NavLink {
            label,
            href: format!("{base}/admin/{slug}"),
            current: *slug == current,
            text,
        })
        .collect()
}

/// A select option.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
            selected,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/overview.html")]
pub struct OverviewPage {
    pub chrome: Chrome,
    pub nav: Vec<NavLink>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/general.html")]
pub struct GeneralPage {
    pub chrome: Chrome,
    pub nav: Vec<NavLink>,
    pub action: String,
    pub name: String,
    pub ticket_prefix: String,
    pub reopen_window_days: String,
    pub customers_can_reopen: bool,
    pub guest_submission_enabled: bool,
    pub notification_email: String,
    pub default_timezone: String,
    pub timezones: &'static [&'static str],
    pub errors: FieldErrors,
    /// The attachment settings block (its own form).
    pub attachments: AttachmentSettingsView,
}

/// The attachment settings block of the general page.
pub struct AttachmentSettingsView {
    pub action: String,
    pub max_file_mb: String,
    /// The server's limit, the largest size the admin may choose.
    pub operator_max_mb: i32,
    pub allow_list: bool,
    /// (format name, checked), in menu order.
    pub formats: Vec<(&'static str, bool)>,
    pub errors: FieldErrors,
}

impl AttachmentSettingsView {
    pub fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

impl GeneralPage {
    pub fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

/// Suggestions for the timezone field; any IANA name PostgreSQL knows is accepted.
pub const TIMEZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Warsaw",
    "Europe/Helsinki",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
];

/// An inline text field of a row or the add form.
pub struct FieldView {
    /// The element id (unique on the page).
    pub id: String,
    pub value: String,
    pub error: Option<String>,
}

impl FieldView {
    pub fn new(overlay: &Overlay, target: &str, field: &str, current: impl Into<String>) -> Self {
        Self {
            id: format!("{field}-{target}"),
            value: overlay.value(target, field, current),
            error: overlay.error(target, field),
        }
    }
}

pub struct StatusRowView {
    pub id: String,
    pub label: String,
    pub name: FieldView,
    pub color: FieldView,
    pub category: &'static str,
    pub category_label: &'static str,
    pub is_default: bool,
    pub retired: bool,
    pub tickets: String,
    pub first: bool,
    pub last: bool,
    pub intermediate: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/statuses.html")]
pub struct StatusesPage {
    pub chrome: Chrome,
    pub nav: Vec<NavLink>,
    pub base: String,
    pub problem: Option<String>,
    pub rows: Vec<StatusRowView>,
    pub add_name: FieldView,
    pub add_color: FieldView,
    pub add_category: FieldView,
    pub category_choices: Vec<Choice>,
}

pub struct PriorityRowView {
    pub id: String,
    pub label: String,
    pub name: FieldView,
    pub rank: FieldView,
    pub color: FieldView,
    pub is_default: bool,
    pub retired: bool,
    pub tickets: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/priorities.html")]
pub struct PrioritiesPage {
    pub chrome: Chrome,
    pub nav: Vec<NavLink>,
    pub base: String,
    pub problem: Option<String>,
    pub rows: Vec<PriorityRowView>,
    pub add_name: FieldView,
    pub add_rank: FieldView,
    pub add_color: FieldView,
}

pub struct TypeRowView {
    pub id: String,
    pub label: String,
    pub name: FieldView,
    pub is_default: bool,
    pub retired: bool,
    pub tickets: String,
    pub first: bool,
    pub last: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/types.html")]
pub struct TypesPage {
    pub chrome: Chrome,
    pub nav: Vec<NavLink>,
    pub base: String,
    pub problem: Option<String>,
    pub rows: Vec<TypeRowView>,
    pub add_name: FieldView,
}

pub struct CategoryRowView {
    pub id: String,
    pub path: String,
    pub depth: i16,
    pub name: FieldView,
    pub retired: bool,
    pub tickets: String,
    pub first: bool,
    pub last: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/categories.html")]
pub struct CategoriesPage {
    pub chrome: Chrome,
    pub nav: Vec<NavLink>,
    pub base: String,
    pub problem: Option<String>,
    /// Depth first: every category followed by its children.
    pub rows: Vec<CategoryRowView>,
    pub add_name: FieldView,
    pub add_parent: FieldView,
    pub parent_choices: Vec<Choice>,
}

pub struct TagRowView {
    pub tag: String,
    /// The rename field (its element id is by row, as a tag may hold any character).
    pub name: FieldView,
    pub tickets: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/tags.html")]
pub struct TagsPage {
    pub chrome: Chrome,
    pub nav: Vec<NavLink>,
    pub base: String,
    pub problem: Option<String>,
    pub q: String,
    pub rows: Vec<TagRowView>,
    pub showing: String,
}

pub struct UserRowView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role_choices: Vec<Choice>,
    pub role_field: FieldView,
    pub password: FieldView,
    pub active: bool,
    pub has_password: bool,
    pub is_self: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub nav: Vec<NavLink>,
    pub base: String,
    pub problem: Option<String>,
    pub q: String,
    pub rows: Vec<UserRowView>,
    pub showing: String,
    pub add_email: FieldView,
    pub add_name: FieldView,
    pub add_role: FieldView,
    pub add_password: FieldView,
    /// "Send invitation" is ticked (always, but after a failed form without it).
    pub add_invite: bool,
    pub add_role_choices: Vec<Choice>,
}

pub struct MemberView {
    pub user_id: String,
    pub name: String,
    pub email: String,
}

pub struct ScopeChoice {
    pub id: String,
    pub value: String,
    pub label: String,
    pub checked: bool,
}

pub struct GroupView {
    pub id: String,
    pub label: String,
    pub name: FieldView,
    pub tickets: String,
    pub members: Vec<MemberView>,
    pub member_field: FieldView,
    pub candidates: Vec<Choice>,
    pub scope: Vec<ScopeChoice>,
    pub scope_error: Option<String>,
    pub scope_summary: String,
    /// Off, round-robin or least loaded.
    pub auto_assign: Vec<Choice>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/groups.html")]
pub struct GroupsPage {
    pub chrome: Chrome,
    pub nav: Vec<NavLink>,
    pub base: String,
    pub problem: Option<String>,
    pub groups: Vec<GroupView>,
    pub add_name: FieldView,
}

pub struct AuditRowView {
    pub when: String,
    pub when_iso: String,
    pub who: String,
    pub area: String,
    pub action: String,
    pub subject: String,
    pub before: String,
    pub after: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub nav: Vec<NavLink>,
    pub rows: Vec<AuditRowView>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/guests.html")]
pub struct GuestsPage {
    pub chrome: Chrome,
    pub nav: Vec<NavLink>,
    pub action: String,
    pub general_href: String,
    pub submit_href: String,
    /// Switched on the general page.
    pub enabled: bool,
    pub input: super::service::GuestSettingsInput,
    pub errors: FieldErrors,
}

impl GuestsPage {
    pub fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}
