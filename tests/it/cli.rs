//! The `tessera` binary: tenant and user creation, migration, configuration
//! errors, and graceful shutdown of a real server.

use crate::helpers::{PASSWORD, TestApp, TestDatabase};
use axum::http::StatusCode;
use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    process::{Command, Output, Stdio},
    time::Duration,
};

fn tessera(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .env("TESSERA__DATABASE__URL", database_url)
        .env("TESSERA__LOG__FORMAT", "json")
        .env_remove("DATABASE_URL")
        .env_remove("TESSERA_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("running the tessera binary")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn tenant_and_user_creation_from_the_command_line_give_working_accounts() {
    let mut app = TestApp::new().await;
    let url = app.database.url.clone();
    let created = tessera(
        &url,
        &[
            "tenant",
            "create",
            "initech",
            "--name",
            "Initech",
            "--admin-email",
            "boss@initech.test",
            "--password",
            PASSWORD,
        ],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(String::from_utf8_lossy(&created.stdout).contains("Created tenant `initech`"));

    let user = tessera(
        &url,
        &[
            "user",
            "create",
            "initech",
            "peter@initech.test",
            "--role",
            "agent",
            "--name",
            "Peter",
            "--password",
            PASSWORD,
        ],
    );
    assert!(user.status.success(), "{}", stderr(&user));

    app.sign_in("initech", "boss@initech.test", PASSWORD)
        .await
        .assert_redirect_to("/initech/");
    assert!(app.get("/initech/").await.body.contains(">Settings</a>"));
    app.clear_cookies();
    app.sign_in("initech", "peter@initech.test", PASSWORD)
        .await
        .assert_redirect_to("/initech/");
    let home = app.get("/initech/").await;
    assert!(home.body.contains("Welcome, Peter"));
}

#[tokio::test]
async fn command_line_mistakes_are_one_clear_line_and_a_failure_status() {
    let app = TestApp::new().await;
    app.create_tenant("acme").await;
    let url = app.database.url.clone();
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "tenant",
                "create",
                "acme",
                "--name",
                "Again",
                "--admin-email",
                "a@acme.test",
                "--password",
                PASSWORD,
            ],
            "a tenant with the slug `acme` already exists",
        ),
        (
            &[
                "tenant",
                "create",
                "Bad Slug",
                "--name",
                "X",
                "--admin-email",
                "a@x.test",
                "--password",
                PASSWORD,
            ],
            "lowercase letters, digits and inner hyphens",
        ),
        (
            &[
                "user",
                "create",
                "nope",
                "a@nope.test",
                "--role",
                "agent",
                "--password",
                PASSWORD,
            ],
            "there is no tenant with the slug `nope`",
        ),
        (
            &[
                "user",
                "create",
                "acme",
                "agent@acme.test",
                "--role",
                "agent",
                "--password",
                PASSWORD,
            ],
            "already exists in this tenant",
        ),
        (
            &["user", "create", "acme", "new@acme.test", "--role", "agent"],
            "no password given",
        ),
    ];
    for (args, message) in cases {
        let output = tessera(&url, args);
        let err = stderr(&output);
        assert!(!output.status.success(), "{args:?}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
}

#[tokio::test]
async fn a_bad_configuration_value_stops_the_binary_naming_the_key() {
    let database = TestDatabase::create().await;
    let output = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("migrate")
        .env("TESSERA__DATABASE__URL", &database.url)
        .env("TESSERA__SERVER__BIND", "nonsense")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output).to_lowercase();
    assert!(
        err.contains("server.bind") && err.contains("invalid socket address"),
        "{err}"
    );

    let unreachable = tessera("postgres://nobody@127.0.0.1:1/none", &["migrate"]);
    assert!(!unreachable.status.success());
    assert!(
        stderr(&unreachable).contains("connecting to the database"),
        "{}",
        stderr(&unreachable)
    );
}

#[tokio::test]
async fn the_server_serves_and_stops_gracefully_on_sigterm() {
    let database = TestDatabase::create().await;
    let data_dir = tempdir("graceful");
    let mut server = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["serve", "--demo", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .env("TESSERA__DATABASE__URL", &database.url)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = String::new();
    let address = loop {
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.strip_prefix("Tessera is listening on http://") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    for account in [
        "admin@demo.test",
        "agent@demo.test",
        "customer@demo.test",
        "tessera-demo",
    ] {
        assert!(printed.contains(account), "{printed}");
    }

    let (status, body) = http_get(&address, "/demo/login");
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Demo data"), "the demo banner");

    let pid = server.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let exited = wait_with_timeout(&mut server, Duration::from_secs(15));
    assert_eq!(exited.map(|s| s.success()), Some(true));
    let _ = std::fs::remove_dir_all(data_dir);
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn http_get(address: &str, path: &str) -> (StatusCode, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap();
    (status, response)
}

fn wait_with_timeout(
    child: &mut std::process::Child,
    timeout: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}
