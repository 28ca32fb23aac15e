//! Admin settings: who may open them, validation at the field, the rules that
//! protect the workflow (defaults, last status, things in use, the last admin),
//! tenant isolation and the audit log.

use crate::{
    helpers::{PASSWORD, TestApp},
    tickets::{add_user, change_direct, create_direct, option_id, sign_in_as, subject, unescape},
};
use axum::http::StatusCode;
use tessera::{
    admin::service::{self as admin, Ctx},
    auth::model::Role,
    db::TenantId,
};

const PAGES: [&str; 9] = [
    "/acme/admin",
    "/acme/admin/general",
    "/acme/admin/statuses",
    "/acme/admin/priorities",
    "/acme/admin/types",
    "/acme/admin/categories",
    "/acme/admin/users",
    "/acme/admin/groups",
    "/acme/admin/audit",
];

/// The number of audit rows of a tenant.
async fn audit_rows(app: &TestApp, tenant: TenantId) -> i64 {
    sqlx::query_scalar("select count(*) from admin_audit_log where tenant_id = $1")
        .bind(tenant)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// The ticket numbers listed on a ticket list page, top to bottom.
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

/// Asserts a 422 whose body marks `id` invalid and says `message` next to it.
#[track_caller]
fn assert_field_error(status: StatusCode, body: &str, id: &str, message: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let body = unescape(body);
    let input = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no field {id}"));
    let tag_end = input + body[input..].find('>').expect("the tag ends");
    assert!(
        body[input..tag_end].contains("aria-invalid=\"true\"")
            && body[input..tag_end].contains("aria-describedby=\"")
            && body[input..tag_end].contains(&format!("{id}-error\"")),
        "{id} is not marked invalid: {}",
        &body[input..tag_end]
    );
    let error = body
        .find(&format!("id=\"{id}-error\">"))
        .unwrap_or_else(|| panic!("no error for {id}"));
    assert!(
        body[error..]
            .split('<')
            .next()
            .unwrap_or_default()
            .contains(message)
            || body[error..error + 400].contains(message),
        "the error of {id} does not say {message:?}: {}",
        &body[error..error + 200]
    );
}

#[tokio::test]
async fn every_admin_page_is_a_404_for_agents_and_customers_and_asks_anonymous_to_sign_in() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    for page in PAGES {
        app.clear_cookies();
        let response = app.get(page).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{page}");
        assert!(
            response
                .location()
                .is_some_and(|l| l.starts_with("/acme/login")),
            "{page}"
        );
    }
    for who in [&acme.agent, &acme.customer] {
        sign_in_as(&mut app, "acme", &who.email).await;
        for page in PAGES {
            assert_eq!(app.get(page).await.status, StatusCode::NOT_FOUND, "{page}");
        }
        // Posting does not work either, with a valid form token.
        app.get("/acme/").await;
        let post = app
            .post_form("/acme/admin/types", &[("name", "Sneaky")])
            .await;
        assert_eq!(post.status, StatusCode::NOT_FOUND);
    }
    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    for page in PAGES {
        let response = app.get(page).await;
        assert_eq!(response.status, StatusCode::OK, "{page}: {}", response.body);
    }
    assert_eq!(audit_rows(&app, acme.tenant.id).await, 0);
}

#[tokio::test]
async fn general_settings_explain_errors_at_each_field_and_save_with_audit_rows() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    app.get("/acme/admin/general").await;
    let bad = app
        .post_form(
            "/acme/admin/general",
            &[
                ("name", " "),
                ("ticket_prefix", "TOO-LONG-PREFIX"),
                ("reopen_window_days", "400"),
                ("notification_email", "not-an-email"),
                ("default_timezone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_field_error(bad.status, &bad.body, "name", "Enter a name.");
    assert_field_error(bad.status, &bad.body, "ticket_prefix", "at most 10 letters");
    assert_field_error(bad.status, &bad.body, "reopen_window_days", "from 0 to 365");
    assert_field_error(bad.status, &bad.body, "notification_email", "email address");
    assert_field_error(bad.status, &bad.body, "default_timezone", "timezone name");
    // What was typed is kept.
    assert!(bad.body.contains("value=\"TOO-LONG-PREFIX\""));
    assert_eq!(audit_rows(&app, acme.tenant.id).await, 0);

    let number = create_direct(&app, &acme.customer, subject("Printer on fire")).await;
    let saved = app
        .post_form(
            "/acme/admin/general",
            &[
                ("name", "Acme Help"),
                ("ticket_prefix", "HD-"),
                ("reopen_window_days", "14"),
                ("guest_submission_enabled", "1"),
                ("notification_email", "team@acme.test"),
                ("default_timezone", "Europe/Berlin"),
            ],
        )
        .await;
    saved.assert_redirect_to("/acme/admin/general?notice=saved");
    let (days, reopen, guests, email, tz): (i32, bool, bool, Option<String>, String) =
        sqlx::query_as(
            "select reopen_window_days, customers_can_reopen, guest_submission_enabled, \
                    notification_email, default_timezone from tenant_settings where tenant_id = $1",
        )
        .bind(acme.tenant.id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        (days, reopen, guests, email.as_deref(), tz.as_str()),
        (14, false, true, Some("team@acme.test"), "Europe/Berlin")
    );
    let page = app.get("/acme/admin/general?notice=saved").await;
    assert!(page.body.contains("Your changes are saved."));
    assert!(
        page.body.contains("Acme Help"),
        "the new name is the chrome's"
    );
    let ticket = app.get(&format!("/acme/tickets/{number}")).await;
    assert!(
        ticket.body.contains("HD-000001"),
        "the new prefix numbers tickets"
    );

    // One row per changed setting.
    assert_eq!(audit_rows(&app, acme.tenant.id).await, 7);
    let audit = unescape(&app.get("/acme/admin/audit").await.body);
    for text in [
        "Helpdesk name",
        "acme support",
        "Acme Help",
        "Ticket number prefix",
        "Reopen window (days)",
        "Customers can reopen",
        "Default timezone",
        "Europe/Berlin",
        "Admin of acme",
    ] {
        assert!(audit.contains(text), "the audit page lacks {text:?}");
    }
}

#[tokio::test]
async fn renaming_a_status_shows_the_new_name_on_existing_tickets_and_bad_input_is_explained() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let number = create_direct(&app, &acme.customer, subject("Slow VPN")).await;
    let in_progress = option_id(&app, acme.tenant.id, "ticket_statuses", "In Progress").await;
    change_direct(&app, &acme.agent, number, |input| {
        input.status = in_progress.clone();
    })
    .await;

    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    app.get("/acme/admin/statuses").await;
    let bad = app
        .post_form(
            "/acme/admin/statuses",
            &[("name", ""), ("category", "resolved"), ("color", "blue")],
        )
        .await;
    assert_field_error(bad.status, &bad.body, "name-add", "Enter a name.");
    assert_field_error(
        bad.status,
        &bad.body,
        "category-add",
        "Choose Open or Waiting",
    );
    assert_field_error(bad.status, &bad.body, "color-add", "#rrggbb");
    let taken = app
        .post_form(
            "/acme/admin/statuses",
            &[("name", "New"), ("category", "open"), ("color", "#123456")],
        )
        .await;
    assert_field_error(taken.status, &taken.body, "name-add", "exists already");

    let bad_rename = app
        .post_form(
            "/acme/admin/statuses/update",
            &[("id", &in_progress), ("name", ""), ("color", "#123456")],
        )
        .await;
    assert_field_error(
        bad_rename.status,
        &bad_rename.body,
        &format!("name-{in_progress}"),
        "Enter a name.",
    );

    app.get("/acme/admin/statuses").await;
    app.post_form(
        "/acme/admin/statuses/update",
        &[
            ("id", &in_progress),
            ("name", "Working on it"),
            ("color", "#0A0B0C"),
        ],
    )
    .await
    .assert_redirect_to("/acme/admin/statuses?notice=saved");
    let ticket = app.get(&format!("/acme/tickets/{number}")).await;
    assert!(ticket.body.contains("Working on it"), "{}", ticket.body);
    let color: String = sqlx::query_scalar(
        "select color from ticket_statuses where tenant_id = $1 and name = 'Working on it'",
    )
    .bind(acme.tenant.id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(color, "#0a0b0c");
    let audit = unescape(&app.get("/acme/admin/audit").await.body);
    assert!(audit.contains("rename: In Progress"));
    assert!(audit.contains("recolour: Working on it"));
}

#[tokio::test]
async fn a_retired_status_is_not_offered_but_stays_on_old_tickets_and_the_lifecycle_is_protected() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let old = create_direct(&app, &acme.customer, subject("Old one")).await;
    let other = create_direct(&app, &acme.customer, subject("Other one")).await;

    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    app.get("/acme/admin/statuses").await;
    app.post_form(
        "/acme/admin/statuses",
        &[
            ("name", "Waiting on parts"),
            ("category", "waiting"),
            ("color", "#aa5500"),
        ],
    )
    .await
    .assert_redirect_to("/acme/admin/statuses?notice=admin_added");
    let parts = option_id(&app, acme.tenant.id, "ticket_statuses", "Waiting on parts").await;
    change_direct(&app, &acme.agent, old, |input| input.status = parts.clone()).await;

    // It is in use: deleting is refused, with the reason.
    app.get("/acme/admin/statuses").await;
    let delete = app
        .post_form("/acme/admin/statuses/delete", &[("id", &parts)])
        .await;
    assert_eq!(delete.status, StatusCode::CONFLICT);
    assert!(unescape(&delete.body).contains("is in use by 1 ticket(s)"));

    app.post_form(
        "/acme/admin/statuses/retire",
        &[("id", &parts), ("retired", "1")],
    )
    .await
    .assert_redirect_to("/acme/admin/statuses?notice=saved");
    let old_page = app.get(&format!("/acme/tickets/{old}")).await;
    assert!(old_page.body.contains("Waiting on parts"));
    let edit_other = app.get(&format!("/acme/tickets/{other}/edit")).await;
    assert_eq!(edit_other.status, StatusCode::OK);
    assert!(!edit_other.body.contains(">Waiting on parts</option>"));
    assert!(edit_other.body.contains(">Awaiting customer</option>"));

    // The default of a category cannot be retired, and neither can the last
    // active status of a category, nor the fixed ones.
    let awaiting = option_id(&app, acme.tenant.id, "ticket_statuses", "Awaiting customer").await;
    app.get("/acme/admin/statuses").await;
    let retire_default = app
        .post_form(
            "/acme/admin/statuses/retire",
            &[("id", &awaiting), ("retired", "1")],
        )
        .await;
    assert_eq!(retire_default.status, StatusCode::CONFLICT);
    assert!(unescape(&retire_default.body).contains("is the default status"));
    let new = option_id(&app, acme.tenant.id, "ticket_statuses", "New").await;
    let retire_new = app
        .post_form(
            "/acme/admin/statuses/retire",
            &[("id", &new), ("retired", "1")],
        )
        .await;
    assert_eq!(retire_new.status, StatusCode::CONFLICT);
    assert!(unescape(&retire_new.body).contains("always keeps its status"));
    // A retired status cannot become the default; back in service it can.
    let default_retired = app
        .post_form("/acme/admin/statuses/default", &[("id", &parts)])
        .await;
    assert_eq!(default_retired.status, StatusCode::CONFLICT);
    app.post_form(
        "/acme/admin/statuses/retire",
        &[("id", &parts), ("retired", "0")],
    )
    .await
    .assert_redirect_to("/acme/admin/statuses?notice=saved");
    app.post_form("/acme/admin/statuses/default", &[("id", &parts)])
        .await
        .assert_redirect_to("/acme/admin/statuses?notice=saved");
    let defaults: Vec<String> = sqlx::query_scalar(
        "select name from ticket_statuses where tenant_id = $1 and category = 'waiting' and is_default",
    )
    .bind(acme.tenant.id)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(defaults, ["Waiting on parts"]);
    // Now "Awaiting customer" is unused and not the default: it can go.
    app.post_form("/acme/admin/statuses/delete", &[("id", &awaiting)])
        .await
        .assert_redirect_to("/acme/admin/statuses?notice=admin_deleted");
    // And "Waiting on parts" is the last of its category: it stays.
    let retire_last = app
        .post_form(
            "/acme/admin/statuses/retire",
            &[("id", &parts), ("retired", "1")],
        )
        .await;
    assert_eq!(retire_last.status, StatusCode::CONFLICT);

    // Reordering: up moves it before its neighbour.
    let order = |app: &TestApp| {
        let pool = app.db.pool().clone();
        let tenant = acme.tenant.id;
        async move {
            sqlx::query_scalar::<_, String>(
                "select name from ticket_statuses where tenant_id = $1 order by position",
            )
            .bind(tenant)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(
        order(&app).await,
        [
            "New",
            "In Progress",
            "Resolved",
            "Closed",
            "Waiting on parts"
        ]
    );
    app.post_form(
        "/acme/admin/statuses/move",
        &[("id", &parts), ("direction", "up")],
    )
    .await
    .assert_redirect_to("/acme/admin/statuses?notice=saved");
    assert_eq!(
        order(&app).await,
        [
            "New",
            "In Progress",
            "Resolved",
            "Waiting on parts",
            "Closed"
        ]
    );
}

#[tokio::test]
async fn changing_a_priority_rank_re_sorts_the_ticket_list_by_priority() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let low = option_id(&app, acme.tenant.id, "ticket_priorities", "Low").await;
    let urgent = option_id(&app, acme.tenant.id, "ticket_priorities", "Urgent").await;
    let mut input = subject("Low one");
    input.priority = low.clone();
    let first = create_direct(&app, &acme.customer, input).await;
    let mut input = subject("Urgent one");
    input.priority = urgent.clone();
    let second = create_direct(&app, &acme.customer, input).await;

    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    let before = app.get("/acme/tickets?sort=priority").await;
    assert_eq!(listed(&before.body), [second, first]);

    app.get("/acme/admin/priorities").await;
    let bad = app
        .post_form(
            "/acme/admin/priorities/update",
            &[
                ("id", &low),
                ("name", "Low"),
                ("rank", "high"),
                ("color", "#6b7280"),
            ],
        )
        .await;
    assert_field_error(
        bad.status,
        &bad.body,
        &format!("rank-{low}"),
        "whole number",
    );
    app.get("/acme/admin/priorities").await;
    app.post_form(
        "/acme/admin/priorities/update",
        &[
            ("id", &low),
            ("name", "Low"),
            ("rank", "10"),
            ("color", "#6b7280"),
        ],
    )
    .await
    .assert_redirect_to("/acme/admin/priorities?notice=saved");
    let after = app.get("/acme/tickets?sort=priority").await;
    assert_eq!(listed(&after.body), [first, second]);

    // Deleting a priority in use is refused; an unused one goes.
    app.get("/acme/admin/priorities").await;
    let refused = app
        .post_form("/acme/admin/priorities/delete", &[("id", &urgent)])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let high = option_id(&app, acme.tenant.id, "ticket_priorities", "High").await;
    app.post_form("/acme/admin/priorities/delete", &[("id", &high)])
        .await
        .assert_redirect_to("/acme/admin/priorities?notice=admin_deleted");
    let audit = unescape(&app.get("/acme/admin/audit").await.body);
    assert!(audit.contains("change rank: Low"));
    assert!(audit.contains("delete: High"));
}

#[tokio::test]
async fn types_and_the_category_tree_are_edited_and_nothing_in_use_is_deleted() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    sign_in_as(&mut app, "acme", &acme.admin.email).await;

    // Types.
    app.get("/acme/admin/types").await;
    let taken = app.post_form("/acme/admin/types", &[("name", "Bug")]).await;
    assert_field_error(taken.status, &taken.body, "name-add", "exists already");
    app.get("/acme/admin/types").await;
    app.post_form("/acme/admin/types", &[("name", "Question")])
        .await
        .assert_redirect_to("/acme/admin/types?notice=admin_added");
    let issue = option_id(&app, acme.tenant.id, "ticket_types", "Issue").await;
    let question = option_id(&app, acme.tenant.id, "ticket_types", "Question").await;
    let delete_default = app
        .post_form("/acme/admin/types/delete", &[("id", &issue)])
        .await;
    assert_eq!(delete_default.status, StatusCode::CONFLICT);
    app.post_form("/acme/admin/types/default", &[("id", &question)])
        .await
        .assert_redirect_to("/acme/admin/types?notice=saved");
    let number = create_direct(&app, &acme.customer, subject("Which plan?")).await;
    let ticket = app.get(&format!("/acme/tickets/{number}")).await;
    assert!(
        ticket.body.contains("Question"),
        "new tickets get the default type"
    );

    // Categories: a third level under Technical › Access, no fourth.
    let access = option_id(&app, acme.tenant.id, "categories", "Access").await;
    let reset = option_id(&app, acme.tenant.id, "categories", "Password reset").await;
    app.get("/acme/admin/categories").await;
    app.post_form(
        "/acme/admin/categories",
        &[("parent", &access), ("name", "VPN")],
    )
    .await
    .assert_redirect_to("/acme/admin/categories?notice=admin_added");
    let page = unescape(&app.get("/acme/admin/categories").await.body);
    assert!(page.contains("Technical › Access › VPN"));
    let too_deep = app
        .post_form(
            "/acme/admin/categories",
            &[("parent", &reset), ("name", "Deeper")],
        )
        .await;
    assert_field_error(
        too_deep.status,
        &too_deep.body,
        "parent-add",
        "three levels",
    );
    let no_name = app
        .post_form("/acme/admin/categories", &[("parent", ""), ("name", "")])
        .await;
    assert_field_error(no_name.status, &no_name.body, "name-add", "Enter a name.");

    // A category with children, or with tickets, is not deleted.
    let billing = option_id(&app, acme.tenant.id, "categories", "Billing").await;
    let with_children = app
        .post_form("/acme/admin/categories/delete", &[("id", &billing)])
        .await;
    assert_eq!(with_children.status, StatusCode::CONFLICT);
    assert!(unescape(&with_children.body).contains("has 2 subcategories"));
    let mut input = subject("Reset my password");
    input.category_path = vec![
        option_id(&app, acme.tenant.id, "categories", "Technical").await,
        access.clone(),
        reset.clone(),
    ];
    create_direct(&app, &acme.customer, input).await;
    app.get("/acme/admin/categories").await;
    let in_use = app
        .post_form("/acme/admin/categories/delete", &[("id", &reset)])
        .await;
    assert_eq!(in_use.status, StatusCode::CONFLICT);
    assert!(unescape(&in_use.body).contains("in use by 1 ticket(s)"));

    // Reorder and retire: a retired category is no longer offered.
    let vpn = option_id(&app, acme.tenant.id, "categories", "VPN").await;
    app.post_form(
        "/acme/admin/categories/move",
        &[("id", &vpn), ("direction", "up")],
    )
    .await
    .assert_redirect_to("/acme/admin/categories?notice=saved");
    let siblings: Vec<String> = sqlx::query_scalar(
        "select name from categories where tenant_id = $1 and parent_id = $2 order by position",
    )
    .bind(acme.tenant.id)
    .bind(uuid::Uuid::parse_str(&access).unwrap())
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        siblings,
        ["Password reset", "VPN", "Two-factor authentication"]
    );
    let general = option_id(&app, acme.tenant.id, "categories", "General").await;
    app.get("/acme/admin/categories").await;
    app.post_form(
        "/acme/admin/categories/retire",
        &[("id", &general), ("retired", "1")],
    )
    .await
    .assert_redirect_to("/acme/admin/categories?notice=saved");
    let new_form = app.get("/acme/tickets/new").await;
    assert!(!new_form.body.contains(&format!("value=\"{general}\"")));
    assert!(new_form.body.contains(&format!("value=\"{billing}\"")));
}

#[tokio::test]
async fn users_are_created_with_errors_at_the_field_and_the_last_admin_is_protected() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    sign_in_as(&mut app, "acme", &acme.admin.email).await;

    app.get("/acme/admin/users").await;
    let bad = app
        .post_form(
            "/acme/admin/users",
            &[
                ("email", "not an email"),
                ("name", "Nobody"),
                ("role", "overlord"),
                ("password", "short"),
            ],
        )
        .await;
    assert_field_error(bad.status, &bad.body, "email-add", "email address");
    assert_field_error(
        bad.status,
        &bad.body,
        "role-add",
        "customer, agent or admin",
    );
    assert_field_error(
        bad.status,
        &bad.body,
        "password-add",
        "at least 10 characters",
    );
    let taken = app
        .post_form(
            "/acme/admin/users",
            &[
                ("email", "AGENT@acme.test"),
                ("role", "agent"),
                ("password", ""),
            ],
        )
        .await;
    assert_field_error(taken.status, &taken.body, "email-add", "exists already");

    app.get("/acme/admin/users").await;
    app.post_form(
        "/acme/admin/users",
        &[
            ("email", "bea@acme.test"),
            ("name", "Bea Boss"),
            ("role", "admin"),
            ("password", PASSWORD),
        ],
    )
    .await
    .assert_redirect_to("/acme/admin/users?notice=admin_user_created");
    let found = app.get("/acme/admin/users?q=boss").await;
    assert!(found.body.contains("bea@acme.test"));
    assert!(
        !found.body.contains("agent@acme.test"),
        "search narrows the list"
    );

    // Bea makes the first admin an agent; now she is the last admin.
    sign_in_as(&mut app, "acme", "bea@acme.test").await;
    app.get("/acme/admin/users").await;
    let first = acme.admin.id.to_string();
    app.post_form(
        "/acme/admin/users/role",
        &[("id", &first), ("role", "agent")],
    )
    .await
    .assert_redirect_to("/acme/admin/users?notice=saved");
    let bea = tessera::auth::repo::find_credentials(
        &mut app.db.tenant_tx(acme.tenant.id).await.unwrap(),
        acme.tenant.id,
        "bea@acme.test",
    )
    .await
    .unwrap()
    .unwrap()
    .0;
    let bea_id = bea.id.to_string();
    let demote_self = app
        .post_form(
            "/acme/admin/users/role",
            &[("id", &bea_id), ("role", "customer")],
        )
        .await;
    assert_eq!(demote_self.status, StatusCode::CONFLICT);
    assert!(unescape(&demote_self.body).contains("Bea Boss is the last active admin"));
    let deactivate_self = app
        .post_form(
            "/acme/admin/users/active",
            &[("id", &bea_id), ("active", "0")],
        )
        .await;
    assert_eq!(deactivate_self.status, StatusCode::CONFLICT);
    // An admin acting on a stale view (another admin's request in flight) is
    // stopped by the same rule.
    let stale = Ctx {
        db: &app.db,
        clock: &app.clock,
        admin: &acme.admin,
    };
    let result = admin::set_active(stale, &bea_id, false).await;
    assert!(
        matches!(&result, Err(admin::AdminError::Refused(m)) if m.contains("last active admin")),
        "{result:?}"
    );
    let admins: i64 = sqlx::query_scalar(
        "select count(*) from users where tenant_id = $1 and role = 'admin' and active",
    )
    .bind(acme.tenant.id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(admins, 1);

    // With another admin around, an admin may step down, and lands on the start page.
    app.get("/acme/admin/users").await;
    app.post_form(
        "/acme/admin/users/role",
        &[("id", &first), ("role", "admin")],
    )
    .await
    .assert_redirect_to("/acme/admin/users?notice=saved");
    app.post_form(
        "/acme/admin/users/role",
        &[("id", &bea_id), ("role", "agent")],
    )
    .await
    .assert_redirect_to("/acme/?notice=saved");
    assert_eq!(
        app.get("/acme/admin/users").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_deactivated_user_cannot_sign_in_and_their_session_ends() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let agent_session = app.cookie(tessera::web::SESSION_COOKIE).unwrap().to_owned();

    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    app.get("/acme/admin/users").await;
    let agent = acme.agent.id.to_string();
    app.post_form(
        "/acme/admin/users/active",
        &[("id", &agent), ("active", "0")],
    )
    .await
    .assert_redirect_to("/acme/admin/users?notice=saved");
    let own = acme.admin.id.to_string();
    let self_deactivate = app
        .post_form("/acme/admin/users/active", &[("id", &own), ("active", "0")])
        .await;
    assert_eq!(self_deactivate.status, StatusCode::CONFLICT);

    app.clear_cookies();
    app.set_cookie(tessera::web::SESSION_COOKIE, &agent_session);
    let queue = app.get("/acme/tickets").await;
    assert_eq!(queue.status, StatusCode::SEE_OTHER);
    assert!(queue.location().unwrap().starts_with("/acme/login"));
    app.clear_cookies();
    let refused = app.sign_in("acme", &acme.agent.email, PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);

    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    app.get("/acme/admin/users").await;
    app.post_form(
        "/acme/admin/users/active",
        &[("id", &agent), ("active", "1")],
    )
    .await
    .assert_redirect_to("/acme/admin/users?notice=saved");
    sign_in_as(&mut app, "acme", &acme.agent.email).await;

    // An admin can also set a password for a user created without one.
    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    app.get("/acme/admin/users").await;
    app.post_form(
        "/acme/admin/users",
        &[
            ("email", "nopass@acme.test"),
            ("role", "customer"),
            ("password", ""),
        ],
    )
    .await
    .assert_redirect_to("/acme/admin/users?notice=admin_user_created");
    app.clear_cookies();
    assert_eq!(
        app.sign_in("acme", "nopass@acme.test", PASSWORD)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    let id: uuid::Uuid = sqlx::query_scalar(
        "select id from users where tenant_id = $1 and email = 'nopass@acme.test'",
    )
    .bind(acme.tenant.id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    app.get("/acme/admin/users").await;
    let weak = app
        .post_form(
            "/acme/admin/users/password",
            &[("id", &id.to_string()), ("password", "short")],
        )
        .await;
    assert_field_error(
        weak.status,
        &weak.body,
        &format!("password-{id}"),
        "at least 10 characters",
    );
    app.get("/acme/admin/users").await;
    app.post_form(
        "/acme/admin/users/password",
        &[("id", &id.to_string()), ("password", PASSWORD)],
    )
    .await
    .assert_redirect_to("/acme/admin/users?notice=admin_password_set");
    sign_in_as(&mut app, "acme", "nopass@acme.test").await;
}

#[tokio::test]
async fn groups_have_staff_members_and_a_scope_of_categories() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let second_agent = add_user(
        &app,
        acme.tenant.id,
        "ann@acme.test",
        "Ann Agent",
        Role::Agent,
    )
    .await;
    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    app.get("/acme/admin/groups").await;
    let blank = app.post_form("/acme/admin/groups", &[("name", "  ")]).await;
    assert_field_error(blank.status, &blank.body, "name-add", "Enter a name.");
    app.get("/acme/admin/groups").await;
    app.post_form("/acme/admin/groups", &[("name", "Tier 1")])
        .await
        .assert_redirect_to("/acme/admin/groups?notice=admin_added");
    let group = option_id(&app, acme.tenant.id, "groups", "Tier 1").await;

    for agent in [&acme.agent, &second_agent] {
        app.post_form(
            "/acme/admin/groups/members",
            &[
                ("id", &group),
                ("user", &agent.id.to_string()),
                ("op", "add"),
            ],
        )
        .await
        .assert_redirect_to("/acme/admin/groups?notice=saved");
    }
    let customer = app
        .post_form(
            "/acme/admin/groups/members",
            &[
                ("id", &group),
                ("user", &acme.customer.id.to_string()),
                ("op", "add"),
            ],
        )
        .await;
    assert_field_error(
        customer.status,
        &customer.body,
        &format!("user-{group}"),
        "agents and admins",
    );
    app.get("/acme/admin/groups").await;
    app.post_form(
        "/acme/admin/groups/members",
        &[
            ("id", &group),
            ("user", &second_agent.id.to_string()),
            ("op", "remove"),
        ],
    )
    .await
    .assert_redirect_to("/acme/admin/groups?notice=saved");

    let billing = option_id(&app, acme.tenant.id, "categories", "Billing").await;
    let refunds = option_id(&app, acme.tenant.id, "categories", "Refunds").await;
    app.post_form(
        "/acme/admin/groups/scope",
        &[
            ("id", &group),
            ("categories", &billing),
            ("categories", &refunds),
        ],
    )
    .await
    .assert_redirect_to("/acme/admin/groups?notice=saved");
    let page = unescape(&app.get("/acme/admin/groups").await.body);
    assert!(page.contains("Billing, Billing › Refunds"), "{page}");
    assert!(page.contains("Agent of acme"));
    let members: Vec<String> = sqlx::query_scalar(
        "select u.email from group_members m join users u on u.tenant_id = m.tenant_id and u.id = m.user_id \
         where m.tenant_id = $1",
    )
    .bind(acme.tenant.id)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(members, ["agent@acme.test"]);

    app.post_form(
        "/acme/admin/groups/update",
        &[("id", &group), ("name", "First line")],
    )
    .await
    .assert_redirect_to("/acme/admin/groups?notice=saved");
    app.post_form("/acme/admin/groups/delete", &[("id", &group)])
        .await
        .assert_redirect_to("/acme/admin/groups?notice=admin_deleted");
    let audit = unescape(&app.get("/acme/admin/audit").await.body);
    for text in [
        "create: Tier 1",
        "add member: Tier 1",
        "remove member: Tier 1",
        "change scope: Tier 1",
        "rename: Tier 1",
        "delete: First line",
    ] {
        assert!(audit.contains(text), "the audit page lacks {text:?}");
    }
}

#[tokio::test]
async fn settings_of_one_tenant_are_neither_visible_nor_changeable_from_another() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let globex = app.create_tenant("globex").await;
    let acme_status = option_id(&app, acme.tenant.id, "ticket_statuses", "In Progress").await;
    let acme_agent = acme.agent.id.to_string();

    sign_in_as(&mut app, "globex", &globex.admin.email).await;
    for page in PAGES {
        let response = app.get(page).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{page}");
        assert!(response.location().unwrap().starts_with("/acme/login"));
    }
    app.get("/globex/admin/general").await;
    let posted = app
        .post_form(
            "/acme/admin/general",
            &[
                ("name", "Hijacked"),
                ("ticket_prefix", "X-"),
                ("reopen_window_days", "1"),
                ("default_timezone", "UTC"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    assert!(posted.location().unwrap().starts_with("/acme/login"));
    // Acme's ids through globex's own pages: not found there.
    app.get("/globex/admin/statuses").await;
    let rename = app
        .post_form(
            "/globex/admin/statuses/update",
            &[
                ("id", &acme_status),
                ("name", "Hijacked"),
                ("color", "#000000"),
            ],
        )
        .await;
    assert_eq!(rename.status, StatusCode::NOT_FOUND);
    let deactivate = app
        .post_form(
            "/globex/admin/users/active",
            &[("id", &acme_agent), ("active", "0")],
        )
        .await;
    assert_eq!(deactivate.status, StatusCode::NOT_FOUND);
    // Globex's own audit page shows nothing of acme.
    app.post_form("/globex/admin/types", &[("name", "Globex only")])
        .await
        .assert_redirect_to("/globex/admin/types?notice=admin_added");

    let name: String = sqlx::query_scalar("select name from tenants where id = $1")
        .bind(acme.tenant.id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(name, "acme support");
    let status: String = sqlx::query_scalar("select name from ticket_statuses where id = $1::uuid")
        .bind(&acme_status)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(status, "In Progress");
    let active: bool = sqlx::query_scalar("select active from users where id = $1")
        .bind(acme.agent.id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(active);
    assert_eq!(audit_rows(&app, acme.tenant.id).await, 0);
    assert_eq!(audit_rows(&app, globex.tenant.id).await, 1);

    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    let audit = app.get("/acme/admin/audit").await;
    assert!(!audit.body.contains("Globex only"));
    let types = app.get("/acme/admin/types").await;
    assert!(!types.body.contains("Globex only"));
}

#[tokio::test]
async fn every_change_is_in_the_audit_log_newest_first_in_keyset_pages() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let ctx = Ctx {
        db: &app.db,
        clock: &app.clock,
        admin: &acme.admin,
    };
    for i in 1..=55 {
        admin::add_type(ctx, &format!("Type {i:02}")).await.unwrap();
        app.clock.advance(time::Duration::seconds(1));
    }
    assert_eq!(audit_rows(&app, acme.tenant.id).await, 55);
    // Refused and invalid actions write nothing.
    assert!(admin::add_type(ctx, "Type 01").await.is_err());
    assert!(
        admin::delete_type(
            ctx,
            &option_id(&app, acme.tenant.id, "ticket_types", "Issue").await
        )
        .await
        .is_err()
    );
    assert_eq!(audit_rows(&app, acme.tenant.id).await, 55);

    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    let first = unescape(&app.get("/acme/admin/audit").await.body);
    let order: Vec<usize> = ["add: Type 55", "add: Type 54", "add: Type 06"]
        .iter()
        .map(|text| first.find(text).unwrap_or_else(|| panic!("no {text}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "newest first");
    assert!(!first.contains("add: Type 05"));
    let marker = "href=\"/acme/admin/audit?after=";
    let start = first.find(marker).expect("a link to older changes") + 6;
    let next = &first[start..start + first[start..].find('"').unwrap()];
    let second = unescape(&app.get(next).await.body);
    for i in 1..=5 {
        assert!(second.contains(&format!("add: Type {i:02}")));
    }
    assert!(!second.contains("add: Type 06"));
    assert!(!second.contains(marker), "the last page has no older link");
    assert_eq!(
        app.get("/acme/admin/audit?after=nonsense").await.status,
        StatusCode::NOT_FOUND
    );
}
