//! Chat notifications through a tenant's webhook: delivered by the outbox
//! worker to a real HTTP listener the test starts (configuration allowing
//! http and loopback), and refused URLs when the configuration does not.

use crate::{
    email::{Sink, deliver, smtp_config},
    helpers::TestApp,
    tickets::{create_direct, sign_in_as, subject},
};
use axum::http::StatusCode;
use figment::providers::Serialized;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// An HTTP listener on 127.0.0.1 answering every request with `status`, and
/// keeping the bodies it received.
async fn listener(status: u16) -> (u16, Arc<Mutex<Vec<String>>>) {
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = socket.accept().await {
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = stream.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&data).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|l| l.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        kept.lock().unwrap().push(body.to_owned());
                        break;
                    }
                }
            }
            let answer =
                format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    (port, bodies)
}

async fn chat_rows(app: &TestApp) -> Vec<(String, i32, Option<String>)> {
    sqlx::query_as(
        "select status, attempts, last_error from email_outbox where channel = 'chat' order by created_at",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn new_tickets_are_posted_to_the_tenants_webhook_with_retries() {
    let sink = Sink::start();
    let config = smtp_config(sink.port)
        .merge(Serialized::default("chat.allow_http", true))
        .merge(Serialized::default("chat.allow_private_addresses", true));
    let mut app = TestApp::with_config(config).await;
    let acme = app.create_tenant("acme").await;
    let (ok_port, bodies) = listener(200).await;
    let (failing_port, _) = listener(500).await;

    sign_in_as(&mut app, "acme", "admin@acme.test").await;
    let page = app.get("/acme/admin/chat").await;
    assert_eq!(page.status, StatusCode::OK);
    let url = format!("http://127.0.0.1:{failing_port}/hooks/abc");
    app.post_form(
        "/acme/admin/chat",
        &[
            ("url", &url),
            ("on_new_ticket", "on"),
            ("on_reopened", "on"),
        ],
    )
    .await
    .assert_redirect_to("/acme/admin/chat?notice=saved");

    // The webhook fails: the message waits to be retried, like mail.
    create_direct(&app, &acme.customer, subject("Printer <on> fire")).await;
    deliver(&app).await;
    let rows = chat_rows(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].0.as_str(), rows[0].1), ("pending", 1));
    assert!(
        rows[0]
            .2
            .as_deref()
            .unwrap_or_default()
            .contains("HTTP 500"),
        "{rows:?}"
    );

    // Pointed at a working webhook, the next ticket is announced at once.
    let url = format!("http://127.0.0.1:{ok_port}/hooks/abc");
    app.post_form(
        "/acme/admin/chat",
        &[("url", &url), ("on_new_ticket", "on")],
    )
    .await
    .assert_redirect_to("/acme/admin/chat?notice=saved");
    create_direct(&app, &acme.customer, subject("Scanner jam")).await;
    deliver(&app).await;
    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let json: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(
        json["text"],
        "New ticket TKT-000002: Scanner jam\nhttp://127.0.0.1:8080/acme/tickets/2"
    );
    assert_eq!(chat_rows(&app).await[1].0, "sent");

    // A webhook that wants only reopened tickets hears of no new one.
    app.post_form("/acme/admin/chat", &[("url", &url), ("on_reopened", "on")])
        .await
        .assert_redirect_to("/acme/admin/chat?notice=saved");
    create_direct(&app, &acme.customer, subject("Toner low")).await;
    assert_eq!(chat_rows(&app).await.len(), 2);
}

#[tokio::test]
async fn webhook_urls_must_be_https_and_public_unless_the_operator_allows_otherwise() {
    let mut app = TestApp::new().await;
    app.create_tenant("acme").await;
    sign_in_as(&mut app, "acme", "admin@acme.test").await;
    app.get("/acme/admin/chat").await;
    for (url, says) in [
        ("http://hooks.example.test/x", "must start with https://"),
        ("https://127.0.0.1/x", "internal address"),
        ("https://localhost:8443/x", "internal address"),
        ("https://10.0.0.5/x", "internal address"),
        ("https://[::1]/x", "internal address"),
        ("https://169.254.169.254/latest", "internal address"),
    ] {
        let page = app
            .post_form("/acme/admin/chat", &[("url", url), ("on_new_ticket", "on")])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert!(page.body.contains(says), "{url}: {}", page.body);
        assert!(page.body.contains("aria-invalid=\"true\""));
    }
    let saved: i64 = sqlx::query_scalar("select count(*) from chat_webhooks")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(saved, 0);
}
