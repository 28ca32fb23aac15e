//! The PostgreSQL server the tests use, and a fresh database per test.
//!
//! Server: `TESSERA_TEST_DATABASE_URL` (or `DATABASE_URL`) if set; else the server
//! on 127.0.0.1:5432 if one answers; else a private cluster started with the same
//! local-mode code Tessera uses, under `target/test-postgres`, stopped when the test
//! process exits. The schema is migrated once into a template; each test's
//! database is a copy of it, which takes milliseconds.

use sqlx::{Connection, Executor, PgConnection};
use std::sync::atomic::{AtomicU32, Ordering};
use tessera::local_pg::LocalPostgres;
use tokio::sync::OnceCell;

struct Server {
    /// URL of the server's maintenance database, for CREATE DATABASE.
    admin_url: String,
    template: String,
}

static SERVER: OnceCell<Server> = OnceCell::const_new();
static NEXT_DATABASE: AtomicU32 = AtomicU32::new(0);

/// The URL of database `name` on the test server.
fn with_database(admin_url: &str, name: &str) -> String {
    // Replace the path (database) part, keeping any query (socket host).
    let (before_query, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let base = before_query
        .rsplit_once('/')
        .map_or(before_query, |(base, _)| base);
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

async fn find_server() -> String {
    for var in ["TESSERA_TEST_DATABASE_URL", "DATABASE_URL"] {
        if let Ok(url) = std::env::var(var)
            && !url.is_empty()
        {
            return url;
        }
    }
    let local_tcp = "postgres://postgres@127.0.0.1:5432/postgres";
    if PgConnection::connect(local_tcp).await.is_ok() {
        return local_tcp.to_owned();
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-postgres");
    let cluster = tokio::task::spawn_blocking(move || LocalPostgres::start(&dir))
        .await
        .expect("joining the cluster start")
        .expect("no PostgreSQL at 127.0.0.1:5432 and starting a private one failed");
    let url = cluster.url_for("postgres");
    cluster
        .stop_when_process_exits(std::process::id())
        .expect("arranging for the private cluster to stop");
    url
}

async fn server() -> &'static Server {
    SERVER
        .get_or_init(|| async {
            let admin_url = find_server().await;
            let mut admin = PgConnection::connect(&admin_url)
                .await
                .expect("connecting to the test PostgreSQL server");
            drop_stale_databases(&mut admin).await;
            let pid = std::process::id();
            let template = format!("tessera_tpl_{pid}");
            admin
                .execute(format!("create database {template}").as_str())
                .await
                .expect("creating the template database");
            let db = tessera::db::Db::connect(&with_database(&admin_url, &template).into(), 2)
                .await
                .expect("connecting to the template database");
            db.migrate().await.expect("migrating the template database");
            db.pool().close().await;
            Server {
                admin_url,
                template,
            }
        })
        .await
}

/// Databases of earlier test runs whose process is gone.
async fn drop_stale_databases(admin: &mut PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        "select datname from pg_database where datname ~ '^tessera_(tpl|it)_[0-9]+'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).unwrap_or_default();
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let _ = admin
            .execute(format!("drop database if exists {name} with (force)").as_str())
            .await;
    }
}

/// The role a non-superuser deployment connects as (cluster-wide, shared by
/// the tests that use it): it may log in and create roles, as the migrations
/// need to let it become `tessera_app`, and nothing more.
const OWNER_ROLE: &str = "tessera_it_owner";

/// A database of its own for one test.
pub struct TestDatabase {
    pub url: String,
}

impl TestDatabase {
    /// The server, the next test database's name, and a connection to create it.
    async fn next() -> (&'static Server, String, PgConnection) {
        let server = server().await;
        let name = format!(
            "tessera_it_{}_{}",
            std::process::id(),
            NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
        );
        let admin = PgConnection::connect(&server.admin_url)
            .await
            .expect("connecting to the test PostgreSQL server");
        (server, name, admin)
    }

    pub async fn create() -> Self {
        let (server, name, mut admin) = Self::next().await;
        admin
            .execute(format!("create database {name} template {}", server.template).as_str())
            .await
            .expect("copying the template database");
        let url = with_database(&server.admin_url, &name);
        Self { url }
    }

    /// A database owned by a role that is not a superuser, as the Dockerfile's
    /// deployment connects, migrated by that role; its URL connects as it, so
    /// every query runs as it too. Row-level security binds such a role where
    /// it binds no superuser (FORCEd policies).
    pub async fn create_owned_by_a_non_superuser() -> Self {
        let (server, name, mut admin) = Self::next().await;
        // Several test processes may race to create the role: whoever loses
        // finds it made.
        let _ = admin
            .execute(format!("create role {OWNER_ROLE} login createrole").as_str())
            .await;
        admin
            .execute(format!("create database {name} owner {OWNER_ROLE}").as_str())
            .await
            .expect("creating the non-superuser's database");
        let url = with_database(&server.admin_url, &name).replacen(
            "postgres://postgres@",
            &format!("postgres://{OWNER_ROLE}@"),
            1,
        );
        assert!(
            url.contains(OWNER_ROLE),
            "only a server URL naming user postgres is rewritten to the owner: {url}"
        );
        let db = tessera::db::Db::connect(&url.clone().into(), 1)
            .await
            .expect("connecting as the non-superuser");
        db.migrate().await.expect("migrating as the non-superuser");
        db.pool().close().await;
        Self { url }
    }
}
