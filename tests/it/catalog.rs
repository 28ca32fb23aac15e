//! The tenant catalog each process keeps (option lists, staff, groups,
//! settings): a change is on the next page, whichever instance made it, and
//! one tenant's catalog is never another's.

use crate::{
    helpers::TestApp,
    tickets::{add_user, create_direct, sign_in_as, subject},
};
use axum::http::StatusCode;
use tessera::{auth::model::Role, db::TenantId};

async fn catalog_version(app: &TestApp, tenant: TenantId) -> i64 {
    sqlx::query_scalar("select catalog_version from tenants where id = $1")
        .bind(tenant)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// Another instance's change, as the database sees it: straight SQL on the
/// pool, nothing this process's state hears about.
async fn elsewhere(app: &TestApp, sql: &str, tenant: TenantId) {
    sqlx::query(sql)
        .bind(tenant)
        .execute(app.db.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn changes_made_by_another_instance_are_on_the_next_page() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let number = create_direct(&app, &acme.agent, subject("Printer on fire")).await;
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let ticket = format!("/acme/tickets/{number}");

    // Both pages read (and keep) the catalog first.
    let admin_choice = format!(">{}</option>", acme.admin.name);
    let list = app.get("/acme/tickets").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.body.contains("Triage"));
    let page = app.get(&ticket).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&admin_choice), "admins are assignable");
    assert!(!page.body.contains("Night shift"));

    elsewhere(
        &app,
        "update ticket_statuses set name = 'Triage' where tenant_id = $1 and category = 'new'",
        acme.tenant.id,
    )
    .await;
    elsewhere(
        &app,
        "update users set active = false where tenant_id = $1 and role = 'admin'",
        acme.tenant.id,
    )
    .await;
    elsewhere(
        &app,
        "insert into groups (tenant_id, id, name) values ($1, gen_random_uuid(), 'Night shift')",
        acme.tenant.id,
    )
    .await;

    let page = app.get(&ticket).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Triage"), "the renamed status is shown");
    assert!(
        page.body.contains("Night shift"),
        "the new group is offered"
    );
    assert!(
        !page.body.contains(&admin_choice),
        "a deactivated admin is no longer offered"
    );
    let list = app.get("/acme/tickets").await;
    assert!(
        list.body.contains("Triage"),
        "the list's badges and filters too"
    );
}

#[tokio::test]
async fn customers_arriving_leave_the_catalog_as_it_is() {
    let app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let before = catalog_version(&app, acme.tenant.id).await;
    add_user(
        &app,
        acme.tenant.id,
        "new@customer.example",
        "New Customer",
        Role::Customer,
    )
    .await;
    assert_eq!(catalog_version(&app, acme.tenant.id).await, before);
    add_user(
        &app,
        acme.tenant.id,
        "new@agent.example",
        "New Agent",
        Role::Agent,
    )
    .await;
    assert!(catalog_version(&app, acme.tenant.id).await > before);
}

#[tokio::test]
async fn each_tenant_sees_its_own_catalog() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let globex = app.create_tenant("globex").await;
    elsewhere(
        &app,
        "update ticket_statuses set name = 'Acme triage' where tenant_id = $1 and category = 'new'",
        acme.tenant.id,
    )
    .await;
    // Same version number at both tenants: the version is per tenant, not a key.
    elsewhere(
        &app,
        "update tenants set catalog_version = (select catalog_version from tenants \
          where slug = 'acme') where id = $1",
        globex.tenant.id,
    )
    .await;
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    assert!(app.get("/acme/tickets").await.body.contains("Acme triage"));
    sign_in_as(&mut app, "globex", &globex.agent.email).await;
    let list = app.get("/globex/tickets").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.body.contains("Acme triage"));
    assert!(!list.body.contains(&acme.agent.name));
    assert!(list.body.contains(&globex.agent.name));
}

/// The list takes staff names from the catalog and looks up only the people it
/// does not know: each row still names its requester, assignee and last replier.
#[tokio::test]
async fn the_list_names_everyone_on_its_rows() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let copied = add_user(
        &app,
        acme.tenant.id,
        "cc@acme.test",
        "Copied Customer",
        Role::Customer,
    )
    .await;
    let former = add_user(
        &app,
        acme.tenant.id,
        "former@acme.test",
        "Former Agent",
        Role::Agent,
    )
    .await;
    let mut input = subject("Three people");
    input.requester = acme.customer.email.clone();
    input.assignee = former.id.to_string();
    let assigned = create_direct(&app, &acme.agent, input).await;
    let mut input = subject("Staff replied");
    input.requester = acme.customer.email.clone();
    let staff_replied = create_direct(&app, &acme.agent, input).await;
    let set_last_reply = |number: i64, by: tessera::db::UserId| {
        let pool = app.db.pool().clone();
        let tenant = acme.tenant.id;
        async move {
            sqlx::query(
                "update tickets set last_reply_at = now(), last_reply_by = $3 \
                  where tenant_id = $1 and number = $2",
            )
            .bind(tenant)
            .bind(number)
            .bind(by)
            .execute(&pool)
            .await
            .unwrap();
        }
    };
    set_last_reply(assigned, copied.id).await;
    set_last_reply(staff_replied, acme.admin.id).await;
    elsewhere(
        &app,
        "update users set active = false where tenant_id = $1 and email = 'former@acme.test'",
        acme.tenant.id,
    )
    .await;

    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    let list = app.get("/acme/tickets?queue=all").await;
    assert_eq!(list.status, StatusCode::OK);
    let row = |number: i64| {
        let marker = format!("/acme/tickets/{number}\"");
        let start = list.body.find(&marker).expect("the ticket is listed");
        let end = start + list.body[start..].find("</tr>").expect("the row ends");
        list.body[start..end].to_owned()
    };
    let first = row(assigned);
    assert!(first.contains(&acme.customer.name), "requester: {first}");
    assert!(
        first.contains("Former Agent"),
        "a deactivated assignee: {first}"
    );
    assert!(
        first.contains("by Copied Customer"),
        "last replier: {first}"
    );
    let second = row(staff_replied);
    assert!(
        second.contains(&format!("by {}", acme.admin.name)),
        "{second}"
    );
}
