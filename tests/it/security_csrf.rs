//! Cross-site request forgery: every non-GET route (as listed in the
//! authorization matrix, which the route check keeps complete) refuses a
//! missing form token, another browser's token and a cross-site request (Fetch
//! Metadata, a foreign `Origin`) with 403 and changes nothing, while the same
//! request with its own token goes through. And GETs are safe: crawling every
//! GET route as every caller, with real ids, changes no tenant table.

use crate::authorization::{
    Expect, PRINCIPALS, Principal, Row, TENANT, World, body_of, changes_ticket, read_matrix,
};
use crate::helpers::TestApp;
use axum::http::{Method, StatusCode};
use std::collections::{BTreeMap, BTreeSet};
use tessera::web::csrf;

/// Tables a request may legitimately touch without changing anything a user
/// owns, left out of the comparison:
/// - `login_throttle`: failed sign-ins counted per address and account;
/// - `guest_rate_events`: access tokens that opened nothing, counted per
///   client address (a GET of a dead link is such a guess, on purpose).
///
/// Sessions live in the `tower_sessions` schema, outside the tenant tables: a
/// GET may refresh its session's expiry, which is bookkeeping too.
const BOOKKEEPING: [&str; 2] = ["login_throttle", "guest_rate_events"];

/// A digest of every table of the `public` schema (all tenants, read by the
/// test's superuser past row-level security), but the bookkeeping ones.
pub(crate) async fn dump(app: &TestApp) -> BTreeMap<String, String> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select c.relname::text, md5(query_to_xml(format( \
             'select t::text as r from public.%I t order by 1', c.relname), \
             false, false, '')::text) \
           from pg_class c join pg_namespace n on n.oid = c.relnamespace \
          where n.nspname = 'public' and c.relkind = 'r' \
          order by 1",
    )
    .fetch_all(app.db.pool())
    .await
    .expect("digesting the tables");
    assert!(
        rows.iter().any(|(table, _)| table == "tickets"),
        "the digest misses the tenant tables: {rows:?}"
    );
    rows.into_iter()
        .filter(|(table, _)| !BOOKKEEPING.contains(&table.as_str()))
        .collect()
}

/// The tables whose digests differ.
pub(crate) fn changed(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<String> {
    before
        .keys()
        .chain(after.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|table| before.get(*table) != after.get(*table))
        .cloned()
        .collect()
}

/// The caller for whom the row's handler runs: staff first, then customer A,
/// then the guest, then anyone.
fn runner(row: &Row) -> Principal {
    let preference = [
        Principal::Admin,
        Principal::Agent,
        Principal::CustomerA,
        Principal::Guest,
        Principal::Anonymous,
    ];
    preference
        .into_iter()
        .find(|who| {
            matches!(
                row.expected[who.index()],
                Expect::Redirect
                    | Expect::Status(StatusCode::OK | StatusCode::UNPROCESSABLE_ENTITY)
            )
        })
        .unwrap_or(Principal::Admin)
}

/// What a forged request is called, its form token, its headers, and the answer it gets.
type Forgery<'a> = (
    &'a str,
    Option<&'a str>,
    Vec<(&'a str, &'a str)>,
    StatusCode,
);

const HOST: &str = "tessera.test";

#[tokio::test]
async fn every_non_get_route_refuses_forged_requests_and_takes_genuine_ones() {
    let rows = read_matrix();
    let mut world = World::new().await;
    let mut problems = Vec::new();
    let mut routes = 0;
    let mut refusals = 0;
    let mut seen = BTreeSet::new();
    // Another browser's token: the anonymous caller's (its own cookie).
    let g = world.g.clone();
    let foreign_token = world.become_principal(Principal::Anonymous, &g).await;
    for row in rows.iter().filter(|row| row.method != Method::GET) {
        if !seen.insert((row.method.clone(), row.path.clone())) {
            continue;
        }
        routes += 1;
        let who = runner(row);
        let g = if changes_ticket(row) {
            world.fresh_g().await
        } else {
            world.g.clone()
        };
        let token = world.become_principal(who, &g).await;
        let path = world.concrete_path(row, &g);
        let body = body_of(row);
        let route = format!("{} {} as {}", row.method, row.path, who.column());
        // The inbound mail endpoint is for mail services, not browsers: no
        // cookie opens it, so it takes no form token; its secret is missing
        // here (401). The Fetch Metadata check still stands in front of it.
        let tokenless = if row.path.ends_with("/api/inbound-email") {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::FORBIDDEN
        };
        let origin = format!("http://{HOST}");
        let forgeries: [Forgery<'_>; 6] = [
            ("no token", None, vec![], tokenless),
            (
                "another browser's token",
                Some(foreign_token.as_str()),
                vec![],
                tokenless,
            ),
            (
                "another browser's token in the header",
                None,
                vec![(csrf::HEADER, foreign_token.as_str())],
                tokenless,
            ),
            ("an empty token", Some(""), vec![], tokenless),
            (
                "Sec-Fetch-Site: cross-site",
                Some(token.as_str()),
                vec![("host", HOST), ("sec-fetch-site", "cross-site")],
                StatusCode::FORBIDDEN,
            ),
            (
                "a foreign Origin",
                Some(token.as_str()),
                vec![("host", HOST), ("origin", "https://evil.example")],
                StatusCode::FORBIDDEN,
            ),
        ];
        let before = dump(&world.app).await;
        for (what, token, headers, expected) in &forgeries {
            refusals += 1;
            let response = world
                .send_with(&row.method, &path, &body, *token, headers)
                .await;
            if response.status != *expected {
                problems.push(format!(
                    "{route} with {what}: {} (expected {})",
                    response.status.as_u16(),
                    expected.as_u16()
                ));
            }
        }
        let after = dump(&world.app).await;
        let tables = changed(&before, &after);
        if !tables.is_empty() {
            problems.push(format!("{route}: refused requests changed {tables:?}"));
        }
        // The genuine request, as a browser sends it from our own page.
        let response = world
            .send_with(
                &row.method,
                &path,
                &body,
                Some(&token),
                &[
                    ("host", HOST),
                    ("origin", &origin),
                    ("sec-fetch-site", "same-origin"),
                ],
            )
            .await;
        let expected = row.expected[who.index()];
        if !expected.matches(response.status, response.location()) {
            problems.push(format!(
                "{route} with its own token: {} (the matrix says {expected})",
                response.status.as_u16()
            ));
        }
    }

    // htmx sends the token as a header: the right one goes through.
    let g = world.fresh_g().await;
    let token = world.become_principal(Principal::Agent, &g).await;
    let follow = format!("/{TENANT}/tickets/{}/follow", g.number);
    let response = world
        .send_with(
            &Method::POST,
            &follow,
            "follow=1",
            None,
            &[(csrf::HEADER, &token)],
        )
        .await;
    if response.status != StatusCode::SEE_OTHER {
        problems.push(format!(
            "POST {follow} with the token in the header: {}",
            response.status.as_u16()
        ));
    }

    // Forms with files: the token must be the first part; last is refused.
    world.app.get(&format!("/{TENANT}/tickets/new")).await;
    let before = dump(&world.app).await;
    let tickets = format!("/{TENANT}/tickets");
    let fields = [("subject", "Files"), ("description", "See attached.")];
    let late = world
        .app
        .post_multipart_without_token(
            &tickets,
            &[fields[0], fields[1], ("csrf_token", &token)],
            &[("a.txt", b"hello")],
        )
        .await;
    let missing = world
        .app
        .post_multipart_without_token(&tickets, &fields, &[("a.txt", b"hello")])
        .await;
    let tables = changed(&before, &dump(&world.app).await);
    if late.status != StatusCode::FORBIDDEN
        || missing.status != StatusCode::FORBIDDEN
        || !tables.is_empty()
    {
        problems.push(format!(
            "multipart POST {tickets} with the token last: {}, without: {} (expected 403, 403); changed {tables:?}",
            late.status.as_u16(),
            missing.status.as_u16()
        ));
    }
    let genuine = world
        .app
        .post_multipart(&tickets, &fields, &[("a.txt", b"hello")])
        .await;
    if genuine.status != StatusCode::SEE_OTHER {
        problems.push(format!(
            "multipart POST {tickets} with the token first: {}",
            genuine.status.as_u16()
        ));
    }

    eprintln!("csrf: {routes} non-GET routes, {refusals} forged requests");
    assert!(routes >= 60, "only {routes} non-GET routes were found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn crawling_every_get_route_as_every_caller_changes_nothing() {
    let rows = read_matrix();
    let mut world = World::new().await;
    let g = world.g.clone();
    // Sign everyone in first: signing in is a POST and may change things.
    for who in PRINCIPALS {
        world.become_principal(who, &g).await;
    }
    let before = dump(&world.app).await;
    let mut requests = 0;
    let mut statuses = BTreeMap::<u16, usize>::new();
    for row in rows.iter().filter(|row| row.method == Method::GET) {
        for who in PRINCIPALS {
            world.become_principal(who, &g).await;
            let path = world.concrete_path(row, &g);
            for path in [path.clone(), format!("{path}?q=crawl&page=2&sort=-updated")] {
                let response = world.app.get(&path).await;
                requests += 1;
                *statuses.entry(response.status.as_u16()).or_default() += 1;
            }
        }
    }
    let after = dump(&world.app).await;
    eprintln!("GET crawl: {requests} requests, statuses {statuses:?}");
    assert!(
        statuses.get(&200).copied().unwrap_or_default() > 100,
        "the crawl saw too few pages: {statuses:?}"
    );
    let tables = changed(&before, &after);
    assert!(
        tables.is_empty(),
        "GET requests changed these tables: {tables:?}"
    );
    // The digest sees a change when there is one: following G is a row.
    let token = world.become_principal(Principal::Admin, &g).await;
    let follow = format!("/{TENANT}/tickets/{}/follow", g.number);
    let response = world.send(&Method::POST, &follow, "follow=1", &token).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let tables = changed(&after, &dump(&world.app).await);
    assert!(
        !tables.is_empty(),
        "the digest saw no change from following a ticket"
    );
}
