//! Replies and internal notes: writing, the 15-minute edit window, revisions,
//! soft deletes, who sees notes, and how a reply moves the ticket.

use crate::helpers::{PASSWORD, TestApp};
use axum::http::StatusCode;
use tessera::{
    auth::model::{Role, User},
    tickets::service::{self as tickets, TicketInput},
};
use time::Duration;

const WINDOW_MESSAGE: &str = "Replies can be changed by their author for 15 minutes after sending.";

/// Tenant acme with ticket "Printer on fire", requested by its customer.
struct Desk {
    app: TestApp,
    customer: User,
    agent: User,
    admin: User,
    number: i64,
}

async fn desk() -> Desk {
    let app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let input = TicketInput {
        subject: "Printer on fire".to_owned(),
        description: "Smoke everywhere.".to_owned(),
        ..TicketInput::default()
    };
    let number = tickets::create(&app.db, &app.clock, &acme.customer, input)
        .await
        .expect("creating the ticket")
        .number;
    Desk {
        app,
        customer: acme.customer,
        agent: acme.agent,
        admin: acme.admin,
        number,
    }
}

/// What the tests look at in a response.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

/// Copies a `TestResponse` (whose type the helpers do not export) into an `Answer`.
macro_rules! answer {
    ($response:expr) => {{
        let response = $response;
        Answer {
            status: response.status,
            location: response.location().map(str::to_owned),
            body: response.body,
        }
    }};
}

impl Answer {
    fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    #[track_caller]
    fn assert_redirect_to(&self, path: &str) {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "body: {}", self.body);
        assert_eq!(self.location(), Some(path));
    }
}

/// The id in a reply redirect's `#reply-…` fragment.
fn reply_id(response: &Answer) -> String {
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    response
        .location()
        .and_then(|l| l.rsplit_once("#reply-"))
        .map(|(_, id)| id.to_owned())
        .expect("the redirect points at the reply")
}

impl Desk {
    /// Signs in as the user of `role`, in a fresh browser.
    async fn sign_in(&mut self, role: Role) {
        let email = match role {
            Role::Customer => self.customer.email.clone(),
            Role::Agent => self.agent.email.clone(),
            Role::Admin => self.admin.email.clone(),
        };
        self.app.clear_cookies();
        self.app
            .sign_in("acme", &email, PASSWORD)
            .await
            .assert_redirect_to("/acme/");
    }

    fn ticket_path(&self) -> String {
        format!("/acme/tickets/{}", self.number)
    }

    fn reply_path(&self, id: &str) -> String {
        format!("{}/replies/{id}", self.ticket_path())
    }

    async fn ticket_page(&mut self) -> Answer {
        let page = answer!(self.app.get(&self.ticket_path()).await);
        assert_eq!(page.status, StatusCode::OK);
        page
    }

    async fn reply(&mut self, fields: &[(&str, &str)]) -> Answer {
        self.ticket_page().await;
        let path = format!("{}/replies", self.ticket_path());
        answer!(self.app.post_form(&path, fields).await)
    }

    /// Sends a public reply and returns its id.
    async fn say(&mut self, body: &str) -> String {
        reply_id(&self.reply(&[("body", body), ("action", "send")]).await)
    }

    async fn edit(&mut self, id: &str, body: &str) -> Answer {
        self.ticket_page().await;
        answer!(
            self.app
                .post_form(&self.reply_path(id), &[("body", body)])
                .await
        )
    }

    async fn delete(&mut self, id: &str) -> Answer {
        self.ticket_page().await;
        answer!(
            self.app
                .post_form(&format!("{}/delete", self.reply_path(id)), &[])
                .await
        )
    }

    async fn edit_page(&mut self, id: &str) -> Answer {
        answer!(self.app.get(&format!("{}/edit", self.reply_path(id))).await)
    }

    /// The stored body of a reply, and whether it is deleted.
    async fn stored(&self, id: &str) -> (String, bool) {
        sqlx::query_as::<_, (String, bool)>(
            "select body, deleted_at is not null from replies where id = $1",
        )
        .bind(uuid::Uuid::parse_str(id).expect("a reply id"))
        .fetch_one(self.app.db.pool())
        .await
        .expect("the reply is stored")
    }

    async fn status_category(&self) -> String {
        sqlx::query_scalar::<_, String>(
            "select status_category::text from tickets where tenant_id = $1 and number = $2",
        )
        .bind(self.customer.tenant_id)
        .bind(self.number)
        .fetch_one(self.app.db.pool())
        .await
        .expect("the ticket")
    }

    async fn reply_count(&self) -> i64 {
        sqlx::query_scalar::<_, i64>("select count(*) from replies")
            .fetch_one(self.app.db.pool())
            .await
            .expect("counting replies")
    }
}

#[tokio::test]
async fn a_customer_changes_their_own_reply_for_fifteen_minutes_and_no_longer() {
    let mut desk = desk().await;
    desk.sign_in(Role::Customer).await;
    let kept = desk.say("First words").await;
    let removed = desk.say("Second words").await;

    desk.app.clock.advance(Duration::minutes(14));
    let page = desk.ticket_page().await;
    assert!(
        page.body
            .contains(&format!("{}/edit", desk.reply_path(&kept)))
    );
    // Each Delete button posts the page's one token form to its reply's address.
    assert!(page.body.contains(&format!(
        r#"form="delete-reply" formaction="{}/delete""#,
        desk.reply_path(&removed)
    )));
    assert!(page.body.contains(
        r#"<form id="delete-reply" method="post" hidden><input type="hidden" name="csrf_token" value=""#
    ));
    assert_eq!(desk.edit_page(&kept).await.status, StatusCode::OK);
    desk.edit(&kept, "First words, corrected")
        .await
        .assert_redirect_to(&format!("{}?notice=saved#reply-{kept}", desk.ticket_path()));
    desk.delete(&removed)
        .await
        .assert_redirect_to(&format!("{}?notice=reply_deleted", desk.ticket_path()));
    assert_eq!(
        desk.stored(&removed).await,
        ("Second words".to_owned(), true)
    );

    desk.app.clock.advance(Duration::minutes(2));
    let late_edit = desk.edit(&kept, "Too late to change").await;
    assert_eq!(late_edit.status, StatusCode::CONFLICT);
    assert!(
        late_edit.body.contains(WINDOW_MESSAGE),
        "{}",
        late_edit.body
    );
    let late_form = desk.edit_page(&kept).await;
    assert_eq!(late_form.status, StatusCode::CONFLICT);
    assert!(late_form.body.contains(WINDOW_MESSAGE));
    let late_delete = desk.delete(&kept).await;
    assert_eq!(late_delete.status, StatusCode::CONFLICT);
    assert!(late_delete.body.contains(WINDOW_MESSAGE));
    assert_eq!(
        desk.stored(&kept).await,
        ("First words, corrected".to_owned(), false)
    );
    // Nor is the change offered any more.
    let page = desk.ticket_page().await;
    assert!(page.body.contains("First words, corrected"));
    assert!(!page.body.contains(&desk.reply_path(&kept)));
}

#[tokio::test]
async fn an_agent_changes_their_own_reply_in_the_window_and_staff_change_any_reply_at_any_time() {
    let mut desk = desk().await;
    desk.sign_in(Role::Customer).await;
    let from_customer = desk.say("Customer text").await;
    desk.sign_in(Role::Agent).await;
    let edited = desk.say("Agent text").await;
    let deleted = desk.say("Agent text to delete").await;

    desk.app.clock.advance(Duration::minutes(14));
    desk.edit(&edited, "Agent text, take two")
        .await
        .assert_redirect_to(&format!(
            "{}?notice=saved#reply-{edited}",
            desk.ticket_path()
        ));
    assert_eq!(desk.delete(&deleted).await.status, StatusCode::SEE_OTHER);
    assert!(desk.stored(&deleted).await.1);

    // Staff are not held to the window, on their own replies or anyone's.
    desk.app.clock.advance(Duration::minutes(2));
    assert_eq!(
        desk.edit(&edited, "Agent text, take three").await.status,
        StatusCode::SEE_OTHER
    );
    desk.app.clock.advance(Duration::days(3));
    let page = desk.ticket_page().await;
    assert!(
        page.body
            .contains(&format!("{}/edit", desk.reply_path(&from_customer)))
    );
    assert_eq!(desk.edit_page(&from_customer).await.status, StatusCode::OK);
    assert_eq!(
        desk.edit(&from_customer, "Customer text, tidied by the agent")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    desk.sign_in(Role::Admin).await;
    assert_eq!(
        desk.delete(&from_customer).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        desk.stored(&edited).await,
        ("Agent text, take three".to_owned(), false)
    );
    assert_eq!(
        desk.stored(&from_customer).await,
        ("Customer text, tidied by the agent".to_owned(), true)
    );
}

#[tokio::test]
async fn a_customer_cannot_change_an_agents_reply_and_is_offered_no_edit_link() {
    let mut desk = desk().await;
    desk.sign_in(Role::Agent).await;
    let answer = desk.say("Have you tried turning it off?").await;

    desk.sign_in(Role::Customer).await;
    let page = desk.ticket_page().await;
    assert!(page.body.contains("Have you tried turning it off?"));
    assert!(!page.body.contains(&desk.reply_path(&answer)));

    for response in [
        desk.edit_page(&answer).await,
        desk.edit(&answer, "Agent is wrong").await,
        desk.delete(&answer).await,
    ] {
        assert_eq!(response.status, StatusCode::CONFLICT);
    }
    assert_eq!(
        desk.stored(&answer).await,
        ("Have you tried turning it off?".to_owned(), false)
    );
}

#[tokio::test]
async fn every_edit_and_delete_keeps_the_earlier_text() {
    let mut desk = desk().await;
    desk.sign_in(Role::Customer).await;
    let id = desk.say("Version one").await;
    // An empty edit is refused at the text box and keeps nothing.
    let empty = desk.edit(&id, "   ").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("aria-describedby=\"body-error\""));
    assert!(empty.body.contains("Write something before sending."));
    desk.app.clock.advance(Duration::minutes(1));
    assert_eq!(
        desk.edit(&id, "Version two").await.status,
        StatusCode::SEE_OTHER
    );
    // Customers edit without seeing the history.
    let form = desk.edit_page(&id).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(!form.body.contains("Earlier versions"));
    assert!(!form.body.contains("Version one"));

    desk.sign_in(Role::Agent).await;
    desk.app.clock.advance(Duration::minutes(1));
    assert_eq!(
        desk.edit(&id, "Version three").await.status,
        StatusCode::SEE_OTHER
    );
    let form = desk.edit_page(&id).await;
    assert_eq!(form.status, StatusCode::OK);
    let earlier = form
        .body
        .split_once("Earlier versions")
        .map(|(_, list)| list)
        .expect("staff see the earlier versions");
    let one = earlier.find("Version one").expect("version one is listed");
    let two = earlier.find("Version two").expect("version two is listed");
    assert!(one < two, "oldest first");
    assert!(earlier.contains("edited by Customer of acme"));
    assert!(earlier.contains("edited by Agent of acme"));
    assert!(
        !earlier.contains("Version three"),
        "the current text is the form's"
    );

    desk.app.clock.advance(Duration::minutes(1));
    assert_eq!(desk.delete(&id).await.status, StatusCode::SEE_OTHER);
    let revisions = sqlx::query_as::<_, (String, String, uuid::Uuid)>(
        "select body, change, changed_by from reply_revisions \
          where reply_id = $1 order by changed_at, id",
    )
    .bind(uuid::Uuid::parse_str(&id).unwrap())
    .fetch_all(desk.app.db.pool())
    .await
    .unwrap();
    let revision =
        |body: &str, change: &str, by: &User| (body.to_owned(), change.to_owned(), by.id.0);
    assert_eq!(
        revisions,
        [
            revision("Version one", "edited", &desk.customer),
            revision("Version two", "edited", &desk.agent),
            revision("Version three", "deleted", &desk.agent),
        ]
    );
    // The reply itself keeps its last text: the delete is soft.
    assert_eq!(desk.stored(&id).await, ("Version three".to_owned(), true));
}

#[tokio::test]
async fn a_deleted_reply_shows_staff_who_deleted_it_and_customers_nothing() {
    let mut desk = desk().await;
    desk.sign_in(Role::Customer).await;
    let regretted = desk.say("Please ignore my rant").await;
    let kept = desk.say("Kept message").await;
    desk.sign_in(Role::Agent).await;
    let retracted = desk.say("Wrong ticket, sorry").await;

    // Before the delete the reply's words find the ticket.
    let search = desk.app.get("/acme/tickets?q=rant").await;
    assert!(search.body.contains("Printer on fire"));

    assert_eq!(desk.delete(&retracted).await.status, StatusCode::SEE_OTHER);
    desk.sign_in(Role::Customer).await;
    assert_eq!(desk.delete(&regretted).await.status, StatusCode::SEE_OTHER);

    let page = desk.ticket_page().await;
    assert!(page.body.contains("Kept message"));
    for hidden in [
        "Please ignore my rant",
        "Wrong ticket, sorry",
        "Reply deleted",
        &regretted,
        &retracted,
    ] {
        assert!(!page.body.contains(hidden), "the customer sees {hidden:?}");
    }
    let search = desk.app.get("/acme/tickets?q=rant").await;
    assert_eq!(search.status, StatusCode::OK);
    assert!(
        !search.body.contains("Printer on fire"),
        "deleted text is not searchable"
    );

    desk.sign_in(Role::Agent).await;
    let page = desk.ticket_page().await;
    assert!(page.body.contains("Reply deleted by Customer of acme"));
    assert!(page.body.contains("Reply deleted by Agent of acme"));
    assert!(!page.body.contains("Please ignore my rant"));
    assert!(!page.body.contains("Wrong ticket, sorry"));

    // Whoever deleted a reply is named, also when they wrote none of them.
    desk.sign_in(Role::Admin).await;
    assert_eq!(desk.delete(&kept).await.status, StatusCode::SEE_OTHER);
    let page = desk.ticket_page().await;
    assert!(
        page.body.contains("Reply deleted by Admin of acme"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn internal_notes_are_shown_to_staff_only() {
    let mut desk = desk().await;
    desk.sign_in(Role::Agent).await;
    let note = desk
        .reply(&[
            ("body", "Customer is on the legacy plan"),
            ("internal", "1"),
            ("action", "send"),
        ])
        .await;
    assert!(
        note.location()
            .is_some_and(|l| l.contains("?notice=note_added#reply-"))
    );
    let note = reply_id(&note);

    let page = desk.ticket_page().await;
    assert!(page.body.contains("Customer is on the legacy plan"));
    assert!(page.body.contains(&format!(
        "<li id=\"reply-{note}\" class=\"reply note staff\">"
    )));
    assert!(
        page.body
            .contains("<span class=\"badge badge-note\">Internal note</span>")
    );
    let activity = desk
        .app
        .get(&format!("{}/activity", desk.ticket_path()))
        .await;
    assert!(activity.body.contains("added an internal note"));
    // Changing and deleting a note is as private as writing one.
    let draft = reply_id(
        &desk
            .reply(&[("body", "Draft: call them tomorrow"), ("internal", "1")])
            .await,
    );
    assert_eq!(
        desk.edit(&draft, "Draft: call them Friday").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(desk.delete(&draft).await.status, StatusCode::SEE_OTHER);
    let activity = desk
        .app
        .get(&format!("{}/activity", desk.ticket_path()))
        .await;
    assert!(activity.body.contains("edited an internal note"));
    assert!(activity.body.contains("deleted an internal note"));

    desk.sign_in(Role::Customer).await;
    let pages = [
        desk.ticket_path(),
        format!("{}/activity", desk.ticket_path()),
        "/acme/tickets".to_owned(),
        "/acme/tickets?q=legacy".to_owned(),
    ];
    for path in pages {
        let page = desk.app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        for hidden in [
            "legacy plan",
            "call them",
            "internal note",
            "edited a reply",
            "deleted a reply",
            &note,
            &draft,
        ] {
            assert!(
                !page.body.to_lowercase().contains(hidden),
                "{path} shows the customer {hidden:?}"
            );
        }
    }
    // The note's words do not find the ticket for the customer.
    let search = desk.app.get("/acme/tickets?q=legacy").await;
    assert!(!search.body.contains("Printer on fire"));
}

#[tokio::test]
async fn a_customer_asking_for_an_internal_note_writes_a_public_reply() {
    let mut desk = desk().await;
    desk.sign_in(Role::Customer).await;
    let response = desk
        .reply(&[
            ("body", "Is this private?"),
            ("internal", "1"),
            ("action", "send"),
        ])
        .await;
    assert!(
        response
            .location()
            .is_some_and(|l| l.contains("?notice=reply_sent#reply-"))
    );
    let id = reply_id(&response);
    let internal: bool = sqlx::query_scalar("select internal from replies where id = $1")
        .bind(uuid::Uuid::parse_str(&id).unwrap())
        .fetch_one(desk.app.db.pool())
        .await
        .unwrap();
    assert!(!internal);
    assert!(desk.ticket_page().await.body.contains("Is this private?"));

    desk.sign_in(Role::Agent).await;
    let page = desk.ticket_page().await;
    assert!(
        page.body
            .contains(&format!("<li id=\"reply-{id}\" class=\"reply\">"))
    );
    assert!(!page.body.contains("Internal note</span>"));
}

#[tokio::test]
async fn a_note_leaves_the_last_reply_alone_and_a_public_reply_moves_it() {
    let mut desk = desk().await;
    desk.sign_in(Role::Agent).await;
    let last_reply = |body: &str| {
        body.split("<tbody>")
            .nth(1)
            .and_then(|rows| rows.split("</tr>").next())
            .and_then(|row| row.rsplit("<td>").next())
            .and_then(|cell| cell.split("</td>").next())
            .map(str::to_owned)
            .expect("a ticket row")
    };
    let list = desk.app.get("/acme/tickets").await;
    assert_eq!(last_reply(&list.body), "No replies");

    desk.app.clock.advance(Duration::minutes(5));
    desk.reply(&[("body", "Just a note"), ("internal", "1")])
        .await;
    let list = desk.app.get("/acme/tickets").await;
    assert_eq!(last_reply(&list.body), "No replies");
    desk.sign_in(Role::Customer).await;
    let list = desk.app.get("/acme/tickets").await;
    assert_eq!(last_reply(&list.body), "No replies");

    desk.sign_in(Role::Agent).await;
    desk.app.clock.advance(Duration::minutes(5));
    desk.say("A real answer").await;
    let list = desk.app.get("/acme/tickets").await;
    let cell = last_reply(&list.body);
    assert!(cell.ends_with(" by Agent of acme"), "{cell}");
    let last_reply_at: time::OffsetDateTime =
        sqlx::query_scalar("select last_reply_at from tickets where number = $1")
            .bind(desk.number)
            .fetch_one(desk.app.db.pool())
            .await
            .unwrap();
    assert_eq!(last_reply_at, desk.app.clock.now());
}

#[tokio::test]
async fn an_empty_reply_is_refused_at_the_reply_box_and_nothing_is_saved() {
    let mut desk = desk().await;
    desk.sign_in(Role::Customer).await;
    let response = desk
        .reply(&[("body", "  \r\n  "), ("action", "send")])
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .body
            .contains("aria-invalid=\"true\" aria-describedby=\"body-error\"")
    );
    assert!(response.body.contains(
        "<p class=\"field-error\" id=\"body-error\" role=\"alert\">Write something before sending.</p>"
    ));
    assert_eq!(desk.reply_count().await, 0);

    desk.sign_in(Role::Agent).await;
    let note = desk.reply(&[("body", ""), ("internal", "1")]).await;
    assert_eq!(note.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(note.body.contains("id=\"body-error\""));
    assert_eq!(desk.reply_count().await, 0);
    let events: i64 = sqlx::query_scalar(
        "select count(*) from ticket_events where kind in ('reply_added', 'note_added')",
    )
    .fetch_one(desk.app.db.pool())
    .await
    .unwrap();
    assert_eq!(events, 0);
}

#[tokio::test]
async fn send_and_resolve_resolves_the_ticket_when_an_agent_sends_it_only() {
    let mut desk = desk().await;
    desk.sign_in(Role::Customer).await;
    let before = desk.status_category().await;
    let response = desk
        .reply(&[("body", "Please close this"), ("action", "resolve")])
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(desk.status_category().await, before);

    desk.sign_in(Role::Agent).await;
    let response = desk
        .reply(&[("body", "Fixed it for you"), ("action", "resolve")])
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(desk.status_category().await, "resolved");
    let page = desk.ticket_page().await;
    assert!(page.body.contains("<span class=\"badge badge-resolved\">"));
}

#[tokio::test]
async fn markdown_in_replies_shows_html_as_text_and_links_as_nofollow() {
    let mut desk = desk().await;
    desk.sign_in(Role::Customer).await;
    desk.say(
        "<script>alert('x')</script>\n\nIs <b>bold?</b> in [the docs](https://docs.example.test/help)?",
    )
    .await;
    desk.sign_in(Role::Agent).await;
    let page = desk.ticket_page().await;
    assert!(page.body.contains("&lt;script&gt;alert("), "{}", page.body);
    assert!(page.body.contains("&lt;b&gt;bold?&lt;/b&gt;"));
    assert!(!page.body.contains("<script>alert"));
    assert!(!page.body.contains("<b>bold?</b>"));
    let reply = page
        .body
        .split("&lt;script&gt;")
        .nth(1)
        .and_then(|rest| rest.split("</div>").next())
        .expect("the reply's markdown");
    assert!(
        reply.contains(
            "<a href=\"https://docs.example.test/help\" rel=\"nofollow noopener noreferrer\">the docs</a>"
        ),
        "{reply}"
    );
}

#[tokio::test]
async fn an_internal_note_does_not_make_the_customers_open_edit_form_stale() {
    let mut desk = desk().await;
    desk.sign_in(Role::Customer).await;
    let form = desk.app.get(&format!("{}/edit", desk.ticket_path())).await;
    assert_eq!(form.status, StatusCode::OK);
    let hidden = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = form.body.find(&marker).expect("a hidden field") + marker.len();
        form.body[start..]
            .split('"')
            .next()
            .expect("a value")
            .to_owned()
    };
    let (version, loaded_at) = (hidden("version"), hidden("loaded_at"));

    desk.sign_in(Role::Agent).await;
    desk.app.clock.advance(Duration::minutes(1));
    desk.reply(&[("body", "Escalate if it burns again"), ("internal", "1")])
        .await;

    // The customer cannot see the note, so nothing changed for them.
    desk.sign_in(Role::Customer).await;
    desk.app.clock.advance(Duration::minutes(1));
    let saved = answer!(
        desk.app
            .post_form(
                &desk.ticket_path(),
                &[
                    ("subject", "Printer on fire, still"),
                    ("description", "Smoke everywhere."),
                    ("version", &version),
                    ("loaded_at", &loaded_at),
                ],
            )
            .await
    );
    saved.assert_redirect_to(&format!("{}?notice=saved", desk.ticket_path()));
}

#[tokio::test]
async fn send_and_mark_waiting_on_a_resolved_ticket_reopens_it_as_an_edit_would() {
    let mut desk = desk().await;
    desk.sign_in(Role::Agent).await;
    desk.reply(&[("body", "Fixed, I think"), ("action", "resolve")])
        .await;
    desk.app.clock.advance(Duration::hours(2));
    desk.reply(&[("body", "Could you check again?"), ("action", "waiting")])
        .await;

    assert_eq!(desk.status_category().await, "waiting");
    let (resolved_at, reopened): (Option<time::OffsetDateTime>, bool) =
        sqlx::query_as("select resolved_at, reopened from tickets where number = $1")
            .bind(desk.number)
            .fetch_one(desk.app.db.pool())
            .await
            .unwrap();
    assert_eq!(resolved_at, None, "a waiting ticket is not resolved");
    assert!(reopened);
    assert!(
        desk.ticket_page()
            .await
            .body
            .contains("<span class=\"badge badge-reopened\">Reopened</span>")
    );
}
