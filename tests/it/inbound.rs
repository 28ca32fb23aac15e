//! Reply-by-email, end to end: notifications go through the SMTP sink with a
//! Reply-To token, replies are posted raw to the inbound endpoint with the
//! tenant's secret, and the tests check what became of each (replies, tickets,
//! the recorded decision) for every matching rule and every refusal.

use crate::{
    email::{Mail, Sink, deliver, smtp_config},
    helpers::TestApp,
    tickets::{add_user, create_direct, reply_direct, sign_in_as, subject},
};
use axum::http::{Method, StatusCode};
use figment::providers::Serialized;
use tessera::{auth::model::Role, db::UserId};

const REPLY_TO: &str = "support+{token}@help.acme.test";

struct Inbound {
    app: TestApp,
    sink: Sink,
    secret: String,
    acme: Acme,
}

/// The tenant's users the tests act as.
struct Acme {
    tenant: tessera::tenants::Tenant,
    agent: tessera::auth::model::User,
    customer: tessera::auth::model::User,
}

async fn setup(extra: &[(&str, serde_json::Value)]) -> Inbound {
    let sink = Sink::start();
    let mut config = smtp_config(sink.port).merge(Serialized::default("email.reply_to", REPLY_TO));
    for (key, value) in extra {
        config = config.merge(Serialized::default(key, value.clone()));
    }
    let mut app = TestApp::with_config(config).await;
    let acme = app.create_tenant("acme").await;
    sign_in_as(&mut app, "acme", "admin@acme.test").await;
    app.get("/acme/admin/inbound").await;
    let page = app.post_form("/acme/admin/inbound/secret", &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let start = page
        .body
        .find("<code id=\"inbound-secret\">")
        .expect("the secret is shown")
        + "<code id=\"inbound-secret\">".len();
    let secret = page.body[start..start + page.body[start..].find('<').unwrap()].to_owned();
    app.clear_cookies();
    Inbound {
        app,
        sink,
        secret,
        acme: Acme {
            tenant: acme.tenant,
            agent: acme.agent,
            customer: acme.customer,
        },
    }
}

impl Inbound {
    /// Posts `raw` as a mail service would; returns (status, decision, reason).
    async fn post(&mut self, raw: &str) -> (StatusCode, String, String) {
        let auth = format!("Bearer {}", self.secret);
        self.post_with(raw, &auth).await
    }

    async fn post_with(&mut self, raw: &str, authorization: &str) -> (StatusCode, String, String) {
        let response = self
            .app
            .request(
                Method::POST,
                "/acme/api/inbound-email",
                Some(raw.to_owned()),
                &[
                    ("authorization", authorization),
                    ("content-type", "message/rfc822"),
                ],
            )
            .await;
        let json: serde_json::Value =
            serde_json::from_str(&response.body).unwrap_or(serde_json::Value::Null);
        let field = |name: &str| json[name].as_str().unwrap_or_default().to_owned();
        (response.status, field("decision"), field("reason"))
    }

    /// The mail the customer got about an agent reply on a new ticket.
    async fn customer_notified(&mut self) -> (i64, Mail) {
        let number =
            create_direct(&self.app, &self.acme.customer, subject("Printer on fire")).await;
        deliver(&self.app).await;
        self.sink.clear();
        reply_direct(&self.app, &self.acme.agent, number, "We are on it.", false).await;
        deliver(&self.app).await;
        let mail = self
            .sink
            .mails()
            .pop()
            .expect("the customer's notification");
        self.sink.clear();
        (number, mail)
    }

    async fn replies(&self) -> Vec<(UserId, String)> {
        sqlx::query_as("select author_id, body from replies order by created_at, id")
            .fetch_all(self.app.db.pool())
            .await
            .unwrap()
    }

    async fn recorded(&self) -> Vec<(String, String)> {
        sqlx::query_as("select decision, reason from inbound_emails order by received_at, id")
            .fetch_all(self.app.db.pool())
            .await
            .unwrap()
    }
}

fn message(from: &str, to: &str, subject: &str, headers: &str, id: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}@mail.example.test>\r\n\
         {headers}Date: Mon, 23 Nov 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    )
}

const QUOTED: &str = "Thanks, that fixed it.\r\n\r\nOn Mon, 23 Nov 2026 at 09:00, acme support <helpdesk@localhost> wrote:\r\n> We are on it.\r\n";

#[tokio::test]
async fn a_reply_to_a_notification_becomes_a_reply_by_its_recipient_with_quotes_stripped() {
    let mut t = setup(&[]).await;
    let (number, mail) = t.customer_notified().await;
    assert!(
        mail.reply_to.starts_with("support+") && mail.reply_to.ends_with("@help.acme.test"),
        "{}",
        mail.reply_to
    );

    let raw = message(
        "Customer <customer@acme.test>",
        &mail.reply_to,
        &format!("Re: {}", mail.subject),
        &format!("In-Reply-To: {}\r\n", mail.message_id_bracketed()),
        "r1",
        QUOTED,
    );
    let (status, decision, reason) = t.post(&raw).await;
    assert_eq!(
        (status, decision.as_str(), reason.as_str()),
        (StatusCode::OK, "reply", "matched token")
    );
    let replies = t.replies().await;
    assert_eq!(
        replies.last().unwrap(),
        &(t.acme.customer.id, "Thanks, that fixed it.".to_owned())
    );

    // The agent, who follows the ticket, hears of it like of any reply.
    deliver(&t.app).await;
    let mails = t.sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["agent@acme.test"]);
    assert!(mails[0].text.contains("Thanks, that fixed it."));
    assert!(
        !mails[0].text.contains("We are on it."),
        "{}",
        mails[0].text
    );

    // The same message again is a duplicate and changes nothing.
    let (_, decision, _) = t.post(&raw).await;
    assert_eq!(decision, "duplicate");
    assert_eq!(t.replies().await.len(), replies.len());

    // The admin page lists both with their reasons.
    sign_in_as(&mut t.app, "acme", "admin@acme.test").await;
    let page = t.app.get("/acme/admin/inbound").await;
    assert!(page.body.contains("matched token"));
    assert!(page.body.contains("Duplicate (ignored)"));
    assert!(page.body.contains(&format!("/acme/tickets/{number}")));
}

#[tokio::test]
async fn a_forged_token_or_a_sender_who_is_not_the_tokens_recipient_creates_nothing() {
    let mut t = setup(&[]).await;
    add_user(
        &t.app,
        t.acme.tenant.id,
        "other@acme.test",
        "Other",
        Role::Customer,
    )
    .await;
    let (_, mail) = t.customer_notified().await;
    let before = t.replies().await.len();
    let token_at = "support+".len();
    let mut forged = mail.reply_to.clone();
    let c = forged.as_bytes()[token_at + 40];
    forged.replace_range(
        token_at + 40..token_at + 41,
        if c == b'a' { "b" } else { "a" },
    );

    let cases = [
        (
            "customer@acme.test",
            forged.as_str(),
            "f1",
            "unknown reply token",
        ),
        (
            "other@acme.test",
            mail.reply_to.as_str(),
            "f2",
            "does not match the reply token",
        ),
        (
            "stranger@evil.test",
            mail.reply_to.as_str(),
            "f3",
            "does not match the reply token",
        ),
    ];
    for (from, to, id, expected) in cases {
        // Threading headers that would match do not rescue a bad token.
        let raw = message(
            from,
            to,
            &format!("Re: {}", mail.subject),
            &format!("In-Reply-To: {}\r\n", mail.message_id_bracketed()),
            id,
            "Let me in.",
        );
        let (status, decision, reason) = t.post(&raw).await;
        assert_eq!(
            (status, decision.as_str()),
            (StatusCode::OK, "rejected"),
            "{from}: {reason}"
        );
        assert!(reason.contains(expected), "{from}: {reason}");
    }
    assert_eq!(t.replies().await.len(), before);
    assert_eq!(t.recorded().await.len(), 3);
}

#[tokio::test]
async fn without_a_token_threading_headers_match_then_a_participants_subject_number() {
    let mut t = setup(&[]).await;
    let other = add_user(
        &t.app,
        t.acme.tenant.id,
        "other@acme.test",
        "Other",
        Role::Customer,
    )
    .await;
    let (_, mail) = t.customer_notified().await;

    // In-Reply-To of a message Tessera sent.
    let raw = message(
        "customer@acme.test",
        "support@help.acme.test",
        "Re: something",
        &format!("In-Reply-To: {}\r\n", mail.message_id_bracketed()),
        "h1",
        "First by headers.",
    );
    assert_eq!(t.post(&raw).await.2, "matched In-Reply-To");
    // References that name the message received just now.
    let raw = message(
        "customer@acme.test",
        "support@help.acme.test",
        "Re: something",
        "References: <unknown@x.test> <h1@mail.example.test>\r\n",
        "h2",
        "Second by references.",
    );
    assert_eq!(t.post(&raw).await.2, "matched References");

    // The number in the subject: the requester is a participant…
    let raw = message(
        "customer@acme.test",
        "support@help.acme.test",
        "Re: [TKT-000001] Printer",
        "",
        "s1",
        "Third by subject.",
    );
    let (_, decision, reason) = t.post(&raw).await;
    assert_eq!(decision, "reply");
    assert!(reason.starts_with("matched subject TKT-000001"), "{reason}");
    // …another customer is not: rejected while the tenant takes no email tickets…
    let raw = message(
        "other@acme.test",
        "support@help.acme.test",
        "Re: [TKT-000001] Printer",
        "",
        "s2",
        "Let me in.",
    );
    let (_, decision, reason) = t.post(&raw).await;
    assert_eq!(decision, "rejected");
    assert!(
        reason.contains("sender not a participant of TKT-000001"),
        "{reason}"
    );

    let bodies: Vec<String> = t.replies().await.into_iter().map(|(_, b)| b).collect();
    assert_eq!(
        &bodies[1..],
        [
            "First by headers.",
            "Second by references.",
            "Third by subject."
        ]
    );

    // …and a new ticket of their own once it does.
    sign_in_as(&mut t.app, "acme", "admin@acme.test").await;
    t.app.get("/acme/admin/inbound").await;
    t.app
        .post_form(
            "/acme/admin/inbound/settings",
            &[("accept_email_tickets", "on")],
        )
        .await
        .assert_redirect_to("/acme/admin/inbound?notice=saved");
    t.app.clear_cookies();
    let raw = message(
        "other@acme.test",
        "support@help.acme.test",
        "Re: [TKT-000001] Printer",
        "",
        "s3",
        "My own problem.",
    );
    let (_, decision, reason) = t.post(&raw).await;
    assert_eq!(decision, "ticket");
    assert_eq!(
        reason,
        "new ticket TKT-000002: sender not a participant of TKT-000001"
    );
    let requester: UserId = sqlx::query_scalar("select requester_id from tickets where number = 2")
        .fetch_one(t.app.db.pool())
        .await
        .unwrap();
    assert_eq!(requester, other.id);
    // Strangers never open tickets.
    let raw = message(
        "stranger@evil.test",
        "support@help.acme.test",
        "Hello",
        "",
        "s4",
        "Spam.",
    );
    assert_eq!(t.post(&raw).await.1, "rejected");
}

#[tokio::test]
async fn without_the_secret_nothing_is_read_and_bad_messages_are_rejected_and_recorded() {
    let mut t = setup(&[("email.inbound_max_bytes", serde_json::json!(2000))]).await;
    let (_, mail) = t.customer_notified().await;
    let raw = message(
        "customer@acme.test",
        &mail.reply_to,
        "Re: x",
        "",
        "a1",
        "Hello",
    );
    for authorization in ["", "Bearer ", "Bearer wrong-secret", &t.secret.clone()] {
        let (status, _, _) = t.post_with(&raw, authorization).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{authorization:?}");
    }
    assert!(t.recorded().await.is_empty());

    let big = message(
        "customer@acme.test",
        &mail.reply_to,
        "Re: x",
        "",
        "a2",
        &"x".repeat(5000),
    );
    let (status, decision, reason) = t.post(&big).await;
    assert_eq!((status, decision.as_str()), (StatusCode::OK, "rejected"));
    assert!(reason.starts_with("oversized"), "{reason}");
    let (_, decision, reason) = t.post("this is not a mail message").await;
    assert_eq!(decision, "rejected");
    assert!(reason.starts_with("malformed"), "{reason}");
    let auto = message(
        "customer@acme.test",
        &mail.reply_to,
        "Out of office",
        "Auto-Submitted: auto-replied\r\n",
        "a3",
        "Away.",
    );
    assert_eq!(t.post(&auto).await.1, "rejected");
    assert_eq!(t.recorded().await.len(), 3);
    assert_eq!(t.replies().await.len(), 1, "only the agent's reply");
}

#[tokio::test]
async fn attachments_go_through_the_upload_checks() {
    let mut t = setup(&[]).await;
    let (_, mail) = t.customer_notified().await;
    let raw = format!(
        "From: customer@acme.test\r\nTo: {}\r\nSubject: Re: logs\r\n\
         Message-ID: <att1@mail.example.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n\
         --XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere are the logs.\r\n\
         --XYZ\r\nContent-Type: text/plain; name=\"log.txt\"\r\n\
         Content-Disposition: attachment; filename=\"log.txt\"\r\n\r\nline one\r\nline two\r\n\
         --XYZ\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"tool.exe\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\r\n\
         --XYZ--\r\n",
        mail.reply_to
    );
    let (_, decision, reason) = t.post(&raw).await;
    assert_eq!(decision, "reply", "{reason}");
    assert!(
        reason.starts_with("matched token; attachments refused:"),
        "{reason}"
    );
    assert!(reason.contains("tool.exe"), "{reason}");
    let files: Vec<(String, bool)> = sqlx::query_as(
        "select filename, reply_id is not null from attachments order by created_at",
    )
    .fetch_all(t.app.db.pool())
    .await
    .unwrap();
    assert_eq!(files, [("log.txt".to_owned(), true)]);
    assert_eq!(t.replies().await.last().unwrap().1, "Here are the logs.");
}
