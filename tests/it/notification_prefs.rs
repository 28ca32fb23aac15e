//! Notification preferences and the unsubscribe link, end to end: the settings
//! page saves them, the outbox respects them, and the signed link in every
//! ticket email stops that recipient following the ticket without signing in.

use crate::{
    email::{Mail, Sink, deliver, recipients, smtp_config},
    helpers::TestApp,
    tickets::{add_user, change_direct, create_direct, reply_direct, sign_in_as, subject},
};
use axum::http::StatusCode;
use tessera::auth::model::Role;

/// The path (and query) of the unsubscribe link in a message's text.
fn unsubscribe_path(mail: &Mail) -> String {
    let line = mail
        .text
        .lines()
        .find(|l| l.starts_with("Stop following "))
        .unwrap_or_else(|| panic!("no unsubscribe link in {}", mail.text));
    let url = line
        .split(": ")
        .nth(1)
        .expect("a link after the colon")
        .trim();
    let path = url
        .strip_prefix("http://127.0.0.1:8080")
        .unwrap_or_else(|| panic!("not under the public URL: {url}"));
    assert!(mail.html.contains(url), "the HTML part links it too");
    assert_eq!(mail.list_unsubscribe, format!("<{url}>"));
    path.to_owned()
}

async fn follows(app: &TestApp, user: tessera::db::UserId) -> bool {
    sqlx::query_scalar("select exists (select 1 from ticket_followers where user_id = $1)")
        .bind(user)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn switched_off_notifications_are_not_sent_and_only_assigned_limits_staff() {
    let sink = Sink::start();
    let mut app = TestApp::with_config(smtp_config(sink.port)).await;
    let acme = app.create_tenant("acme").await;
    let agent2 = add_user(
        &app,
        acme.tenant.id,
        "agent2@acme.test",
        "Agent Two",
        Role::Agent,
    )
    .await;

    // The customer turns off replies (and keeps the rest); the page shows it.
    sign_in_as(&mut app, "acme", "customer@acme.test").await;
    let home = app.get("/acme/").await;
    assert!(
        home.body.contains("href=\"/acme/account/notifications\""),
        "linked from every page"
    );
    let page = app.get("/acme/account/notifications").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Replies"));
    assert!(
        !page.body.contains("Only tickets assigned to me"),
        "staff only"
    );
    app.post_form(
        "/acme/account/notifications",
        &[("ticket_created", "on"), ("changes", "on")],
    )
    .await
    .assert_redirect_to("/acme/account/notifications?notice=saved");
    let page = app.get("/acme/account/notifications").await;
    assert!(
        page.body.contains(
            "id=\"pref-ticket_created\" name=\"ticket_created\" type=\"checkbox\" checked"
        )
    );
    assert!(
        page.body
            .contains("id=\"pref-replies\" name=\"replies\" type=\"checkbox\" aria")
    );

    // The second agent wants mail about their own tickets only.
    sign_in_as(&mut app, "acme", "agent2@acme.test").await;
    let page = app.get("/acme/account/notifications").await;
    assert!(page.body.contains("Only tickets assigned to me"));
    app.post_form(
        "/acme/account/notifications",
        &[
            ("ticket_created", "on"),
            ("replies", "on"),
            ("changes", "on"),
            ("assignment", "on"),
            ("internal_notes", "on"),
            ("only_assigned", "on"),
        ],
    )
    .await
    .assert_redirect_to("/acme/account/notifications?notice=saved");

    let number = create_direct(&app, &acme.customer, subject("Printer on fire")).await;
    tessera::tickets::service::set_following(&app.db, &app.clock, &agent2, number, true)
        .await
        .unwrap();
    deliver(&app).await;
    sink.clear();

    // A reply: the customer switched replies off, agent2 is not the assignee.
    reply_direct(&app, &acme.agent, number, "We are on it.", false).await;
    assert_eq!(deliver(&app).await.sent, 0);
    assert!(sink.mails().is_empty());

    // Assigned to agent2: they hear of it, and of the next reply.
    change_direct(&app, &acme.agent, number, |input| {
        input.assignee = agent2.id.to_string();
    })
    .await;
    deliver(&app).await;
    assert_eq!(
        recipients(&sink.mails()),
        ["agent2@acme.test".to_owned()].into()
    );
    sink.clear();
    reply_direct(&app, &acme.agent, number, "Second answer.", false).await;
    deliver(&app).await;
    assert_eq!(
        recipients(&sink.mails()),
        ["agent2@acme.test".to_owned()].into()
    );
}

#[tokio::test]
async fn the_unsubscribe_link_stops_following_without_signing_in_and_no_more_mail_comes() {
    let sink = Sink::start();
    let mut app = TestApp::with_config(smtp_config(sink.port)).await;
    let acme = app.create_tenant("acme").await;
    let number = create_direct(&app, &acme.customer, subject("Printer on fire")).await;
    deliver(&app).await;
    sink.clear();
    reply_direct(&app, &acme.agent, number, "We are on it.", false).await;
    deliver(&app).await;
    let mails = sink.mails();
    assert_eq!(recipients(&mails), ["customer@acme.test".to_owned()].into());
    let path = unsubscribe_path(&mails[0]);
    assert!(path.starts_with("/acme/unsubscribe?token="), "{path}");
    sink.clear();

    // Not signed in: the link shows what it does and changes nothing yet.
    let page = app.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Stop following TKT-000001?"),
        "{}",
        page.body
    );
    assert!(follows(&app, acme.customer.id).await);
    let token = path.split("token=").nth(1).unwrap();
    let done = app
        .post_form("/acme/unsubscribe", &[("token", token)])
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("You no longer follow TKT-000001"));
    assert!(!follows(&app, acme.customer.id).await);

    reply_direct(&app, &acme.agent, number, "Fixed it.", false).await;
    deliver(&app).await;
    assert!(sink.mails().is_empty(), "no more mail to the customer");

    // Following again (signed in) brings the mail back.
    sign_in_as(&mut app, "acme", "customer@acme.test").await;
    tessera::tickets::service::set_following(&app.db, &app.clock, &acme.customer, number, true)
        .await
        .unwrap();
    reply_direct(&app, &acme.agent, number, "One more thing.", false).await;
    deliver(&app).await;
    assert_eq!(sink.mails().len(), 1);
}

#[tokio::test]
async fn a_tampered_or_foreign_unsubscribe_token_is_refused_and_changes_nothing() {
    let sink = Sink::start();
    let mut app = TestApp::with_config(smtp_config(sink.port)).await;
    let acme = app.create_tenant("acme").await;
    app.create_tenant("beta").await;
    let other = add_user(
        &app,
        acme.tenant.id,
        "other@acme.test",
        "Other",
        Role::Customer,
    )
    .await;
    let number = create_direct(&app, &acme.customer, subject("Printer on fire")).await;
    tessera::tickets::service::set_following(&app.db, &app.clock, &acme.agent, number, true)
        .await
        .unwrap();
    deliver(&app).await;
    sink.clear();
    reply_direct(&app, &acme.agent, number, "We are on it.", false).await;
    deliver(&app).await;
    let path = unsubscribe_path(&sink.mails()[0]);
    let token = path.split("token=").nth(1).unwrap().to_owned();

    // Another user's id with the customer's signature; a changed signature; the
    // right token at another tenant.
    let swapped = token.replacen(
        &acme.customer.id.0.simple().to_string(),
        &other.id.0.simple().to_string(),
        1,
    );
    let mut flipped = token.clone();
    let last = flipped.pop().unwrap();
    flipped.push(if last == 'A' { 'B' } else { 'A' });
    for (tenant, bad) in [("acme", &swapped), ("acme", &flipped), ("beta", &token)] {
        let page = app.get(&format!("/{tenant}/unsubscribe?token={bad}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{tenant} {bad}");
        app.get("/acme/login").await;
        let post = app
            .post_form(&format!("/{tenant}/unsubscribe"), &[("token", bad)])
            .await;
        assert_eq!(post.status, StatusCode::NOT_FOUND, "{tenant} {bad}");
    }
    assert!(follows(&app, acme.customer.id).await);
}
