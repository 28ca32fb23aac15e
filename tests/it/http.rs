//! Cross-cutting HTTP behaviour: health, headers, static files, CSRF, error pages.

use crate::helpers::{PASSWORD, TestApp};
use axum::http::{Method, StatusCode};

#[tokio::test]
async fn health_answers_and_readiness_follows_the_database() {
    let mut app = TestApp::new().await;
    let health = app.get("/healthz").await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::OK, "ok")
    );
    let ready = app.get("/readyz").await;
    assert_eq!(
        (ready.status, ready.body.as_str()),
        (StatusCode::OK, "ready")
    );

    app.db.pool().close().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let mut app = TestApp::new().await;
    app.create_tenant("acme").await;
    for path in [
        "/acme/login",
        "/healthz",
        "/no/such/page",
        "/static/app.css",
    ] {
        let response = app.get(path).await;
        let csp = response
            .header("content-security-policy")
            .unwrap_or_default();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(
            response.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            response.header("referrer-policy"),
            Some("same-origin"),
            "{path}"
        );
        assert!(response.header("x-request-id").is_some(), "{path}");
    }
}

#[tokio::test]
async fn static_files_are_served_with_cache_validators() {
    let mut app = TestApp::new().await;
    let css = app.get("/static/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type"), Some("text/css"));
    assert!(css.header("cache-control").unwrap().contains("max-age="));
    let etag = css.header("etag").expect("an etag").to_owned();

    let again = app
        .request(
            Method::GET,
            "/static/app.css",
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    let htmx = app.get("/static/vendor/htmx.min.js").await;
    assert_eq!(htmx.status, StatusCode::OK);
    assert!(htmx.body.contains("htmx"));
    assert_eq!(
        app.get("/static/nope.css").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/static/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_form_without_its_token_is_refused_and_nothing_happens() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    app.get("/acme/login").await;
    let fields = [("email", acme.agent.email.as_str()), ("password", PASSWORD)];

    let missing = app.post_form_without_token("/acme/login", &fields).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(missing.body.contains("Form expired"), "{}", missing.body);
    assert_eq!(app.cookie("tessera_session"), None, "not signed in");

    let mut forged = fields.to_vec();
    forged.push(("csrf_token", "forged-token"));
    let forged = app.post_form_without_token("/acme/login", &forged).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // A valid token of another browser (another cookie) is no good either.
    let my_cookie = app
        .cookie("tessera_csrf")
        .expect("a csrf cookie")
        .to_owned();
    app.clear_cookies();
    app.get("/acme/login").await;
    let other_token = app.csrf_token().expect("a token").to_owned();
    app.clear_cookies();
    app.set_cookie("tessera_csrf", &my_cookie);
    let stolen = app
        .request(
            Method::POST,
            "/acme/login",
            Some(format!("email={}&password={PASSWORD}", acme.agent.email)),
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("x-csrf-token", &other_token),
            ],
        )
        .await;
    assert_eq!(stolen.status, StatusCode::FORBIDDEN);

    // Signing out is a form too.
    app.sign_in("acme", &acme.agent.email, PASSWORD).await;
    let logout = app.post_form_without_token("/acme/logout", &[]).await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/acme/").await.status,
        StatusCode::OK,
        "still signed in"
    );
}

#[tokio::test]
async fn a_cross_site_post_is_refused_even_with_a_token() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let page = app.get("/acme/login").await;
    assert_eq!(page.status, StatusCode::OK);
    let response = app
        .request(
            Method::POST,
            "/acme/login",
            Some(format!("email={}&password={PASSWORD}", acme.agent.email)),
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.test"),
            ],
        )
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn anonymous_pages_do_not_create_sessions() {
    let mut app = TestApp::new().await;
    app.create_tenant("acme").await;
    for _ in 0..3 {
        app.clear_cookies();
        app.get("/acme/login").await;
        app.get("/acme/").await;
    }
    let sessions: i64 = sqlx::query_scalar("select count(*) from tower_sessions.session")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(sessions, 0);
}

#[tokio::test]
async fn malformed_input_gets_a_page_not_a_framework_message() {
    let mut app = TestApp::new().await;
    app.create_tenant("acme").await;
    app.get("/acme/login").await;
    let response = app
        .post_form("/acme/login", &[("email", "only-an-email")])
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        response.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(response.body.contains("Invalid input"), "{}", response.body);
    assert!(
        response.body.contains("acme support"),
        "the tenant's chrome"
    );

    let wrong_method = app
        .request(
            Method::DELETE,
            "/acme/login",
            None,
            &[("x-csrf-token", "x")],
        )
        .await;
    assert_eq!(
        wrong_method.status,
        StatusCode::FORBIDDEN,
        "tokens are checked first"
    );
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let mut app = TestApp::new().await;
    app.create_tenant("acme").await;
    app.get("/acme/login").await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let response = app
        .post_form("/acme/login", &[("email", &huge), ("password", "x")])
        .await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.body.contains("Too large"));
}
