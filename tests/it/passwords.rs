//! Password resets and invitations: the forgot-password form, set-password
//! links from the outbox, single use, expiry, hashing at rest, the admin's
//! invitation and reset link, and tenant isolation.

use crate::{
    helpers::{PASSWORD, TestApp},
    tickets::sign_in_as,
};
use axum::http::StatusCode;
use sha2::{Digest, Sha256};
use tessera::db::TenantId;
use time::Duration;

const NEW_PASSWORD: &str = "a-brand-new-secret";

/// The outbox rows of a tenant: (recipient, template, text body), oldest first.
async fn outbox(app: &TestApp, tenant: TenantId) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "select recipient_email, template, body_text from email_outbox \
          where tenant_id = $1 order by created_at, id",
    )
    .bind(tenant)
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

/// The set-password path in a message body (the worker puts the origin in front).
fn link_in(body: &str) -> String {
    let start = body.find("/password/reset?token=").expect("a reset link");
    let start = body[..start].rfind('/').expect("the tenant segment");
    let end = body[start..]
        .find(|c: char| c.is_whitespace())
        .map_or(body.len(), |n| start + n);
    body[start..end].to_owned()
}

fn token_of(link: &str) -> &str {
    link.split_once("token=").expect("a token").1
}

/// Asks for a reset of `email` through the forgot-password form, in the same
/// browser (cookies) as before, so two answers can be compared byte for byte.
async fn request_reset(
    app: &mut TestApp,
    tenant: &str,
    email: &str,
) -> (StatusCode, String, String) {
    app.get(&format!("/{tenant}/password/forgot")).await;
    let sent = app
        .post_form(&format!("/{tenant}/password/forgot"), &[("email", email)])
        .await;
    let location = sent.location().unwrap_or_default().to_owned();
    let page = app.get(&location).await;
    (sent.status, location, page.body)
}

/// Opens `link` and sets `password` through its form.
async fn set_password(app: &mut TestApp, link: &str, password: &str) -> (StatusCode, String) {
    let tenant = link.split('/').nth(1).expect("a tenant").to_owned();
    let page = app.get(link).await;
    if page.status != StatusCode::OK {
        return (page.status, page.body);
    }
    let done = app
        .post_form(
            &format!("/{tenant}/password/reset"),
            &[
                ("token", token_of(link)),
                ("password", password),
                ("password_confirm", password),
            ],
        )
        .await;
    (
        done.status,
        done.location().unwrap_or(&done.body).to_owned(),
    )
}

#[tokio::test]
async fn forgot_password_answers_alike_for_known_and_unknown_addresses_and_mails_only_the_known() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;

    let login = app.get("/acme/login").await;
    assert!(login.body.contains("href=\"/acme/password/forgot\""));
    assert!(login.body.contains("Forgot your password?"));

    let known = request_reset(&mut app, "acme", "Customer@Acme.test").await;
    let unknown = request_reset(&mut app, "acme", "nobody@acme.test").await;
    assert_eq!(known.0, StatusCode::SEE_OTHER);
    assert_eq!(known, unknown);
    assert!(known.2.contains("If an account exists for that address"));

    let rows = outbox(&app, acme.tenant.id).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "customer@acme.test");
    assert_eq!(rows[0].1, "password_reset");
    assert!(rows[0].2.contains("1 hour"));

    // Not an address at all: said at the field, nothing sent.
    app.get("/acme/password/forgot").await;
    let bad = app
        .post_form("/acme/password/forgot", &[("email", "not an address")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("aria-invalid=\"true\""));
    assert_eq!(outbox(&app, acme.tenant.id).await.len(), 1);
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_only_its_hash_is_stored() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    request_reset(&mut app, "acme", "customer@acme.test").await;
    let link = link_in(&outbox(&app, acme.tenant.id).await[0].2);
    let token = token_of(&link).to_owned();
    assert_eq!(token.len(), 43, "256 bits, base64url");

    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select token_hash from account_tokens")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, vec![Sha256::digest(token.as_bytes()).to_vec()]);
    let text: String = sqlx::query_scalar("select account_tokens::text from account_tokens")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(!text.contains(&token));

    let page = app.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert!(
        page.body
            .contains(&format!("name=\"token\" value=\"{token}\""))
    );

    // Two different passwords, or a short one: the form again, the token still good.
    for (password, confirm) in [(NEW_PASSWORD, "something-else!"), ("short", "short")] {
        let refused = app
            .post_form(
                "/acme/password/reset",
                &[
                    ("token", &token),
                    ("password", password),
                    ("password_confirm", confirm),
                ],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(refused.body.contains(&format!("value=\"{token}\"")));
    }

    let (status, location) = set_password(&mut app, &link, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/acme/login?notice=password_set");
    let login = app.get(&location).await;
    assert!(login.body.contains("Your password is set"));

    app.clear_cookies();
    let old = app.sign_in("acme", "customer@acme.test", PASSWORD).await;
    assert_eq!(old.status, StatusCode::UNPROCESSABLE_ENTITY);
    sign_in_as_with(&mut app, "customer@acme.test", NEW_PASSWORD).await;

    // Used up: the page and the form both say so.
    app.clear_cookies();
    let again = app.get(&link).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.body.contains("href=\"/acme/password/forgot\""));
    app.get("/acme/password/forgot").await;
    let replay = app
        .post_form(
            "/acme/password/reset",
            &[
                ("token", &token),
                ("password", "yet-another-password"),
                ("password_confirm", "yet-another-password"),
            ],
        )
        .await;
    assert_eq!(replay.status, StatusCode::GONE);
    sign_in_as_with(&mut app, "customer@acme.test", NEW_PASSWORD).await;
}

async fn sign_in_as_with(app: &mut TestApp, email: &str, password: &str) {
    app.clear_cookies();
    app.sign_in("acme", email, password)
        .await
        .assert_redirect_to("/acme/");
}

#[tokio::test]
async fn a_reset_link_expires_after_one_hour() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    request_reset(&mut app, "acme", "agent@acme.test").await;
    let link = link_in(&outbox(&app, acme.tenant.id).await[0].2);

    app.clock.advance(Duration::minutes(59));
    assert_eq!(app.get(&link).await.status, StatusCode::OK);
    app.clock.advance(Duration::minutes(1));
    let (status, body) = set_password(&mut app, &link, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains("Request a new link"));
    sign_in_as(&mut app, "acme", "agent@acme.test").await;
}

#[tokio::test]
async fn a_newer_link_replaces_the_older_and_resets_are_limited_to_three_an_hour() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    for _ in 0..5 {
        let (status, _, _) = request_reset(&mut app, "acme", "customer@acme.test").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let rows = outbox(&app, acme.tenant.id).await;
    assert_eq!(rows.len(), 3, "at most three an hour");
    let first = link_in(&rows[0].2);
    let last = link_in(&rows[2].2);
    assert_eq!(app.get(&first).await.status, StatusCode::GONE);
    assert_eq!(app.get(&last).await.status, StatusCode::OK);

    app.clock.advance(Duration::minutes(61));
    request_reset(&mut app, "acme", "customer@acme.test").await;
    assert_eq!(outbox(&app, acme.tenant.id).await.len(), 4);
}

#[tokio::test]
async fn an_invitation_from_the_users_page_lets_the_new_user_set_a_password_and_sign_in() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    let page = app.get("/acme/admin/users").await;
    assert!(page.body.contains("Send invitation"));
    app.post_form(
        "/acme/admin/users",
        &[
            ("email", "newbie@acme.test"),
            ("name", "New Bie"),
            ("role", "agent"),
            ("password", ""),
            ("invite", "1"),
        ],
    )
    .await
    .assert_redirect_to("/acme/admin/users?notice=admin_invited");

    let rows = outbox(&app, acme.tenant.id).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "newbie@acme.test");
    assert_eq!(rows[0].1, "invitation");
    assert!(rows[0].2.contains("7 days"));
    let audit: Vec<String> = sqlx::query_scalar(
        "select action from admin_audit_log where tenant_id = $1 and subject = 'newbie@acme.test'",
    )
    .bind(acme.tenant.id)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(audit, ["invite"]);

    // Valid for a week.
    app.clock.advance(Duration::days(6));
    app.clear_cookies();
    let link = link_in(&rows[0].2);
    let form = app.get(&link).await;
    assert!(form.body.contains("Set your password"));
    let (status, location) = set_password(&mut app, &link, NEW_PASSWORD).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/acme/login?notice=password_set")
    );
    sign_in_as_with(&mut app, "newbie@acme.test", NEW_PASSWORD).await;

    // Without the box ticked, no invitation.
    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    app.get("/acme/admin/users").await;
    app.post_form(
        "/acme/admin/users",
        &[
            ("email", "quiet@acme.test"),
            ("role", "customer"),
            ("password", ""),
        ],
    )
    .await
    .assert_redirect_to("/acme/admin/users?notice=admin_user_created");
    assert_eq!(outbox(&app, acme.tenant.id).await.len(), 1);
}

#[tokio::test]
async fn an_admin_sends_a_reset_link_to_an_active_user_only() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    let page = app.get("/acme/admin/users").await;
    assert!(page.body.contains("Send password reset link"));
    let id = acme.customer.id.to_string();
    app.post_form("/acme/admin/users/reset-link", &[("id", &id)])
        .await
        .assert_redirect_to("/acme/admin/users?notice=admin_reset_sent");
    let rows = outbox(&app, acme.tenant.id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str()),
        ("customer@acme.test", "password_reset")
    );
    let audit: i64 = sqlx::query_scalar(
        "select count(*) from admin_audit_log where tenant_id = $1 and action = 'send reset link'",
    )
    .bind(acme.tenant.id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(audit, 1);

    app.get("/acme/admin/users").await;
    app.post_form("/acme/admin/users/active", &[("id", &id), ("active", "0")])
        .await;
    app.get("/acme/admin/users").await;
    let refused = app
        .post_form("/acme/admin/users/reset-link", &[("id", &id)])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    // The link sent before the deactivation stops working too.
    app.clear_cookies();
    assert_eq!(app.get(&link_in(&rows[0].2)).await.status, StatusCode::GONE);
    // Nor does forgot-password mail a deactivated account.
    request_reset(&mut app, "acme", "customer@acme.test").await;
    assert_eq!(outbox(&app, acme.tenant.id).await.len(), 1);
}

#[tokio::test]
async fn a_link_of_one_tenant_does_not_work_in_another() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    app.create_tenant("globex").await;
    request_reset(&mut app, "acme", "customer@acme.test").await;
    let link = link_in(&outbox(&app, acme.tenant.id).await[0].2);
    assert!(link.starts_with("/acme/"));
    let elsewhere = link.replacen("/acme/", "/globex/", 1);
    let (status, _) = set_password(&mut app, &elsewhere, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::GONE);
    app.get("/globex/password/forgot").await;
    let posted = app
        .post_form(
            "/globex/password/reset",
            &[
                ("token", token_of(&link)),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::GONE);
    sign_in_as(&mut app, "globex", "customer@globex.test").await;
    // Still good where it belongs.
    let (status, _) = set_password(&mut app, &link, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}
