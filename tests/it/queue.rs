//! Working the queue: assignment, queues and quick filters, bulk actions, saved
//! views and auto-assignment, as staff see them.

use crate::{
    helpers::TestApp,
    tickets::{
        add_user, change_direct, create_direct, option_id, reply_direct, sign_in_as, subject,
    },
};
use axum::http::{Method, StatusCode};
use std::collections::BTreeMap;
use tessera::{
    auth::model::{Role, User},
    db::TenantId,
    tickets::service::TicketInput,
};

/// The ticket numbers listed, top to bottom.
fn listed(html: &str) -> Vec<i64> {
    let Some(start) = html.find("<tbody>") else {
        return Vec::new();
    };
    let end = start + html[start..].find("</tbody>").expect("the table ends");
    html[start..end]
        .split(">TKT-")
        .skip(1)
        .map(|rest| rest[..6].parse().expect("six digits"))
        .collect()
}

async fn listed_at(app: &mut TestApp, path: &str) -> Vec<i64> {
    let page = app.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    listed(&page.body)
}

/// A group with `members`, scoped to the categories named `scope`.
async fn group(
    app: &TestApp,
    tenant: TenantId,
    name: &str,
    members: &[&User],
    scope: &[&str],
) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    sqlx::query("insert into groups (tenant_id, id, name) values ($1, $2, $3)")
        .bind(tenant)
        .bind(id)
        .bind(name)
        .execute(app.db.pool())
        .await
        .unwrap();
    for member in members {
        sqlx::query("insert into group_members (tenant_id, group_id, user_id) values ($1, $2, $3)")
            .bind(tenant)
            .bind(id)
            .bind(member.id)
            .execute(app.db.pool())
            .await
            .unwrap();
    }
    for category in scope {
        let category = option_id(app, tenant, "categories", category).await;
        sqlx::query(
            "insert into group_categories (tenant_id, group_id, category_id) values ($1, $2, $3::uuid)",
        )
        .bind(tenant)
        .bind(id)
        .bind(category)
        .execute(app.db.pool())
        .await
        .unwrap();
    }
    id
}

async fn set_auto_assign(app: &TestApp, group: uuid::Uuid, mode: &str) {
    sqlx::query("update groups set auto_assign = $2 where id = $1")
        .bind(group)
        .bind(mode)
        .execute(app.db.pool())
        .await
        .unwrap();
}

/// A ticket input with a subject and, by name, a top-level category.
async fn in_category(app: &TestApp, tenant: TenantId, title: &str, category: &str) -> TicketInput {
    TicketInput {
        category_path: vec![option_id(app, tenant, "categories", category).await],
        ..subject(title)
    }
}

async fn assignee_of(app: &TestApp, tenant: TenantId, number: i64) -> Option<uuid::Uuid> {
    sqlx::query_scalar("select assignee_id from tickets where tenant_id = $1 and number = $2")
        .bind(tenant)
        .bind(number)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn assign_to_me_swaps_the_panel_with_htmx_and_the_assignee_follows() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    create_direct(&app, &acme.customer, subject("Printer on fire")).await;

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let page = app.get("/acme/tickets/1").await;
    assert!(page.body.contains("Nobody is assigned"), "{}", page.body);
    assert!(page.body.contains("Assign to me"));
    let token = app.csrf_token().unwrap().to_owned();
    let body = serde_urlencoded::to_string([("me", "1"), ("csrf_token", &token)]).unwrap();
    let panel = app
        .request(
            Method::POST,
            "/acme/tickets/1/assign",
            Some(body),
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("hx-request", "true"),
            ],
        )
        .await;
    assert_eq!(panel.status, StatusCode::OK, "{}", panel.body);
    // The panel alone, now naming the agent and without the button.
    assert!(
        panel.body.starts_with("<section id=\"assignment\""),
        "{}",
        panel.body
    );
    assert!(
        panel
            .body
            .contains("Assigned to <strong>Agent of acme</strong>")
    );
    assert!(!panel.body.contains("Assign to me"));
    assert_eq!(assignee_of(&app, tenant, 1).await, Some(acme.agent.id.0));
    assert_eq!(
        count(&app, "select count(*) from ticket_followers f join users u on u.id = f.user_id where u.email = 'agent@acme.test'").await,
        1
    );
    let activity = app.get("/acme/tickets/1/activity").await;
    assert!(
        activity
            .body
            .contains("changed assignee from Unassigned to Agent of acme"),
        "{}",
        activity.body
    );
    // A refused choice comes back in the panel (200, so htmx swaps it in).
    let token = app.csrf_token().unwrap().to_owned();
    let body =
        serde_urlencoded::to_string([("assignee", "nobody"), ("csrf_token", &token)]).unwrap();
    let refused = app
        .request(
            Method::POST,
            "/acme/tickets/1/assign",
            Some(body),
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("hx-request", "true"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused
            .body
            .contains("id=\"assignment-error\" role=\"alert\">Choose one of the listed agents."),
        "{}",
        refused.body
    );
    assert_eq!(assignee_of(&app, tenant, 1).await, Some(acme.agent.id.0));
    // Nobody is told of assigning oneself.
    assert_eq!(
        count(
            &app,
            "select count(*) from email_outbox where template = 'ticket_assigned'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn assigning_from_the_panel_without_javascript_redirects_and_emails_the_new_assignee() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let billing = group(&app, tenant, "Billing team", &[], &[]).await;
    let bea = add_user(&app, tenant, "bea@acme.test", "Bea Agent", Role::Agent).await;
    create_direct(&app, &acme.customer, subject("Refund please")).await;

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    app.get("/acme/tickets/1").await;
    let bea_id = bea.id.to_string();
    let group_id = billing.to_string();
    app.post_form(
        "/acme/tickets/1/assign",
        &[("assignee", &bea_id), ("group", &group_id)],
    )
    .await
    .assert_redirect_to("/acme/tickets/1?notice=saved");
    let page = app.get("/acme/tickets/1").await;
    assert!(
        page.body.contains(
            "Assigned to <strong>Bea Agent</strong> · Group <strong>Billing team</strong>"
        ),
        "{}",
        page.body
    );
    let activity = app.get("/acme/tickets/1/activity").await;
    assert!(
        activity
            .body
            .contains("changed group from None to Billing team"),
        "{}",
        activity.body
    );
    let to: Vec<String> = sqlx::query_scalar(
        "select recipient_email from email_outbox where template = 'ticket_assigned'",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(to, ["bea@acme.test"]);

    // A customer cannot assign (404), and a bad agent is refused (422).
    let refused = app
        .post_form("/acme/tickets/1/assign", &[("assignee", "nobody")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Choose one of the listed agents."));
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    app.get("/acme/tickets/1").await;
    let customer = app
        .post_form("/acme/tickets/1/assign", &[("me", "1")])
        .await;
    assert_eq!(customer.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn my_queue_holds_my_tickets_my_groups_tickets_and_unassigned_ones_in_my_scope() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let agent = acme.agent.clone();
    let other = add_user(&app, tenant, "olaf@acme.test", "Olaf Agent", Role::Agent).await;
    let team = group(&app, tenant, "Billing team", &[&agent], &["Billing"]).await;
    let admin = &acme.admin;

    // 1: unassigned, Billing (in scope) → mine
    create_direct(
        &app,
        admin,
        in_category(&app, tenant, "Invoice wrong", "Billing").await,
    )
    .await;
    // 2: unassigned, Technical (out of scope) → not mine
    create_direct(
        &app,
        admin,
        in_category(&app, tenant, "VPN down", "Technical").await,
    )
    .await;
    // 3: assigned to me, Technical (outside my scope) → mine
    let mut input = in_category(&app, tenant, "Laptop", "Technical").await;
    input.assignee = agent.id.to_string();
    create_direct(&app, admin, input).await;
    // 4: assigned to my group, no category → mine
    create_direct(
        &app,
        admin,
        TicketInput {
            group: team.to_string(),
            ..subject("Group ticket")
        },
    )
    .await;
    // 5: assigned to someone else, Billing → not mine
    let mut input = in_category(&app, tenant, "Olaf's refund", "Billing").await;
    input.assignee = other.id.to_string();
    create_direct(&app, admin, input).await;

    sign_in_as(&mut app, "acme", &agent.email).await;
    assert_eq!(listed_at(&mut app, "/acme/tickets").await, [4, 3, 1]);
    let page = app.get("/acme/tickets").await;
    assert!(
        page.body.contains("aria-current=\"page\">My queue</a>"),
        "{}",
        page.body
    );
    assert_eq!(
        listed_at(&mut app, "/acme/tickets?queue=all").await,
        [5, 4, 3, 2, 1]
    );
    // Finding by number works outside the queue.
    app.get("/acme/tickets?q=TKT-000002")
        .await
        .assert_redirect_to("/acme/tickets/2");
    // Filters compose with the queue.
    assert_eq!(
        listed_at(&mut app, "/acme/tickets?sort=oldest").await,
        [1, 3, 4]
    );
    // So does a search: its matches outside the queue are not listed.
    assert_eq!(listed_at(&mut app, "/acme/tickets?q=laptop").await, [3]);
    assert_eq!(
        listed_at(&mut app, "/acme/tickets?q=refund").await,
        [] as [i64; 0]
    );
    assert_eq!(
        listed_at(&mut app, "/acme/tickets?q=refund&queue=all").await,
        [5]
    );

    // Someone in no group has the whole tenant as queue.
    sign_in_as(&mut app, "acme", &other.email).await;
    assert_eq!(listed_at(&mut app, "/acme/tickets").await, [5, 4, 3, 2, 1]);
}

#[tokio::test]
async fn each_quick_filter_lists_its_tickets() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let agent = acme.agent.clone();
    let urgent = option_id(&app, tenant, "ticket_priorities", "Urgent").await;
    let high = option_id(&app, tenant, "ticket_priorities", "High").await;
    let resolved = option_id(&app, tenant, "ticket_statuses", "Resolved").await;
    let in_progress = option_id(&app, tenant, "ticket_statuses", "In Progress").await;
    for title in ["One", "Two", "Three", "Four", "Five"] {
        create_direct(&app, &acme.customer, subject(title)).await;
    }
    change_direct(&app, &agent, 1, |i| i.assignee = agent.id.to_string()).await;
    change_direct(&app, &agent, 2, |i| i.priority = urgent.clone()).await;
    change_direct(&app, &agent, 3, |i| i.priority = high.clone()).await;
    // 4: staff replied (no longer needs a response); 5: then the customer again.
    reply_direct(&app, &agent, 4, "On it", false).await;
    reply_direct(&app, &agent, 5, "On it", false).await;
    reply_direct(&app, &acme.customer, 5, "Still broken", false).await;
    // An internal note is not a response.
    reply_direct(&app, &agent, 3, "Looking", true).await;
    change_direct(&app, &agent, 4, |i| i.status = resolved.clone()).await;
    change_direct(&app, &agent, 4, |i| i.status = in_progress.clone()).await;

    sign_in_as(&mut app, "acme", &agent.email).await;
    let q = |quick: &str| format!("/acme/tickets?queue=all&quick={quick}&sort=oldest");
    assert_eq!(listed_at(&mut app, &q("my")).await, [1]);
    assert_eq!(listed_at(&mut app, &q("unassigned")).await, [2, 3, 4, 5]);
    assert_eq!(listed_at(&mut app, &q("urgent")).await, [2, 3]);
    assert_eq!(
        listed_at(&mut app, &q("needs_response")).await,
        [1, 2, 3, 5]
    );
    assert_eq!(listed_at(&mut app, &q("reopened")).await, [4]);
    // They compose with the other filters.
    assert_eq!(
        listed_at(&mut app, &format!("{}&priority={urgent}", q("urgent"))).await,
        [2]
    );
    // The sidebar link of the current quick filter turns it off.
    let page = app.get(&q("urgent")).await;
    assert!(
        page.body.contains("aria-current=\"true\">Urgent</a>"),
        "{}",
        page.body
    );
}

/// What a bulk post answered.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Answer {
    fn assert_done(&self) {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.body);
        assert_eq!(
            self.location.as_deref(),
            Some("/acme/tickets?queue=all&notice=saved")
        );
    }
}

/// Posts the bulk bar for tickets `numbers`.
async fn bulk(app: &mut TestApp, numbers: &[i64], fields: &[(&str, &str)]) -> Answer {
    app.get("/acme/tickets?queue=all").await;
    let numbers: Vec<String> = numbers.iter().map(ToString::to_string).collect();
    let mut form: Vec<(&str, &str)> = numbers.iter().map(|n| ("ticket", n.as_str())).collect();
    form.extend_from_slice(fields);
    form.push(("back", "/acme/tickets?queue=all"));
    let answer = app.post_form("/acme/tickets/bulk", &form).await;
    Answer {
        status: answer.status,
        location: answer.location().map(str::to_owned),
        body: answer.body,
    }
}

#[tokio::test]
async fn a_bulk_resolve_of_500_tickets_records_500_events_and_one_failure_saves_nothing() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let resolved = option_id(&app, tenant, "ticket_statuses", "Resolved").await;
    for n in 0..500 {
        create_direct(&app, &acme.customer, subject(&format!("Ticket {n}"))).await;
    }
    let numbers: Vec<i64> = (1..=500).collect();
    sign_in_as(&mut app, "acme", &acme.agent.email).await;

    // One ticket that does not exist: nothing changes.
    let mut with_missing = numbers[..499].to_vec();
    with_missing.push(9999);
    let refused = bulk(
        &mut app,
        &with_missing,
        &[
            ("action", "status"),
            ("status", &resolved),
            ("resolution_notes", "Fixed"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("TKT-009999: no such ticket. Nothing was changed."),
        "{}",
        refused.body
    );
    let status_events = "select count(*) from ticket_events where field = 'status'";
    assert_eq!(count(&app, status_events).await, 0);
    assert_eq!(
        count(
            &app,
            "select count(*) from tickets where status_category = 'resolved'"
        )
        .await,
        0
    );

    let done = bulk(
        &mut app,
        &numbers,
        &[
            ("action", "status"),
            ("status", &resolved),
            ("resolution_notes", "Fixed"),
        ],
    )
    .await;
    done.assert_done();
    assert_eq!(count(&app, status_events).await, 500);
    assert_eq!(
        count(&app, "select count(*) from tickets where status_category = 'resolved' and resolution_notes = 'Fixed'").await,
        500
    );
    // The requester follows each ticket and hears once about each.
    assert_eq!(
        count(&app, "select count(*) from email_outbox where template = 'ticket_updated' and recipient_email = 'customer@acme.test'").await,
        500
    );
}

#[tokio::test]
async fn bulk_assign_priority_tags_and_follow_apply_to_every_selected_ticket() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let urgent = option_id(&app, tenant, "ticket_priorities", "Urgent").await;
    for title in ["One", "Two", "Three"] {
        create_direct(&app, &acme.customer, subject(title)).await;
    }
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let agent = acme.agent.id.to_string();
    bulk(
        &mut app,
        &[1, 2],
        &[("action", "assign"), ("assignee", &agent)],
    )
    .await
    .assert_done();
    bulk(
        &mut app,
        &[1, 2],
        &[("action", "priority"), ("priority", &urgent)],
    )
    .await
    .assert_done();
    bulk(
        &mut app,
        &[1, 2, 3],
        &[("action", "add_tag"), ("tag", "vip")],
    )
    .await
    .assert_done();
    bulk(&mut app, &[2], &[("action", "remove_tag"), ("tag", "vip")])
        .await
        .assert_done();
    bulk(&mut app, &[3], &[("action", "follow")])
        .await
        .assert_done();

    assert_eq!(assignee_of(&app, tenant, 1).await, Some(acme.agent.id.0));
    assert_eq!(assignee_of(&app, tenant, 3).await, None);
    assert_eq!(
        listed_at(&mut app, "/acme/tickets?queue=all&quick=urgent&sort=oldest").await,
        [1, 2]
    );
    assert_eq!(
        listed_at(&mut app, "/acme/tickets?queue=all&tag=vip&sort=oldest").await,
        [1, 3]
    );
    assert_eq!(
        count(&app, "select count(*) from ticket_followers f join tickets t on t.id = f.ticket_id join users u on u.id = f.user_id where u.email = 'agent@acme.test'").await,
        3
    );
    // A bad tag, or Assign with no agent chosen, is refused; "unassigned" unassigns.
    let refused = bulk(&mut app, &[1], &[("action", "add_tag"), ("tag", "")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refused = bulk(&mut app, &[1], &[("action", "assign"), ("assignee", "")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(assignee_of(&app, tenant, 1).await, Some(acme.agent.id.0));
    bulk(
        &mut app,
        &[1],
        &[("action", "assign"), ("assignee", "unassigned")],
    )
    .await
    .assert_done();
    assert_eq!(assignee_of(&app, tenant, 1).await, None);
}

/// The id in a `?view=` link of the page.
fn view_id(html: &str, name: &str) -> String {
    let end = html
        .find(&format!(">{name}</a>"))
        .unwrap_or_else(|| panic!("no view {name}"));
    let start = html[..end].rfind("?view=").expect("a view link") + 6;
    html[start..start + 36].to_owned()
}

#[tokio::test]
async fn saved_views_are_created_applied_shared_renamed_and_deleted_and_stay_private() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let urgent = option_id(&app, tenant, "ticket_priorities", "Urgent").await;
    let olaf = add_user(&app, tenant, "olaf@acme.test", "Olaf Agent", Role::Agent).await;
    for title in ["One", "Two"] {
        create_direct(&app, &acme.customer, subject(title)).await;
    }
    change_direct(&app, &acme.agent, 2, |i| i.priority = urgent.clone()).await;

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    app.get("/acme/tickets?queue=all&quick=urgent").await;
    let saved = app
        .post_form(
            "/acme/views",
            &[
                ("name", "Hot ones"),
                ("query", "queue=all&quick=urgent&after=x"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let href = saved.location().unwrap().to_owned();
    assert!(href.starts_with("/acme/tickets?view="), "{href}");
    assert_eq!(listed_at(&mut app, &href).await, [2]);
    let page = app.get("/acme/tickets").await;
    assert!(page.body.contains("My views"));
    let id = view_id(&page.body, "Hot ones");
    // Rename.
    app.get("/acme/views").await;
    app.post_form(&format!("/acme/views/{id}"), &[("name", "Urgent work")])
        .await
        .assert_redirect_to("/acme/views?notice=saved");
    assert!(
        app.get("/acme/tickets")
            .await
            .body
            .contains(">Urgent work</a>")
    );
    // An agent may not share.
    app.post_form(
        "/acme/views",
        &[
            ("name", "Try to share"),
            ("query", "queue=all"),
            ("shared", "1"),
        ],
    )
    .await;
    assert_eq!(
        count(&app, "select count(*) from saved_views where shared").await,
        0
    );

    // Another agent and a customer cannot see it.
    sign_in_as(&mut app, "acme", &olaf.email).await;
    assert_eq!(app.get(&href).await.status, StatusCode::NOT_FOUND);
    assert!(!app.get("/acme/tickets").await.body.contains("Urgent work"));
    app.get("/acme/views").await;
    let other = app
        .post_form(&format!("/acme/views/{id}/delete"), &[])
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    assert_eq!(app.get(&href).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/acme/views").await.status, StatusCode::NOT_FOUND);

    // An admin shares a view: every agent sees it, customers still do not.
    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    app.get("/acme/tickets").await;
    let shared = app
        .post_form(
            "/acme/views",
            &[
                ("name", "Team urgent"),
                ("query", "queue=all&quick=urgent"),
                ("shared", "1"),
            ],
        )
        .await;
    let shared_href = shared.location().unwrap().to_owned();
    sign_in_as(&mut app, "acme", &olaf.email).await;
    let page = app.get("/acme/tickets").await;
    assert!(page.body.contains("Shared views"));
    assert!(page.body.contains(">Team urgent</a>"));
    assert_eq!(listed_at(&mut app, &shared_href).await, [2]);
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    assert_eq!(app.get(&shared_href).await.status, StatusCode::NOT_FOUND);

    // The owner deletes theirs.
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    app.get("/acme/views").await;
    app.post_form(&format!("/acme/views/{id}/delete"), &[])
        .await
        .assert_redirect_to("/acme/views?notice=admin_deleted");
    assert_eq!(app.get(&href).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn saved_views_reorder_within_their_list() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    app.get("/acme/tickets").await;
    for name in ["Alpha", "Beta", "Gamma"] {
        app.post_form("/acme/views", &[("name", name), ("query", "queue=all")])
            .await;
    }
    let page = app.get("/acme/tickets").await;
    let gamma = view_id(&page.body, "Gamma");
    app.get("/acme/views").await;
    app.post_form(&format!("/acme/views/{gamma}/move"), &[("direction", "up")])
        .await
        .assert_redirect_to("/acme/views");
    let names: Vec<String> = sqlx::query_scalar("select name from saved_views order by position")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(names, ["Alpha", "Gamma", "Beta"]);
}

async fn agents(app: &TestApp, tenant: TenantId, names: &[&str]) -> Vec<User> {
    let mut out = Vec::new();
    for name in names {
        let email = format!("{}@acme.test", name.to_lowercase());
        out.push(add_user(app, tenant, &email, name, Role::Agent).await);
    }
    out
}

async fn tickets_per_assignee(app: &TestApp) -> BTreeMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>(
        "select u.name, count(*) from tickets t join users u on u.id = t.assignee_id group by u.name",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap()
    .into_iter()
    .collect()
}

#[tokio::test]
async fn round_robin_spreads_30_tickets_evenly_over_3_agents_and_skips_away_agents() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let team = agents(&app, tenant, &["Ann", "Ben", "Cat", "Dan"]).await;
    let refs: Vec<&User> = team.iter().collect();
    let group_id = group(&app, tenant, "Support", &refs, &[]).await;

    // Off by default: nobody gets the ticket.
    let input = TicketInput {
        group: group_id.to_string(),
        ..subject("Before")
    };
    let before = create_direct(&app, &acme.admin, input).await;
    assert_eq!(assignee_of(&app, tenant, before).await, None);
    sqlx::query("delete from tickets")
        .execute(app.db.pool())
        .await
        .unwrap();

    set_auto_assign(&app, group_id, "round_robin").await;
    // Dan sets himself away through the page.
    sign_in_as(&mut app, "acme", "dan@acme.test").await;
    let list = app.get("/acme/tickets").await;
    assert!(list.body.contains("You are <strong>available</strong>"));
    app.post_form("/acme/availability", &[("availability", "away")])
        .await
        .assert_redirect_to("/acme/tickets?notice=saved");
    assert!(
        app.get("/acme/tickets")
            .await
            .body
            .contains("You are <strong>away</strong>")
    );

    for n in 0..30 {
        let input = TicketInput {
            group: group_id.to_string(),
            ..subject(&format!("T{n}"))
        };
        create_direct(&app, &acme.admin, input).await;
    }
    assert_eq!(
        tickets_per_assignee(&app).await,
        BTreeMap::from([
            ("Ann".to_owned(), 10),
            ("Ben".to_owned(), 10),
            ("Cat".to_owned(), 10)
        ])
    );
    // The assignee is told and follows, as with a manual assignment.
    assert_eq!(
        count(
            &app,
            "select count(*) from email_outbox where template = 'ticket_assigned'"
        )
        .await,
        30
    );
}

#[tokio::test]
async fn least_loaded_picks_the_agent_with_fewest_open_tickets_also_when_moved_into_the_group() {
    let app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let team = agents(&app, tenant, &["Ann", "Ben", "Cat"]).await;
    let refs: Vec<&User> = team.iter().collect();
    let group_id = group(&app, tenant, "Support", &refs, &[]).await;
    let closed = option_id(&app, tenant, "ticket_statuses", "Closed").await;
    // Ann has 2 open, Ben 1 open and 3 closed, Cat 2 open.
    for (who, open, shut) in [(0, 2, 0), (1, 1, 3), (2, 2, 0)] {
        for _ in 0..open + shut {
            let input = TicketInput {
                assignee: team[who].id.to_string(),
                ..subject("Load")
            };
            create_direct(&app, &acme.admin, input).await;
        }
        let last: i64 = count(&app, "select max(number) from tickets").await;
        for number in (last - shut + 1)..=last {
            change_direct(&app, &acme.admin, number, |i| i.status = closed.clone()).await;
        }
    }
    set_auto_assign(&app, group_id, "least_loaded").await;
    // A ticket moved into the group unassigned by an edit goes to Ben.
    let number = create_direct(&app, &acme.customer, subject("Help")).await;
    change_direct(&app, &acme.admin, number, |i| {
        i.group = group_id.to_string()
    })
    .await;
    assert_eq!(assignee_of(&app, tenant, number).await, Some(team[1].id.0));
    // Now all have 2 open: a tie goes to the first of them in id order.
    let input = TicketInput {
        group: group_id.to_string(),
        ..subject("Next")
    };
    let next = create_direct(&app, &acme.admin, input).await;
    let first = team.iter().map(|u| u.id.0).min();
    assert_eq!(assignee_of(&app, tenant, next).await, first);
}

#[tokio::test]
async fn two_concurrent_creates_do_not_go_to_the_same_agent() {
    let app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let team = agents(&app, tenant, &["Ann", "Ben"]).await;
    let refs: Vec<&User> = team.iter().collect();
    for mode in ["least_loaded", "round_robin"] {
        sqlx::query("update tickets set assignee_id = null, group_id = null")
            .execute(app.db.pool())
            .await
            .unwrap();
        let group_id = group(&app, tenant, mode, &refs, &[]).await;
        set_auto_assign(&app, group_id, mode).await;
        let input = |title: &str| TicketInput {
            group: group_id.to_string(),
            ..subject(title)
        };
        let (a, b) = tokio::join!(
            create_direct(&app, &acme.admin, input("First")),
            create_direct(&app, &acme.admin, input("Second")),
        );
        let (a, b) = (
            assignee_of(&app, tenant, a).await,
            assignee_of(&app, tenant, b).await,
        );
        assert!(a.is_some() && b.is_some(), "{mode}");
        assert_ne!(a, b, "{mode}: both tickets went to one agent");
    }
}

#[tokio::test]
async fn a_group_without_scope_puts_every_unassigned_ticket_in_its_members_queue() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let other = add_user(&app, tenant, "olaf@acme.test", "Olaf Agent", Role::Agent).await;
    group(&app, tenant, "Everyone", &[&acme.agent], &[]).await;
    let admin = &acme.admin;
    create_direct(
        &app,
        admin,
        in_category(&app, tenant, "Billing one", "Billing").await,
    )
    .await;
    create_direct(&app, admin, subject("No category")).await;
    let mut input = subject("Olaf's");
    input.assignee = other.id.to_string();
    create_direct(&app, admin, input).await;

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    assert_eq!(listed_at(&mut app, "/acme/tickets").await, [2, 1]);
}

#[tokio::test]
async fn an_admin_turns_on_auto_assignment_for_a_group_on_the_groups_page() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let group_id = group(&app, tenant, "Support", &[&acme.agent], &[]).await;
    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    let page = app.get("/acme/admin/groups").await;
    assert!(page.body.contains("Auto-assignment"));
    let id = group_id.to_string();
    app.post_form(
        "/acme/admin/groups/auto-assign",
        &[("id", &id), ("auto_assign", "round_robin")],
    )
    .await
    .assert_redirect_to("/acme/admin/groups?notice=saved");
    let page = app.get("/acme/admin/groups").await;
    assert!(
        page.body
            .contains("<option value=\"round_robin\" selected>Round-robin</option>"),
        "{}",
        page.body
    );
    let input = TicketInput {
        group: id.clone(),
        ..subject("Auto")
    };
    let number = create_direct(&app, &acme.admin, input).await;
    assert_eq!(
        assignee_of(&app, tenant, number).await,
        Some(acme.agent.id.0)
    );
    let bad = app
        .post_form(
            "/acme/admin/groups/auto-assign",
            &[("id", &id), ("auto_assign", "random")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_saved_view_keeps_the_chosen_columns() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    create_direct(&app, &acme.customer, subject("One")).await;
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let all = app.get("/acme/tickets").await;
    assert!(all.body.contains("<th scope=\"col\">Priority</th>"));
    let narrow = app
        .get("/acme/tickets?cols=1&col=status&col=assignee")
        .await;
    assert!(narrow.body.contains("<th scope=\"col\">Status</th>"));
    assert!(narrow.body.contains("<th scope=\"col\">Assignee</th>"));
    assert!(!narrow.body.contains("<th scope=\"col\">Priority</th>"));
    assert!(!narrow.body.contains("<th scope=\"col\">Created By</th>"));
    assert_eq!(listed(&narrow.body), [1]);
    let saved = app
        .post_form(
            "/acme/views",
            &[
                ("name", "Narrow"),
                ("query", "cols=1&col=status&col=assignee"),
            ],
        )
        .await;
    let page = app.get(saved.location().unwrap()).await;
    assert!(page.body.contains("<th scope=\"col\">Status</th>"));
    assert!(!page.body.contains("<th scope=\"col\">Priority</th>"));
}
