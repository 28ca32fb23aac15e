//! Signing in and out, throttling, and what each role sees.

use crate::helpers::{PASSWORD, TestApp};
use axum::{Router, http::StatusCode, routing::get};
use tessera::{
    state::AppState,
    web::extract::{Admin, Staff},
};
use time::Duration;

#[tokio::test]
async fn each_role_signs_in_and_sees_its_own_navigation() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let cases = [
        (
            &acme.customer.email,
            "Customer",
            vec!["My tickets"],
            vec!["Queue", "Settings"],
        ),
        (
            &acme.agent.email,
            "Agent",
            vec!["Queue"],
            vec!["My tickets", "Settings"],
        ),
        (
            &acme.admin.email,
            "Admin",
            vec!["Queue", "Settings"],
            vec!["My tickets"],
        ),
    ];
    for (email, role, shown, hidden) in cases {
        app.clear_cookies();
        let response = app.sign_in("acme", email, PASSWORD).await;
        response.assert_redirect_to("/acme/");
        let home = app.get("/acme/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(
            home.body
                .contains(&format!("<span class=\"role-badge\">{role}</span>")),
            "{role}"
        );
        for label in shown {
            assert!(
                home.body.contains(&format!(">{label}</a>")),
                "{role} should see {label}"
            );
        }
        for label in hidden {
            assert!(
                !home.body.contains(&format!(">{label}</a>")),
                "{role} should not see {label}"
            );
        }
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let wrong_password = app
        .sign_in("acme", &acme.agent.email, "not-the-password")
        .await;
    let unknown_email = app.sign_in("acme", "nobody@acme.test", PASSWORD).await;
    for response in [&wrong_password, &unknown_email] {
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(response.body.contains("Email or password is incorrect."));
        assert!(response.body.contains("aria-describedby=\"login-error\""));
    }
    // The email typed is kept; the password is not echoed.
    assert!(
        wrong_password
            .body
            .contains(&format!("value=\"{}\"", acme.agent.email))
    );
    assert!(!wrong_password.body.contains("not-the-password"));
    assert_eq!(
        app.get("/acme/").await.location(),
        Some("/acme/login?next=%2Facme%2F")
    );
}

#[tokio::test]
async fn email_is_matched_without_regard_to_case() {
    let mut app = TestApp::new().await;
    app.create_tenant("acme").await;
    app.sign_in("acme", "  AGENT@Acme.TEST ", PASSWORD)
        .await
        .assert_redirect_to("/acme/");
}

#[tokio::test]
async fn a_deactivated_user_cannot_sign_in_and_loses_their_session() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    app.sign_in("acme", &acme.agent.email, PASSWORD).await;
    assert_eq!(app.get("/acme/").await.status, StatusCode::OK);

    sqlx::query("update users set active = false where id = $1")
        .bind(acme.agent.id)
        .execute(app.db.pool())
        .await
        .unwrap();
    assert_eq!(app.get("/acme/").await.status, StatusCode::SEE_OTHER);
    let again = app.sign_in("acme", &acme.agent.email, PASSWORD).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn signing_in_returns_to_the_page_asked_for_but_never_off_site() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let login = app.get("/acme/login?next=%2Facme%2F%3Fx%3D1").await;
    assert!(
        login
            .body
            .contains("action=\"/acme/login?next=%2Facme%2F%3Fx%3D1\"")
    );
    let response = app
        .post_form(
            "/acme/login?next=%2Facme%2F%3Fx%3D1",
            &[("email", &acme.agent.email), ("password", PASSWORD)],
        )
        .await;
    response.assert_redirect_to("/acme/?x=1");

    app.clear_cookies();
    app.get("/acme/login").await;
    let response = app
        .post_form(
            "/acme/login?next=https%3A%2F%2Fevil.test%2F",
            &[("email", &acme.agent.email), ("password", PASSWORD)],
        )
        .await;
    response.assert_redirect_to("/acme/");
}

#[tokio::test]
async fn signing_in_replaces_the_session_id() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    app.create_tenant("globex").await;
    app.sign_in("acme", &acme.agent.email, PASSWORD).await;
    let first = app.cookie("tessera_session").expect("a session").to_owned();

    app.sign_in("globex", "agent@globex.test", PASSWORD).await;
    let second = app.cookie("tessera_session").expect("a session").to_owned();
    assert_ne!(first, second);

    // The old id no longer signs anyone in.
    app.set_cookie("tessera_session", &first);
    assert_eq!(app.get("/acme/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn signing_out_ends_only_that_tenants_login() {
    let mut app = TestApp::new().await;
    app.create_tenant("acme").await;
    app.create_tenant("globex").await;
    app.sign_in("acme", "agent@acme.test", PASSWORD).await;
    app.sign_in("globex", "customer@globex.test", PASSWORD)
        .await;

    let response = app.sign_out("acme").await;
    response.assert_redirect_to("/acme/login?notice=signed_out");
    let login = app.get("/acme/login?notice=signed_out").await;
    assert!(login.body.contains("You have signed out."));
    assert_eq!(app.get("/acme/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/globex/").await.status, StatusCode::OK);

    app.sign_out("globex").await;
    assert_eq!(app.get("/globex/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.cookie("tessera_session"),
        None,
        "the empty session is deleted"
    );
}

#[tokio::test]
async fn repeated_failures_lock_the_account_until_the_window_passes() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    for _ in 0..5 {
        let response = app
            .sign_in("acme", &acme.agent.email, "wrong-password")
            .await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    app.clock.advance(Duration::minutes(5));
    // Even the right password is refused while the account is locked.
    let locked = app.sign_in("acme", &acme.agent.email, PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        locked.body.contains("Try again in 600 seconds."),
        "{}",
        locked.body
    );
    assert_eq!(locked.header("retry-after"), Some("600"));

    // Another account from the same address is not affected by this lock.
    app.sign_in("acme", &acme.customer.email, PASSWORD)
        .await
        .assert_redirect_to("/acme/");

    app.clock.advance(Duration::minutes(10));
    app.clear_cookies();
    app.sign_in("acme", &acme.agent.email, PASSWORD)
        .await
        .assert_redirect_to("/acme/");
}

#[tokio::test]
async fn many_failures_from_one_address_lock_that_address_for_every_account() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    for n in 0..20 {
        let email = format!("guess{n}@acme.test");
        let response = app.sign_in("acme", &email, "wrong-password").await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let locked = app.sign_in("acme", &acme.admin.email, PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("Try again in 900 seconds."));

    app.client_ip = "198.51.100.7".parse().unwrap();
    app.sign_in("acme", &acme.admin.email, PASSWORD)
        .await
        .assert_redirect_to("/acme/");
}

async fn ok() -> &'static str {
    "ok"
}

fn role_probe_routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/probe/staff", get(|_: Staff| ok()))
        .route("/{tenant}/probe/admin", get(|_: Admin| ok()))
}

#[tokio::test]
async fn staff_and_admin_pages_are_invisible_to_roles_without_them() {
    let mut app = TestApp::new().await.with_routes(role_probe_routes());
    let acme = app.create_tenant("acme").await;
    let expectations = [
        (
            &acme.customer.email,
            StatusCode::NOT_FOUND,
            StatusCode::NOT_FOUND,
        ),
        (&acme.agent.email, StatusCode::OK, StatusCode::NOT_FOUND),
        (&acme.admin.email, StatusCode::OK, StatusCode::OK),
    ];
    for (email, staff, admin) in expectations {
        app.clear_cookies();
        app.sign_in("acme", email, PASSWORD).await;
        assert_eq!(app.get("/acme/probe/staff").await.status, staff, "{email}");
        assert_eq!(app.get("/acme/probe/admin").await.status, admin, "{email}");
    }
    app.clear_cookies();
    let anonymous = app.get("/acme/probe/staff").await;
    anonymous.assert_redirect_to("/acme/login?next=%2Facme%2Fprobe%2Fstaff");
}
