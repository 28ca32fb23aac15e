//! Source and error hygiene (issue #10): no SQL is built from runtime values
//! with string formatting (a scan of `src/`, with a reviewed allow-list);
//! error pages show no SQL, driver names, panics, source paths or secrets,
//! and logs no secrets; a production (https) configuration refuses default or
//! weak secrets.

use crate::helpers::{CapturedLogs, TestApp};
use axum::{Router, routing::get};
use figment::providers::Serialized;
use std::path::{Path, PathBuf};
use tessera::{config::Config, error::AppError, state::AppState};

/// Sites that interpolate a non-constant into SQL, each reviewed: (file,
/// text inside the `format!`, why it is safe). A site not listed fails the
/// test; an entry that no longer matches anything fails it too.
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "src/admin/repo.rs",
        "list.table()",
        "`List` is a closed enum; `table()` returns one of four string literals",
    ),
    (
        "src/admin/repo.rs",
        "list.ticket_column()",
        "`List` is a closed enum; `ticket_column()` returns a string literal",
    ),
    (
        "src/attachments/repo.rs",
        "$ticket,",
        "`listed_json!`'s argument is a `literal` fragment: a string literal at every call site",
    ),
    (
        "src/replies/repo.rs",
        "$ticket",
        "`thread!`'s argument (through `replies_json!` and `people_json!`) is a `literal` fragment: a string literal at every call site",
    ),
    (
        "src/db.rs",
        "tenant.0",
        "a `TenantId` is a UUID, whose text is hex digits and dashes",
    ),
    (
        "src/tickets/list.rs",
        "order_by(query.sort)",
        "`Sort` is a closed enum; `order_by` returns one of four string literals",
    ),
    (
        "src/tickets/list.rs",
        "sort_key(query.sort)",
        "`Sort` is a closed enum; `sort_key` returns one of three string literals",
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text from `open` (just after an opening parenthesis) to its match.
fn balanced(text: &str, open: usize) -> &str {
    let mut depth = 1;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text[open..].char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[open..open + i];
                }
            }
            _ => {}
        }
    }
    &text[open..]
}

/// The first string literal of a macro's arguments and what follows it.
fn literal_and_rest(args: &str) -> Option<(String, &str)> {
    let start = args.find('"')?;
    if !args[..start].trim().is_empty() {
        return None;
    }
    let mut escaped = false;
    for (i, c) in args[start + 1..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => {
                let end = start + 1 + i;
                return Some((args[start + 1..end].to_owned(), &args[end + 1..]));
            }
            _ => {}
        }
    }
    None
}

fn looks_like_sql(literal: &str) -> bool {
    let l = literal.to_lowercase();
    (l.contains("select ") && l.contains(" from "))
        || l.contains("insert into")
        || l.contains("delete from")
        || (l.contains("update ") && l.contains(" set "))
        || l.contains(" where ")
        || l.contains(" limit $")
        || l.contains(" limit {")
        || l.contains("order by")
        || l.contains("$1")
        || l.contains("set_config(")
}

/// A constant: `NAME`, `path::NAME`, a number, or arithmetic of those.
fn is_constant(expression: &str) -> bool {
    let expression = expression.trim();
    !expression.is_empty()
        && expression
            .split(|c: char| "+-*/ ()".contains(c))
            .filter(|t| !t.is_empty())
            .all(|token| {
                let last = token.rsplit("::").next().unwrap_or(token);
                last.chars().all(|c| c.is_ascii_digit() || c == '_')
                    || (last.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                        && last
                            .chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            })
}

/// The expressions a format string interpolates: inline names and the
/// explicit arguments.
fn interpolated(literal: &str, rest: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut chars = literal.chars().peekable();
    let mut explicit = 0;
    while let Some(c) = chars.next() {
        if c == '{' {
            if chars.peek() == Some(&'{') {
                chars.next();
                continue;
            }
            let inner: String = chars.by_ref().take_while(|c| *c != '}').collect();
            let name = inner.split(':').next().unwrap_or("").trim().to_owned();
            if name.is_empty() {
                explicit += 1;
            } else if name.parse::<usize>().is_err() {
                found.push(name);
            }
        }
    }
    // Explicit arguments: split at top-level commas.
    let mut args = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in rest.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                args.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    args.push(current);
    found.extend(
        args.into_iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty()),
    );
    let _ = explicit;
    found
}

/// Every SQL-building site with a non-constant interpolation: (file, the
/// macro's argument text).
fn formatted_sql_sites(root: &Path) -> (Vec<(String, String)>, usize) {
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut sites = Vec::new();
    let mut sql_macros = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for mac in [
            "format!(",
            "format_args!(",
            "concat!(",
            "write!(",
            "writeln!(",
        ] {
            for (at, _) in text.match_indices(mac) {
                let args = balanced(&text, at + mac.len());
                // write!(target, "…", …): skip the target.
                let args = if mac.starts_with("write") {
                    args.split_once(',').map_or(args, |(_, rest)| rest)
                } else {
                    args
                };
                let Some((literal, rest)) = literal_and_rest(args) else {
                    continue;
                };
                if !looks_like_sql(&literal) {
                    continue;
                }
                sql_macros += 1;
                let rest = rest.trim_start().strip_prefix(',').unwrap_or(rest);
                if interpolated(&literal, rest).iter().all(|e| is_constant(e)) {
                    continue;
                }
                sites.push((name.clone(), args.to_owned()));
            }
        }
        // push_str of SQL onto a string, whatever the source.
        for (at, _) in text.match_indices("push_str(") {
            let args = balanced(&text, at + "push_str(".len());
            if looks_like_sql(args) {
                sites.push((name.clone(), args.to_owned()));
            }
        }
        // A QueryBuilder's `push` takes SQL text: only literals, constants (or a
        // choice between literals, or constant format_args) may go there.
        if text.contains("QueryBuilder") {
            for (at, _) in text.match_indices(".push(") {
                let args = balanced(&text, at + ".push(".len()).trim();
                let ok = args.starts_with('"')
                    || is_constant(args)
                    || args.starts_with("format_args!(")
                    || ((args.starts_with("match ") || args.starts_with("if "))
                        && literal_only_choice(args));
                if !ok {
                    sites.push((name.clone(), args.to_owned()));
                }
            }
        }
    }
    (sites, sql_macros)
}

/// A `match` or `if` whose every arm is a string literal.
fn literal_only_choice(expression: &str) -> bool {
    if expression.starts_with("match ") {
        expression
            .split("=>")
            .skip(1)
            .all(|arm| arm.trim_start().starts_with('"'))
    } else {
        expression
            .split('{')
            .skip(1)
            .all(|block| block.trim_start().starts_with('"'))
    }
}

#[test]
fn no_sql_is_built_from_runtime_values_with_string_formatting() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (sites, sql_macros) = formatted_sql_sites(root);
    assert!(
        sql_macros >= 10,
        "the scan found only {sql_macros} SQL format! sites"
    );
    let mut unexplained = Vec::new();
    let mut used = vec![false; ALLOWED.len()];
    for (file, args) in &sites {
        match ALLOWED
            .iter()
            .position(|(f, needle, _)| f == file && args.contains(needle))
        {
            Some(i) => used[i] = true,
            None => unexplained.push(format!("{file}: {}", args.trim())),
        }
    }
    assert!(
        unexplained.is_empty(),
        "SQL built with interpolated values (bind them, or review and allow-list):\n{}",
        unexplained.join("\n---\n")
    );
    let stale: Vec<_> = ALLOWED
        .iter()
        .zip(used)
        .filter(|(_, used)| !used)
        .map(|(entry, _)| entry)
        .collect();
    assert!(
        stale.is_empty(),
        "allow-list entries that match nothing: {stale:?}"
    );
}

#[test]
fn the_scan_catches_what_it_is_for() {
    // The gate itself: values interpolated into SQL are found, constants pass.
    let cases = [
        (r#""select * from users where email = '{email}'""#, false),
        (r#""delete from {} where id = $1", table"#, false),
        (r#""select {COLUMNS} from users where id = $1""#, true),
        (
            r#""select {} from t where a = $1 limit {}", super::COLS, PAGE_SIZE + 1"#,
            true,
        ),
    ];
    for (args, safe) in cases {
        let (literal, rest) = literal_and_rest(args).unwrap();
        assert!(looks_like_sql(&literal), "{args}");
        let rest = rest.trim_start().strip_prefix(',').unwrap_or(rest);
        assert_eq!(
            interpolated(&literal, rest).iter().all(|e| is_constant(e)),
            safe,
            "{args}"
        );
    }
    // A QueryBuilder may be given a constant's text, never a variable's.
    assert!(is_constant("LIST_SELECT") && is_constant("super::LIST_SELECT"));
    assert!(!is_constant("closed") && !is_constant("query.sort_sql()"));
    assert!(literal_only_choice(
        r#"match x { A => " asc", B => " desc" }"#
    ));
    assert!(!literal_only_choice(
        r#"match x { A => " asc", B => user_input }"#
    ));
}

// ---- error pages and logs ----

const SESSION_SECRET: &str = "Sess10n-Canary-Qm9KxT7pLw2Zr8Vy4Nb6Hd3Jf5";
const DB_PASSWORD: &str = "Db-Canary-Pw-8hZq2Lm";
const SMTP_PASSWORD: &str = "Smtp-Canary-Pw-4Tk9Xw";
const PANIC_CANARY: &str = "panic-canary-7f3a";

/// Routes that fail on purpose, served with the application's layers.
fn failing_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/test-panic",
            get(|| async {
                if std::hint::black_box(true) {
                    panic!("{PANIC_CANARY} at {}", file!());
                }
                "unreachable"
            }),
        )
        .route(
            "/{tenant}/test-bad-sql",
            get(
                |axum::extract::State(state): axum::extract::State<AppState>| async move {
                    sqlx::query("select secret_column from no_such_table where x = $1")
                        .bind(SMTP_PASSWORD)
                        .execute(state.db.pool())
                        .await
                        .map_err(AppError::from)?;
                    Ok::<_, AppError>("unreachable")
                },
            ),
        )
        .route(
            "/{tenant}/test-internal",
            get(|| async {
                Err::<(), _>(AppError::Internal(anyhow::anyhow!(
                    "opening /var/lib/tessera/data/session-secret failed"
                )))
            }),
        )
}

/// What no error page may show.
fn leaks(body: &str) -> Vec<&'static str> {
    let lower = body.to_lowercase();
    [
        "sqlx",
        "postgres",
        "no_such_table",
        "secret_column",
        "panicked",
        PANIC_CANARY,
        "src/",
        ".rs",
        "/var/lib",
        "backtrace",
        "stack",
        "pool",
        SESSION_SECRET,
        DB_PASSWORD,
        SMTP_PASSWORD,
    ]
    .into_iter()
    .filter(|needle| lower.contains(&needle.to_lowercase()))
    .collect()
}

#[tokio::test]
async fn error_pages_show_no_internals_and_logs_no_secrets() {
    let config = Config::defaults()
        .merge(Serialized::default("session.secret", SESSION_SECRET))
        .merge(Serialized::default(
            "database.url",
            format!("postgres://tessera:{DB_PASSWORD}@127.0.0.1:5432/tessera"),
        ))
        .merge(Serialized::default("smtp.password", SMTP_PASSWORD));
    let mut app = TestApp::with_config(config)
        .await
        .with_routes(failing_routes());
    let acme = app.create_tenant("acme").await;
    crate::tickets::sign_in_as(&mut app, "acme", &acme.agent.email).await;
    // The configuration's own Debug (what an error could carry) hides secrets.
    let debug = format!("{:?}", app.state.config);
    for secret in [SESSION_SECRET, DB_PASSWORD, SMTP_PASSWORD] {
        assert!(
            !debug.contains(secret),
            "the configuration's Debug shows a secret"
        );
    }

    let captured = CapturedLogs::default();
    let subscriber = captured.subscriber();
    let mut answers = Vec::new();
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        for path in [
            "/acme/tickets/not-a-number",
            "/acme/tickets/99999999999999999999999",
            "/acme/tickets/-1",
            "/acme/tickets/1%00",
            "/acme/tickets/1/attachments/not-a-uuid",
            "/acme/admin/users/%27%20or%201=1--",
            "/no-such-tenant/tickets",
            "/acme/test-panic",
            "/acme/test-bad-sql",
            "/acme/test-internal",
        ] {
            let response = app.get(path).await;
            answers.push((path.to_owned(), response.status, response.body));
        }
        // Malformed bodies: not a form, a form with invalid UTF-8 percent codes.
        app.get("/acme/tickets/new").await;
        let token = app.csrf_token().unwrap().to_owned();
        for (content_type, body) in [
            (
                "application/x-www-form-urlencoded",
                format!("csrf_token={token}&subject=%FF%FE&x"),
            ),
            ("application/json", format!("{{\"csrf_token\":\"{token}\",")),
        ] {
            let response = app
                .request(
                    axum::http::Method::POST,
                    "/acme/tickets",
                    Some(body),
                    &[("content-type", content_type), ("x-csrf-token", &token)],
                )
                .await;
            answers.push((
                format!("POST {content_type}"),
                response.status,
                response.body,
            ));
        }
    }
    // A database that is gone (closed pool): the page is generic too.
    app.db.pool().close().await;
    let gone = app.get("/acme/tickets").await;
    answers.push(("closed pool".to_owned(), gone.status, gone.body));

    let mut failures = Vec::new();
    for (what, status, body) in &answers {
        assert!(
            what.starts_with("POST") || status.is_client_error() || status.is_server_error(),
            "{what}: {status}"
        );
        let found = leaks(body);
        if !found.is_empty() {
            failures.push(format!("{what} ({status}): shows {found:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let statuses: Vec<_> = answers.iter().map(|(w, s, _)| format!("{w} {s}")).collect();
    for must in ["test-panic 500", "test-bad-sql 500", "closed pool 50"] {
        assert!(
            statuses.iter().any(|s| s.contains(must)),
            "{must}: {statuses:?}"
        );
    }

    let log = captured.text();
    // The operator's log has the cause of each server error …
    assert!(log.contains("no_such_table"), "{log}");
    assert!(log.contains("session-secret failed"), "{log}");
    // … and no secret, whatever the level, nor a stack trace or source path
    // (CI runs with RUST_BACKTRACE=1, so errors do capture backtraces).
    for secret in [SESSION_SECRET, DB_PASSWORD, SMTP_PASSWORD] {
        assert!(!log.contains(secret), "a secret is in the log");
    }
    assert!(log.matches("request failed").count() >= 2, "{log}");
    let lower = log.to_lowercase();
    for needle in ["stack backtrace", ".rs:", "/rustc/"] {
        assert!(!lower.contains(needle), "{needle} in the log");
    }
}

// ---- production configuration ----

fn production(values: &[(&str, &str)]) -> Result<Config, String> {
    let mut figment = Config::defaults().merge(Serialized::default(
        "server.public_url",
        "https://help.example.test",
    ));
    for (key, value) in values {
        figment = figment.merge(Serialized::default(key, value));
    }
    Config::from_figment(figment).map_err(|e| e.to_string())
}

#[test]
fn a_production_configuration_refuses_default_and_weak_secrets() {
    let refused = [
        ("session.secret", "too-short-secret", "session.secret"),
        (
            "session.secret",
            "change-me-change-me-change-me-change-me",
            "session.secret",
        ),
        (
            "session.secret",
            "…………………………………………………………………………………………………",
            "session.secret",
        ),
        (
            "session.secret",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "session.secret",
        ),
        (
            "session.secret",
            "0123456789012345678901234567890123456789",
            "session.secret",
        ),
        (
            "session.secret",
            "my-tessera-secret-key-for-production-use",
            "session.secret",
        ),
        (
            "database.url",
            "postgres://tessera:secret@db:5432/tessera",
            "database.url",
        ),
        (
            "database.url",
            "postgres://postgres:postgres@db/tessera",
            "database.url",
        ),
        ("smtp.password", "…", "smtp.password"),
        ("smtp.password", "changeme", "smtp.password"),
    ];
    for (key, value, named) in refused {
        let error = production(&[(key, value)]).expect_err(value);
        assert!(error.contains(named), "{value}: {error}");
    }
    // Strong values start; so do the same weak ones on a non-https (local) URL.
    for (key, value) in [
        ("session.secret", "Zq8Lm2Xw9Tk4Vb7Nc1Hd6Jf3Rp5Ys0Ga"),
        (
            "database.url",
            "postgres://tessera:vT9q2LmX8wZk4bN7@db:5432/tessera",
        ),
        ("database.url", "postgres://tessera@db:5432/tessera"),
        ("smtp.password", "hunter2-but-long-and-unlisted"),
    ] {
        production(&[(key, value)]).unwrap_or_else(|e| panic!("{value}: {e}"));
    }
    Config::from_figment(
        Config::defaults()
            .merge(Serialized::default(
                "session.secret",
                "change-me-change-me-change-me-change-me",
            ))
            .merge(Serialized::default(
                "database.url",
                "postgres://tessera:secret@db/tessera",
            )),
    )
    .unwrap();
    // Production without a configured secret generates a random one: fine.
    production(&[]).unwrap();
}
