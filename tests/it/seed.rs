//! `tessera seed`: a small seed is complete, matches what the triggers and
//! services would have written, is searchable through the real list page, and a
//! second run changes nothing.

use crate::helpers::{PASSWORD, TestApp};
use axum::http::StatusCode;
use sqlx::PgPool;
use std::sync::Arc;
use tessera::seed::{self, SeedOptions};
use uuid::Uuid;

fn options() -> SeedOptions {
    SeedOptions {
        tenants: 3,
        tickets: 3_000,
        replies: 9_000,
        prefix: "seedt".to_owned(),
        password: PASSWORD.to_owned(),
        jobs: 2,
        // Several chunks per tenant, so chunk boundaries are exercised.
        chunk: 400,
    }
}

async fn scalar(pool: &PgPool, sql: &str, tenant: Uuid) -> i64 {
    sqlx::query_scalar(sql)
        .bind(tenant)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// Row counts of everything the seed writes, to compare two runs.
async fn snapshot(pool: &PgPool) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "tenants",
        "users",
        "tickets",
        "replies",
        "ticket_search",
        "ticket_followers",
        "ticket_events",
        "groups",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(pool)
            .await
            .expect("counting");
        out.push(n);
    }
    let sum: i64 =
        sqlx::query_scalar("select coalesce(sum(n), 0)::bigint from ticket_status_counts")
            .fetch_one(pool)
            .await
            .expect("summing counters");
    out.push(sum);
    out
}

#[tokio::test]
async fn a_small_seed_is_complete_consistent_searchable_and_idempotent() {
    let mut app = TestApp::new().await;
    let pool = app.db.pool().clone();
    let quiet: seed::Progress = Arc::new(|_: &str| {});
    let report = seed::run(&app.db, &options(), quiet.clone())
        .await
        .expect("seeding");
    assert_eq!(report.seeded.len(), 3);
    assert!(report.skipped.is_empty());
    let plan = seed::plan(&options()).expect("a plan");
    assert_eq!(plan.iter().map(|t| t.tickets).sum::<u64>(), 3_000);
    assert_eq!(plan[0].tickets, 900, "the big tenant has 30 %");

    for tenant in &plan {
        let id: Uuid = sqlx::query_scalar("select id from tenants where slug = $1")
            .bind(&tenant.slug)
            .fetch_one(&pool)
            .await
            .expect("the tenant exists");
        let n = tenant.tickets as i64;
        let count = |sql: &'static str| scalar(&pool, sql, id);
        assert_eq!(
            count("select count(*) from tickets where tenant_id = $1").await,
            n
        );
        assert_eq!(
            count("select count(*) from replies where tenant_id = $1").await,
            tenant.replies as i64
        );
        // Numbers 1..n without gaps, and the counter past them.
        assert_eq!(
            count("select count(distinct number) from tickets where tenant_id = $1").await,
            n
        );
        assert_eq!(
            count("select min(number) from tickets where tenant_id = $1").await,
            1
        );
        assert_eq!(
            count("select max(number) from tickets where tenant_id = $1").await,
            n
        );
        assert_eq!(
            count("select next_number from ticket_counters where tenant_id = $1").await,
            n + 1
        );
        // The status counters are exact.
        assert_eq!(
            count(
                "select count(*) from (select status_id, count(*) as n from tickets
                   where tenant_id = $1 group by status_id) real
                 full join (select status_id, n from ticket_status_counts
                   where tenant_id = $1 and n <> 0) kept using (status_id)
                 where real.n is distinct from kept.n"
            )
            .await,
            0
        );
        assert_eq!(
            count("select count(*) from ticket_search where tenant_id = $1").await,
            n
        );
        // last_reply_at/by are the newest public reply's; version counts public replies.
        assert_eq!(
            count(
                "select count(*) from tickets t
                 left join lateral (select r.created_at, r.author_id, count(*) over () as n
                                      from replies r
                                     where r.tenant_id = t.tenant_id and r.ticket_id = t.id
                                       and not r.internal
                                     order by r.created_at desc limit 1) r on true
                 where t.tenant_id = $1
                   and (t.last_reply_at is distinct from r.created_at
                        or t.last_reply_by is distinct from r.author_id
                        or t.version <> 1 + coalesce(r.n, 0))"
            )
            .await,
            0
        );
        // Most tickets are closed; staff can sign in; there are agents and customers.
        let closed = count(
            "select count(*) from tickets where tenant_id = $1 and status_category = 'closed'",
        )
        .await;
        assert!(
            closed * 100 > n * 55 && closed * 100 < n * 90,
            "{closed} of {n} closed"
        );
        assert_eq!(
            count(
                "select count(*) from users where tenant_id = $1 and role = 'agent'
                   and password_hash is not null"
            )
            .await,
            tenant.agents as i64
        );
    }

    // The search documents are exactly what the triggers' rebuild computes.
    let sample: Vec<(Uuid, Uuid, String)> = sqlx::query_as(
        "select tenant_id, ticket_id, doc::text from ticket_search order by ticket_id limit 150",
    )
    .fetch_all(&pool)
    .await
    .expect("a sample");
    for (tenant, ticket, doc) in sample {
        sqlx::query("select ticket_search_rebuild($1, $2)")
            .bind(tenant)
            .bind(ticket)
            .execute(&pool)
            .await
            .expect("rebuilding");
        let rebuilt: String = sqlx::query_scalar(
            "select doc::text from ticket_search where tenant_id = $1 and ticket_id = $2",
        )
        .bind(tenant)
        .bind(ticket)
        .fetch_one(&pool)
        .await
        .expect("the rebuilt document");
        assert_eq!(doc, rebuilt, "search document of {ticket}");
    }

    // Two rare words of a public reply find its ticket through the list page.
    let tenant = &plan[1];
    let (number, body): (i64, String) = sqlx::query_as(
        "select t.number, r.body from replies r
           join tickets t on t.tenant_id = r.tenant_id and t.id = r.ticket_id
           join tenants n on n.id = t.tenant_id
          where n.slug = $1 and not r.internal
          order by t.number, r.created_at limit 1",
    )
    .bind(&tenant.slug)
    .fetch_one(&pool)
    .await
    .expect("a public reply");
    let ranks: Vec<&str> = include_str!("../../src/seed_words.txt").lines().collect();
    let rank = |w: &str| ranks.iter().position(|r| *r == w).unwrap_or(0);
    let mut words: Vec<&str> = body.split(' ').collect();
    words.sort_by_key(|w| std::cmp::Reverse(rank(w)));
    words.dedup();
    let query = format!("{} {}", words[0], words[1]);
    let response = app
        .sign_in(
            &tenant.slug,
            &format!("admin@{}.example", tenant.slug),
            PASSWORD,
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let page = app
        .get(&format!(
            "/{}/tickets?closed=1&q={}",
            tenant.slug,
            query.replace(' ', "+")
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(&format!("href=\"/{}/tickets/{number}\"", tenant.slug)),
        "searching `{query}` lists ticket {number}"
    );

    // A second run skips every tenant and writes nothing.
    let before = snapshot(&pool).await;
    let again = seed::run(&app.db, &options(), quiet)
        .await
        .expect("seeding again");
    assert!(again.seeded.is_empty());
    assert_eq!(again.skipped.len(), 3);
    assert_eq!(snapshot(&pool).await, before);
}
