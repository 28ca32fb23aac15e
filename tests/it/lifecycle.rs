//! The ticket lifecycle: resolving, the reopen window, the auto-close job.

use crate::helpers::TestApp;
use crate::tickets::{change_direct, create_direct, option_id, sign_in_as, subject};
use axum::http::StatusCode;
use tessera::{db::Db, jobs::auto_close};
use time::Duration;

/// Resolves ticket `number` as `actor` through the edit rules.
async fn resolve(app: &TestApp, actor: &tessera::auth::model::User, number: i64) {
    let resolved = option_id(app, actor.tenant_id, "ticket_statuses", "Resolved").await;
    change_direct(app, actor, number, |input| input.status = resolved).await;
}

async fn status_of(app: &TestApp, number: i64) -> String {
    sqlx::query_scalar(
        "select s.name from tickets t join ticket_statuses s \
           on s.tenant_id = t.tenant_id and s.id = t.status_id where t.number = $1",
    )
    .bind(number)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_resolved_ticket_closes_itself_when_the_reopen_window_has_passed() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let number = create_direct(&app, &acme.customer, subject("Printer jams")).await;
    resolve(&app, &acme.agent, number).await;

    app.clock.advance(Duration::days(7) - Duration::minutes(1));
    assert_eq!(auto_close::run_once(&app.db, &app.clock).await.unwrap(), 0);
    assert_eq!(
        status_of(&app, number).await,
        "Resolved",
        "just inside the window"
    );

    app.clock.advance(Duration::minutes(2));
    assert_eq!(auto_close::run_once(&app.db, &app.clock).await.unwrap(), 1);
    assert_eq!(
        status_of(&app, number).await,
        "Closed",
        "just outside the window"
    );
    assert_eq!(
        auto_close::run_once(&app.db, &app.clock).await.unwrap(),
        0,
        "closed once"
    );

    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    let activity = app.get(&format!("/acme/tickets/{number}/activity")).await;
    assert!(
        activity
            .body
            .contains("<strong>Tessera</strong> changed status from Resolved to Closed"),
        "{}",
        activity.body
    );
    let page = app.get(&format!("/acme/tickets/{number}")).await;
    assert!(page.body.contains("This ticket is closed"));
    assert!(!page.body.contains("name=\"body\""), "no reply box");
}

#[tokio::test]
async fn the_window_is_each_tenants_own() {
    let app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let globex = app.create_tenant("globex").await;
    sqlx::query("update tenant_settings set reopen_window_days = 2 where tenant_id = $1")
        .bind(globex.tenant.id)
        .execute(app.db.pool())
        .await
        .unwrap();
    let a = create_direct(&app, &acme.customer, subject("Acme ticket")).await;
    resolve(&app, &acme.agent, a).await;
    let g = create_direct(&app, &globex.customer, subject("Globex ticket")).await;
    resolve(&app, &globex.agent, g).await;

    app.clock.advance(Duration::days(3));
    assert_eq!(auto_close::run_once(&app.db, &app.clock).await.unwrap(), 1);
    let closed: Vec<String> = sqlx::query_scalar(
        "select subject from tickets where status_category = 'closed' order by subject",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(closed, ["Globex ticket"]);
}

#[tokio::test]
async fn two_instances_running_the_job_at_once_close_each_ticket_once() {
    let app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    for n in 0..60 {
        let number = create_direct(&app, &acme.customer, subject(&format!("Ticket {n}"))).await;
        resolve(&app, &acme.agent, number).await;
    }
    app.clock.advance(Duration::days(8));
    // Two pools stand for two instances of Tessera.
    let other = Db::connect(&app.database.url.clone().into(), 5)
        .await
        .unwrap();
    let (first, second) = tokio::join!(
        auto_close::run_once(&app.db, &app.clock),
        auto_close::run_once(&other, &app.clock),
    );
    assert_eq!(first.unwrap() + second.unwrap(), 60);
    let events: i64 = sqlx::query_scalar(
        "select count(*) from ticket_events where actor_id is null and new_value = 'Closed'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(events, 60, "one event per ticket");
    let counts: i64 = sqlx::query_scalar(
        "select n from ticket_status_counts c join ticket_statuses s \
           on s.tenant_id = c.tenant_id and s.id = c.status_id where s.name = 'Closed'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(counts, 60, "the status counters follow");
}

#[tokio::test]
async fn the_job_survives_losing_the_database_and_carries_on_when_it_is_back() {
    let app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let number = create_direct(&app, &acme.customer, subject("Printer jams")).await;
    resolve(&app, &acme.agent, number).await;
    app.clock.advance(Duration::days(8));

    let gone = Db::connect(&app.database.url.clone().into(), 1)
        .await
        .unwrap();
    gone.pool().close().await;
    let failed = auto_close::run_once(&gone, &app.clock).await;
    assert!(failed.is_err(), "an error to log, not a panic");

    // The job loop logs the failure and tries again at its next tick.
    let (stop, shutdown) = tessera::jobs::Shutdown::new();
    let handle = tessera::jobs::spawn_all(
        app.db.clone(),
        app.clock.clone(),
        std::time::Duration::from_millis(20),
        shutdown,
    );
    for _ in 0..100 {
        if status_of(&app, number).await == "Closed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status_of(&app, number).await, "Closed");
    stop.send(true).unwrap();
    for job in handle {
        tokio::time::timeout(std::time::Duration::from_secs(5), job)
            .await
            .expect("the job stops on shutdown")
            .unwrap();
    }
}

#[tokio::test]
async fn staff_reopen_a_closed_ticket_and_it_is_flagged_in_the_queue() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let number = create_direct(&app, &acme.customer, subject("Printer jams")).await;
    resolve(&app, &acme.agent, number).await;
    app.clock.advance(Duration::days(8));
    auto_close::run_once(&app.db, &app.clock).await.unwrap();

    let in_progress = option_id(&app, acme.tenant.id, "ticket_statuses", "In Progress").await;
    change_direct(&app, &acme.agent, number, |input| {
        input.status = in_progress
    })
    .await;
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let list = app.get("/acme/tickets").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Reopened</span>"), "{}", list.body);
}

#[tokio::test]
async fn a_customer_reply_inside_the_window_reopens_the_ticket_and_flags_it() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let number = create_direct(&app, &acme.customer, subject("Printer jams")).await;
    resolve(&app, &acme.agent, number).await;
    app.clock.advance(Duration::days(6));

    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    app.get(&format!("/acme/tickets/{number}")).await;
    let sent = app
        .post_form(
            &format!("/acme/tickets/{number}/replies"),
            &[("body", "It jams again."), ("action", "send")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(status_of(&app, number).await, "New");
    let activity = app.get(&format!("/acme/tickets/{number}/activity")).await;
    assert!(
        activity
            .body
            .contains("changed status from Resolved to New")
    );
    assert!(
        activity.body.contains("reopened the ticket"),
        "{}",
        activity.body
    );

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let list = app.get("/acme/tickets").await;
    assert!(list.body.contains("Reopened</span>"));
}

#[tokio::test]
async fn after_the_window_a_customer_can_read_but_not_reply_even_before_the_job_runs() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let number = create_direct(&app, &acme.customer, subject("Printer jams")).await;
    resolve(&app, &acme.agent, number).await;
    app.clock.advance(Duration::days(7));

    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    let page = app.get(&format!("/acme/tickets/{number}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("This ticket is closed"));
    let refused = app
        .post_form(
            &format!("/acme/tickets/{number}/replies"),
            &[("body", "Hello?"), ("action", "send")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let replies: i64 = sqlx::query_scalar("select count(*) from replies")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(replies, 0, "nothing saved");
}

#[tokio::test]
async fn customers_reopen_a_closed_ticket_within_the_window_when_the_tenant_allows_it() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let number = create_direct(&app, &acme.customer, subject("Printer jams")).await;
    let closed = option_id(&app, acme.tenant.id, "ticket_statuses", "Closed").await;
    change_direct(&app, &acme.customer, number, |input| {
        input.status = closed.clone()
    })
    .await;
    sign_in_as(&mut app, "acme", &acme.customer.email).await;

    let page = app.get(&format!("/acme/tickets/{number}")).await;
    assert!(page.body.contains(">Reopen</button>"));
    let reopened = app
        .post_form(&format!("/acme/tickets/{number}/reopen"), &[])
        .await;
    reopened.assert_redirect_to(&format!("/acme/tickets/{number}?notice=reopened"));
    assert_eq!(status_of(&app, number).await, "New");

    // Turned off by the tenant, or too late: no button, and the POST is refused.
    change_direct(&app, &acme.customer, number, |input| {
        input.status = closed.clone()
    })
    .await;
    sqlx::query("update tenant_settings set customers_can_reopen = false")
        .execute(app.db.pool())
        .await
        .unwrap();
    let page = app.get(&format!("/acme/tickets/{number}")).await;
    assert!(!page.body.contains(">Reopen</button>"));
    let refused = app
        .post_form(&format!("/acme/tickets/{number}/reopen"), &[])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);

    sqlx::query("update tenant_settings set customers_can_reopen = true")
        .execute(app.db.pool())
        .await
        .unwrap();
    app.clock.advance(Duration::days(8));
    let page = app.get(&format!("/acme/tickets/{number}")).await;
    assert!(!page.body.contains(">Reopen</button>"));

    // Staff reopen at any time.
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let page = app.get(&format!("/acme/tickets/{number}")).await;
    assert!(page.body.contains(">Reopen</button>"));
    app.post_form(&format!("/acme/tickets/{number}/reopen"), &[])
        .await
        .assert_redirect_to(&format!("/acme/tickets/{number}?notice=reopened"));
}

#[tokio::test]
async fn a_ticket_walks_the_whole_lifecycle_with_resolution_notes_kept_across_a_reopen() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let number = create_direct(&app, &acme.customer, subject("VPN drops every hour")).await;
    let ticket = format!("/acme/tickets/{number}");
    let in_progress = option_id(&app, acme.tenant.id, "ticket_statuses", "In Progress").await;
    change_direct(&app, &acme.agent, number, |input| {
        input.status = in_progress
    })
    .await;

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    app.get(&ticket).await;
    app.post_form(
        &format!("{ticket}/replies"),
        &[
            ("body", "Does it happen on Wi-Fi too?"),
            ("action", "waiting"),
        ],
    )
    .await;
    assert_eq!(status_of(&app, number).await, "Awaiting customer");
    app.get(&ticket).await;
    app.post_form(
        &format!("{ticket}/replies"),
        &[
            ("body", "The gateway had a short lease; fixed."),
            ("action", "resolve"),
            ("resolution_notes", "Raised the **DHCP lease** to 24 hours."),
        ],
    )
    .await;
    assert_eq!(status_of(&app, number).await, "Resolved");

    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    let page = app.get(&ticket).await;
    assert!(
        page.body
            .contains("Raised the <strong>DHCP lease</strong> to 24 hours.")
    );
    app.clock.advance(Duration::days(2));
    app.post_form(
        &format!("{ticket}/replies"),
        &[
            ("body", "It dropped again this morning."),
            ("action", "send"),
        ],
    )
    .await;
    assert_eq!(
        status_of(&app, number).await,
        "New",
        "reopened by the reply"
    );
    let page = app.get(&ticket).await;
    assert!(page.body.contains("DHCP lease"), "notes kept when reopened");

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    app.get(&ticket).await;
    app.post_form(
        &format!("{ticket}/replies"),
        &[("body", "Replaced the gateway."), ("action", "resolve")],
    )
    .await;
    assert_eq!(status_of(&app, number).await, "Resolved");
    app.clock.advance(Duration::days(7));
    assert_eq!(auto_close::run_once(&app.db, &app.clock).await.unwrap(), 1);
    assert_eq!(status_of(&app, number).await, "Closed");

    let activity = app.get(&format!("{ticket}/activity")).await.body;
    let expected = [
        "changed status from New to In Progress",
        "changed status from In Progress to Awaiting customer",
        "changed status from Awaiting customer to Resolved",
        "changed resolution notes from none to Raised the **DHCP lease** to 24 hours.",
        "changed status from Resolved to New",
        "reopened the ticket",
        "changed status from New to Resolved",
        "<strong>Tessera</strong> changed status from Resolved to Closed",
    ];
    let mut from = 0;
    for line in expected {
        let at = activity[from..]
            .find(line)
            .unwrap_or_else(|| panic!("{line:?} missing or out of order in\n{activity}"));
        from += at + line.len();
    }
}
