//! Email notifications, end to end: actions through HTTP write outbox rows, the
//! worker's `run_once` delivers them over real SMTP to an in-process SMTP sink
//! (mailin-embedded on 127.0.0.1), and the tests read what arrived.

use crate::{
    helpers::TestApp,
    tickets::{add_user, create_direct, sign_in_as, subject},
};
use axum::http::StatusCode;
use figment::{Figment, providers::Serialized};
use mailin_embedded::{Handler, Response, Server, response};
use std::{
    collections::BTreeSet,
    net::TcpListener,
    sync::{Arc, Mutex},
};
use tessera::{
    auth::model::Role,
    config::Config,
    db::TenantId,
    email::{
        outbox::{self, NewEmail},
        worker::{Report, Worker},
    },
    tickets::service::set_following,
};
use time::Duration;

/// One message as the sink received it: the envelope recipients and the text.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    to: Vec<String>,
    raw: Vec<u8>,
}

/// What the tests look at in a received message.
#[derive(Debug)]
pub(crate) struct Mail {
    pub(crate) to: Vec<String>,
    pub(crate) from_name: String,
    pub(crate) subject: String,
    pub(crate) message_id: String,
    pub(crate) in_reply_to: String,
    pub(crate) references: String,
    pub(crate) reply_to: String,
    pub(crate) list_unsubscribe: String,
    pub(crate) text: String,
    pub(crate) html: String,
}

impl Mail {
    /// The Message-ID as it goes in In-Reply-To and References.
    pub(crate) fn message_id_bracketed(&self) -> String {
        format!("<{}>", self.message_id)
    }
}

impl Received {
    fn parse(&self) -> Mail {
        let message = mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("a parsable message");
        let header = |value: &mail_parser::HeaderValue| {
            value
                .as_text()
                .map(str::to_owned)
                .or_else(|| value.as_text_list().map(|list| list.join(" ")))
                .unwrap_or_default()
        };
        Mail {
            to: self.to.clone(),
            from_name: message
                .from()
                .and_then(|a| a.first())
                .and_then(|a| a.name())
                .unwrap_or_default()
                .to_owned(),
            subject: message.subject().unwrap_or_default().to_owned(),
            message_id: message.message_id().unwrap_or_default().to_owned(),
            in_reply_to: header(message.in_reply_to()),
            references: header(message.references()),
            reply_to: message
                .reply_to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_owned(),
            list_unsubscribe: message
                .header_raw("List-Unsubscribe")
                .unwrap_or_default()
                .trim()
                .to_owned(),
            text: message.body_text(0).unwrap_or_default().into_owned(),
            html: message.body_html(0).unwrap_or_default().into_owned(),
        }
    }
}

/// The sink's per-connection state; received messages go to the shared list.
#[derive(Clone)]
struct SinkHandler {
    received: Arc<Mutex<Vec<Received>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for SinkHandler {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.received.lock().unwrap().push(Received {
            to: std::mem::take(&mut self.to),
            raw: std::mem::take(&mut self.data),
        });
        response::OK
    }
}

/// An SMTP server on 127.0.0.1 that keeps what it receives. Its thread lives as
/// long as the test process.
pub(crate) struct Sink {
    pub(crate) port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Sink {
    pub(crate) fn start() -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    pub(crate) fn start_on(listener: TcpListener) -> Self {
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let mut server = Server::new(SinkHandler {
            received: received.clone(),
            to: Vec::new(),
            data: Vec::new(),
        });
        server.with_name("sink.test").with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Self { port, received }
    }

    pub(crate) fn mails(&self) -> Vec<Mail> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(Received::parse)
            .collect()
    }

    pub(crate) fn clear(&self) {
        self.received.lock().unwrap().clear();
    }
}

/// A port nothing listens on (until a test starts a sink on it).
pub(crate) fn dead_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Configuration sending mail over plain SMTP to 127.0.0.1:`port`.
pub(crate) fn smtp_config(port: u16) -> Figment {
    Config::defaults()
        .merge(Serialized::default("smtp.host", "127.0.0.1"))
        .merge(Serialized::default("smtp.port", port))
        .merge(Serialized::default("smtp.security", "plain"))
}

pub(crate) fn worker(app: &TestApp) -> Worker {
    Worker::from_config(
        app.db.clone(),
        &app.state.config,
        app.clock.clone(),
        app.state.secret_bytes(),
    )
    .unwrap()
}

/// Delivers what is due and returns what the worker did.
pub(crate) async fn deliver(app: &TestApp) -> Report {
    worker(app).run_once().await.unwrap()
}

pub(crate) fn recipients(mails: &[Mail]) -> BTreeSet<String> {
    mails.iter().flat_map(|m| m.to.iter().cloned()).collect()
}

/// (status, attempts, next_attempt_at, last_error) of every outbox row, oldest first.
async fn outbox_rows(app: &TestApp) -> Vec<(String, i32, time::OffsetDateTime, Option<String>)> {
    sqlx::query_as(
        "select status, attempts, next_attempt_at, last_error from email_outbox \
          order by created_at, id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

pub(crate) async fn ticket_id(app: &TestApp, tenant: TenantId, number: i64) -> uuid::Uuid {
    sqlx::query_scalar("select id from tickets where tenant_id = $1 and number = $2")
        .bind(tenant)
        .bind(number)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_customers_new_ticket_sends_them_a_confirmation_with_the_number_and_thread_headers() {
    let sink = Sink::start();
    let mut app = TestApp::with_config(smtp_config(sink.port)).await;
    let acme = app.create_tenant("acme").await;
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    app.get("/acme/tickets/new").await;
    app.post_form(
        "/acme/tickets",
        &[
            ("subject", "The export button does nothing"),
            ("description", "Clicking **Export** does nothing."),
        ],
    )
    .await
    .assert_redirect_to("/acme/tickets/1?notice=created");

    // Nothing is sent inside the request: the row waits for the worker.
    assert!(sink.mails().is_empty());
    assert_eq!(outbox_rows(&app).await.len(), 1);
    let report = deliver(&app).await;
    assert_eq!(report.sent, 1, "{report:?}");

    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["customer@acme.test".to_owned()]);
    assert_eq!(mail.subject, "[TKT-000001] The export button does nothing");
    assert_eq!(mail.from_name, "acme support");
    let thread = format!(
        "ticket-{}@acme.tessera",
        ticket_id(&app, acme.tenant.id, 1).await
    );
    assert!(
        mail.message_id.ends_with("@acme.tessera"),
        "{}",
        mail.message_id
    );
    assert_ne!(mail.message_id, thread);
    assert_eq!(mail.in_reply_to, thread);
    assert!(mail.references.contains(&thread), "{}", mail.references);
    assert!(mail.text.contains("TKT-000001"), "{}", mail.text);
    assert!(
        mail.text.contains("http://127.0.0.1:8080/acme/tickets/1"),
        "{}",
        mail.text
    );
    assert!(
        mail.html
            .contains("href=\"http://127.0.0.1:8080/acme/tickets/1\""),
        "{}",
        mail.html
    );
    assert!(
        mail.html.contains("<strong>Export</strong>"),
        "{}",
        mail.html
    );
    assert!(!mail.text.contains('\u{E000}') && !mail.html.contains('\u{E000}'));
    let raw = String::from_utf8_lossy(&sink.received.lock().unwrap()[0].raw).into_owned();
    assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");

    let rows = outbox_rows(&app).await;
    assert_eq!(rows[0].0, "sent");
    assert_eq!(rows[0].1, 1);
    // Delivered once: another run finds nothing.
    assert_eq!(deliver(&app).await, Report::default());
    assert_eq!(sink.mails().len(), 1);
}

/// A new ticket's messages are stored before its number is taken and get it
/// from the numbering statement: six digits padded, and past 999999 all of them.
#[tokio::test]
async fn a_new_tickets_mail_prints_the_number_its_create_took_past_six_digits_too() {
    let sink = Sink::start();
    let mut app = TestApp::with_config(smtp_config(sink.port)).await;
    let acme = app.create_tenant("acme").await;
    sqlx::query(
        "insert into ticket_counters (tenant_id, next_number) values ($1, 999999) \
         on conflict (tenant_id) do update set next_number = excluded.next_number",
    )
    .bind(acme.tenant.id)
    .execute(app.db.pool())
    .await
    .unwrap();
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    app.get("/acme/tickets/new").await;
    for (subject, number) in [("Six digits", 999_999), ("Seven digits", 1_000_000)] {
        app.post_form(
            "/acme/tickets",
            &[("subject", subject), ("description", "Numbers, please.")],
        )
        .await
        .assert_redirect_to(&format!("/acme/tickets/{number}?notice=created"));
    }
    assert_eq!(deliver(&app).await.sent, 2);

    let mut mails = sink.mails();
    mails.sort_by(|a, b| b.subject.cmp(&a.subject));
    let shown: Vec<_> = mails.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(
        shown,
        ["[TKT-999999] Six digits", "[TKT-1000000] Seven digits"]
    );
    for (mail, number) in mails.iter().zip([999_999, 1_000_000]) {
        let link = format!("http://127.0.0.1:8080/acme/tickets/{number}");
        assert!(mail.text.contains(&link), "{}", mail.text);
        assert!(
            mail.html.contains(&format!("href=\"{link}\"")),
            "{}",
            mail.html
        );
        assert!(!mail.text.contains('\u{E000}') && !mail.html.contains('\u{E000}'));
    }
}

#[tokio::test]
async fn an_agents_reply_reaches_every_follower_but_the_agent_and_no_deactivated_user() {
    let sink = Sink::start();
    let mut app = TestApp::with_config(smtp_config(sink.port)).await;
    let acme = app.create_tenant("acme").await;
    let second = add_user(
        &app,
        acme.tenant.id,
        "second@acme.test",
        "Second Agent",
        Role::Agent,
    )
    .await;
    let gone = add_user(
        &app,
        acme.tenant.id,
        "gone@acme.test",
        "Gone Agent",
        Role::Agent,
    )
    .await;
    let number = create_direct(&app, &acme.customer, subject("Printer on fire")).await;
    for follower in [&second, &gone, &acme.admin] {
        set_following(&app.db, &app.clock, follower, number, true)
            .await
            .unwrap();
    }
    sqlx::query("update users set active = false where tenant_id = $1 and id = $2")
        .bind(acme.tenant.id)
        .bind(gone.id)
        .execute(app.db.pool())
        .await
        .unwrap();
    deliver(&app).await;
    sink.clear();

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    app.get(&format!("/acme/tickets/{number}")).await;
    let sent = app
        .post_form(
            &format!("/acme/tickets/{number}/replies"),
            &[("body", "We are on it: *unplug it*."), ("action", "send")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(deliver(&app).await.sent, 3);

    let mails = sink.mails();
    assert_eq!(
        recipients(&mails),
        BTreeSet::from([
            "admin@acme.test".to_owned(),
            "customer@acme.test".to_owned(),
            "second@acme.test".to_owned(),
        ]),
        "never the author (agent@), never the deactivated follower (gone@)"
    );
    let thread = format!(
        "ticket-{}@acme.tessera",
        ticket_id(&app, acme.tenant.id, number).await
    );
    let ids: BTreeSet<_> = mails.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(ids.len(), 3, "each message has its own Message-ID");
    for mail in &mails {
        assert_eq!(mail.subject, "[TKT-000001] Printer on fire");
        assert_eq!(mail.in_reply_to, thread);
        assert!(mail.text.contains("Agent of acme replied"), "{}", mail.text);
        assert!(
            mail.text.contains("We are on it: *unplug it*."),
            "{}",
            mail.text
        );
        assert!(mail.html.contains("<em>unplug it</em>"), "{}", mail.html);
    }

    // The customer answers: the agent (now a follower) hears of it, the customer does not.
    sink.clear();
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    app.get(&format!("/acme/tickets/{number}")).await;
    app.post_form(
        &format!("/acme/tickets/{number}/replies"),
        &[("body", "Unplugged. Still smoking.")],
    )
    .await;
    deliver(&app).await;
    let to = recipients(&sink.mails());
    assert!(to.contains("agent@acme.test"), "{to:?}");
    assert!(!to.contains("customer@acme.test"), "{to:?}");
}

#[tokio::test]
async fn an_internal_note_reaches_staff_followers_only_and_never_the_customer() {
    let sink = Sink::start();
    let mut app = TestApp::with_config(smtp_config(sink.port)).await;
    let acme = app.create_tenant("acme").await;
    let number = create_direct(&app, &acme.customer, subject("Refund please")).await;
    set_following(&app.db, &app.clock, &acme.admin, number, true)
        .await
        .unwrap();
    deliver(&app).await;
    sink.clear();

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    app.get(&format!("/acme/tickets/{number}")).await;
    let note = "Customer is on the watch list, check the last three refunds.";
    let sent = app
        .post_form(
            &format!("/acme/tickets/{number}/replies"),
            &[("body", note), ("internal", "1"), ("action", "send")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    deliver(&app).await;

    let mails = sink.mails();
    assert_eq!(
        recipients(&mails),
        BTreeSet::from(["admin@acme.test".to_owned()])
    );
    assert!(mails[0].text.contains("internal note"), "{}", mails[0].text);
    assert!(mails[0].text.contains(note));
    // Nothing that reached the customer, ever, carries the note.
    let stored: Vec<(String, String, String)> =
        sqlx::query_as("select recipient_email, body_text, body_html from email_outbox")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    for (to, text, html) in stored
        .iter()
        .filter(|(to, _, _)| to == "customer@acme.test")
    {
        assert!(
            !text.contains("watch list") && !html.contains("watch list"),
            "{to}: {text}"
        );
    }
}

#[tokio::test]
async fn status_priority_and_assignment_changes_notify_followers_and_the_new_assignee() {
    let sink = Sink::start();
    let app = TestApp::with_config(smtp_config(sink.port)).await;
    let acme = app.create_tenant("acme").await;
    let number = create_direct(&app, &acme.customer, subject("VPN drops")).await;
    deliver(&app).await;
    sink.clear();

    let resolved =
        crate::tickets::option_id(&app, acme.tenant.id, "ticket_statuses", "Resolved").await;
    let agent = acme.agent.id.to_string();
    crate::tickets::change_direct(&app, &acme.admin, number, |input| {
        input.status = resolved.clone();
        input.assignee = agent.clone();
    })
    .await;
    deliver(&app).await;
    let mails = sink.mails();
    assert_eq!(
        recipients(&mails),
        BTreeSet::from([
            "agent@acme.test".to_owned(),
            "customer@acme.test".to_owned()
        ]),
        "never the admin who made the change"
    );
    let to_agent = mails.iter().find(|m| m.to[0] == "agent@acme.test").unwrap();
    assert!(
        to_agent.text.contains("assigned TKT-000001 to you"),
        "{}",
        to_agent.text
    );
    let to_customer = mails
        .iter()
        .find(|m| m.to[0] == "customer@acme.test")
        .unwrap();
    assert!(
        to_customer.text.contains("Status: New -> Resolved"),
        "{}",
        to_customer.text
    );
    assert!(
        !to_customer.text.contains("assigned"),
        "{}",
        to_customer.text
    );
}

#[tokio::test]
async fn with_smtp_down_mail_waits_with_backoff_and_is_delivered_once_when_it_is_back() {
    let port = dead_port();
    let app = TestApp::with_config(smtp_config(port)).await;
    let acme = app.create_tenant("acme").await;
    create_direct(&app, &acme.customer, subject("Nothing works")).await;

    let report = deliver(&app).await;
    assert_eq!(report.retrying, 1, "{report:?}");
    let rows = outbox_rows(&app).await;
    let (status, attempts, next_attempt_at, last_error) = &rows[0];
    assert_eq!(status, "pending");
    assert_eq!(*attempts, 1);
    assert!(
        *next_attempt_at > app.clock.now(),
        "backs off: {next_attempt_at}"
    );
    assert!(last_error.is_some());
    // Not due yet: the next run leaves it alone.
    assert_eq!(deliver(&app).await, Report::default());

    // The server comes back; once the row is due it is delivered, once.
    let sink = Sink::start_on(TcpListener::bind(("127.0.0.1", port)).unwrap());
    assert_eq!(deliver(&app).await, Report::default());
    app.clock.advance(Duration::hours(1));
    assert_eq!(deliver(&app).await.sent, 1);
    assert_eq!(deliver(&app).await, Report::default());
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject, "[TKT-000001] Nothing works");
    let rows = outbox_rows(&app).await;
    assert_eq!((rows[0].0.as_str(), rows[0].1), ("sent", 2));
}

#[tokio::test]
async fn a_server_that_stops_answering_mid_conversation_fails_the_attempt_in_time() {
    // Greets, then reads and never answers: the worker must give up on the
    // message (lettre's own timeout bounds only the connect) and go on.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            tokio::io::AsyncWriteExt::write_all(&mut socket, b"220 hang ESMTP\r\n")
                .await
                .unwrap();
            held.push(socket);
        }
    });
    let app = TestApp::with_config(smtp_config(port)).await;
    let acme = app.create_tenant("acme").await;
    create_direct(&app, &acme.customer, subject("Nothing works")).await;

    let report = tokio::time::timeout(std::time::Duration::from_secs(90), deliver(&app))
        .await
        .expect("the worker must give up on a silent server, not wait for it");
    assert_eq!(report.retrying, 1, "{report:?}");
    let rows = outbox_rows(&app).await;
    let (status, attempts, _, last_error) = &rows[0];
    assert_eq!((status.as_str(), *attempts), ("pending", 1));
    assert!(
        last_error
            .as_deref()
            .is_some_and(|e| e.contains("did not answer in time")),
        "{last_error:?}"
    );
    server.abort();
}

#[tokio::test]
async fn after_max_attempts_a_message_is_marked_failed_with_the_last_error() {
    let config = smtp_config(dead_port()).merge(Serialized::default("smtp.max_attempts", 3));
    let app = TestApp::with_config(config).await;
    let acme = app.create_tenant("acme").await;
    create_direct(&app, &acme.customer, subject("Nothing works")).await;

    for attempt in 1..=3 {
        let report = deliver(&app).await;
        let expected = if attempt < 3 {
            Report {
                retrying: 1,
                ..Report::default()
            }
        } else {
            Report {
                failed: 1,
                ..Report::default()
            }
        };
        assert_eq!(report, expected, "attempt {attempt}");
        app.clock.advance(Duration::hours(7));
    }
    let rows = outbox_rows(&app).await;
    let (status, attempts, _, last_error) = &rows[0];
    assert_eq!((status.as_str(), *attempts), ("failed", 3));
    assert!(!last_error.as_deref().unwrap_or_default().is_empty());
    // A failed message is never picked up again.
    app.clock.advance(Duration::days(30));
    assert_eq!(deliver(&app).await, Report::default());
}

#[tokio::test]
async fn two_workers_at_once_never_send_a_message_twice() {
    let sink = Sink::start();
    let app = TestApp::with_config(smtp_config(sink.port)).await;
    let acme = app.create_tenant("acme").await;
    let beta = app.create_tenant("beta").await;
    for i in 0..12 {
        let actor = if i % 2 == 0 {
            &acme.customer
        } else {
            &beta.customer
        };
        create_direct(&app, actor, subject(&format!("Ticket {i}"))).await;
    }

    let (one, two) = (worker(&app), worker(&app));
    let (a, b) = tokio::join!(one.run_once(), two.run_once());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 12, "{a:?} {b:?}");
    let mails = sink.mails();
    assert_eq!(mails.len(), 12);
    let ids: BTreeSet<_> = mails.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(ids.len(), 12, "no message arrived twice");
    // One worker role delivers every tenant's mail.
    assert_eq!(
        recipients(&mails),
        BTreeSet::from([
            "customer@acme.test".to_owned(),
            "customer@beta.test".to_owned()
        ])
    );
    assert_eq!(deliver(&app).await, Report::default());
}

#[tokio::test]
async fn an_action_that_fails_or_rolls_back_leaves_no_mail() {
    let sink = Sink::start();
    let mut app = TestApp::with_config(smtp_config(sink.port)).await;
    let acme = app.create_tenant("acme").await;

    // A create that fails validation writes nothing.
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    app.get("/acme/tickets/new").await;
    let refused = app
        .post_form(
            "/acme/tickets",
            &[("subject", ""), ("description", "no subject")],
        )
        .await;
    assert_ne!(refused.status, StatusCode::SEE_OTHER);
    assert!(outbox_rows(&app).await.is_empty());

    // A row enqueued in a transaction that rolls back is gone with it.
    let mut tx = app.db.tenant_tx(acme.tenant.id).await.unwrap();
    let email = NewEmail {
        recipient_user_id: Some(acme.customer.id),
        recipient_email: acme.customer.email.clone(),
        recipient_name: acme.customer.name.clone(),
        from_name: "acme support".into(),
        template: "ticket_created",
        ticket_id: None,
        subject: "never".into(),
        body_text: "never".into(),
        body_html: "<p>never</p>".into(),
        message_id: "<never@acme.tessera>".into(),
        in_reply_to: None,
        references: None,
        idempotency_key: "test:rollback".into(),
        unsubscribe_path: None,
    };
    assert!(
        outbox::enqueue(&mut tx, &email, app.clock.now())
            .await
            .unwrap()
    );
    // The same cause again is not a second row.
    assert!(
        !outbox::enqueue(&mut tx, &email, app.clock.now())
            .await
            .unwrap()
    );
    drop(tx);
    assert!(outbox_rows(&app).await.is_empty());
    assert_eq!(deliver(&app).await, Report::default());
    assert!(sink.mails().is_empty());
}

#[tokio::test]
async fn a_tenant_sees_only_its_own_outbox_rows() {
    let app = TestApp::with_config(smtp_config(dead_port())).await;
    let acme = app.create_tenant("acme").await;
    let beta = app.create_tenant("beta").await;
    create_direct(&app, &acme.customer, subject("Acme's")).await;
    create_direct(&app, &beta.customer, subject("Beta's")).await;

    let mut tx = app.db.tenant_tx(acme.tenant.id).await.unwrap();
    let subjects: Vec<String> = sqlx::query_scalar("select subject from email_outbox")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(subjects, vec!["[TKT-000001] Acme's".to_owned()]);
}

#[tokio::test]
async fn without_an_smtp_host_mail_is_written_as_eml_files_in_the_data_directory() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("email-{}", uuid::Uuid::new_v4()));
    let config = Config::defaults().merge(Serialized::default("server.data_dir", &dir));
    let app = TestApp::with_config(config).await;
    let acme = app.create_tenant("acme").await;
    create_direct(&app, &acme.customer, subject("Where is my mail")).await;
    assert_eq!(deliver(&app).await.sent, 1);

    let files: Vec<_> = std::fs::read_dir(dir.join("outbox"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let raw = std::fs::read(&files[0]).unwrap();
    let mail = Received {
        to: Vec::new(),
        raw,
    }
    .parse();
    assert_eq!(mail.subject, "[TKT-000001] Where is my mail");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_teams_notification_address_hears_of_every_new_ticket() {
    let sink = Sink::start();
    let mut app = TestApp::with_config(smtp_config(sink.port)).await;
    let acme = app.create_tenant("acme").await;
    sqlx::query("update tenant_settings set notification_email = 'team@acme.test'")
        .execute(app.db.pool())
        .await
        .unwrap();
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    app.get("/acme/tickets/new").await;
    app.post_form("/acme/tickets", &[("subject", "Printer on fire")])
        .await
        .assert_redirect_to("/acme/tickets/1?notice=created");
    deliver(&app).await;
    assert_eq!(
        recipients(&sink.mails()),
        BTreeSet::from(["customer@acme.test".to_owned(), "team@acme.test".to_owned()])
    );
}

#[tokio::test]
async fn reopening_a_closed_ticket_tells_its_followers() {
    let sink = Sink::start();
    let mut app = TestApp::with_config(smtp_config(sink.port)).await;
    let acme = app.create_tenant("acme").await;
    let number = crate::tickets::create_direct(
        &app,
        &acme.customer,
        crate::tickets::subject("Printer jams"),
    )
    .await;
    let agent = acme.agent.id.to_string();
    let closed = crate::tickets::option_id(&app, acme.tenant.id, "ticket_statuses", "Closed").await;
    crate::tickets::change_direct(&app, &acme.admin, number, |input| {
        input.assignee = agent;
        input.status = closed;
    })
    .await;
    deliver(&app).await;
    let before = sink.mails().len();

    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    app.get(&format!("/acme/tickets/{number}")).await;
    app.post_form(&format!("/acme/tickets/{number}/reopen"), &[])
        .await
        .assert_redirect_to(&format!("/acme/tickets/{number}?notice=reopened"));
    deliver(&app).await;
    let mails = sink.mails();
    let new: Vec<&Mail> = mails[before..].iter().collect();
    assert!(
        new.iter()
            .any(|m| m.to == vec!["agent@acme.test".to_owned()] && m.text.contains("New")),
        "{new:?}"
    );
    assert!(
        new.iter()
            .all(|m| m.to != vec!["customer@acme.test".to_owned()])
    );
}

#[tokio::test]
async fn the_admin_outbox_lists_failed_mail_and_a_retry_requeues_and_delivers_it() {
    let port = dead_port();
    let config = smtp_config(port).merge(Serialized::default("smtp.max_attempts", 1));
    let mut app = TestApp::with_config(config).await;
    let acme = app.create_tenant("acme").await;
    let beta = app.create_tenant("beta").await;
    create_direct(&app, &acme.customer, subject("Printer <b>jam</b>")).await;
    create_direct(&app, &beta.customer, subject("Beta's secret")).await;
    assert_eq!(deliver(&app).await.failed, 2);

    sign_in_as(&mut app, "acme", "agent@acme.test").await;
    assert_eq!(
        app.get("/acme/admin/outbox").await.status,
        StatusCode::NOT_FOUND
    );

    sign_in_as(&mut app, "acme", "admin@acme.test").await;
    let page = app.get("/acme/admin/outbox").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("customer@acme.test"), "{}", page.body);
    assert!(
        page.body
            .contains("[TKT-000001] Printer &#60;b&#62;jam&#60;/b&#62;")
            || page
                .body
                .contains("[TKT-000001] Printer &lt;b&gt;jam&lt;/b&gt;"),
        "{}",
        page.body
    );
    assert!(page.body.contains("ticket_created"));
    assert!(page.body.contains("Failed"));
    assert!(page.body.contains(">Retry</button>"));
    assert!(
        !page.body.contains("Beta's secret"),
        "another tenant's mail"
    );
    assert!(
        page.body.contains("href=\"/acme/admin/outbox\""),
        "in the settings navigation"
    );

    let id: uuid::Uuid = sqlx::query_scalar("select id from email_outbox where tenant_id = $1")
        .bind(acme.tenant.id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let beta_id: uuid::Uuid =
        sqlx::query_scalar("select id from email_outbox where tenant_id = $1")
            .bind(beta.tenant.id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    // Another tenant's row is not found, and stays failed.
    let response = app
        .post_form("/acme/admin/outbox/retry", &[("id", &beta_id.to_string())])
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);

    app.post_form("/acme/admin/outbox/retry", &[("id", &id.to_string())])
        .await
        .assert_redirect_to("/acme/admin/outbox?notice=saved");
    let statuses: Vec<(String, i32)> =
        sqlx::query_as("select status, attempts from email_outbox order by tenant_id = $1 desc")
            .bind(acme.tenant.id)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        statuses,
        [("pending".to_owned(), 0), ("failed".to_owned(), 1)]
    );
    let audit: (String, String, String) =
        sqlx::query_as("select area, action, subject from admin_audit_log where tenant_id = $1")
            .bind(acme.tenant.id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((audit.0.as_str(), audit.1.as_str()), ("outbox", "retry"));
    assert!(audit.2.contains("customer@acme.test"), "{audit:?}");

    // Retrying again: it is queued already, so the page says why not.
    let again = app
        .post_form("/acme/admin/outbox/retry", &[("id", &id.to_string())])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.body.contains("Only failed messages can be retried"),
        "{}",
        again.body
    );

    let sink = Sink::start_on(TcpListener::bind(("127.0.0.1", port)).unwrap());
    let report = deliver(&app).await;
    assert_eq!(
        report.sent,
        1,
        "{report:?}; outbox: {:?}",
        outbox_rows(&app).await
    );
    assert_eq!(sink.mails().len(), 1);
    let page = app.get("/acme/admin/outbox").await;
    assert!(page.body.contains("<td>Sent</td>"), "{}", page.body);
    assert!(!page.body.contains(">Retry</button>"), "{}", page.body);
}

/// A backlog longer than one batch goes out in one drain (between batches the
/// worker only looks whether it should stop), not a batch per poll.
#[tokio::test]
async fn a_backlog_longer_than_a_batch_goes_out_in_one_drain() {
    let sink = Sink::start();
    let app = TestApp::with_config(smtp_config(sink.port)).await;
    let acme = app.create_tenant("acme").await;
    create_direct(&app, &acme.customer, subject("The first of many")).await;
    // The ticket's mail, 250 more times over (fresh ids and keys).
    sqlx::query(
        "insert into email_outbox \
         select (jsonb_populate_record(null::email_outbox, to_jsonb(o) || jsonb_build_object( \
                   'id', gen_random_uuid(), 'message_id', o.message_id || '.' || n, \
                   'idempotency_key', o.idempotency_key || '.' || n))).* \
           from email_outbox o, generate_series(1, 250) n",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    let total: i64 = sqlx::query_scalar("select count(*) from email_outbox")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(total > 200, "more than two batches: {total}");

    let (_running, stop) = tokio::sync::watch::channel(false);
    let report = worker(&app).drain(&stop).await.unwrap();
    assert_eq!(report.sent as i64, total, "{report:?}");
    assert_eq!(sink.mails().len() as i64, total);
    assert_eq!(deliver(&app).await, Report::default());
}
