//! Sessions (issue #10): the id rotates at sign-in and the old one opens
//! nothing; signing out ends the session; a password change ends every other
//! session of the user (the session that makes the change stays signed in,
//! under a fresh id); an admin deactivating a user ends all of theirs at once,
//! and reactivating revives none. A session in use is kept alive (the idle
//! timeout counts from its last use), and saving a session never brings back
//! one that was ended meanwhile.
//!
//! Each "browser" is a session cookie; the test swaps cookies on one `TestApp`
//! (the CSRF cookie stays, it is not tied to the session).

use crate::helpers::{PASSWORD, TestApp, TestDatabase};
use axum::http::StatusCode;
use tessera::{db::TenantId, web::SESSION_COOKIE};

const NEW_PASSWORD: &str = "an-entirely-new-secret";

fn session_of(app: &TestApp) -> String {
    app.cookie(SESSION_COOKIE)
        .expect("a session cookie")
        .to_owned()
}

/// Switches the app to the browser whose session cookie is `session`.
fn use_session(app: &mut TestApp, session: &str) {
    app.set_cookie(SESSION_COOKIE, session);
}

/// Whether the current cookie is signed in to `tenant`: its home page answers
/// 200 to a signed-in user and sends anyone else to the login page.
async fn signed_in(app: &mut TestApp, tenant: &str) -> bool {
    let home = app.get(&format!("/{tenant}/")).await;
    match home.status {
        StatusCode::OK => true,
        StatusCode::SEE_OTHER => {
            assert!(
                home.location()
                    .unwrap_or_default()
                    .starts_with(&format!("/{tenant}/login")),
                "{:?}",
                home.location()
            );
            false
        }
        other => panic!("unexpected {other} from /{tenant}/"),
    }
}

/// Whether the session store still has a row for `id`.
async fn stored(app: &TestApp, id: &str) -> bool {
    sqlx::query_scalar("select exists (select 1 from tower_sessions.session where id = $1)")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// Signs in with a fresh browser and returns its session cookie.
async fn new_browser(app: &mut TestApp, tenant: &str, email: &str, password: &str) -> String {
    app.clear_cookies();
    app.sign_in(tenant, email, password)
        .await
        .assert_redirect_to(&format!("/{tenant}/"));
    session_of(app)
}

#[tokio::test]
async fn the_session_id_rotates_at_sign_in_and_the_old_id_opens_nothing() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let beta = app.create_tenant("beta").await;

    // A planted (fixated) id is never adopted.
    app.clear_cookies();
    app.set_cookie(SESSION_COOKIE, "attacker-chosen-session-id-AAAAAAAAAAAA");
    app.sign_in("acme", &acme.customer.email, PASSWORD)
        .await
        .assert_redirect_to("/acme/");
    assert_ne!(session_of(&app), "attacker-chosen-session-id-AAAAAAAAAAAA");

    // A browser with a session (signed in to beta) signs in to acme.
    let before = new_browser(&mut app, "beta", &beta.customer.email, PASSWORD).await;
    assert!(stored(&app, &before).await);
    app.sign_in("acme", &acme.customer.email, PASSWORD)
        .await
        .assert_redirect_to("/acme/");
    let after = session_of(&app);
    assert_ne!(before, after, "sign-in must issue a new session id");
    assert!(signed_in(&mut app, "acme").await);
    assert!(
        signed_in(&mut app, "beta").await,
        "the beta login moves along"
    );

    // The id from before the sign-in is gone: it opens neither tenant.
    assert!(!stored(&app, &before).await);
    use_session(&mut app, &before);
    assert!(!signed_in(&mut app, "acme").await);
    assert!(!signed_in(&mut app, "beta").await);

    // Signing in again (another account) rotates again.
    use_session(&mut app, &after);
    app.sign_in("acme", &acme.agent.email, PASSWORD)
        .await
        .assert_redirect_to("/acme/");
    let again = session_of(&app);
    assert_ne!(again, after);
    use_session(&mut app, &after);
    assert!(!signed_in(&mut app, "acme").await);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let session = new_browser(&mut app, "acme", &acme.agent.email, PASSWORD).await;
    assert!(signed_in(&mut app, "acme").await);

    let out = app.sign_out("acme").await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(app.cookie(SESSION_COOKIE), None, "the cookie is removed");
    assert!(!stored(&app, &session).await, "the row is deleted");
    // Replaying the old cookie opens nothing.
    use_session(&mut app, &session);
    assert!(!signed_in(&mut app, "acme").await);
}

/// The set-password link of the newest reset email to `email`.
async fn reset_link(app: &TestApp, tenant: TenantId, email: &str) -> String {
    let body: String = sqlx::query_scalar(
        "select body_text from email_outbox where tenant_id = $1 and recipient_email = $2 \
          order by created_at desc, id desc limit 1",
    )
    .bind(tenant)
    .bind(email)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let start = body.find("/password/reset?token=").expect("a reset link");
    let start = body[..start].rfind('/').expect("the tenant segment");
    let end = body[start..]
        .find(char::is_whitespace)
        .map_or(body.len(), |n| start + n);
    body[start..end].to_owned()
}

/// Asks for a reset of `email` and sets `password` through the emailed link,
/// in the current browser.
async fn change_password(app: &mut TestApp, tenant: TenantId, email: &str, password: &str) {
    app.get("/acme/password/forgot").await;
    app.post_form("/acme/password/forgot", &[("email", email)])
        .await
        .assert_redirect_to("/acme/password/forgot?notice=reset_requested");
    let link = reset_link(app, tenant, email).await;
    let token = link.split_once("token=").expect("a token").1.to_owned();
    assert_eq!(app.get(&link).await.status, StatusCode::OK);
    app.post_form(
        "/acme/password/reset",
        &[
            ("token", &token),
            ("password", password),
            ("password_confirm", password),
        ],
    )
    .await
    .assert_redirect_to("/acme/login?notice=password_set");
}

#[tokio::test]
async fn a_password_change_ends_every_other_session_and_keeps_the_current_one_under_a_new_id() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let email = acme.customer.email.clone();
    let laptop = new_browser(&mut app, "acme", &email, PASSWORD).await;
    let phone = new_browser(&mut app, "acme", &email, PASSWORD).await;
    let agent = new_browser(&mut app, "acme", &acme.agent.email, PASSWORD).await;

    // The change is made on the phone, signed in as the customer.
    use_session(&mut app, &phone);
    change_password(&mut app, acme.tenant.id, &email, NEW_PASSWORD).await;
    let phone_now = session_of(&app);
    assert_ne!(phone_now, phone, "the current session is rotated");
    assert!(signed_in(&mut app, "acme").await, "and stays signed in");
    for old in [&laptop, &phone] {
        assert!(!stored(&app, old).await);
        use_session(&mut app, old);
        assert!(!signed_in(&mut app, "acme").await, "{old} still works");
    }
    // Another user's session is untouched.
    use_session(&mut app, &agent);
    assert!(signed_in(&mut app, "acme").await);

    // A change from a browser that is not signed in as the user (the usual
    // forgot-password case) ends every session of the user.
    app.clear_cookies();
    change_password(&mut app, acme.tenant.id, &email, "yet-another-new-secret").await;
    use_session(&mut app, &phone_now);
    assert!(!signed_in(&mut app, "acme").await);
    use_session(&mut app, &agent);
    assert!(signed_in(&mut app, "acme").await);

    // An admin setting the password on the users page ends them too.
    let customer = new_browser(&mut app, "acme", &email, "yet-another-new-secret").await;
    let admin = new_browser(&mut app, "acme", &acme.admin.email, PASSWORD).await;
    app.get("/acme/admin/users").await;
    let id = acme.customer.id.to_string();
    let set = app
        .post_form(
            "/acme/admin/users/password",
            &[("id", &id), ("password", "set-by-the-admin-1")],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    assert!(signed_in(&mut app, "acme").await, "the admin stays");
    use_session(&mut app, &customer);
    assert!(!signed_in(&mut app, "acme").await);
    use_session(&mut app, &admin);
    assert!(signed_in(&mut app, "acme").await);
}

#[tokio::test]
async fn deactivation_ends_every_session_of_the_user_at_once_and_reactivation_revives_none() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let beta = app.create_tenant("beta").await;
    let first = new_browser(&mut app, "acme", &acme.agent.email, PASSWORD).await;
    let second = new_browser(&mut app, "acme", &acme.agent.email, PASSWORD).await;
    let bystander = new_browser(&mut app, "acme", &acme.customer.email, PASSWORD).await;
    let elsewhere = new_browser(&mut app, "beta", &beta.agent.email, PASSWORD).await;
    let admin = new_browser(&mut app, "acme", &acme.admin.email, PASSWORD).await;

    let id = acme.agent.id.to_string();
    app.get("/acme/admin/users").await;
    app.post_form("/acme/admin/users/active", &[("id", &id), ("active", "0")])
        .await
        .assert_redirect_to("/acme/admin/users?notice=saved");
    for session in [&first, &second] {
        assert!(!stored(&app, session).await, "the session row is deleted");
    }
    use_session(&mut app, &admin);
    app.get("/acme/admin/users").await;
    app.post_form("/acme/admin/users/active", &[("id", &id), ("active", "1")])
        .await
        .assert_redirect_to("/acme/admin/users?notice=saved");
    for session in [&first, &second] {
        use_session(&mut app, session);
        assert!(!signed_in(&mut app, "acme").await, "{session} came back");
    }
    for (session, tenant) in [(&bystander, "acme"), (&elsewhere, "beta"), (&admin, "acme")] {
        use_session(&mut app, session);
        assert!(
            signed_in(&mut app, tenant).await,
            "{tenant} bystander signed out"
        );
    }
    // The reactivated agent signs in afresh.
    new_browser(&mut app, "acme", &acme.agent.email, PASSWORD).await;
}

/// How long session `id` has left in the store (the store keeps real time,
/// not the test's clock).
async fn left_of(app: &TestApp, id: &str) -> time::Duration {
    let seconds: f64 = sqlx::query_scalar(
        "select extract(epoch from expiry_date - now())::float8 \
           from tower_sessions.session where id = $1",
    )
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    time::Duration::seconds_f64(seconds)
}

/// The database's time, which the session store goes by.
async fn real_now(app: &TestApp) -> time::OffsetDateTime {
    sqlx::query_scalar("select now()")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// The Max-Age the response gives the session cookie, when it sends one.
fn session_max_age(response: &crate::helpers::TestResponse) -> Option<i64> {
    response
        .headers
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter(|value| value.starts_with(&format!("{SESSION_COOKIE}=")))
        .find_map(|value| {
            value
                .split(';')
                .find_map(|part| part.trim().strip_prefix("Max-Age="))
                .map(|age| age.parse().expect("a number"))
        })
}

/// Leaves every stored session an hour to live.
async fn one_hour_left(app: &TestApp) {
    sqlx::query("update tower_sessions.session set expiry_date = now() + interval '1 hour'")
        .execute(app.db.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_session_in_use_stays_signed_in_past_the_idle_timeout_after_sign_in() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let session = new_browser(&mut app, "acme", &acme.agent.email, PASSWORD).await;
    let idle = time::Duration::hours(app.state.config.session.idle_timeout_hours);

    // Signed in 335 hours ago, say: one hour of the 336 left, in the store
    // and in the browser.
    one_hour_left(&app).await;
    app.clock.advance(time::Duration::hours(2));
    let page = app.get("/acme/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        session_max_age(&page),
        Some(idle.whole_seconds()),
        "the cookie gets its whole lifetime again"
    );
    let kept = left_of(&app, &session).await;
    assert!(kept > idle - time::Duration::minutes(5), "{kept}");

    // Used again within the hour: nothing is written, no cookie is sent.
    one_hour_left(&app).await;
    app.clock.advance(time::Duration::minutes(30));
    let page = app.get("/acme/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(session_max_age(&page), None);
    let left = left_of(&app, &session).await;
    assert!(left < time::Duration::hours(1), "{left}");

    // An hour after it was last kept alive, it is kept alive again.
    app.clock.advance(time::Duration::minutes(31));
    let page = app.get("/acme/").await;
    assert_eq!(session_max_age(&page), Some(idle.whole_seconds()));
    let kept = left_of(&app, &session).await;
    assert!(kept > idle - time::Duration::minutes(5), "{kept}");
    assert_eq!(session_of(&app), session, "keeping alive keeps the id");
}

#[tokio::test]
async fn saving_a_session_that_was_ended_meanwhile_does_not_bring_it_back() {
    use tower_sessions::{
        SessionStore as _,
        session::{Id, Record},
    };
    let app = TestApp::new().await;
    let store = tessera::auth::session_store::Sessions::new(app.db.pool().clone());
    let mut record = Record {
        id: Id::default(),
        data: [("logins".to_owned(), serde_json::json!({}))].into(),
        expiry_date: real_now(&app).await + time::Duration::hours(1),
    };
    store.create(&mut record).await.unwrap();
    let id = record.id.to_string();
    assert!(stored(&app, &id).await);

    // A request loaded it; meanwhile it was signed out; then the request saves.
    let loaded = store.load(&record.id).await.unwrap().expect("the session");
    store.delete(&record.id).await.unwrap();
    store.save(&loaded).await.unwrap();
    assert!(!stored(&app, &id).await, "an ended session stays ended");
    assert!(store.load(&record.id).await.unwrap().is_none());

    // A session that still exists is saved as usual.
    store.create(&mut record).await.unwrap();
    record.expiry_date += time::Duration::hours(5);
    store.save(&record).await.unwrap();
    let left = left_of(&app, &record.id.to_string()).await;
    assert!(left > time::Duration::hours(5), "{left}");
}

/// A request reads its session inside the tenant's scope (migration 0024): the
/// application role sees only the live session whose id the transaction was
/// begun for (the id is the secret), never lists the others, and cannot write
/// the store.
#[tokio::test]
async fn the_application_role_reads_only_the_session_its_transaction_names() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let session = new_browser(&mut app, "acme", &acme.agent.email, PASSWORD).await;
    let other = new_browser(&mut app, "acme", &acme.admin.email, PASSWORD).await;

    let visible = |named: Option<String>| {
        let db = app.db.clone();
        async move {
            let mut tx = match &named {
                Some(id) => db.session_tx(acme.tenant.id, id).await.unwrap(),
                None => db.tenant_tx(acme.tenant.id).await.unwrap(),
            };
            sqlx::query_scalar::<_, String>("select id from tower_sessions.session order by id")
                .fetch_all(&mut *tx)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        visible(None).await,
        Vec::<String>::new(),
        "no session named"
    );
    assert_eq!(visible(Some(session.clone())).await, vec![session.clone()]);
    assert_eq!(visible(Some(other.clone())).await, vec![other.clone()]);
    assert_eq!(
        visible(Some(format!("{session}x"))).await,
        Vec::<String>::new()
    );

    // The user signed in there comes from the logins stored beside the data.
    let mut tx = app.db.session_tx(acme.tenant.id, &session).await.unwrap();
    let start = tessera::auth::repo::request_start(&mut tx, acme.tenant.id, &session)
        .await
        .unwrap()
        .expect("the tenant");
    assert!(start.session_data.is_some());
    assert_eq!(start.user.map(|(user, _)| user.id), Some(acme.agent.id));
    // Naming one session does not open another.
    let start = tessera::auth::repo::request_start(&mut tx, acme.tenant.id, &other)
        .await
        .unwrap()
        .expect("the tenant");
    assert!(start.session_data.is_none() && start.user.is_none());
    let written = sqlx::query("delete from tower_sessions.session")
        .execute(&mut *tx)
        .await
        .expect_err("the application role cannot write the store");
    let denied = written.as_database_error().and_then(|e| e.code());
    assert_eq!(denied.as_deref(), Some("42501"), "{written}");
    drop(tx);

    // An expired session is not found, even by its id.
    sqlx::query(
        "update tower_sessions.session set expiry_date = now() - interval '1 second' where id = $1",
    )
    .bind(&session)
    .execute(&app.db.pool().clone())
    .await
    .unwrap();
    assert_eq!(visible(Some(session.clone())).await, Vec::<String>::new());
}

/// Sessions stored before the store wrote their logins beside them (migration
/// 0022) stay signed in: their user is looked up from the session's data.
#[tokio::test]
async fn a_session_stored_without_its_logins_stays_signed_in() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let session = new_browser(&mut app, "acme", &acme.agent.email, PASSWORD).await;
    sqlx::query("update tower_sessions.session set logins = null where id = $1")
        .bind(&session)
        .execute(app.db.pool())
        .await
        .unwrap();
    let home = app.get("/acme/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains(&acme.agent.name), "{}", home.body);
    assert!(signed_in(&mut app, "acme").await);
}

/// Tessera connected as a role that is not a superuser (as the Dockerfile's
/// deployment is): it migrates its own database, and a signed-in request finds
/// its user and shows the page. Row-level security binds such a role (the
/// FORCEd policies on users, through its membership of `tessera_app`) where
/// it binds no superuser, as every other test connects.
#[tokio::test]
async fn a_non_superuser_owner_migrates_signs_in_and_shows_pages() {
    let database = TestDatabase::create_owned_by_a_non_superuser().await;
    let mut app = TestApp::on(database, tessera::config::Config::defaults()).await;
    let superuser: bool =
        sqlx::query_scalar("select rolsuper from pg_roles where rolname = current_user")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(!superuser, "the test connects as a non-superuser");
    let acme = app.create_tenant("acme").await;
    new_browser(&mut app, "acme", &acme.agent.email, PASSWORD).await;
    let home = app.get("/acme/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains(&acme.agent.name), "{}", home.body);
    let queue = app.get("/acme/tickets").await;
    assert_eq!(queue.status, StatusCode::OK);
}
