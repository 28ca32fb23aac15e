//! Mass assignment and open redirects.
//!
//! Every form that creates or edits something gets, beside its own fields, the
//! fields an attacker would add (`tenant_id`, `role`, `author_id`, `internal`,
//! `requester_id`, `id`, `created_at`, `number`, …) and fields of the same
//! form that the caller may not set (a customer's `internal`, `status`,
//! `assignee`, `requester`): the database shows every one ignored. And every
//! `next`/`back` target, whatever its disguise, lands on one of our own paths.

use crate::helpers::{PASSWORD, TestApp, TestResponse};
use axum::http::StatusCode;
use figment::providers::Serialized;
use tessera::{auth::model::User, config::Config, db::TenantId};
use uuid::Uuid;

const PLANTED_ID: &str = "01890000-0000-7000-8000-000000000042";
const PLANTED_TIME: &str = "2001-01-01T00:00:00Z";

/// The fields no form has, in the names an attacker would try.
fn extras<'a>(other_tenant: &'a str, other_user: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("tenant_id", other_tenant),
        ("tenant", other_tenant),
        ("role", "admin"),
        ("author_id", other_user),
        ("user_id", other_user),
        ("owner_id", other_user),
        ("requester_id", other_user),
        ("assignee_id", other_user),
        ("internal", "1"),
        ("is_internal", "true"),
        ("id", PLANTED_ID),
        ("created_at", PLANTED_TIME),
        ("updated_at", PLANTED_TIME),
        ("number", "4242"),
        ("slug", "evil"),
        ("is_demo", "1"),
        ("active", "0"),
        ("password_hash", "x"),
    ]
}

fn with<'a>(
    fields: &[(&'a str, &'a str)],
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut all = fields.to_vec();
    all.extend_from_slice(extra);
    all
}

async fn sign_in(app: &mut TestApp, email: &str) {
    app.clear_cookies();
    app.sign_in("acme", email, PASSWORD)
        .await
        .assert_redirect_to("/acme/");
}

fn number_in(response: &TestResponse) -> i64 {
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    response
        .location()
        .and_then(|l| l.strip_prefix("/acme/tickets/"))
        .and_then(|rest| rest.split(['?', '#', '/']).next())
        .and_then(|n| n.parse().ok())
        .expect("a ticket number in the redirect")
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct TicketRow {
    tenant_id: Uuid,
    id: Uuid,
    number: i64,
    requester_id: Uuid,
    assignee_id: Option<Uuid>,
    created_at: time::OffsetDateTime,
    status_category: String,
}

async fn ticket_row(app: &TestApp, subject: &str) -> TicketRow {
    sqlx::query_as(
        "select tenant_id, id, number, requester_id, assignee_id, created_at, \
                status_category::text as status_category \
           from tickets where subject = $1",
    )
    .bind(subject)
    .fetch_one(app.db.pool())
    .await
    .unwrap_or_else(|e| panic!("the ticket {subject:?}: {e}"))
}

#[derive(Debug, sqlx::FromRow)]
struct ReplyRow {
    tenant_id: Uuid,
    id: Uuid,
    author_id: Uuid,
    internal: bool,
    created_at: time::OffsetDateTime,
}

async fn reply_row(app: &TestApp, body: &str) -> ReplyRow {
    sqlx::query_as(
        "select tenant_id, id, author_id, internal, created_at from replies where body = $1",
    )
    .bind(body)
    .fetch_one(app.db.pool())
    .await
    .unwrap_or_else(|e| panic!("the reply {body:?}: {e}"))
}

async fn role_of(app: &TestApp, user: &User) -> String {
    sqlx::query_scalar("select role::text from users where id = $1")
        .bind(user.id)
        .fetch_one(app.db.pool())
        .await
        .expect("a user's role")
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.db.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn extra_fields_on_every_form_are_ignored() {
    let dir = std::env::temp_dir().join(format!("tessera-forms-{}", Uuid::now_v7()));
    let mut app = TestApp::with_config(
        Config::defaults().merge(Serialized::default("attachments.dir", &dir)),
    )
    .await;
    let acme = app.create_tenant("acme").await;
    let globex = app.create_tenant("globex").await;
    let acme_id: TenantId = acme.tenant.id;
    let other_tenant = globex.tenant.id.to_string();
    let agent_id = acme.agent.id.to_string();
    let admin_id = acme.admin.id.to_string();
    let now = app.clock.now();
    let planted: Uuid = PLANTED_ID.parse().unwrap();
    let mut checked = 0;

    // 1. A customer files a ticket, claiming another tenant, another requester,
    //    an id, a number and a date.
    sign_in(&mut app, "customer@acme.test").await;
    app.get("/acme/tickets/new").await;
    let hostile = extras(&other_tenant, &agent_id);
    let fields = with(
        &[
            ("subject", "Mass assignment ticket"),
            ("description", "Plain request."),
            ("requester", "agent@acme.test"),
            ("assignee", "agent@acme.test"),
            ("status", "closed"),
        ],
        &hostile,
    );
    let number = number_in(&app.post_form("/acme/tickets", &fields).await);
    let ticket = ticket_row(&app, "Mass assignment ticket").await;
    assert_eq!(ticket.tenant_id, acme_id.0);
    assert_ne!(ticket.id, planted);
    assert_ne!(ticket.number, 4242);
    assert_eq!(ticket.number, number);
    assert_eq!(
        ticket.requester_id, acme.customer.id.0,
        "the customer's own"
    );
    assert_eq!(ticket.assignee_id, None, "a customer assigns nobody");
    assert_ne!(ticket.status_category, "closed");
    assert_eq!(ticket.created_at, now);
    assert_eq!(
        count(&app, "select count(*) from replies where internal").await,
        0
    );
    assert_eq!(role_of(&app, &acme.customer).await, "customer");
    checked += 1;

    // 2. The customer edits it, sending the staff form's fields too.
    let path = format!("/acme/tickets/{number}");
    app.get(&format!("{path}/edit")).await;
    let fields = with(
        &[
            ("subject", "Mass assignment ticket"),
            ("description", "Edited."),
            ("requester", "agent@acme.test"),
            ("assignee", "agent@acme.test"),
            ("status", "closed"),
            ("tags", "vip"),
        ],
        &hostile,
    );
    let edited = app.post_form(&path, &fields).await;
    assert!(
        edited.status == StatusCode::SEE_OTHER || edited.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{}: {}",
        edited.status,
        edited.body
    );
    let after = ticket_row(&app, "Mass assignment ticket").await;
    assert_eq!(
        after, ticket,
        "the edit changed nothing the customer may not set"
    );
    let tags: Vec<String> =
        sqlx::query_scalar("select tags from tickets where number = $1 and tenant_id = $2")
            .bind(number)
            .bind(acme_id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(tags.is_empty(), "a customer tags nothing: {tags:?}");
    checked += 1;

    // 3. The customer replies, claiming the reply is an internal note by the agent.
    app.get(&path).await;
    let fields = with(
        &[
            ("body", "Customer reply, mass assigned"),
            ("action", "send"),
        ],
        &hostile,
    );
    let response = app.post_form(&format!("{path}/replies"), &fields).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let reply = reply_row(&app, "Customer reply, mass assigned").await;
    assert_eq!(reply.tenant_id, acme_id.0);
    assert_ne!(reply.id, planted);
    assert_eq!(reply.author_id, acme.customer.id.0);
    assert!(!reply.internal, "a customer's reply is never a note");
    assert_eq!(reply.created_at, now);
    checked += 1;

    // 4. And edits it the same way.
    app.get(&format!("{path}/replies/{}/edit", reply.id)).await;
    let fields = with(&[("body", "Customer reply, edited")], &hostile);
    let response = app
        .post_form(&format!("{path}/replies/{}", reply.id), &fields)
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let edited = reply_row(&app, "Customer reply, edited").await;
    assert_eq!(
        (edited.id, edited.author_id, edited.internal),
        (reply.id, reply.author_id, false)
    );
    checked += 1;

    // 5. The customer's notification preferences, naming another user.
    app.get("/acme/account/notifications").await;
    let fields = with(&[("replies", "on")], &hostile);
    let response = app.post_form("/acme/account/notifications", &fields).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(
        count(
            &app,
            "select count(*) from notification_preferences p join users u \
               on u.tenant_id = p.tenant_id and u.id = p.user_id where u.role <> 'customer'"
        )
        .await,
        0,
        "only the customer's own preferences are written"
    );
    checked += 1;

    // 6. The agent replies as "the admin", and writes a note.
    sign_in(&mut app, "agent@acme.test").await;
    app.get(&path).await;
    let staff_extras = extras(&other_tenant, &admin_id);
    let fields = with(
        &[("body", "Agent reply, mass assigned"), ("action", "send")],
        &staff_extras,
    );
    // `internal` is among the extras: for staff it is the form's own field.
    let response = app.post_form(&format!("{path}/replies"), &fields).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let reply = reply_row(&app, "Agent reply, mass assigned").await;
    assert_eq!(
        (reply.tenant_id, reply.author_id),
        (acme_id.0, acme.agent.id.0)
    );
    assert_ne!(reply.id, planted);
    assert_eq!(reply.created_at, now);
    checked += 1;

    // 7. A saved view for someone else.
    app.get("/acme/views").await;
    let fields = with(
        &[("name", "Mass view"), ("query", "queue=all")],
        &staff_extras,
    );
    let response = app.post_form("/acme/views", &fields).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let (owner, tenant, id): (Uuid, Uuid, Uuid) =
        sqlx::query_as("select owner_id, tenant_id, id from saved_views where name = 'Mass view'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((owner, tenant), (acme.agent.id.0, acme_id.0));
    assert_ne!(id, planted);
    assert_eq!(role_of(&app, &acme.agent).await, "agent");
    checked += 1;

    // 8. The admin creates a user "in the other tenant", with a planted id.
    sign_in(&mut app, "admin@acme.test").await;
    app.get("/acme/admin/users").await;
    let mut fields = vec![
        ("email", "mass@acme.test"),
        ("name", "Mass"),
        ("role", "customer"),
        ("password", ""),
    ];
    fields.extend(
        extras(&other_tenant, &agent_id)
            .into_iter()
            .filter(|(name, _)| *name != "role"),
    );
    let response = app.post_form("/acme/admin/users", &fields).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let (tenant, id, role, hash, created): (
        Uuid,
        Uuid,
        String,
        Option<String>,
        time::OffsetDateTime,
    ) = sqlx::query_as(
        "select tenant_id, id, role::text, password_hash, created_at from users \
              where email = 'mass@acme.test'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!((tenant, role.as_str()), (acme_id.0, "customer"));
    assert_ne!(id, planted);
    assert_ne!(hash.as_deref(), Some("x"));
    assert_ne!(
        created,
        time::macros::datetime!(2001-01-01 00:00 UTC),
        "created_at is the server's"
    );
    checked += 1;

    // 9. General settings, naming the other tenant, a slug and the demo flag.
    app.get("/acme/admin/general").await;
    let fields = with(
        &[
            ("name", "Acme renamed"),
            ("ticket_prefix", "TKT-"),
            ("reopen_window_days", "7"),
            ("customers_can_reopen", "1"),
            ("guest_submission_enabled", "1"),
            ("notification_email", ""),
            ("default_timezone", "UTC"),
        ],
        &staff_extras,
    );
    let response = app.post_form("/acme/admin/general", &fields).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let tenants: Vec<(String, String, bool)> =
        sqlx::query_as("select slug, name, is_demo from tenants order by slug")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        tenants,
        vec![
            ("acme".to_owned(), "Acme renamed".to_owned(), false),
            ("globex".to_owned(), "globex support".to_owned(), false),
        ]
    );
    checked += 1;

    // 10. Guest settings, naming the other tenant.
    app.get("/acme/admin/guests").await;
    let fields = with(
        &[("hourly_limit", "7"), ("daily_open_tickets", "3")],
        &staff_extras,
    );
    let response = app.post_form("/acme/admin/guests", &fields).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let limits: Vec<(Uuid, i32)> = sqlx::query_as(
        "select tenant_id, guest_hourly_limit from tenant_settings order by guest_hourly_limit",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert!(
        limits.contains(&(acme_id.0, 7)) && !limits.contains(&(globex.tenant.id.0, 7)),
        "{limits:?}"
    );
    checked += 1;

    // 11. A guest submits, claiming to be the customer, an admin, with a password.
    app.clear_cookies();
    let page = app.get("/acme/submit").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let category: Uuid = sqlx::query_scalar(
        "select id from categories where tenant_id = $1 and depth = 1 order by position limit 1",
    )
    .bind(acme_id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let category = category.to_string();
    let customer_id = acme.customer.id.to_string();
    let mut fields = vec![
        ("email", "guest-mass@example.test"),
        ("name", "Guest"),
        ("subject", "Guest mass assignment"),
        ("description", "Hello."),
        ("category", category.as_str()),
        ("website", ""),
        ("password", PASSWORD),
    ];
    fields.extend(extras(&other_tenant, &customer_id));
    let response = app.post_multipart("/acme/submit", &fields, &[]).await;
    assert!(
        response.status.is_success() || response.status.is_redirection(),
        "{}: {}",
        response.status,
        response.body
    );
    let ticket = ticket_row(&app, "Guest mass assignment").await;
    let (guest_id, guest_role, guest_hash): (Uuid, String, Option<String>) = sqlx::query_as(
        "select id, role::text, password_hash from users where email = 'guest-mass@example.test'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(ticket.tenant_id, acme_id.0);
    assert_eq!(ticket.requester_id, guest_id, "the guest's own contact");
    assert_ne!((ticket.id, ticket.number), (planted, 4242));
    assert_eq!(ticket.created_at, now);
    assert_eq!((guest_role.as_str(), guest_hash), ("customer", None));
    checked += 1;

    // 12. The guest replies through an access link, "as the agent", "internally".
    let token = {
        let id: tessera::tickets::model::TicketId =
            sqlx::query_scalar("select id from tickets where subject = 'Guest mass assignment'")
                .fetch_one(app.db.pool())
                .await
                .unwrap();
        let mut tx = app.db.tenant_tx(acme_id).await.unwrap();
        let token =
            tessera::guests::service::issue_link(&mut tx, now, id, tessera::db::UserId(guest_id))
                .await
                .unwrap();
        tx.commit().await.unwrap();
        token
    };
    app.clear_cookies();
    let opened = app.get(&format!("/acme/access/{token}")).await;
    let guest_page = opened
        .location()
        .expect("a redirect to the guest page")
        .to_owned();
    app.get(&guest_page).await;
    let fields = with(
        &[("body", "Guest reply, mass assigned")],
        &extras(&other_tenant, &agent_id),
    );
    let response = app
        .post_form(&format!("{guest_page}/replies"), &fields)
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let reply = reply_row(&app, "Guest reply, mass assigned").await;
    assert_eq!((reply.author_id, reply.internal), (guest_id, false));
    assert_ne!(reply.id, planted);
    checked += 1;

    // Nothing ever landed in the other tenant.
    assert_eq!(
        count(
            &app,
            "select count(*) from tickets t join tenants n on n.id = t.tenant_id where n.slug = 'globex'"
        )
        .await,
        0
    );
    eprintln!(
        "mass assignment: {checked} forms, each with {} extra fields",
        hostile.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Disguises of "somewhere else" for a `next` or `back` parameter, as decoded
/// values (the test URL-encodes them).
const REDIRECT_VECTORS: [&str; 24] = [
    "//evil.example",
    "///evil.example",
    "////evil.example/acme/",
    "/\\evil.example",
    "\\/evil.example",
    "\\\\evil.example",
    "https://evil.example",
    "https:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/acme//evil.example",
    "/acme/\\evil.example",
    "/acme/%5C%5Cevil.example",
    "/acme/\r\nLocation: https://evil.example",
    "/acme/\nSet-Cookie: x=1",
    "/acme/\t//evil.example",
    " //evil.example",
    "evil.example",
    "/acme@evil.example",
    "/acme/../../\\evil.example",
];

/// Whether a redirect stays on this site, inside the tenant.
fn lands_home(location: &str) -> bool {
    location.starts_with("/acme/")
        && !location.starts_with("//")
        && !location.contains('\\')
        && !location.chars().any(char::is_control)
}

fn encode(value: &str) -> String {
    serde_urlencoded::to_string([("next", value)])
        .unwrap()
        .trim_start_matches("next=")
        .to_owned()
}

#[tokio::test]
async fn every_redirect_parameter_lands_on_our_own_paths() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let number = tessera::tickets::service::create(
        &app.db,
        &app.clock,
        &acme.customer,
        tessera::tickets::service::TicketInput {
            subject: "Redirects".to_owned(),
            description: "Where to?".to_owned(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .number;
    let number = number.to_string();
    let mut problems = Vec::new();
    let mut tries = 0;
    let mut check = |what: String, response: &TestResponse| {
        tries += 1;
        problems.extend(redirect_problems(&what, response));
    };
    for vector in REDIRECT_VECTORS {
        let raw = vector
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/%.@-_".contains(c))
            .then(|| vector.to_owned());
        for query in std::iter::once(encode(vector)).chain(raw) {
            let login = format!("/acme/login?next={query}");
            // Anonymous: the login page, then signing in.
            app.clear_cookies();
            let page = app.get(&login).await;
            check(format!("GET {login} (anonymous)"), &page);
            if page.status != StatusCode::OK {
                continue;
            }
            let signed_in = app
                .post_form(
                    &login,
                    &[("email", "agent@acme.test"), ("password", PASSWORD)],
                )
                .await;
            let what = if signed_in.status == StatusCode::SEE_OTHER {
                format!("POST {login}")
            } else {
                format!("POST {login} (did not sign in: {})", signed_in.status)
            };
            check(what, &signed_in);
            // Signed in: the login page sends you on at once.
            let again = app.get(&login).await;
            check(format!("GET {login} (signed in)"), &again);
            // The bulk bar's way back to the list.
            app.get("/acme/tickets").await;
            let back = vector.to_owned();
            let bulk = app
                .post_form(
                    "/acme/tickets/bulk",
                    &[("ticket", &number), ("action", "follow"), ("back", &back)],
                )
                .await;
            check(format!("POST /acme/tickets/bulk back={vector:?}"), &bulk);
            let back = format!("/acme/tickets{vector}");
            let bulk = app
                .post_form(
                    "/acme/tickets/bulk",
                    &[("ticket", &number), ("action", "follow"), ("back", &back)],
                )
                .await;
            check(format!("POST /acme/tickets/bulk back={back:?}"), &bulk);
        }
    }
    // An anonymous visit to a deep link sends you to sign in with `next` set,
    // however odd the path.
    app.clear_cookies();
    for path in [
        "/acme//evil.example",
        "/acme/tickets/%2F%2Fevil.example",
        "/acme/tickets/%5Cevil.example",
    ] {
        let response = app.get(path).await;
        check(format!("GET {path} (anonymous)"), &response);
    }
    eprintln!(
        "open redirect: {} vectors, {tries} requests",
        REDIRECT_VECTORS.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What is wrong with where `response` sends the browser.
fn redirect_problems(what: &str, response: &TestResponse) -> Vec<String> {
    let mut problems = Vec::new();
    if response.status.is_server_error() {
        problems.push(format!("{what}: {}", response.status));
    }
    if what.contains("did not sign in") {
        problems.push(what.to_owned());
    }
    if let Some(location) = response.location()
        && !lands_home(location)
    {
        problems.push(format!("{what}: Location {location:?}"));
    }
    // The login form carries `next` on to the sign-in: its action stays home too.
    if let Some(at) = response.body.find("action=\"/acme/login") {
        let action = &response.body[at + "action=\"".len()..];
        let action = &action[..action.find('"').unwrap_or(action.len())];
        let next = action
            .split_once("next=")
            .map(|(_, next)| next.replace("&amp;", "&"))
            .unwrap_or_default();
        let decoded: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("next={next}")).unwrap_or_default();
        if let Some((_, next)) = decoded.first()
            && !next.is_empty()
            && !lands_home(next)
        {
            problems.push(format!("{what}: the form's next is {next:?}"));
        }
    }
    problems
}
