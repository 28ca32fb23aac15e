//! Page structs for the ticket pages, and the conversions that fill them. All
//! formatting happens here, so templates only place values.

use super::{
    catalog::Catalog,
    list::{ListRow, Sort},
    model::{Category, CategoryId, display_number},
    options::TicketOptions,
    service::FieldErrors,
};
use crate::{
    attachments::{AttachmentView, UploadField},
    db::UserId,
    markdown::SafeHtml,
    web::{chrome::Chrome, format},
};
use askama::Template;
use askama::filters::{Escaper, Html};
use askama_web::WebTemplate;
use std::{collections::HashMap, fmt, sync::Arc};

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

/// The active agents and admins as an assignee select's `<option>`s, written
/// once when the catalog is read (`Catalog::staff_options`): the queue page
/// has two such selects and the ticket page one, and writing 200 agents per
/// select option by option was a thousand writes and 200 escapes a select.
pub struct StaffOptions {
    /// `<option value="ID">NAME</option>` for each, in the order given.
    html: String,
    /// Where in `html` each option's opening tag ends (at its `>`), by value,
    /// so a page marks its chosen one without writing the others apart.
    tag_ends: HashMap<String, usize>,
}

impl StaffOptions {
    /// `staff` are `(id, name)` pairs in the order the select lists them.
    pub fn new<'a>(staff: impl IntoIterator<Item = (UserId, &'a str)>) -> Self {
        let mut html = String::new();
        let mut tag_ends = HashMap::new();
        for (id, name) in staff {
            let value = id.to_string();
            // A UUID's text needs no escaping; writing to a String cannot fail.
            html.push_str("<option value=\"");
            html.push_str(&value);
            html.push('"');
            tag_ends.insert(value, html.len());
            html.push('>');
            let _ = Html.write_escaped_str(&mut html, name);
            html.push_str("</option>");
        }
        Self { html, tag_ends }
    }

    /// Writes the options, the one whose value is `selected` (if any) marked.
    fn write(&self, f: &mut fmt::Formatter<'_>, selected: &str) -> fmt::Result {
        match self.tag_ends.get(selected) {
            Some(&at) => {
                f.write_str(&self.html[..at])?;
                f.write_str(" selected")?;
                f.write_str(&self.html[at..])
            }
            None => f.write_str(&self.html),
        }
    }
}

/// An assignee select's `<option>`s, written as HTML (templates print it
/// `|safe`): a few fixed choices ("Any", "Unassigned"…), then the catalog's
/// [`StaffOptions`].
pub struct AssigneeChoices {
    fixed: &'static [(&'static str, &'static str)],
    catalog: Arc<Catalog>,
    /// The value chosen: a staff member's id or a fixed choice's value.
    selected: String,
}

impl AssigneeChoices {
    /// `fixed` are `(value, label)` pairs, listed before the staff.
    pub fn new(
        catalog: &Arc<Catalog>,
        fixed: &'static [(&'static str, &'static str)],
        selected: impl Into<String>,
    ) -> Self {
        Self {
            fixed,
            catalog: catalog.clone(),
            selected: selected.into(),
        }
    }
}

impl fmt::Display for AssigneeChoices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (value, label) in self.fixed {
            f.write_str("<option value=\"")?;
            Html.write_escaped_str(&mut *f, value)?;
            f.write_str(if *value == self.selected {
                "\" selected>"
            } else {
                "\">"
            })?;
            Html.write_escaped_str(&mut *f, label)?;
            f.write_str("</option>")?;
        }
        self.catalog.staff_options.write(f, &self.selected)
    }
}

/// One row of a ticket list, formatted.
pub struct RowView {
    /// The plain number, for the bulk checkboxes.
    pub plain_number: i64,
    pub number: String,
    pub href: String,
    pub subject: String,
    pub type_name: String,
    pub status_name: String,
    pub status_category: &'static str,
    pub priority_name: String,
    pub requester_name: String,
    pub assignee_name: String,
    pub created: String,
    pub last_reply: String,
    pub reopened: bool,
    pub current: bool,
}

impl RowView {
    pub fn new(row: &ListRow, base: &str, prefix: &str, current: Option<i64>) -> Self {
        Self {
            plain_number: row.number,
            number: display_number(prefix, row.number),
            href: format!("{base}/tickets/{}", row.number),
            subject: row.subject.clone(),
            type_name: row.type_name.clone(),
            status_name: row.status_name.clone(),
            status_category: row.status_category.as_str(),
            priority_name: row.priority_name.clone(),
            requester_name: row.requester_name.clone(),
            assignee_name: row
                .assignee_name
                .clone()
                .unwrap_or_else(|| "Unassigned".to_owned()),
            created: format::datetime(row.created_at),
            last_reply: match (row.last_reply_at, &row.last_reply_by_name) {
                (Some(at), Some(by)) => format!("{} by {by}", format::datetime(at)),
                (Some(at), None) => format::datetime(at),
                _ => "No replies".to_owned(),
            },
            reopened: row.reopened,
            current: current == Some(row.number),
        }
    }
}

/// A clickable status count.
pub struct StatusBadge {
    pub name: String,
    pub count: String,
    pub category: &'static str,
    pub href: String,
    pub current: bool,
}

/// The condensed list beside a ticket or form on wide screens.
pub struct SideList {
    pub rows: Vec<RowView>,
    pub showing: String,
    pub list_href: String,
}

/// Where a page's [`SideList`] comes from: it is fetched when it comes into
/// view (`tickets/side`), so the page itself does not read a list and its
/// count, and narrow screens, which hide it, never ask for it.
pub struct SideSlot {
    pub href: String,
    pub list_href: String,
}

impl SideSlot {
    /// The slot of the list beside ticket `current` (or beside a form).
    pub fn new(base: &str, current: Option<i64>) -> Self {
        Self {
            href: match current {
                Some(number) => format!("{base}/tickets/side?current={number}"),
                None => format!("{base}/tickets/side"),
            },
            list_href: format!("{base}/tickets"),
        }
    }
}

/// `GET tickets/side`: the list beside a ticket or form, alone.
#[derive(Template, WebTemplate)]
#[template(path = "tickets/side.html")]
pub struct SidePartial {
    pub side: SideList,
}

/// The list's optional columns; number and subject always show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shown {
    pub type_name: bool,
    pub status: bool,
    pub priority: bool,
    pub requester: bool,
    pub assignee: bool,
    pub created: bool,
    pub last_reply: bool,
}

/// A column's checkbox in the filter form.
pub struct ColumnChoice {
    pub key: &'static str,
    pub label: &'static str,
    pub shown: bool,
}

impl Shown {
    const KEYS: [(&'static str, &'static str); 7] = [
        ("type", "Type"),
        ("status", "Status"),
        ("priority", "Priority"),
        ("requester", "Created By"),
        ("assignee", "Assignee"),
        ("created", "Created At"),
        ("last_reply", "Last Reply"),
    ];

    /// From the query's `col` values when the form said which (`cols=1`);
    /// else every column. Customers have no assignee column.
    pub fn from_query(pairs: &[(String, String)], staff: bool) -> Self {
        let chosen = pairs.iter().any(|(k, v)| k == "cols" && v == "1");
        let on = |key: &str| !chosen || pairs.iter().any(|(k, v)| k == "col" && v == key);
        Self {
            type_name: on("type"),
            status: on("status"),
            priority: on("priority"),
            requester: on("requester"),
            assignee: staff && on("assignee"),
            created: on("created"),
            last_reply: on("last_reply"),
        }
    }

    pub fn choices(self, staff: bool) -> Vec<ColumnChoice> {
        let flags = [
            self.type_name,
            self.status,
            self.priority,
            self.requester,
            self.assignee,
            self.created,
            self.last_reply,
        ];
        Self::KEYS
            .iter()
            .zip(flags)
            .filter(|((key, _), _)| staff || *key != "assignee")
            .map(|((key, label), shown)| ColumnChoice { key, label, shown })
            .collect()
    }
}

/// A link of the list's sidebar (queues, quick filters, saved views).
pub struct SideLink {
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// The bulk bar's choices (staff list).
pub struct BulkBar {
    pub action: String,
    pub assignee_choices: AssigneeChoices,
    pub status_choices: Vec<Choice>,
    pub priority_choices: Vec<Choice>,
    /// Where to come back to after the action (the list as it was).
    pub back: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub base: String,
    pub staff: bool,
    pub queue: &'static str,
    pub quick: &'static str,
    pub queues: Vec<SideLink>,
    pub quick_links: Vec<SideLink>,
    pub my_views: Vec<SideLink>,
    pub shared_views: Vec<SideLink>,
    /// Where "Save this view" posts, with the query string to save.
    pub save_view_action: String,
    pub current_query: String,
    /// Staff: whether auto-assignment skips the viewer, and where to toggle it.
    pub away: bool,
    pub availability_action: String,
    /// Admins may share a view.
    pub admin: bool,
    pub shown: Shown,
    pub columns: Vec<ColumnChoice>,
    pub bulk: Option<BulkBar>,
    pub rows: Vec<RowView>,
    pub showing: String,
    pub closed_toggle_href: String,
    pub closed_toggle_label: &'static str,
    pub badges: Vec<StatusBadge>,
    pub q: String,
    pub filters_open: bool,
    /// What an empty list says: "No tickets match.", "No tickets yet." or "No open tickets."
    pub empty_text: &'static str,
    pub status_choices: Vec<Choice>,
    pub priority_choices: Vec<Choice>,
    pub type_choices: Vec<Choice>,
    pub category_choices: Vec<Choice>,
    pub assignee_choices: AssigneeChoices,
    pub sort_choices: Vec<Choice>,
    pub requester: String,
    pub tag: String,
    pub created_from: String,
    pub created_to: String,
    pub updated_from: String,
    pub updated_to: String,
    pub include_closed: bool,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
}

/// One level of the chained category selects.
pub struct CategoryLevel {
    pub level: usize,
    pub label: &'static str,
    pub choices: Vec<Choice>,
}

/// The chained selects for a chosen path: level 1 always, each next level
/// when the level above has a choice with children.
pub fn category_levels(options: &TicketOptions, chosen: &[CategoryId]) -> Vec<CategoryLevel> {
    const LABELS: [&str; 3] = ["Category", "Type of issue", "Item"];
    let mut levels = Vec::new();
    let mut parent: Option<CategoryId> = None;
    for (index, label) in LABELS.iter().enumerate() {
        let children: Vec<&Category> = options.children(parent);
        if children.is_empty() {
            break;
        }
        let selected = chosen.get(index).copied();
        let mut choices = vec![Choice::new("", "—", selected.is_none())];
        choices.extend(
            children
                .iter()
                .map(|c| Choice::new(c.id.to_string(), c.name.clone(), Some(c.id) == selected)),
        );
        levels.push(CategoryLevel {
            level: index + 1,
            label,
            choices,
        });
        match selected.filter(|id| children.iter().any(|c| c.id == *id)) {
            Some(id) => parent = Some(id),
            None => break,
        }
    }
    levels
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/_category_levels.html")]
pub struct CategoryLevelsPartial {
    pub levels: Vec<CategoryLevel>,
    pub options_href: String,
    pub error: Option<String>,
}

/// The create and edit forms' state.
pub struct TicketFormView {
    pub action: String,
    pub submit_label: &'static str,
    pub subject: String,
    pub description: String,
    pub type_choices: Vec<Choice>,
    pub priority_choices: Vec<Choice>,
    pub categories: CategoryLevelsPartial,
    /// Staff only: requester email, assignee, group, status, tags.
    pub staff: bool,
    pub requester: String,
    pub assignee_choices: AssigneeChoices,
    pub group_choices: Vec<Choice>,
    /// Shown on the edit form (customers get the current status and Closed).
    pub status_choices: Vec<Choice>,
    pub tags: String,
    pub resolution_notes: String,
    /// Customers editing their own ticket change only subject and description.
    pub text_only: bool,
    pub version: String,
    pub loaded_at: String,
    pub errors: FieldErrors,
    pub preview_href: String,
    /// The file picker (create form only).
    pub upload: Option<UploadField>,
    /// Create form only: the hidden idempotency key, so submitting twice (a
    /// retry after no answer, a double click) creates one ticket.
    pub idempotency_key: String,
}

impl TicketFormView {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/new.html")]
pub struct NewPage {
    pub chrome: Chrome,
    pub base: String,
    pub form: TicketFormView,
    pub side: SideSlot,
}

/// A change someone else made while an edit form was open.
pub struct ChangeView {
    pub text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/edit.html")]
pub struct EditPage {
    pub chrome: Chrome,
    pub number: String,
    pub ticket_href: String,
    pub form: TicketFormView,
    pub stale: Option<Vec<ChangeView>>,
    pub side: SideSlot,
}

/// A reply or note as the viewer sees it.
pub struct ReplyView {
    pub id: String,
    pub author_name: String,
    pub author_is_staff: bool,
    pub internal: bool,
    pub deleted_note: Option<String>,
    pub body: SafeHtml,
    pub created: String,
    pub created_iso: String,
    pub edited: bool,
    pub edit_href: Option<String>,
    pub delete_action: Option<String>,
    pub attachments: Vec<AttachmentView>,
}

pub struct ReplyBox {
    pub action: String,
    pub staff: bool,
    pub body: String,
    pub error: Option<String>,
    /// Why the viewer may not reply (closed ticket), instead of the box.
    pub refusal: Option<&'static str>,
    pub upload: UploadField,
}

/// The detail page's assignment form (staff): agent and group, and "Assign
/// to me" while nobody has the ticket.
pub struct AssignmentPanel {
    pub action: String,
    pub csrf_token: String,
    pub assignee_name: String,
    pub group_name: String,
    pub assignee_choices: AssigneeChoices,
    pub group_choices: Vec<Choice>,
    pub unassigned: bool,
    pub error: Option<String>,
}

/// The htmx answer of an assignment: the panel alone.
#[derive(Template, WebTemplate)]
#[template(path = "tickets/_assignment.html")]
pub struct AssignmentPartial {
    pub panel: AssignmentPanel,
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/detail.html")]
pub struct DetailPage {
    pub chrome: Chrome,
    pub base: String,
    pub number: String,
    pub href: String,
    pub subject: String,
    pub status_name: String,
    pub status_category: &'static str,
    pub priority_name: String,
    pub type_name: String,
    pub category: String,
    pub requester_name: String,
    pub assignee_name: String,
    pub tags: Vec<String>,
    pub created: String,
    pub reopened: bool,
    pub description: SafeHtml,
    /// The files attached to the description.
    pub attachments: Vec<AttachmentView>,
    pub staff: bool,
    pub following: bool,
    /// Staff: access links of a guest requester that still work.
    pub guest_links: i64,
    pub follow_action: String,
    pub followers: String,
    pub can_edit: bool,
    /// Where the "Reopen" button posts, when the viewer may reopen.
    pub reopen_action: Option<String>,
    pub resolution_notes: Option<SafeHtml>,
    pub replies: Vec<ReplyView>,
    pub reply_box: ReplyBox,
    pub side: SideSlot,
    /// Staff only.
    pub assignment: Option<AssignmentPanel>,
}

pub struct EventView {
    pub when: String,
    pub when_iso: String,
    pub actor: String,
    pub text: String,
    pub internal: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/activity.html")]
pub struct ActivityPage {
    pub chrome: Chrome,
    pub base: String,
    pub number: String,
    pub href: String,
    pub subject: String,
    pub events: Vec<EventView>,
    pub side: SideSlot,
}

#[derive(Template, WebTemplate)]
#[template(path = "tickets/_preview.html")]
pub struct PreviewPartial {
    pub html: SafeHtml,
}

pub fn sort_choices(current: Sort) -> Vec<Choice> {
    Sort::ALL
        .iter()
        .map(|(sort, label)| Choice::new(sort.as_str(), *label, *sort == current))
        .collect()
}
