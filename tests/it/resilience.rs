//! What a client sees when things fail: a submission retried with the same
//! idempotency key creates one ticket, and an unreachable database answers 503
//! quickly with a clear page or JSON error (the fault harness in tests/fault
//! measures the same under real outages).

use crate::{helpers::TestApp, tickets::sign_in_as};
use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt as _;
use secrecy::SecretString;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::{
    net::SocketAddr,
    str::FromStr as _,
    time::{Duration, Instant},
};
use tessera::{clock::Clock, config::Config, db::Db, state::AppState};
use tower::ServiceExt as _;

async fn ticket_count_of(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from tickets")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// The hidden idempotency key of the create form on the last page.
fn form_key(body: &str) -> String {
    let marker = "name=\"idempotency_key\" value=\"";
    let start = body
        .find(marker)
        .expect("the create form has an idempotency key")
        + marker.len();
    body[start..start + body[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn a_submission_repeated_with_the_same_idempotency_key_creates_one_ticket() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    sign_in_as(&mut app, "acme", &acme.customer.email).await;

    // The form carries a fresh key each time it is opened.
    let key = form_key(&app.get("/acme/tickets/new").await.body);
    assert_ne!(key, form_key(&app.get("/acme/tickets/new").await.body));
    let before = ticket_count_of(&app).await;

    // The answer to the first submission is lost; the browser sends it again.
    let form = [("subject", "Printer on fire"), ("idempotency_key", &key)];
    app.post_form("/acme/tickets", &form)
        .await
        .assert_redirect_to("/acme/tickets/1?notice=created");
    let again = [
        ("subject", "Printer on fire (again)"),
        ("idempotency_key", &key),
    ];
    app.post_form("/acme/tickets", &again)
        .await
        .assert_redirect_to("/acme/tickets/1?notice=created");
    assert_eq!(ticket_count_of(&app).await, before + 1);
    assert!(
        app.get("/acme/tickets/1")
            .await
            .body
            .contains("Printer on fire")
    );

    // The same through the Idempotency-Key header; another key is another ticket.
    let token = app.csrf_token().unwrap().to_owned();
    for _ in 0..2 {
        let body = serde_urlencoded::to_string([
            ("csrf_token", token.as_str()),
            ("subject", "Scanner jams"),
        ])
        .unwrap();
        let response = app
            .request(
                axum::http::Method::POST,
                "/acme/tickets",
                Some(body),
                &[
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("idempotency-key", "client-chosen-key-1"),
                ],
            )
            .await;
        response.assert_redirect_to("/acme/tickets/2?notice=created");
    }
    assert_eq!(ticket_count_of(&app).await, before + 2);

    // Keys are the tenant's: another tenant's customer using the same key
    // gets a ticket of their own.
    let globex = app.create_tenant("globex").await;
    sign_in_as(&mut app, "globex", &globex.customer.email).await;
    app.get("/globex/tickets/new").await;
    app.post_form(
        "/globex/tickets",
        &[("subject", "Printer on fire"), ("idempotency_key", &key)],
    )
    .await
    .assert_redirect_to("/globex/tickets/1?notice=created");

    // A key that is not 1-100 visible ASCII characters is refused, nothing saved.
    let long = "k".repeat(101);
    let refused = app
        .post_form(
            "/globex/tickets",
            &[("subject", "Too long a key"), ("idempotency_key", &long)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(ticket_count_of(&app).await, before + 3);
}

#[tokio::test]
async fn a_guest_submission_sent_twice_with_its_key_files_one_request_and_one_email() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    sqlx::query("update tenant_settings set guest_submission_enabled = true")
        .execute(app.db.pool())
        .await
        .unwrap();
    let category: uuid::Uuid = sqlx::query_scalar(
        "select id from categories where tenant_id = $1 and depth = 1 order by position limit 1",
    )
    .bind(acme.tenant.id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let category = category.to_string();
    let key = form_key(&app.get("/acme/submit").await.body);
    let before = ticket_count_of(&app).await;

    let mut answers = Vec::new();
    for subject in ["Printer smokes", "Printer smokes (sent again)"] {
        let response = app
            .post_form(
                "/acme/submit",
                &[
                    ("email", "pat@example.test"),
                    ("name", "Pat Guest"),
                    ("subject", subject),
                    ("description", "Smoke."),
                    ("category", &category),
                    ("website", ""),
                    ("idempotency_key", &key),
                ],
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        answers.push(response.body);
    }
    assert_eq!(ticket_count_of(&app).await, before + 1);
    // Both answers name the one request.
    let received = |body: &str| {
        let start = body.find("We received your request ").expect(body) + 25;
        body[start..start + body[start..].find(';').unwrap()].to_owned()
    };
    assert_eq!(received(&answers[0]), received(&answers[1]));
    assert!(
        received(&answers[0]).ends_with('1'),
        "{}",
        received(&answers[0])
    );
    let mails: i64 =
        sqlx::query_scalar("select count(*) from email_outbox where recipient_email = $1")
            .bind("pat@example.test")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(mails, 1, "one confirmation with the access link");
}

#[tokio::test]
async fn a_request_past_the_server_timeout_answers_504_not_408() {
    use figment::providers::Serialized;
    let slow = axum::Router::new().route(
        "/{tenant}/slow",
        axum::routing::get(|| async {
            // Standing in for a query on a stalled database connection.
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    );
    let mut app = TestApp::with_config(
        Config::defaults().merge(Serialized::default("server.request_timeout_secs", 1)),
    )
    .await
    .with_routes(slow);
    app.create_tenant("acme").await;
    let started = Instant::now();
    let page = app.get("/acme/slow").await;
    assert_eq!(page.status, StatusCode::GATEWAY_TIMEOUT, "{}", page.body);
    assert!(page.body.contains("Too slow"), "{}", page.body);
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// The router over a pool whose database cannot be reached (nothing listens
/// on its port), waiting at most `acquire` for a connection.
fn router_without_database(acquire: Duration) -> axum::Router {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options =
        PgConnectOptions::from_str(&format!("postgres://postgres@127.0.0.1:{port}/gone")).unwrap();
    let pool = PgPoolOptions::new()
        .acquire_timeout(acquire)
        .connect_lazy_with(options);
    let config = Config::from_figment(Config::defaults()).unwrap();
    let secret = SecretString::from(tessera::auth::tokens::random_token());
    tessera::web::router(AppState::new(
        Db::from_pool(pool),
        config,
        Clock::System,
        secret,
    ))
}

async fn send(
    router: &axum::Router,
    request: Request<Body>,
) -> (StatusCode, Option<String>, String, Duration) {
    let mut request = request;
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 10], 41000))));
    let started = Instant::now();
    let response = router.clone().oneshot(request).await.unwrap();
    let elapsed = started.elapsed();
    let status = response.status();
    let retry = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        retry,
        String::from_utf8_lossy(&body).into_owned(),
        elapsed,
    )
}

#[tokio::test]
async fn with_the_database_unreachable_pages_and_api_answer_503_quickly() {
    let router = router_without_database(Duration::from_millis(500));

    let page = Request::get("/acme/login").body(Body::empty()).unwrap();
    let (status, retry, body, elapsed) = send(&router, page).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry.as_deref(), Some("5"));
    assert!(body.contains("Temporarily unavailable"), "{body}");
    assert!(body.contains("Nothing was saved"), "{body}");
    for internal in ["sqlx", "pool", "127.0.0.1", "Connection refused"] {
        assert!(!body.contains(internal), "{internal} in {body}");
    }
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");

    let api = Request::post("/acme/api/inbound-email")
        .header(header::AUTHORIZATION, "Bearer whatever")
        .body(Body::from("From: a@b.test\r\n\r\nhi"))
        .unwrap();
    let (status, _, body, _) = send(&router, api).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"]["code"], "unavailable", "{body}");

    let (status, _, _, _) = send(
        &router,
        Request::get("/readyz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

/// A signed-in page view is one transaction: the one its user was loaded in is
/// handed to the handler. A page that held it while asking the pool for another
/// would starve once every connection is held so (5 in tests): 40 pages at once
/// would then wait out the acquire timeout and answer 503.
#[tokio::test]
async fn forty_pages_opened_at_once_on_a_pool_of_five_all_answer() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    app.get("/acme/tickets/new").await;
    app.post_form("/acme/tickets", &[("subject", "Printer on fire")])
        .await
        .assert_redirect_to("/acme/tickets/1?notice=created");
    let customer_pages = [
        "/acme/",
        "/acme/tickets",
        "/acme/tickets/1",
        "/acme/tickets/new",
        "/acme/account/notifications",
    ];
    let paths: Vec<String> = customer_pages.iter().map(|p| (*p).to_owned()).collect();
    for page in app.get_all_at_once(&paths).await {
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    }

    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    let staff_pages = [
        "/acme/tickets",
        "/acme/tickets?queue=all&closed=1",
        "/acme/tickets?q=printer",
        "/acme/tickets/1",
        "/acme/tickets/1/edit",
        "/acme/tickets/1/activity",
        "/acme/tickets/new",
        "/acme/views",
        "/acme/admin/general",
        "/acme/admin/statuses",
        "/acme/admin/users",
        "/acme/admin/groups",
        "/acme/admin/audit",
        "/acme/admin/outbox",
    ];
    let paths: Vec<String> = staff_pages
        .iter()
        .cycle()
        .take(40)
        .map(|p| (*p).to_owned())
        .collect();
    let pages = app.get_all_at_once(&paths).await;
    for (path, page) in paths.iter().zip(&pages) {
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    }
    assert!(pages[3].body.contains("Printer on fire"));
}
