//! Creating, reading, editing and following tickets, as the people using them
//! see it. The helpers at the top are shared with `ticket_list`.

use crate::helpers::{PASSWORD, TestApp};
use axum::http::StatusCode;
use std::collections::BTreeSet;
use tessera::{
    auth::model::{NewUser, Role, User},
    db::{TenantId, UserId},
    replies::service::{self as replies},
    tickets::{
        options::TicketOptions,
        repo,
        service::{self, TicketInput},
    },
};
use time::Duration;

/// Signs in as `email` in a fresh session (no other login kept).
pub(crate) async fn sign_in_as(app: &mut TestApp, tenant: &str, email: &str) {
    app.clear_cookies();
    app.sign_in(tenant, email, PASSWORD)
        .await
        .assert_redirect_to(&format!("/{tenant}/"));
}

/// The id of the option `name` in one of the tenant's lists (`ticket_statuses`,
/// `ticket_priorities`, `ticket_types`, `categories`).
pub(crate) async fn option_id(app: &TestApp, tenant: TenantId, table: &str, name: &str) -> String {
    sqlx::query_scalar::<_, uuid::Uuid>(&format!(
        "select id from {table} where tenant_id = $1 and name = $2"
    ))
    .bind(tenant)
    .bind(name)
    .fetch_one(app.db.pool())
    .await
    .unwrap_or_else(|error| panic!("no {name} in {table}: {error}"))
    .to_string()
}

/// Another user of the tenant, with the test password.
pub(crate) async fn add_user(
    app: &TestApp,
    tenant: TenantId,
    email: &str,
    name: &str,
    role: Role,
) -> User {
    tessera::auth::service::create_user(
        &app.db,
        tenant,
        NewUser::new(email, Some(name), role, Some(PASSWORD.to_owned())).unwrap(),
    )
    .await
    .unwrap()
}

/// Creates a ticket through the rules directly (fast setup); returns its number.
pub(crate) async fn create_direct(app: &TestApp, actor: &User, input: TicketInput) -> i64 {
    service::create(&app.db, &app.clock, actor, input)
        .await
        .unwrap_or_else(|error| panic!("creating a ticket: {error:?}"))
        .number
}

/// A create input with just a subject (everything else defaults).
pub(crate) fn subject(subject: &str) -> TicketInput {
    TicketInput {
        subject: subject.to_owned(),
        ..TicketInput::default()
    }
}

/// Edits ticket `number` through the rules, starting from its current values.
pub(crate) async fn change_direct(
    app: &TestApp,
    actor: &User,
    number: i64,
    change: impl FnOnce(&mut TicketInput),
) {
    let tenant = actor.tenant_id;
    let mut tx = app.db.tenant_tx(tenant).await.unwrap();
    let ticket = repo::find_by_number(&mut tx, tenant, number)
        .await
        .unwrap()
        .expect("the ticket exists");
    let options = TicketOptions::load(&mut tx, tenant).await.unwrap();
    drop(tx);
    let mut input = TicketInput {
        version: None,
        loaded_at: None,
        ..TicketInput::from_ticket(&ticket, &options)
    };
    change(&mut input);
    service::edit(&app.db, &app.clock, actor, number, input)
        .await
        .unwrap_or_else(|error| panic!("editing ticket {number}: {error:?}"));
}

/// Adds a reply (or a note) through the rules.
pub(crate) async fn reply_direct(
    app: &TestApp,
    actor: &User,
    number: i64,
    body: &str,
    internal: bool,
) {
    replies::add(
        &app.db,
        &app.clock,
        actor,
        number,
        replies::NewReply {
            body,
            internal,
            ..Default::default()
        },
    )
    .await
    .unwrap_or_else(|error| panic!("replying to {number}: {error:?}"));
}

pub(crate) fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// The value of attribute `name` in one tag, unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let pattern = format!("{name}=\"");
    let mut from = 0;
    while let Some(found) = tag[from..].find(&pattern) {
        let at = from + found;
        let boundary = tag[..at]
            .chars()
            .next_back()
            .is_some_and(char::is_whitespace);
        if boundary {
            let start = at + pattern.len();
            let end = start + tag[start..].find('"')?;
            return Some(unescape(&tag[start..end]));
        }
        from = at + pattern.len();
    }
    None
}

fn has_flag(tag: &str, flag: &str) -> bool {
    tag.split(|c: char| c.is_whitespace() || c == '>')
        .any(|word| word == flag)
}

/// What a browser would submit for the form whose opening tag contains
/// `marker`: inputs (checked boxes only), the selected option of each select,
/// textareas; the CSRF token is left out (`post_form` adds it).
pub(crate) fn form_fields(html: &str, marker: &str) -> Vec<(String, String)> {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no form {marker}"));
    let end = start + html[start..].find("</form>").expect("the form ends");
    let form = &html[start..end];
    let mut fields = Vec::new();
    let mut at = 0;
    while let Some(found) = form[at..].find('<') {
        at += found;
        let rest = &form[at..];
        let tag = &rest[..=rest.find('>').expect("the tag ends")];
        let name = attribute(tag, "name");
        if let Some(name) = name.filter(|n| n != "csrf_token") {
            if tag.starts_with("<input") {
                let checkbox = attribute(tag, "type").as_deref() == Some("checkbox");
                if !checkbox || has_flag(tag, "checked") {
                    fields.push((name, attribute(tag, "value").unwrap_or_default()));
                }
            } else if tag.starts_with("<select") {
                let options = &rest[tag.len()..rest.find("</select>").expect("the select ends")];
                let tags: Vec<&str> = options
                    .split("<option")
                    .skip(1)
                    .map(|o| &o[..o.find('>').unwrap_or(o.len())])
                    .collect();
                let chosen = tags
                    .iter()
                    .find(|o| has_flag(o, "selected"))
                    .or(tags.first());
                if let Some(option) = chosen {
                    fields.push((name, attribute(option, "value").unwrap_or_default()));
                }
            } else if tag.starts_with("<textarea") {
                let text = &rest[tag.len()..rest.find("</textarea>").expect("the textarea ends")];
                fields.push((name, unescape(text)));
            }
        }
        at += 1;
    }
    fields
}

/// Replaces every value of `name` with `values` (added when absent).
pub(crate) fn set_field(fields: &mut Vec<(String, String)>, name: &str, values: &[&str]) {
    let position = fields
        .iter()
        .position(|(n, _)| n == name)
        .unwrap_or(fields.len());
    fields.retain(|(n, _)| n != name);
    for (i, value) in values.iter().enumerate() {
        fields.insert(position + i, (name.to_owned(), (*value).to_owned()));
    }
}

fn as_pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect()
}

/// Opens the edit page of `/{tenant}/tickets/{number}`, changes some fields and saves.
pub(crate) async fn submit_edit(
    app: &mut TestApp,
    ticket: &str,
    changes: &[(&str, &[&str])],
) -> Saved {
    let page = app.get(&format!("{ticket}/edit")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let mut fields = form_fields(&page.body, &format!("action=\"{ticket}\""));
    for (name, values) in changes {
        set_field(&mut fields, name, values);
    }
    let response = app.post_form(ticket, &as_pairs(&fields)).await;
    Saved {
        status: response.status,
        location: response.location().map(str::to_owned),
        body: response.body,
    }
}

/// The answer to a submitted edit form.
pub(crate) struct Saved {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Saved {
    #[track_caller]
    pub(crate) fn assert_redirect_to(&self, path: &str) {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "body: {}", self.body);
        assert_eq!(self.location.as_deref(), Some(path));
    }
}

async fn ticket_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from tickets")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn reply_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from replies")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// The text of the status badge at the top of a ticket page.
fn status_badge(html: &str) -> String {
    let head = &html[html.find("class=\"badges\"").expect("the ticket's badges")..];
    let start = head.find('>').expect("tag end") + 1;
    let badge = &head[start..];
    let text_start = badge.find('>').expect("badge tag end") + 1;
    let text_end = text_start + badge[text_start..].find('<').expect("badge end");
    badge[text_start..text_end].trim().to_owned()
}

fn follow_button_pressed(html: &str) -> bool {
    let form = &html[html.find("class=\"bell").expect("the follow bell")..];
    let pressed = attribute(&form[..form.find('>').expect("tag end")], "aria-pressed");
    pressed.as_deref() == Some("true")
}

#[tokio::test]
async fn a_ticket_goes_from_new_to_closed_the_way_the_seed_screens_show() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let bug = option_id(&app, tenant, "ticket_types", "Bug").await;
    let high = option_id(&app, tenant, "ticket_priorities", "High").await;
    let technical = option_id(&app, tenant, "categories", "Technical").await;
    let access = option_id(&app, tenant, "categories", "Access").await;
    let in_progress = option_id(&app, tenant, "ticket_statuses", "In Progress").await;
    let closed = option_id(&app, tenant, "ticket_statuses", "Closed").await;

    // The customer asks for help.
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    app.get("/acme/tickets/new").await;
    let created = app
        .post_form(
            "/acme/tickets",
            &[
                ("subject", "The export button does nothing"),
                (
                    "description",
                    "Clicking **Export** on reports does nothing.",
                ),
                ("type", &bug),
                ("priority", &high),
                ("category", &technical),
                ("category", &access),
            ],
        )
        .await;
    created.assert_redirect_to("/acme/tickets/1?notice=created");
    let page = app.get("/acme/tickets/1?notice=created").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Ticket TKT-000001 created"),
        "{}",
        page.body
    );
    assert!(page.body.contains("The export button does nothing"));
    assert_eq!(status_badge(&page.body), "New");
    assert!(page.body.contains("Priority: High"));
    assert!(page.body.contains("Technical › Access"));

    // The agent starts work, and answers.
    app.clock.advance(Duration::minutes(5));
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    submit_edit(&mut app, "/acme/tickets/1", &[("status", &[&in_progress])])
        .await
        .assert_redirect_to("/acme/tickets/1?notice=saved");
    assert_eq!(
        status_badge(&app.get("/acme/tickets/1").await.body),
        "In Progress"
    );
    app.clock.advance(Duration::minutes(1));
    let sent = app
        .post_form(
            "/acme/tickets/1/replies",
            &[("body", "Which browser do you use?"), ("action", "send")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    app.clock.advance(Duration::minutes(1));
    app.get("/acme/tickets/1").await;
    let waiting = app
        .post_form(
            "/acme/tickets/1/replies",
            &[("body", "Please try the new build."), ("action", "waiting")],
        )
        .await;
    assert_eq!(waiting.status, StatusCode::SEE_OTHER, "{}", waiting.body);
    let page = app.get("/acme/tickets/1").await;
    assert_eq!(status_badge(&page.body), "Awaiting customer");
    assert!(page.body.contains("Which browser do you use?"));
    assert!(page.body.contains("Please try the new build."));

    // The customer answers, then closes the ticket.
    app.clock.advance(Duration::hours(1));
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    app.get("/acme/tickets/1").await;
    let answered = app
        .post_form(
            "/acme/tickets/1/replies",
            &[
                ("body", "Firefox. The new build works!"),
                ("action", "send"),
            ],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    app.clock.advance(Duration::minutes(1));
    submit_edit(&mut app, "/acme/tickets/1", &[("status", &[&closed])])
        .await
        .assert_redirect_to("/acme/tickets/1?notice=saved");

    // A closed ticket takes no more replies from the customer.
    let page = app.get("/acme/tickets/1").await;
    assert_eq!(status_badge(&page.body), "Closed");
    assert!(page.body.contains("Firefox. The new build works!"));
    let refusal = "This ticket is closed, so it no longer takes replies. Please open a new ticket.";
    assert!(page.body.contains(refusal));
    assert!(!page.body.contains("name=\"body\""), "no reply box");
    let replies_before = reply_count(&app).await;
    assert_eq!(replies_before, 3);
    let refused = app
        .post_form(
            "/acme/tickets/1/replies",
            &[("body", "One more thing"), ("action", "send")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(refusal));
    assert_eq!(reply_count(&app).await, replies_before, "nothing saved");

    // The list shows it closed, answered last by the customer.
    let list = app.get("/acme/tickets?closed=1").await;
    let row_start = list
        .body
        .find(">TKT-000001<")
        .expect("the ticket is listed");
    let row = &list.body[row_start..row_start + list.body[row_start..].find("</tr>").unwrap()];
    assert!(row.contains(">Closed<"), "{row}");
    assert!(row.contains("by Customer of acme"), "{row}");
    assert!(row.contains("3/2/2026, 10:07 by Customer of acme"), "{row}");

    // The activity tells the story.
    let activity = app.get("/acme/tickets/1/activity").await;
    assert_eq!(activity.status, StatusCode::OK);
    let story = [
        "created the ticket",
        "changed status from New to In Progress",
        "changed status from In Progress to Awaiting customer",
        "changed status from Awaiting customer to Closed",
    ];
    let mut last = 0;
    for line in story {
        let at = activity.body[last..]
            .find(line)
            .unwrap_or_else(|| panic!("the activity should say {line:?} (in order)"));
        last += at;
    }
    assert!(
        activity
            .body
            .contains("<strong>Agent of acme</strong> changed status from New")
    );
    assert!(
        activity
            .body
            .contains("<strong>Customer of acme</strong> changed status from Awaiting")
    );
}

#[tokio::test]
async fn an_invalid_ticket_is_refused_with_the_message_next_to_the_field() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let globex = app.create_tenant("globex").await;
    let tenant = acme.tenant.id;
    let billing = option_id(&app, tenant, "categories", "Billing").await;
    let access = option_id(&app, tenant, "categories", "Access").await;
    let foreign_category = option_id(&app, globex.tenant.id, "categories", "General").await;
    let unknown_type = uuid::Uuid::now_v7().to_string();
    let long_subject = "é".repeat(201);
    sign_in_as(&mut app, "acme", &acme.agent.email).await;

    // The field, what is sent, and what the person is told.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: [Case; 5] = [
        ("subject", vec![("subject", "   ")], "Enter a subject."),
        (
            "subject",
            vec![("subject", &long_subject)],
            "The subject is too long: at most 200 characters.",
        ),
        (
            "type",
            vec![("subject", "Printer jam"), ("type", &unknown_type)],
            "Choose one of the listed types.",
        ),
        (
            "category",
            vec![("subject", "Printer jam"), ("category", &foreign_category)],
            "Choose one of the listed categories.",
        ),
        (
            "category",
            vec![
                ("subject", "Printer jam"),
                ("category", &billing),
                ("category", &access),
            ],
            "Choose the category again: that choice does not fit.",
        ),
    ];
    for (field, fields, message) in cases {
        app.get("/acme/tickets/new").await;
        let response = app.post_form("/acme/tickets", &fields).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{message}"
        );
        assert!(
            response
                .body
                .contains(&format!("aria-describedby=\"{field}-error\"")),
            "{message}: the field points at its error"
        );
        assert!(
            response
                .body
                .contains(&format!("id=\"{field}-error\">{message}<")),
            "{message}: the error is shown by the field"
        );
        assert!(
            response
                .body
                .contains("Please correct the fields marked below.")
        );
        assert_eq!(ticket_count(&app).await, 0, "{message}: nothing created");
    }
    // What was typed is kept.
    app.get("/acme/tickets/new").await;
    let response = app
        .post_form(
            "/acme/tickets",
            &[("subject", "Printer <jam>"), ("type", &unknown_type)],
        )
        .await;
    let kept = form_fields(&response.body, "action=\"/acme/tickets\"");
    assert!(kept.contains(&("subject".to_owned(), "Printer <jam>".to_owned())));
    assert!(
        response.body.contains("Printer &#60;jam&#62;")
            || response.body.contains("Printer &lt;jam&gt;")
    );
}

#[tokio::test]
async fn agents_create_tickets_on_behalf_of_customers_by_email() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    sign_in_as(&mut app, "acme", &acme.agent.email).await;

    // An existing customer becomes the requester.
    app.get("/acme/tickets/new").await;
    app.post_form(
        "/acme/tickets",
        &[
            ("subject", "Phoned in: invoice missing"),
            ("requester", "CUSTOMER@acme.test"),
        ],
    )
    .await
    .assert_redirect_to("/acme/tickets/1?notice=created");
    let page = app.get("/acme/tickets/1").await;
    assert!(page.body.contains("by Customer of acme"), "{}", page.body);

    // An unknown address becomes a contact, and the requester.
    app.post_form(
        "/acme/tickets",
        &[
            ("subject", "Emailed in: refund"),
            ("requester", "new.person@example.com"),
        ],
    )
    .await
    .assert_redirect_to("/acme/tickets/2?notice=created");
    let (role, has_password): (String, bool) = sqlx::query_as(
        "select role::text, password_hash is not null from users \
          where tenant_id = $1 and email = 'new.person@example.com'",
    )
    .bind(acme.tenant.id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!((role.as_str(), has_password), ("customer", false));
    let page = app.get("/acme/tickets/2").await;
    assert!(page.body.contains("by new.person"), "{}", page.body);

    // The customer finds the ticket made for them among their own.
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    let list = app.get("/acme/tickets").await;
    assert!(list.body.contains("Phoned in: invoice missing"));
    assert!(!list.body.contains("Emailed in: refund"));
    assert_eq!(app.get("/acme/tickets/1").await.status, StatusCode::OK);
}

#[tokio::test]
async fn customers_cannot_set_tags_assignee_or_requester_when_creating() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let agent_id = acme.agent.id.to_string();
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    app.get("/acme/tickets/new").await;
    app.post_form(
        "/acme/tickets",
        &[
            ("subject", "Please help"),
            ("tags", "vip, urgent"),
            ("assignee", &agent_id),
            ("requester", "agent@acme.test"),
        ],
    )
    .await
    .assert_redirect_to("/acme/tickets/1?notice=created");

    let (tags, assignee, requester): (Vec<String>, Option<uuid::Uuid>, uuid::Uuid) =
        sqlx::query_as("select tags, assignee_id, requester_id from tickets where number = 1")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(tags.is_empty());
    assert_eq!(assignee, None);
    assert_eq!(UserId(requester), acme.customer.id);

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let page = app.get("/acme/tickets/1").await;
    assert!(page.body.contains("<dd>Unassigned</dd>"), "{}", page.body);
    assert!(!page.body.contains("class=\"tag\""));
    assert!(page.body.contains("by Customer of acme"));
}

#[tokio::test]
async fn a_save_over_someone_elses_change_is_refused_with_what_changed() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let second = add_user(&app, tenant, "sam@acme.test", "Sam Second", Role::Agent).await;
    let in_progress = option_id(&app, tenant, "ticket_statuses", "In Progress").await;
    let high = option_id(&app, tenant, "ticket_priorities", "High").await;
    create_direct(&app, &acme.customer, subject("Printer on fire")).await;

    // The first agent opens the form and changes the priority…
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let form = app.get("/acme/tickets/1/edit").await;
    let mut mine = form_fields(&form.body, "action=\"/acme/tickets/1\"");
    assert!(mine.contains(&("version".to_owned(), "1".to_owned())));
    set_field(&mut mine, "priority", &[&high]);
    let agent_session = app.cookie("tessera_session").unwrap().to_owned();

    // …while the second agent saves a status change.
    app.clock.advance(Duration::minutes(2));
    sign_in_as(&mut app, "acme", &second.email).await;
    submit_edit(&mut app, "/acme/tickets/1", &[("status", &[&in_progress])])
        .await
        .assert_redirect_to("/acme/tickets/1?notice=saved");

    // The first save is refused, saying what changed, and overwrites nothing.
    app.clear_cookies();
    app.set_cookie("tessera_session", &agent_session);
    app.clock.advance(Duration::minutes(1));
    app.get("/acme/tickets/1").await;
    let stale = app.post_form("/acme/tickets/1", &as_pairs(&mine)).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(
        stale
            .body
            .contains("This ticket changed while you were editing.")
    );
    assert!(
        stale
            .body
            .contains("Sam Second changed status from New to In Progress"),
        "{}",
        stale.body
    );
    let page = app.get("/acme/tickets/1").await;
    assert_eq!(status_badge(&page.body), "In Progress");
    assert!(page.body.contains("Priority: Medium"));

    // Saving again from the refreshed form applies the edits.
    let again = form_fields(&stale.body, "action=\"/acme/tickets/1\"");
    assert!(again.contains(&("version".to_owned(), "2".to_owned())));
    assert!(
        again.contains(&("priority".to_owned(), high.clone())),
        "my edit is kept"
    );
    app.post_form("/acme/tickets/1", &as_pairs(&again))
        .await
        .assert_redirect_to("/acme/tickets/1?notice=saved");
    let page = app.get("/acme/tickets/1").await;
    assert!(page.body.contains("Priority: High"));
}

#[tokio::test]
async fn customers_edit_only_the_text_of_their_own_open_tickets() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let other = add_user(&app, tenant, "olga@acme.test", "Olga Other", Role::Customer).await;
    let urgent = option_id(&app, tenant, "ticket_priorities", "Urgent").await;
    let bug = option_id(&app, tenant, "ticket_types", "Bug").await;
    let billing = option_id(&app, tenant, "categories", "Billing").await;
    let in_progress = option_id(&app, tenant, "ticket_statuses", "In Progress").await;
    let agent_id = acme.agent.id.to_string();
    create_direct(&app, &acme.customer, subject("Typo in my subjet")).await;
    create_direct(&app, &other, subject("Olga's own ticket")).await;

    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    let form = app.get("/acme/tickets/1/edit").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        !form.body.contains("name=\"priority\""),
        "no priority to choose"
    );
    assert!(
        !form.body.contains("name=\"assignee\""),
        "no assignee to choose"
    );
    submit_edit(
        &mut app,
        "/acme/tickets/1",
        &[
            ("subject", &["Typo in my subject"]),
            ("description", &["Now with a description."]),
            ("priority", &[&urgent]),
            ("type", &[&bug]),
            ("category", &[&billing]),
            ("tags", &["vip"]),
            ("assignee", &[&agent_id]),
            ("requester", &["olga@acme.test"]),
        ],
    )
    .await
    .assert_redirect_to("/acme/tickets/1?notice=saved");
    let page = app.get("/acme/tickets/1").await;
    assert!(
        page.body
            .contains("<h1 id=\"ticket-heading\" dir=\"auto\">Typo in my subject</h1>")
    );
    assert!(page.body.contains("Now with a description."));
    assert!(page.body.contains("Priority: Medium"));
    assert!(page.body.contains(">Issue</span>"));
    assert!(page.body.contains("<dd>None</dd>"), "no category");
    let (tags, assignee, requester): (Vec<String>, Option<uuid::Uuid>, uuid::Uuid) =
        sqlx::query_as("select tags, assignee_id, requester_id from tickets where number = 1")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(tags.is_empty());
    assert_eq!(assignee, None);
    assert_eq!(UserId(requester), acme.customer.id);

    // Only Closed is theirs to choose as a status.
    submit_edit(&mut app, "/acme/tickets/1", &[("status", &[&in_progress])]).await;
    assert_eq!(status_badge(&app.get("/acme/tickets/1").await.body), "New");

    // Someone else's ticket is not theirs to edit, or even to see.
    assert_eq!(
        app.get("/acme/tickets/2/edit").await.status,
        StatusCode::NOT_FOUND
    );
    app.get("/acme/tickets/1").await;
    let foreign = app
        .post_form("/acme/tickets/2", &[("subject", "Hijacked")])
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    // A closed ticket is no longer editable.
    let closed = option_id(&app, tenant, "ticket_statuses", "Closed").await;
    change_direct(&app, &acme.agent, 1, |input| input.status = closed.clone()).await;
    let page = app.get("/acme/tickets/1").await;
    assert!(!page.body.contains(">Edit Ticket</a>"));
    assert_eq!(
        app.get("/acme/tickets/1/edit").await.status,
        StatusCode::BAD_REQUEST
    );
    app.get("/acme/tickets/1").await;
    let refused = app
        .post_form(
            "/acme/tickets/1",
            &[("subject", "Reopened by editing"), ("description", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let subject_now: String = sqlx::query_scalar("select subject from tickets where number = 1")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(subject_now, "Typo in my subject");
    let titles: Vec<String> = sqlx::query_scalar("select subject from tickets order by number")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(titles[1], "Olga's own ticket");
}

#[tokio::test]
async fn requesters_assignees_and_repliers_follow_and_the_bell_toggles() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let agent_id = acme.agent.id.to_string();

    // The requester follows the ticket they create.
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    app.get("/acme/tickets/new").await;
    app.post_form("/acme/tickets", &[("subject", "Keep me posted")])
        .await
        .assert_redirect_to("/acme/tickets/1?notice=created");
    let page = app.get("/acme/tickets/1").await;
    assert!(follow_button_pressed(&page.body));
    assert!(page.body.contains("<dd>Customer of acme</dd>"), "followers");

    // The bell turns following off and on.
    app.post_form("/acme/tickets/1/follow", &[("follow", "0")])
        .await
        .assert_redirect_to("/acme/tickets/1");
    let page = app.get("/acme/tickets/1").await;
    assert!(!follow_button_pressed(&page.body));
    assert!(page.body.contains("<span>Follow</span>"));
    assert!(page.body.contains("<dt>Followers</dt><dd></dd>"));
    app.post_form("/acme/tickets/1/follow", &[("follow", "1")])
        .await
        .assert_redirect_to("/acme/tickets/1");
    let page = app.get("/acme/tickets/1").await;
    assert!(follow_button_pressed(&page.body));
    assert!(page.body.contains("<span>Following</span>"));

    // The agent assigned follows.
    app.clock.advance(Duration::minutes(1));
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    assert!(!follow_button_pressed(
        &app.get("/acme/tickets/1").await.body
    ));
    submit_edit(&mut app, "/acme/tickets/1", &[("assignee", &[&agent_id])])
        .await
        .assert_redirect_to("/acme/tickets/1?notice=saved");
    let page = app.get("/acme/tickets/1").await;
    assert!(follow_button_pressed(&page.body));
    assert!(
        page.body
            .contains("<dd>Customer of acme, Agent of acme</dd>")
    );

    // An agent who replies follows.
    app.clock.advance(Duration::minutes(1));
    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    assert!(!follow_button_pressed(
        &app.get("/acme/tickets/1").await.body
    ));
    app.post_form(
        "/acme/tickets/1/replies",
        &[("body", "Looking into it."), ("action", "send")],
    )
    .await;
    let page = app.get("/acme/tickets/1").await;
    assert!(follow_button_pressed(&page.body));
    assert!(
        page.body
            .contains("<dd>Customer of acme, Agent of acme, Admin of acme</dd>")
    );

    let activity = app.get("/acme/tickets/1/activity").await;
    assert!(activity.body.contains("added Agent of acme as a follower"));
    assert!(
        activity
            .body
            .contains("removed Customer of acme as a follower")
    );
    assert!(activity.body.contains("added Admin of acme as a follower"));
}

#[tokio::test]
async fn tickets_created_at_once_get_every_number_once() {
    let app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let db = tessera::db::Db::connect(&app.database.url.clone().into(), 20)
        .await
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let (db, clock, actor) = (db.clone(), app.clock.clone(), acme.customer.clone());
        tasks.spawn(async move {
            service::create(&db, &clock, &actor, subject(&format!("Ticket {i}")))
                .await
                .map(|created| created.number)
                .map_err(|error| format!("{error:?}"))
        });
    }
    let mut numbers = BTreeSet::new();
    while let Some(joined) = tasks.join_next().await {
        let number = joined.unwrap().unwrap();
        assert!(numbers.insert(number), "number {number} handed out twice");
    }
    assert_eq!(numbers, (1..=200).collect::<BTreeSet<i64>>());
    let stored: Vec<i64> = sqlx::query_scalar("select number from tickets order by number")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, (1..=200).collect::<Vec<i64>>());
}

#[tokio::test]
async fn descriptions_render_markdown_without_running_anything() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    create_direct(
        &app,
        &acme.customer,
        TicketInput {
            subject: "Formatting".to_owned(),
            description: "It is **really** broken.\n\n<script>alert(1)</script>\n\n\
                          Click [x](javascript:alert(1)) and [docs](https://example.com/help)."
                .to_owned(),
            ..TicketInput::default()
        },
    )
    .await;
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let page = app.get("/acme/tickets/1").await;
    assert!(
        page.body.contains("<strong>really</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(!page.body.contains("javascript:"));
    assert!(page.body.contains("href=\"https://example.com/help\""));
}

/// Every assignee select (the queue's filter and bulk bar, the ticket's
/// assignment panel, the new-ticket form) lists the active staff by name,
/// names escaped, the chosen one marked, and no one who was deactivated.
#[tokio::test]
async fn every_assignee_select_lists_the_active_staff_escaped_with_the_chosen_one_marked() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let zoe = add_user(&app, tenant, "zoe@acme.test", "Zoë <b>&\"Q\"", Role::Agent).await;
    let gone = add_user(&app, tenant, "gone@acme.test", "Gone Agent", Role::Agent).await;
    sqlx::query("update users set active = false where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(gone.id)
        .execute(app.db.pool())
        .await
        .unwrap();
    let number = create_direct(
        &app,
        &acme.agent,
        TicketInput {
            assignee: zoe.id.to_string(),
            ..subject("Printer on fire")
        },
    )
    .await;
    let zoe_option = |selected: bool| {
        format!(
            "<option value=\"{}\"{}>Zoë &#60;b&#62;&#38;&#34;Q&#34;</option>",
            zoe.id,
            if selected { " selected" } else { "" }
        )
    };
    let agent_option = format!(
        "<option value=\"{}\">{}</option>",
        acme.agent.id, acme.agent.name
    );

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let select = |body: &str, id: &str| -> String {
        let start = body
            .find(&format!("<select id=\"{id}\""))
            .unwrap_or_else(|| panic!("no select {id}"));
        let end = start + body[start..].find("</select>").expect("the select's end");
        body[start..end].to_owned()
    };

    let page = app.get(&format!("/acme/tickets/{number}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let panel = select(&page.body, "assign-assignee");
    assert!(
        panel.contains("<option value=\"\">Unassigned</option>"),
        "{panel}"
    );
    assert!(panel.contains(&zoe_option(true)), "{panel}");
    assert!(panel.contains(&agent_option), "{panel}");
    assert!(!panel.contains("Gone Agent"), "{panel}");
    assert_eq!(panel.matches(" selected").count(), 1, "{panel}");

    let list = app.get(&format!("/acme/tickets?assignee={}", zoe.id)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Printer on fire"));
    let filter = select(&list.body, "f-assignee");
    assert!(
        filter.starts_with(
            "<select id=\"f-assignee\" name=\"assignee\"><option value=\"\">Any</option>\
             <option value=\"me\">Me</option><option value=\"unassigned\">Unassigned</option>"
        ),
        "{filter}"
    );
    assert!(filter.contains(&zoe_option(true)), "{filter}");
    assert!(!filter.contains("Gone Agent"), "{filter}");
    let bulk = select(&list.body, "bulk-assignee");
    assert!(
        bulk.contains(&zoe_option(false)) && bulk.contains(&agent_option),
        "{bulk}"
    );
    assert!(!bulk.contains("Gone Agent"), "{bulk}");

    let mine = app.get("/acme/tickets?assignee=me").await;
    assert!(select(&mine.body, "f-assignee").contains("<option value=\"me\" selected>Me</option>"));

    let form = app.get("/acme/tickets/new").await;
    let assignee = select(&form.body, "assignee");
    assert!(
        assignee.contains("<option value=\"\" selected>Unassigned</option>"),
        "{assignee}"
    );
    assert!(assignee.contains(&zoe_option(false)), "{assignee}");
    assert!(!assignee.contains("Gone Agent"), "{assignee}");
}
