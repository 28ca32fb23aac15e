//! PostgreSQL isolation (issue #10): every tenant table (every table with a
//! `tenant_id` column, found in the catalog, so a new table is covered the day
//! it is added) has row-level security enabled and forced; the application
//! role `tessera_app` is no superuser, bypasses nothing and owns nothing; with
//! no tenant set it sees no row of any tenant table; and 10,000 interleaved
//! transactions of two tenants over a pool of 4 connections see 0 foreign rows.

use crate::{
    helpers::TestApp,
    tickets::{create_direct, reply_direct, subject},
};
use sqlx::{Connection, Row};
use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};
use tessera::db::{Db, TenantId};

/// The tables of the public schema that have a `tenant_id` column.
async fn tenant_tables(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "select c.table_name::text from information_schema.columns c \
           join information_schema.tables t \
             on t.table_schema = c.table_schema and t.table_name = c.table_name \
          where c.table_schema = 'public' and c.column_name = 'tenant_id' \
            and t.table_type = 'BASE TABLE' \
          order by 1",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

/// Two tenants with users, tickets, replies and notes, so the tables hold rows.
async fn populated() -> (TestApp, TenantId, TenantId) {
    let app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let beta = app.create_tenant("beta").await;
    for agent in [&acme.agent, &beta.agent] {
        let number = create_direct(&app, agent, subject("Printer on fire")).await;
        reply_direct(&app, agent, number, "We are on it.", false).await;
        reply_direct(&app, agent, number, "Internal: call the vendor.", true).await;
    }
    (app, acme.tenant.id, beta.tenant.id)
}

#[tokio::test]
async fn every_tenant_table_has_row_level_security_enabled_and_forced() {
    let app = TestApp::new().await;
    let tables = tenant_tables(&app).await;
    assert!(tables.len() >= 20, "the catalog query found {tables:?}");
    for must in ["users", "tickets", "replies", "attachments", "email_outbox"] {
        assert!(
            tables.iter().any(|t| t == must),
            "{must} missing from {tables:?}"
        );
    }
    let rows = sqlx::query(
        "select relname::text, relrowsecurity, relforcerowsecurity, \
                (select count(*) from pg_policy p where p.polrelid = c.oid) as policies \
           from pg_class c join pg_namespace n on n.oid = c.relnamespace \
          where n.nspname = 'public' and relname = any($1)",
    )
    .bind(&tables)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), tables.len());
    let mut failures = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        let (enabled, forced, policies): (bool, bool, i64) = (row.get(1), row.get(2), row.get(3));
        if !enabled || !forced || policies == 0 {
            failures.push(format!(
                "{name}: enabled {enabled}, forced {forced}, {policies} policies"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "tables without forced RLS: {failures:#?}"
    );
}

#[tokio::test]
async fn the_application_role_is_no_superuser_bypasses_nothing_and_owns_nothing() {
    let app = TestApp::new().await;
    let row = sqlx::query(
        "select rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication, rolcanlogin \
           from pg_roles where rolname = 'tessera_app'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let flags: [bool; 6] = std::array::from_fn(|i| row.get(i));
    assert_eq!(
        flags, [false; 6],
        "superuser, bypassrls, createrole, createdb, replication, login"
    );
    // Owning a table would let it skip non-forced policies and alter them.
    let owned: Vec<String> = sqlx::query_scalar(
        "select kind || ' ' || name from ( \
           select 'relation' as kind, c.relname::text as name from pg_class c \
             join pg_roles r on r.oid = c.relowner where r.rolname = 'tessera_app' \
           union all select 'schema', nspname::text from pg_namespace n \
             join pg_roles r on r.oid = n.nspowner where r.rolname = 'tessera_app' \
           union all select 'function', proname::text from pg_proc p \
             join pg_roles r on r.oid = p.proowner where r.rolname = 'tessera_app' \
           union all select 'type', typname::text from pg_type t \
             join pg_roles r on r.oid = t.typowner where r.rolname = 'tessera_app' \
         ) owned",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert!(owned.is_empty(), "tessera_app owns {owned:?}");
    // Nor is it a member of a role that could (superuser or owner of tables).
    let memberships: Vec<String> = sqlx::query_scalar(
        "select g.rolname::text from pg_auth_members m \
           join pg_roles g on g.oid = m.roleid join pg_roles u on u.oid = m.member \
          where u.rolname = 'tessera_app'",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert!(
        memberships.is_empty(),
        "tessera_app is a member of {memberships:?}"
    );
}

#[tokio::test]
async fn with_no_tenant_set_the_application_role_sees_no_row_of_any_tenant_table() {
    let (app, _, _) = populated().await;
    let tables = tenant_tables(&app).await;
    let mut with_rows = 0;
    for table in &tables {
        // The name comes from the catalog; quote_ident keeps it an identifier.
        let total: i64 = sqlx::query_scalar(&format!(
            "select count(*) from public.{}",
            quote_ident(table)
        ))
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        with_rows += usize::from(total > 0);
        let mut tx = app.db.pool().begin().await.unwrap();
        // The role switch TenantTx makes, without the tenant.
        sqlx::query("select set_config('role', 'tessera_app', true)")
            .execute(&mut *tx)
            .await
            .unwrap();
        let seen = sqlx::query_scalar::<_, i64>(&format!(
            "select count(*) from public.{}",
            quote_ident(table)
        ))
        .fetch_one(&mut *tx)
        .await;
        match seen {
            Ok(seen) => assert_eq!(
                seen, 0,
                "{table}: {seen} of {total} rows with no tenant set"
            ),
            // No grant at all: it sees nothing either.
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42501") => {}
            Err(error) => panic!("{table}: {error}"),
        }
        tx.rollback().await.unwrap();
    }
    assert!(
        with_rows >= 8,
        "only {with_rows} of {} tenant tables had rows to hide",
        tables.len()
    );
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_interleaved_transactions_of_two_tenants_see_no_foreign_row() {
    let (app, acme, beta) = populated().await;
    // A small pool, so every connection serves both tenants many times over.
    let db = Db::connect(&app.database.url.clone().into(), 4)
        .await
        .unwrap();
    const TRANSACTIONS: u32 = 10_000;
    let next = Arc::new(AtomicU32::new(0));
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let db = db.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            // (transactions, rows seen, foreign rows, leaks into plain use)
            let mut tally = [0u64; 4];
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= TRANSACTIONS {
                    return tally;
                }
                let (mine, theirs) = if n.is_multiple_of(2) { (acme, beta) } else { (beta, acme) };
                let mut tx = db.tenant_tx(mine).await.unwrap();
                let seen: Vec<TenantId> = sqlx::query_scalar(
                    "select tenant_id from users union all select tenant_id from tickets \
                     union all select tenant_id from ticket_events",
                )
                .fetch_all(&mut *tx)
                .await
                .unwrap();
                // Asking for the other tenant by name finds nothing either.
                let asked: i64 =
                    sqlx::query_scalar("select count(*) from tickets where tenant_id = $1")
                        .bind(theirs)
                        .fetch_one(&mut *tx)
                        .await
                        .unwrap();
                tally[0] += 1;
                tally[1] += seen.len() as u64;
                tally[2] += seen.iter().filter(|t| **t != mine).count() as u64 + asked as u64;
                match n % 10 {
                    // Some end in an error, some are dropped: neither may leave
                    // the tenant or the role on the connection.
                    3 => {
                        let _ = sqlx::query("select 1 / 0").execute(&mut *tx).await;
                        drop(tx);
                    }
                    7 => drop(tx),
                    _ => tx.commit().await.unwrap(),
                }
                if n.is_multiple_of(25) {
                    let mut conn = db.pool().acquire().await.unwrap();
                    let (role, tenant): (String, Option<String>) = sqlx::query_as(
                        "select current_user::text, nullif(current_setting('app.tenant_id', true), '')",
                    )
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap();
                    tally[3] += u64::from(role == "tessera_app" || tenant.is_some());
                }
            }
        }));
    }
    let mut tally = [0u64; 4];
    for task in tasks {
        for (sum, n) in tally.iter_mut().zip(task.await.unwrap()) {
            *sum += n;
        }
    }
    eprintln!(
        "{} transactions over 4 connections in {:?}: {} rows seen, {} foreign, {} leaks",
        tally[0],
        started.elapsed(),
        tally[1],
        tally[2],
        tally[3]
    );
    assert_eq!(tally[0], u64::from(TRANSACTIONS));
    assert!(
        tally[1] >= u64::from(TRANSACTIONS) * 4,
        "too few rows to prove anything"
    );
    assert_eq!(tally[2], 0, "foreign rows seen");
    assert_eq!(tally[3], 0, "a tenant or role outlived its transaction");
    db.pool().close().await;
    // The connection itself never changes: one more sanity check that the
    // owner (login role) still sees both tenants.
    let mut conn = sqlx::PgConnection::connect(&app.database.url)
        .await
        .unwrap();
    let both: i64 = sqlx::query_scalar("select count(distinct tenant_id) from tickets")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(both, 2);
}

/// A client that hangs up while its request's transaction is beginning drops
/// the begin half-way. Its connection must not go back to the pool inside that
/// transaction (in the tenant's scope, as Tessera's role) for the next user:
/// sqlx alone queued no rollback for a begin not yet answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_begin_dropped_half_way_leaves_no_transaction_on_its_pooled_connection() {
    let app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    // One connection, so the next user is the one the dropped begin used.
    let db = Db::connect(&app.database.url.clone().into(), 1)
        .await
        .unwrap();
    let mut leftovers = Vec::new();
    for attempt in 0..100u64 {
        // Dropped after a few microseconds: taken from the pool, BEGIN sent,
        // its answer not yet read.
        let wait = std::time::Duration::from_micros(attempt % 10 * 20);
        let begun = tokio::time::timeout(wait, db.tenant_tx(acme.tenant.id)).await;
        drop(begun);
        // The scope is set in the same simple query as BEGIN, and lasts as
        // long as its transaction.
        let role: String = sqlx::query_scalar("select current_setting('role')")
            .fetch_one(db.pool())
            .await
            .unwrap();
        if role != "none" {
            leftovers.push((attempt, role));
        }
    }
    assert!(
        leftovers.is_empty(),
        "left inside a transaction: {leftovers:?}"
    );
}
