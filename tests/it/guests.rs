//! Guest submission and secret access links, through HTTP: the public form,
//! the emailed link traded for a cookie, what that cookie opens (one ticket)
//! and what it does not (anything else), revoking, the abuse limits, and that
//! no token reaches the request log.

use crate::{
    helpers::{CapturedLogs, PASSWORD, TestApp, TestResponse},
    tickets::{reply_direct, unescape},
};
use axum::http::StatusCode;
use figment::providers::Serialized;
use std::path::PathBuf;
use tessera::config::Config;
use time::Duration;

const GUEST: &str = "pat@example.test";
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

struct Desk {
    app: TestApp,
    /// A top-level category of acme: guests must choose one.
    category: String,
    agent: tessera::auth::model::User,
    dir: PathBuf,
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Tenant acme with guest submission on (and globex beside it).
async fn desk() -> Desk {
    let dir = std::env::temp_dir().join(format!("tessera-guests-{}", uuid::Uuid::now_v7()));
    let app = TestApp::with_config(
        Config::defaults().merge(Serialized::default("attachments.dir", &dir)),
    )
    .await;
    let acme = app.create_tenant("acme").await;
    app.create_tenant("globex").await;
    set_guest_settings(&app, "guest_submission_enabled = true").await;
    let category: uuid::Uuid = sqlx::query_scalar(
        "select id from categories where tenant_id = $1 and depth = 1 order by position limit 1",
    )
    .bind(acme.tenant.id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    Desk {
        app,
        category: category.to_string(),
        agent: acme.agent,
        dir,
    }
}

async fn set_guest_settings(app: &TestApp, assignments: &str) {
    sqlx::query(&format!("update tenant_settings set {assignments}"))
        .execute(app.db.pool())
        .await
        .unwrap();
}

impl Desk {
    /// Submits the public form as a fresh visitor; returns the response.
    async fn submit(
        &mut self,
        email: &str,
        subject: &str,
        files: &[(&str, &[u8])],
    ) -> TestResponse {
        self.app.clear_cookies();
        let page = self.app.get("/acme/submit").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        self.app
            .post_multipart(
                "/acme/submit",
                &[
                    ("email", email),
                    ("name", "Pat Guest"),
                    ("subject", subject),
                    ("description", "The printer *smokes*."),
                    ("category", &self.category.clone()),
                    ("website", ""),
                ],
                files,
            )
            .await
    }

    /// The access-link tokens emailed to `email`, oldest first.
    async fn tokens_sent_to(&self, email: &str) -> Vec<String> {
        let bodies: Vec<String> = sqlx::query_scalar(
            "select body_text from email_outbox where recipient_email = $1 order by created_at, id",
        )
        .bind(email)
        .fetch_all(self.app.db.pool())
        .await
        .unwrap();
        bodies
            .iter()
            .flat_map(|body| {
                body.match_indices("/acme/access/")
                    .map(|(at, m)| body[at + m.len()..].chars().take(43).collect::<String>())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    async fn number_of(&self, subject: &str) -> i64 {
        sqlx::query_scalar("select number from tickets where subject = $1")
            .bind(subject)
            .fetch_one(self.app.db.pool())
            .await
            .unwrap()
    }

    /// Opens the link like a browser from the email: 303 to the guest page.
    async fn open_link(&mut self, token: &str) -> TestResponse {
        self.app.clear_cookies();
        self.app.get(&format!("/acme/access/{token}")).await
    }

    async fn ticket_count(&self) -> i64 {
        sqlx::query_scalar("select count(*) from tickets")
            .fetch_one(self.app.db.pool())
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_guest_submits_follows_the_emailed_link_reads_replies_downloads_and_answers() {
    let mut desk = desk().await;
    let response = desk
        .submit(GUEST, "Printer on fire", &[("report.pdf", PDF)])
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert!(
        unescape(&response.body)
            .contains("We received your request TKT-000001; we emailed you a link to follow it"),
        "{}",
        response.body
    );
    let number = desk.number_of("Printer on fire").await;

    // The guest is a contact without a password, and the requester.
    let (role, has_password): (String, bool) =
        sqlx::query_as("select role::text, password_hash is not null from users where email = $1")
            .bind(GUEST)
            .fetch_one(desk.app.db.pool())
            .await
            .unwrap();
    assert_eq!((role.as_str(), has_password), ("customer", false));

    let tokens = desk.tokens_sent_to(GUEST).await;
    assert_eq!(tokens.len(), 1, "one confirmation with one link");
    let token = &tokens[0];
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from ticket_access_links where token_hash = sha256(convert_to($1, 'UTF8'))",
    )
    .bind(token)
    .fetch_one(desk.app.db.pool())
    .await
    .unwrap();
    assert_eq!(stored, 1, "the link is stored as the SHA-256 of its token");
    let raw: i64 = sqlx::query_scalar(
        "select count(*) from ticket_access_links where encode(token_hash, 'escape') like '%' || $1 || '%'",
    )
    .bind(token)
    .fetch_one(desk.app.db.pool())
    .await
    .unwrap();
    assert_eq!(raw, 0, "never the token itself");

    // The link trades its token for a cookie scoped to the ticket and leaves the URL.
    let opened = desk.open_link(token).await;
    let guest_page = format!("/acme/access/tickets/{number}");
    opened.assert_redirect_to(&guest_page);
    assert_eq!(opened.header("referrer-policy"), Some("no-referrer"));
    let cookie = opened.header("set-cookie").unwrap().to_owned();
    assert!(
        cookie.starts_with(&format!("tessera_access={token}")),
        "{cookie}"
    );
    assert!(cookie.contains(&format!("Path={guest_page}")), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");

    // Staff answer publicly and write a note the guest must never see.
    reply_direct(&desk.app, &desk.agent, number, "Please unplug it.", false).await;
    reply_direct(&desk.app, &desk.agent, number, "CANARY-guest-note", true).await;

    let page = desk.app.get(&guest_page).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(page.header("x-robots-tag"), Some("noindex, nofollow"));
    assert!(page.body.contains("noindex"));
    assert!(page.body.contains("Printer on fire"));
    assert!(page.body.contains("<em>smokes</em>"));
    assert!(page.body.contains("Please unplug it."));
    assert!(!page.body.contains("CANARY-guest-note"));
    assert!(
        !page.body.contains(token.as_str()),
        "the page never shows the token"
    );

    // The description's attachment downloads with the cookie alone.
    let href = page
        .body
        .split("href=\"")
        .map(|rest| rest.split('"').next().unwrap_or_default())
        .find(|href| href.contains("/attachments/"))
        .expect("a download link")
        .to_owned();
    assert!(
        href.starts_with(&format!("{guest_page}/attachments/")),
        "{href}"
    );
    let (download, bytes) = desk.app.get_bytes(&href).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(bytes, PDF);
    assert!(
        download
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );

    // The guest replies with a file.
    let reply = desk
        .app
        .post_multipart(
            &format!("{guest_page}/replies"),
            &[("body", "Unplugged, thanks!")],
            &[("photo.txt", b"smoke has cleared")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let author: String = sqlx::query_scalar(
        "select u.email from replies r join users u on u.id = r.author_id \
          where r.body = 'Unplugged, thanks!'",
    )
    .fetch_one(desk.app.db.pool())
    .await
    .unwrap();
    assert_eq!(author, GUEST);
    let page = desk.app.get(&guest_page).await;
    assert!(page.body.contains("Unplugged, thanks!"));
    assert!(page.body.contains("photo.txt"));

    // Unfollow, then follow again.
    let response = desk
        .app
        .post_form(&format!("{guest_page}/follow"), &[("follow", "0")])
        .await;
    response.assert_redirect_to(&guest_page);
    let page = desk.app.get(&guest_page).await;
    assert!(page.body.contains("aria-pressed=\"false\""));

    // The staff's public reply emailed the guest a fresh link that works too.
    desk.app
        .post_form(&format!("{guest_page}/follow"), &[("follow", "1")])
        .await;
    reply_direct(&desk.app, &desk.agent, number, "Is it better now?", false).await;
    let tokens = desk.tokens_sent_to(GUEST).await;
    assert!(tokens.len() >= 2, "{tokens:?}");
    desk.open_link(tokens.last().unwrap())
        .await
        .assert_redirect_to(&guest_page);
}

#[tokio::test]
async fn a_link_opens_its_own_ticket_and_nothing_else() {
    let mut desk = desk().await;
    desk.submit(GUEST, "Ticket A", &[]).await;
    desk.submit("other@example.test", "Ticket B", &[("b.pdf", PDF)])
        .await;
    let a = desk.number_of("Ticket A").await;
    let b = desk.number_of("Ticket B").await;
    let token = desk.tokens_sent_to(GUEST).await.remove(0);
    let b_file: uuid::Uuid = sqlx::query_scalar("select id from attachments limit 1")
        .fetch_one(desk.app.db.pool())
        .await
        .unwrap();

    desk.open_link(&token)
        .await
        .assert_redirect_to(&format!("/acme/access/tickets/{a}"));
    // The test client sends the cookie everywhere (a browser would send it to
    // ticket A's pages only): the server must still refuse everything else.
    let b_page = desk.app.get(&format!("/acme/access/tickets/{b}")).await;
    assert_eq!(b_page.status, StatusCode::NOT_FOUND);
    assert!(!b_page.body.contains("Ticket B"));
    let b_download = desk
        .app
        .get(&format!("/acme/access/tickets/{b}/attachments/{b_file}"))
        .await;
    assert_eq!(b_download.status, StatusCode::NOT_FOUND);
    let cross = desk
        .app
        .get(&format!("/acme/access/tickets/{a}/attachments/{b_file}"))
        .await;
    assert_eq!(
        cross.status,
        StatusCode::NOT_FOUND,
        "B's file through A's path"
    );
    // A's page gives the browser a form token; it is no key to B.
    assert_eq!(
        desk.app
            .get(&format!("/acme/access/tickets/{a}"))
            .await
            .status,
        StatusCode::OK
    );
    let b_reply = desk
        .app
        .post_form(
            &format!("/acme/access/tickets/{b}/replies"),
            &[("body", "hijack")],
        )
        .await;
    assert_eq!(b_reply.status, StatusCode::NOT_FOUND);

    // No list, no staff or customer pages, no API: the link is not a sign-in.
    for path in [
        "/acme/tickets",
        &format!("/acme/tickets/{a}"),
        "/acme/tickets/new",
    ] {
        let response = desk.app.get(path).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            response.location().unwrap().starts_with("/acme/login"),
            "{path}"
        );
    }
    let api = desk.app.get("/acme/api/v1/tickets").await;
    assert!(api.status.is_client_error(), "{}", api.status);
    assert!(!api.body.contains("Ticket A"));

    // Another tenant knows neither the token nor the ticket.
    let other = desk.app.get(&format!("/globex/access/{token}")).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let other = desk.app.get(&format!("/globex/access/tickets/{a}")).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);

    // A made-up token opens nothing.
    let forged = desk.open_link(&"A".repeat(43)).await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    assert!(forged.body.contains("This link does not work"));
}

#[tokio::test]
async fn staff_revoke_a_tickets_links_and_they_stop_working() {
    let mut desk = desk().await;
    desk.submit(GUEST, "Revoke me", &[]).await;
    let number = desk.number_of("Revoke me").await;
    let token = desk.tokens_sent_to(GUEST).await.remove(0);
    desk.open_link(&token).await;
    let guest_page = format!("/acme/access/tickets/{number}");
    assert_eq!(desk.app.get(&guest_page).await.status, StatusCode::OK);
    let guest_cookie = desk.app.cookie("tessera_access").unwrap().to_owned();

    desk.app.clear_cookies();
    desk.app
        .sign_in("acme", &desk.agent.email, PASSWORD)
        .await
        .assert_redirect_to("/acme/");
    let staff_page = desk.app.get(&format!("/acme/tickets/{number}")).await;
    assert!(
        staff_page.body.contains("1 access link works"),
        "{}",
        staff_page.body
    );
    desk.app
        .post_form(&format!("/acme/tickets/{number}/access-links/revoke"), &[])
        .await
        .assert_redirect_to(&format!(
            "/acme/tickets/{number}?notice=guest_links_revoked"
        ));
    let staff_page = desk.app.get(&format!("/acme/tickets/{number}")).await;
    assert!(!staff_page.body.contains("access link works"));

    desk.app.clear_cookies();
    desk.app.set_cookie("tessera_access", &guest_cookie);
    assert_eq!(
        desk.app.get(&guest_page).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(desk.open_link(&token).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_request_log_never_contains_an_access_token() {
    let mut desk = desk().await;
    desk.submit(GUEST, "Log me", &[]).await;
    let token = desk.tokens_sent_to(GUEST).await.remove(0);
    let captured = CapturedLogs::default();
    let subscriber = captured.subscriber();
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        desk.open_link(&token).await;
        desk.app.get("/acme/access/tickets/1").await;
        desk.open_link(&format!("{token}x")).await;
    }
    let log = captured.text();
    assert!(
        log.contains("/acme/access/…"),
        "the request is logged: {log}"
    );
    assert!(log.contains("/acme/access/tickets/1"), "{log}");
    assert!(!log.contains(&token), "the token is in the log: {log}");
}

#[tokio::test]
async fn with_guest_submission_off_the_form_is_a_404_and_posts_are_refused() {
    let mut desk = desk().await;
    set_guest_settings(&desk.app, "guest_submission_enabled = false").await;
    let page = desk.app.get("/acme/submit").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Guest submission is not available"));
    // A form kept from before it was switched off.
    desk.app.get("/acme/login").await;
    let response = desk
        .app
        .post_multipart(
            "/acme/submit",
            &[("email", GUEST), ("subject", "Late"), ("description", "x")],
            &[],
        )
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    let link = desk
        .app
        .post_form("/acme/submit/link", &[("link_email", GUEST)])
        .await;
    assert_eq!(link.status, StatusCode::NOT_FOUND);
    assert_eq!(desk.ticket_count().await, 0);
}

#[tokio::test]
async fn bad_input_is_shown_at_its_fields_and_saves_nothing() {
    let mut desk = desk().await;
    desk.app.get("/acme/submit").await;
    let response = desk
        .app
        .post_multipart(
            "/acme/submit",
            &[
                ("email", "not-an-address"),
                ("subject", ""),
                ("description", "x"),
            ],
            &[],
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response.body.contains("id=\"email-error\""),
        "{}",
        response.body
    );
    assert!(response.body.contains("id=\"subject-error\""));
    assert!(
        response
            .body
            .contains("aria-describedby=\"email-help email-error\"")
    );
    assert_eq!(desk.ticket_count().await, 0);
    let users: i64 =
        sqlx::query_scalar("select count(*) from users where email = 'not-an-address'")
            .fetch_one(desk.app.db.pool())
            .await
            .unwrap();
    assert_eq!(users, 0);

    // Staff addresses sign in instead.
    let response = desk.submit("agent@acme.test", "From staff", &[]).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("belongs to a team member"));
    assert_eq!(desk.ticket_count().await, 0);
}

#[tokio::test]
async fn the_honeypot_thanks_robots_and_saves_nothing() {
    let mut desk = desk().await;
    desk.app.get("/acme/submit").await;
    let response = desk
        .app
        .post_multipart(
            "/acme/submit",
            &[
                ("email", GUEST),
                ("subject", "Cheap pills"),
                ("description", "buy"),
                ("website", "http://spam.example"),
            ],
            &[],
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.body.contains("We received your request"));
    assert_eq!(desk.ticket_count().await, 0);
    assert!(desk.tokens_sent_to(GUEST).await.is_empty());
}

#[tokio::test]
async fn submissions_and_link_requests_are_rate_limited_per_address_and_reset_after_an_hour() {
    let mut desk = desk().await;
    set_guest_settings(
        &desk.app,
        "guest_hourly_limit = 2, guest_daily_open_tickets = 100",
    )
    .await;
    for i in 0..2 {
        let response = desk
            .submit(&format!("g{i}@example.test"), &format!("T{i}"), &[])
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    }
    let limited = desk.submit("g9@example.test", "T9", &[]).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.body.contains("Try again in"), "{}", limited.body);
    assert_eq!(desk.ticket_count().await, 2);

    // Another address is its own counter, but one email is limited too.
    desk.app.client_ip = "192.0.2.77".parse().unwrap();
    assert_eq!(desk.submit(GUEST, "E1", &[]).await.status, StatusCode::OK);
    desk.app.client_ip = "192.0.2.78".parse().unwrap();
    assert_eq!(desk.submit(GUEST, "E2", &[]).await.status, StatusCode::OK);
    desk.app.client_ip = "192.0.2.79".parse().unwrap();
    assert_eq!(
        desk.submit(GUEST, "E3", &[]).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Link requests: the same answer for known and unknown addresses, then 429.
    desk.app.client_ip = "192.0.2.80".parse().unwrap();
    desk.app.get("/acme/submit").await;
    for email in [GUEST, "nobody@example.test"] {
        desk.app
            .post_form("/acme/submit/link", &[("link_email", email)])
            .await
            .assert_redirect_to("/acme/submit?notice=guest_links_sent");
    }
    let limited = desk
        .app
        .post_form("/acme/submit/link", &[("link_email", GUEST)])
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let links_mails: i64 =
        sqlx::query_scalar("select count(*) from email_outbox where template = 'guest_links'")
            .fetch_one(desk.app.db.pool())
            .await
            .unwrap();
    assert_eq!(links_mails, 1, "only the known address got mail");

    // An hour later the limits have reset.
    desk.app.clock.advance(Duration::minutes(61));
    desk.app.client_ip = "192.0.2.10".parse().unwrap();
    assert_eq!(
        desk.submit("g9@example.test", "T9", &[]).await.status,
        StatusCode::OK
    );
    desk.app.client_ip = "192.0.2.80".parse().unwrap();
    desk.app.get("/acme/submit").await;
    desk.app
        .post_form("/acme/submit/link", &[("link_email", GUEST)])
        .await
        .assert_redirect_to("/acme/submit?notice=guest_links_sent");
}

#[tokio::test]
async fn one_email_may_keep_only_so_many_open_requests_a_day() {
    let mut desk = desk().await;
    set_guest_settings(&desk.app, "guest_daily_open_tickets = 2").await;
    assert_eq!(desk.submit(GUEST, "One", &[]).await.status, StatusCode::OK);
    assert_eq!(desk.submit(GUEST, "Two", &[]).await.status, StatusCode::OK);
    let third = desk.submit(GUEST, "Three", &[]).await;
    assert_eq!(third.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        third
            .body
            .contains("You have 2 open requests from the last day")
    );
    assert_eq!(desk.ticket_count().await, 2);
}

#[tokio::test]
async fn a_guest_reply_on_a_resolved_ticket_within_the_window_reopens_it() {
    let mut desk = desk().await;
    desk.submit(GUEST, "Fixed?", &[]).await;
    let number = desk.number_of("Fixed?").await;
    let token = desk.tokens_sent_to(GUEST).await.remove(0);
    tessera::replies::service::add(
        &desk.app.db,
        &desk.app.clock,
        &desk.agent,
        number,
        tessera::replies::service::NewReply {
            body: "Should be fixed.",
            action: tessera::replies::service::ReplyAction::Resolve,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    desk.app.clock.advance(Duration::days(2));
    desk.open_link(&token).await;
    let guest_page = format!("/acme/access/tickets/{number}");
    desk.app.get(&guest_page).await;
    let reply = desk
        .app
        .post_multipart(
            &format!("{guest_page}/replies"),
            &[("body", "Still broken")],
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(reply.location().unwrap().starts_with(&guest_page));
    let (category, reopened): (String, bool) =
        sqlx::query_as("select status_category::text, reopened from tickets where number = $1")
            .bind(number)
            .fetch_one(desk.app.db.pool())
            .await
            .unwrap();
    assert_eq!((category.as_str(), reopened), ("new", true));
}

#[tokio::test]
async fn inviting_a_guests_address_turns_the_contact_into_an_account_that_owns_its_tickets() {
    let mut desk = desk().await;
    desk.submit(GUEST, "Mine later", &[]).await;
    desk.app.clear_cookies();
    desk.app
        .sign_in("acme", "admin@acme.test", PASSWORD)
        .await
        .assert_redirect_to("/acme/");
    desk.app.get("/acme/admin/users").await;
    let response = desk
        .app
        .post_form(
            "/acme/admin/users",
            &[
                ("email", GUEST),
                ("name", "Pat Person"),
                ("role", "customer"),
                ("password", "a long enough passphrase"),
            ],
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let users: i64 = sqlx::query_scalar("select count(*) from users where email = $1")
        .bind(GUEST)
        .fetch_one(desk.app.db.pool())
        .await
        .unwrap();
    assert_eq!(users, 1, "the contact became the account");

    desk.app.clear_cookies();
    desk.app
        .sign_in("acme", GUEST, "a long enough passphrase")
        .await
        .assert_redirect_to("/acme/");
    let list = desk.app.get("/acme/tickets").await;
    assert!(list.body.contains("Mine later"));
}

#[tokio::test]
async fn guessing_tokens_opens_nothing_and_soon_gets_429() {
    let mut desk = desk().await;
    desk.submit(GUEST, "Guarded", &[]).await;
    let token = desk.tokens_sent_to(GUEST).await.remove(0);
    desk.app.client_ip = "192.0.2.99".parse().unwrap();
    for i in 0..tessera::guests::service::GUESSES_PER_HOUR {
        // Well-formed guesses: the same length and alphabet as real tokens.
        let guess = format!("{i:0>43}");
        let response = desk.open_link(&guess).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "guess {i}");
    }
    // A forged cookie is a guess too, and the limit now holds even for a real token.
    desk.app.set_cookie("tessera_access", &"B".repeat(43));
    let limited = desk.app.get("/acme/access/tickets/1").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        desk.open_link(&token).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Other addresses are not affected, and the hour passes.
    desk.app.client_ip = "192.0.2.100".parse().unwrap();
    assert_eq!(desk.open_link(&token).await.status, StatusCode::SEE_OTHER);
    desk.app.client_ip = "192.0.2.99".parse().unwrap();
    desk.app.clock.advance(Duration::minutes(61));
    assert_eq!(desk.open_link(&token).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_guest_reads_dates_in_the_helpdesks_timezone() {
    let mut desk = desk().await;
    set_guest_settings(&desk.app, "default_timezone = 'Asia/Kolkata'").await;
    desk.submit(GUEST, "What time is it", &[]).await;
    let number = desk.number_of("What time is it").await;
    let token = desk.tokens_sent_to(GUEST).await.remove(0);
    desk.open_link(&token)
        .await
        .assert_redirect_to(&format!("/acme/access/tickets/{number}"));
    // Filed at the test clock's 2026-03-02 09:00 UTC: 14:30 in Kolkata.
    let page = desk
        .app
        .get(&format!("/acme/access/tickets/{number}"))
        .await;
    assert!(page.body.contains("3/2/2026, 14:30"), "{}", page.body);
}
