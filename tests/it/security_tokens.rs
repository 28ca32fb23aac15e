//! Tokens (issue #10): set-password links (reset and invitation) open only
//! when valid, once; guessed guest access tokens hit nothing and are soon
//! refused (429); tokens reach neither the log nor a `Referer`; and known and
//! unknown email addresses get the same answer in about the same time on
//! sign-in, password reset and "lost your link".

use crate::helpers::{CapturedLogs, PASSWORD, TestApp, TestResponse};
use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
};
use figment::providers::Serialized;
use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::{Duration as StdDuration, Instant},
};
use tessera::{
    auth::{model::User, tokens::random_token},
    config::Config,
    db::TenantId,
    guests::service::GUESSES_PER_HOUR,
    passwords::service::{Purpose, issue_in},
};
use time::Duration;
use tower::ServiceExt as _;

const NEW_PASSWORD: &str = "a-fresh-strong-secret";

/// Issues a `purpose` token for `user` and returns it (read from its email).
async fn issue(app: &TestApp, user: &User, purpose: Purpose) -> String {
    let mut tx = app.db.tenant_tx(user.tenant_id).await.unwrap();
    issue_in(&mut tx, app.clock.now(), user, purpose, Some("An Admin"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let body: String = sqlx::query_scalar(
        "select body_text from email_outbox where recipient_email = $1 \
          order by created_at desc, id desc limit 1",
    )
    .bind(&user.email)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let at = body.find("token=").expect("a set-password link") + "token=".len();
    body[at..].chars().take(43).collect()
}

async fn password_hash(app: &TestApp, user: &User) -> Option<String> {
    sqlx::query_scalar("select password_hash from users where id = $1")
        .bind(user.id)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// Opens the set-password page of `token` and posts its form; returns both
/// answers (the form is posted even when the page refused, as an attacker would).
async fn use_token(app: &mut TestApp, tenant: &str, token: &str) -> (StatusCode, TestResponse) {
    let query = serde_urlencoded::to_string([("token", token)]).unwrap();
    let page = app.get(&format!("/{tenant}/password/reset?{query}")).await;
    assert_eq!(
        page.header("referrer-policy"),
        Some("no-referrer"),
        "a page that carries a token leaks no Referer"
    );
    app.get(&format!("/{tenant}/password/forgot")).await;
    let post = app
        .post_form(
            &format!("/{tenant}/password/reset"),
            &[
                ("token", token),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    (page.status, post)
}

#[tokio::test]
async fn set_password_tokens_open_only_when_valid_and_only_once() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let beta = app.create_tenant("beta").await;
    let invited = tessera::auth::service::create_user(
        &app.db,
        acme.tenant.id,
        tessera::auth::model::NewUser::new(
            "newbie@acme.test",
            Some("Newbie"),
            tessera::auth::model::Role::Agent,
            None,
        )
        .unwrap(),
    )
    .await
    .unwrap();

    for purpose in [Purpose::Reset, Purpose::Invite] {
        // Expired: issued, then the clock passes its lifetime.
        let expired = issue(&app, &acme.agent, purpose).await;
        app.clock.advance(Duration::days(7) + Duration::minutes(1));
        let valid_user = if purpose == Purpose::Invite {
            &invited
        } else {
            &acme.customer
        };
        let valid = issue(&app, valid_user, purpose).await;
        let other_tenant = issue(&app, &beta.customer, purpose).await;
        let mut flipped = valid.clone().into_bytes();
        flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        let random = random_token();
        let long = "A".repeat(10_000);
        let extended = format!("{valid}x");
        let upper = valid.to_uppercase();
        let cases: Vec<(&str, &str, bool)> = vec![
            ("empty", "", false),
            ("malformed: short", "abc", false),
            ("malformed: one character changed", &flipped, false),
            ("malformed: truncated", &valid[..42], false),
            ("malformed: extended", &extended, false),
            ("malformed: upper-cased", &upper, false),
            ("malformed: 10,000 characters", &long, false),
            ("malformed: SQL", "' or '1'='1' --", false),
            ("malformed: NUL", "\0", false),
            ("guessed (random, well-formed)", &random, false),
            ("expired", &expired, false),
            ("another tenant's", &other_tenant, false),
            ("valid", &valid, true),
            ("used (the valid one again)", &valid, false),
        ];
        let before = password_hash(&app, valid_user).await;
        for (case, token, works) in cases {
            let (page, post) = use_token(&mut app, "acme", token).await;
            if works {
                assert_eq!(page, StatusCode::OK, "{purpose:?} {case}: page");
                post.assert_redirect_to("/acme/login?notice=password_set");
            } else {
                assert_eq!(page, StatusCode::GONE, "{purpose:?} {case}: page");
                assert_eq!(post.status, StatusCode::GONE, "{purpose:?} {case}: form");
            }
        }
        assert_ne!(password_hash(&app, valid_user).await, before);
        app.clear_cookies();
        app.sign_in("acme", &valid_user.email, NEW_PASSWORD)
            .await
            .assert_redirect_to("/acme/");
        // The other tenant's token was not spent by the attempt in acme.
        app.clear_cookies();
        let (page, post) = use_token(&mut app, "beta", &other_tenant).await;
        assert_eq!(page, StatusCode::OK, "{purpose:?}: beta's token at beta");
        post.assert_redirect_to("/beta/login?notice=password_set");
        let (page, post) = use_token(&mut app, "beta", &other_tenant).await;
        assert_eq!((page, post.status), (StatusCode::GONE, StatusCode::GONE));
    }

    // Another user's token sets that user's password, never the one a form
    // names: extra fields naming the victim are ignored.
    let admins = issue(&app, &acme.admin, Purpose::Reset).await;
    let victim_before = password_hash(&app, &acme.agent).await;
    app.get("/acme/password/forgot").await;
    let victim_id = acme.agent.id.to_string();
    app.post_form(
        "/acme/password/reset",
        &[
            ("token", &admins),
            ("email", &acme.agent.email),
            ("user_id", &victim_id),
            ("id", &victim_id),
            ("password", NEW_PASSWORD),
            ("password_confirm", NEW_PASSWORD),
        ],
    )
    .await
    .assert_redirect_to("/acme/login?notice=password_set");
    assert_eq!(password_hash(&app, &acme.agent).await, victim_before);
    app.clear_cookies();
    let refused = app.sign_in("acme", &acme.agent.email, NEW_PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.clear_cookies();
    app.sign_in("acme", &acme.admin.email, NEW_PASSWORD)
        .await
        .assert_redirect_to("/acme/");
}

async fn enable_guests(app: &TestApp) {
    sqlx::query(
        "update tenant_settings set guest_submission_enabled = true, guest_hourly_limit = 1000",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
}

/// A guest ticket of `email` through the public form; returns its access token.
async fn guest_ticket(app: &mut TestApp, tenant: TenantId, email: &str) -> String {
    submit_as_guest(app, tenant, email).await;
    let body: String = sqlx::query_scalar(
        "select body_text from email_outbox where recipient_email = $1 \
          order by created_at desc, id desc limit 1",
    )
    .bind(email)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let at = body.find("/acme/access/").expect("an access link") + "/acme/access/".len();
    body[at..].chars().take(43).collect()
}

/// Files a ticket as `email` through the public form.
async fn submit_as_guest(app: &mut TestApp, tenant: TenantId, email: &str) {
    let category: uuid::Uuid = sqlx::query_scalar(
        "select id from categories where tenant_id = $1 and depth = 1 order by position limit 1",
    )
    .bind(tenant)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    app.clear_cookies();
    app.get("/acme/submit").await;
    let submitted = app
        .post_multipart(
            "/acme/submit",
            &[
                ("email", email),
                ("name", "Pat Guest"),
                ("subject", "The printer smokes"),
                ("description", "Since Monday."),
                ("category", &category.to_string()),
                ("website", ""),
            ],
            &[],
        )
        .await;
    assert!(
        submitted.body.contains("we emailed you a link"),
        "{}: {}",
        submitted.status,
        submitted.body
    );
}

fn guesser_address(index: u32) -> IpAddr {
    // 198.18.0.0/15: benchmark addresses, only a label here (nothing is sent).
    IpAddr::V4(Ipv4Addr::from(0xC612_0000 + index))
}

/// How many guesses the guessing test makes: 10,000 in the ordinary run
/// (about 30 s here), or `TESSERA_TOKEN_GUESSES` (the issue's 100,000 took
/// 303 s on this 2-core machine under load: 0 hits, 75,000 lookups, 25,000
/// answered 429).
fn guess_count() -> u32 {
    std::env::var("TESSERA_TOKEN_GUESSES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessed_guest_tokens_open_nothing_and_are_soon_refused() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    enable_guests(&app).await;
    let real = guest_ticket(&mut app, acme.tenant.id, "pat@example.test").await;

    // Each address guesses 40 times: the first GUESSES_PER_HOUR are looked up
    // (and miss), every one after that is refused before any lookup.
    const PER_ADDRESS: u32 = 40;
    let total = guess_count();
    let addresses = total.div_ceil(PER_ADDRESS);
    let router = tessera::web::router(app.state.clone());
    let next = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..6 {
        let router = router.clone();
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            // (hits, misses, refused, refused too early, other)
            let mut tally = [0u32; 5];
            loop {
                let address = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if address >= addresses {
                    return tally;
                }
                let ip = guesser_address(address);
                let guesses = PER_ADDRESS.min(total - address * PER_ADDRESS);
                for n in 0..guesses {
                    let mut request = Request::get(format!("/acme/access/{}", random_token()))
                        .body(Body::empty())
                        .unwrap();
                    request
                        .extensions_mut()
                        .insert(ConnectInfo(SocketAddr::new(ip, 40000)));
                    let response = router.clone().oneshot(request).await.unwrap();
                    let opened = response
                        .headers()
                        .get_all("set-cookie")
                        .iter()
                        .any(|c| c.to_str().unwrap_or("").starts_with("tessera_access="));
                    let slot = match response.status() {
                        _ if opened => 0,
                        StatusCode::SEE_OTHER => 0,
                        StatusCode::NOT_FOUND if n < GUESSES_PER_HOUR as u32 => 1,
                        StatusCode::TOO_MANY_REQUESTS if n >= GUESSES_PER_HOUR as u32 => 2,
                        StatusCode::TOO_MANY_REQUESTS => 3,
                        _ => 4,
                    };
                    tally[slot] += 1;
                }
            }
        }));
    }
    let mut tally = [0u32; 5];
    for worker in workers {
        for (sum, n) in tally.iter_mut().zip(worker.await.unwrap()) {
            *sum += n;
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "guest token guessing: {total} guesses from {addresses} addresses in {elapsed:?}: \
         {} hits, {} misses looked up, {} refused with 429",
        tally[0], tally[1], tally[2]
    );
    assert_eq!(tally.iter().sum::<u32>(), total);
    assert_eq!(tally[0], 0, "a guessed token opened a ticket");
    assert_eq!(tally[3], 0, "429 before the limit");
    assert_eq!(tally[4], 0, "an unexpected answer");
    let full = total / PER_ADDRESS;
    assert!(tally[1] >= full * GUESSES_PER_HOUR as u32);
    assert!(tally[2] >= full * (PER_ADDRESS - GUESSES_PER_HOUR as u32));

    // A blocked address is refused even the real token; a fresh one opens it.
    app.client_ip = guesser_address(0);
    app.clear_cookies();
    let blocked = app.get(&format!("/acme/access/{real}")).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    app.client_ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 77));
    let opened = app.get(&format!("/acme/access/{real}")).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
}

#[tokio::test]
async fn no_token_reaches_the_log_or_a_referer() {
    // Mail goes to .eml files in a directory of this test's own.
    let dir = std::env::temp_dir().join(format!("tessera-tokens-{}", uuid::Uuid::now_v7()));
    let mut app = TestApp::with_config(
        Config::defaults().merge(Serialized::default("server.data_dir", &dir)),
    )
    .await;
    let acme = app.create_tenant("acme").await;
    enable_guests(&app).await;
    let captured = CapturedLogs::default();
    let subscriber = captured.subscriber();
    let mut tokens = Vec::new();
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        // Guest access: the link, the guest page (cookie), "lost your link".
        let access = guest_ticket(&mut app, acme.tenant.id, "pat@example.test").await;
        app.clear_cookies();
        let opened = app.get(&format!("/acme/access/{access}")).await;
        assert_eq!(opened.status, StatusCode::SEE_OTHER);
        assert_eq!(opened.header("referrer-policy"), Some("no-referrer"));
        let page = app.get(opened.location().unwrap()).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
        let dead = app.get(&format!("/acme/access/{}", random_token())).await;
        assert_eq!(dead.header("referrer-policy"), Some("no-referrer"));
        app.get("/acme/submit").await;
        app.post_form("/acme/submit/link", &[("link_email", "pat@example.test")])
            .await
            .assert_redirect_to("/acme/submit?notice=guest_links_sent");
        tokens.push(access);
        // Set-password links: reset and invitation, page and form, good and bad.
        app.clear_cookies();
        for purpose in [Purpose::Reset, Purpose::Invite] {
            let token = issue(&app, &acme.customer, purpose).await;
            let query = format!("/acme/password/reset?token={token}");
            let page = app.get(&query).await;
            assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
            // A refused password re-shows the form with the token in it.
            let refused = app
                .post_form(
                    "/acme/password/reset",
                    &[
                        ("token", &token),
                        ("password", "short"),
                        ("password_confirm", "short"),
                    ],
                )
                .await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(refused.header("referrer-policy"), Some("no-referrer"));
            let (_, done) = use_token(&mut app, "acme", &token).await;
            done.assert_redirect_to("/acme/login?notice=password_set");
            tokens.push(token);
        }
        // The email worker sends the mail that carries the tokens.
        crate::email::deliver(&app).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let log = captured.text();
    assert!(log.contains("/acme/access/…"), "requests are logged: {log}");
    assert!(log.contains("/acme/password/reset"), "{log}");
    for token in &tokens {
        assert!(!log.contains(token.as_str()), "a token is in the log");
    }
    assert!(
        !log.contains(PASSWORD) && !log.contains(NEW_PASSWORD),
        "a password is in the log"
    );
}

/// Median of durations, in milliseconds.
fn median_ms(samples: &mut [StdDuration]) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1000.0
}

/// How many timed tries each side of the enumeration tests makes: 200, but
/// 100 for sign-in, where every try is an argon2 verification (100-150 ms
/// each in the test profile on this loaded machine; 100 pairs keep the median
/// of the paired differences steady to about a millisecond).
const TRIES: usize = 200;
const SIGN_IN_TRIES: usize = 100;
const KNOWN: &str = "customer@acme.test";
const UNKNOWN: &str = "stranger@acme.test";

#[derive(Clone, Copy, Debug)]
enum Flow {
    SignIn,
    ResetRequest,
    LostLink,
}

/// One try of `flow` with `email`; returns what the visitor sees: status,
/// redirect target and page, with the email itself blanked (forms echo it).
async fn attempt(app: &mut TestApp, flow: Flow, email: &str) -> (StatusCode, String, String) {
    let response = match flow {
        Flow::SignIn => {
            app.post_form(
                "/acme/login",
                &[("email", email), ("password", "not-the-password")],
            )
            .await
        }
        Flow::ResetRequest => {
            app.post_form("/acme/password/forgot", &[("email", email)])
                .await
        }
        Flow::LostLink => {
            app.post_form("/acme/submit/link", &[("link_email", email)])
                .await
        }
    };
    (
        response.status,
        response.location().unwrap_or_default().to_owned(),
        response.body.replace(email, "EMAIL"),
    )
}

/// Tries `flow` `TRIES` times each with a known and an unknown email,
/// alternating (each try from a fresh client address, so the per-address
/// limits stay out of it); checks the answers are identical and the times
/// within 10 ms (median of the paired differences); returns the medians (ms).
///
/// Other work on this 2-core machine (parallel tests, other builds) adds
/// noise of tens of milliseconds to an argon2-bound sign-in, in either
/// direction (measured: +8.5 ms in one batch, -13.4 ms in another). So a
/// batch over 10 ms is run again, up to three batches: a real difference
/// (an unknown email skipping argon2 saves ~100 ms) fails all three.
async fn same_answer_and_time(app: &mut TestApp, flow: Flow) -> (f64, f64) {
    let mut batches = Vec::new();
    for batch in 0..3 {
        let (known, unknown, difference) = timed_batch(app, flow, batch).await;
        batches.push(difference);
        if difference.abs() <= 10.0 {
            return (known, unknown);
        }
    }
    panic!("{flow:?}: known and unknown differ by more than 10 ms in every batch: {batches:+.2?}");
}

/// One batch of paired tries; returns the medians and the median of the
/// pairs' differences (ms).
async fn timed_batch(app: &mut TestApp, flow: Flow, batch: usize) -> (f64, f64, f64) {
    let page = match flow {
        Flow::SignIn => "/acme/login",
        Flow::ResetRequest => "/acme/password/forgot",
        Flow::LostLink => "/acme/submit",
    };
    app.get(page).await;
    // Warm-up (first-use costs: prepared statements, caches).
    for email in [KNOWN, UNKNOWN, KNOWN, UNKNOWN] {
        attempt(app, flow, email).await;
    }
    let tries = match flow {
        Flow::SignIn => SIGN_IN_TRIES,
        _ => TRIES,
    };
    let mut times = [Vec::with_capacity(tries), Vec::with_capacity(tries)];
    let mut answers: [Option<(StatusCode, String, String)>; 2] = [None, None];
    for n in 0..tries {
        let order = if n % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            let address = 0x0A00_0000 + u32::try_from((batch * tries + n) * 2 + side).unwrap();
            app.client_ip = IpAddr::V4(Ipv4Addr::from(address));
            let email = [KNOWN, UNKNOWN][side];
            let start = Instant::now();
            let answer = attempt(app, flow, email).await;
            times[side].push(start.elapsed());
            match &answers[side] {
                Some(first) => assert_eq!(first, &answer, "{flow:?}: {email} answered differently"),
                None => answers[side] = Some(answer),
            }
        }
    }
    assert_eq!(
        answers[0], answers[1],
        "{flow:?}: a known and an unknown address are told apart"
    );
    // Tries run in pairs (known, unknown, in alternating order): the median
    // of the pairs' differences is what an attacker could measure, and it is
    // steady under the machine's other load, which shifts both alike.
    let mut differences: Vec<f64> = times[0]
        .iter()
        .zip(&times[1])
        .map(|(k, u)| (k.as_secs_f64() - u.as_secs_f64()) * 1000.0)
        .collect();
    differences.sort_by(f64::total_cmp);
    let difference = differences[differences.len() / 2];
    let known = median_ms(&mut times[0]);
    let unknown = median_ms(&mut times[1]);
    eprintln!(
        "{flow:?} (batch {}): {:?} for both; median known {known:.2} ms, unknown {unknown:.2} ms, \
         median paired difference {difference:+.2} ms ({tries} tries each)",
        batch + 1,
        answers[0].as_ref().map(|a| a.0)
    );
    (known, unknown, difference)
}

#[tokio::test]
async fn known_and_unknown_emails_get_the_same_answer_in_the_same_time() {
    // Limits raised so every try is answered, not throttled: the throttles
    // count unknown addresses alike anyway (tests/it/auth.rs).
    let mut app = TestApp::with_config(
        Config::defaults()
            .merge(Serialized::default(
                "auth.max_failures_per_account",
                100_000,
            ))
            .merge(Serialized::default(
                "auth.max_failures_per_address",
                100_000,
            )),
    )
    .await;
    let acme = app.create_tenant("acme").await;
    assert_eq!(acme.customer.email, KNOWN);
    enable_guests(&app).await;
    // The known address has an open guest-visible ticket, so "lost your link"
    // has something to send.
    submit_as_guest(&mut app, acme.tenant.id, KNOWN).await;

    let (known, unknown) = same_answer_and_time(&mut app, Flow::SignIn).await;
    // An unknown email still spends an argon2 verification: a sign-in costs
    // what a hash check costs, not a bare query.
    // The fastest of a few verifications: a single one can be slowed by
    // whatever else the machine runs, and the bound is a lower one.
    let mut one_hash = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        tessera::auth::password::verify(PASSWORD.to_owned(), None)
            .await
            .unwrap();
        one_hash = one_hash.min(start.elapsed().as_secs_f64() * 1000.0);
    }
    assert!(
        known.min(unknown) >= one_hash * 0.5,
        "sign-in took {known:.2}/{unknown:.2} ms, one argon2 verification {one_hash:.2} ms"
    );
    same_answer_and_time(&mut app, Flow::ResetRequest).await;
    same_answer_and_time(&mut app, Flow::LostLink).await;
    // The known address did get its mail (capped per hour), the unknown none.
    let mails: Vec<String> =
        sqlx::query_scalar("select distinct recipient_email from email_outbox order by 1")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(mails, vec![KNOWN.to_owned()]);
}
