//! Admin tags: the list with counts and search, rename, merge and delete across
//! the tenant's tickets (one event per changed ticket, one audit row), field
//! errors, who may use the page, and tenant isolation.

use crate::{
    helpers::TestApp,
    tickets::{create_direct, sign_in_as, subject, unescape},
};
use axum::http::StatusCode;
use tessera::{auth::model::User, db::TenantId};
use time::Duration;

/// Creates a ticket by `agent` with `tags` (comma-separated); returns its number.
async fn tagged(app: &TestApp, agent: &User, title: &str, tags: &str) -> i64 {
    let mut input = subject(title);
    input.tags = tags.to_owned();
    create_direct(app, agent, input).await
}

/// A ticket's tags and version.
async fn tags_of(app: &TestApp, tenant: TenantId, number: i64) -> (Vec<String>, i32) {
    sqlx::query_as("select tags, version from tickets where tenant_id = $1 and number = $2")
        .bind(tenant)
        .bind(number)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// The ticket's "changed tags" events as (old, new, internal).
async fn tag_events(app: &TestApp, tenant: TenantId, number: i64) -> Vec<(String, String, bool)> {
    sqlx::query_as(
        "select e.old_value, e.new_value, e.internal from ticket_events e \
           join tickets t on t.tenant_id = e.tenant_id and t.id = e.ticket_id \
          where e.tenant_id = $1 and t.number = $2 and e.field = 'tags' \
          order by e.created_at, e.id",
    )
    .bind(tenant)
    .bind(number)
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

/// The tenant's tag audit rows as (action, subject, before, after).
async fn tag_audit(
    app: &TestApp,
    tenant: TenantId,
) -> Vec<(String, String, Option<String>, Option<String>)> {
    sqlx::query_as(
        "select action, subject, before, after from admin_audit_log \
          where tenant_id = $1 and area = 'tags' order by created_at, id",
    )
    .bind(tenant)
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

/// The (tag, tickets) rows of the tags page, top to bottom.
fn listed(html: &str) -> Vec<(String, String)> {
    let html = unescape(html);
    html.split("<span class=\"tag\">")
        .skip(1)
        .map(|rest| {
            let tag = rest.split('<').next().unwrap_or_default().to_owned();
            let count = rest
                .split("<td class=\"num\">")
                .nth(1)
                .and_then(|c| c.split('<').next())
                .unwrap_or_default()
                .to_owned();
            (tag, count)
        })
        .collect()
}

fn rows(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(t, c)| ((*t).to_owned(), (*c).to_owned()))
        .collect()
}

#[tokio::test]
async fn the_tags_page_lists_every_tag_with_its_ticket_count_and_searches() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    tagged(&app, &acme.agent, "One", "vip, printer").await;
    tagged(&app, &acme.agent, "Two", "VIP").await;
    tagged(&app, &acme.agent, "Three", "network").await;
    tagged(&app, &acme.agent, "Untagged", "").await;
    sign_in_as(&mut app, "acme", &acme.admin.email).await;

    let page = app.get("/acme/admin/tags").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        listed(&page.body),
        rows(&[("network", "1"), ("printer", "1"), ("vip", "2")])
    );
    assert!(page.body.contains("Showing 3 tags."));

    let search = app.get("/acme/admin/tags?q=PRI").await;
    assert_eq!(listed(&search.body), rows(&[("printer", "1")]));
    assert!(search.body.contains("value=\"PRI\""));
    let none = app.get("/acme/admin/tags?q=nothing").await;
    assert!(listed(&none.body).is_empty());
    assert!(unescape(&none.body).contains("No tag contains “nothing”."));

    // The overview and the side navigation lead here.
    let overview = app.get("/acme/admin").await;
    assert!(overview.body.contains("href=\"/acme/admin/tags\""));
    let types = app.get("/acme/admin/types").await;
    assert!(types.body.contains("href=\"/acme/admin/tags\""));
}

#[tokio::test]
async fn renaming_a_tag_changes_every_ticket_that_carries_it_with_an_event_and_an_audit_row() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let one = tagged(&app, &acme.agent, "One", "vip, printer, network").await;
    let two = tagged(&app, &acme.agent, "Two", "printer").await;
    let other = tagged(&app, &acme.agent, "Other", "vip").await;
    let (_, one_version) = tags_of(&app, acme.tenant.id, one).await;
    let (_, other_version) = tags_of(&app, acme.tenant.id, other).await;
    app.clock.advance(Duration::minutes(5));
    let renamed_at = app.clock.now();
    sign_in_as(&mut app, "acme", &acme.admin.email).await;

    app.get("/acme/admin/tags").await;
    app.post_form(
        "/acme/admin/tags/rename",
        &[("tag", "printer"), ("name", "  Office  Printer ")],
    )
    .await
    .assert_redirect_to("/acme/admin/tags?notice=saved");

    // Normalised, in the same place among the other tags.
    assert_eq!(
        tags_of(&app, acme.tenant.id, one).await,
        (
            vec!["vip".into(), "office-printer".into(), "network".into()],
            one_version + 1
        )
    );
    assert_eq!(
        tags_of(&app, acme.tenant.id, two).await.0,
        ["office-printer"]
    );
    // A ticket without the tag is left alone.
    assert_eq!(
        tags_of(&app, acme.tenant.id, other).await,
        (vec!["vip".into()], other_version)
    );
    assert!(tag_events(&app, acme.tenant.id, other).await.is_empty());
    let updated_at: time::OffsetDateTime =
        sqlx::query_scalar("select updated_at from tickets where tenant_id = $1 and number = $2")
            .bind(acme.tenant.id)
            .bind(two)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(updated_at, renamed_at);

    assert_eq!(
        tag_events(&app, acme.tenant.id, one).await,
        [(
            "vip, printer, network".to_owned(),
            "vip, office-printer, network".to_owned(),
            true
        )]
    );
    assert_eq!(tag_events(&app, acme.tenant.id, two).await.len(), 1);
    assert_eq!(
        tag_audit(&app, acme.tenant.id).await,
        [(
            "rename".to_owned(),
            "printer (2 tickets)".to_owned(),
            Some("printer".to_owned()),
            Some("office-printer".to_owned())
        )]
    );

    let page = app.get("/acme/admin/tags?notice=saved").await;
    assert_eq!(
        listed(&page.body),
        rows(&[("network", "1"), ("office-printer", "2"), ("vip", "2")])
    );
    // Staff see the change in the ticket's activity, by the admin.
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let activity = unescape(&app.get(&format!("/acme/tickets/{one}/activity")).await.body);
    assert!(
        activity
            .contains("changed tags from vip, printer, network to vip, office-printer, network"),
        "{activity}"
    );
    assert!(activity.contains(&acme.admin.name));
}

#[tokio::test]
async fn renaming_onto_an_existing_tag_merges_them_without_duplicates() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let both = tagged(&app, &acme.agent, "Both", "a, gold, b, vip").await;
    let gold = tagged(&app, &acme.agent, "Gold", "gold").await;
    let vip = tagged(&app, &acme.agent, "Vip", "vip").await;
    let (_, vip_version) = tags_of(&app, acme.tenant.id, vip).await;
    sign_in_as(&mut app, "acme", &acme.admin.email).await;

    app.get("/acme/admin/tags").await;
    app.post_form(
        "/acme/admin/tags/rename",
        &[("tag", "gold"), ("name", "VIP")],
    )
    .await
    .assert_redirect_to("/acme/admin/tags?notice=saved");

    assert_eq!(
        tags_of(&app, acme.tenant.id, both).await.0,
        ["a", "vip", "b"]
    );
    assert_eq!(tags_of(&app, acme.tenant.id, gold).await.0, ["vip"]);
    assert_eq!(
        tags_of(&app, acme.tenant.id, vip).await,
        (vec!["vip".into()], vip_version)
    );
    let duplicates: i64 = sqlx::query_scalar(
        "select count(*) from tickets \
          where tenant_id = $1 and cardinality(tags) <> (select count(distinct x) from unnest(tags) x)",
    )
    .bind(acme.tenant.id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(duplicates, 0);
    assert_eq!(
        tag_events(&app, acme.tenant.id, both).await,
        [("a, gold, b, vip".to_owned(), "a, vip, b".to_owned(), true)]
    );
    assert!(tag_events(&app, acme.tenant.id, vip).await.is_empty());
    let audit = tag_audit(&app, acme.tenant.id).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "merge");
    assert_eq!(audit[0].1, "gold (2 tickets)");

    let page = app.get("/acme/admin/tags").await;
    assert_eq!(
        listed(&page.body),
        rows(&[("a", "1"), ("b", "1"), ("vip", "3")])
    );
}

#[tokio::test]
async fn deleting_a_tag_takes_it_off_every_ticket_and_keeps_the_tickets() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let one = tagged(&app, &acme.agent, "One", "vip, printer").await;
    let two = tagged(&app, &acme.agent, "Two", "vip").await;
    let (_, two_version) = tags_of(&app, acme.tenant.id, two).await;
    sign_in_as(&mut app, "acme", &acme.admin.email).await;

    app.get("/acme/admin/tags").await;
    app.post_form("/acme/admin/tags/delete", &[("tag", "vip")])
        .await
        .assert_redirect_to("/acme/admin/tags?notice=admin_deleted");

    assert_eq!(tags_of(&app, acme.tenant.id, one).await.0, ["printer"]);
    assert_eq!(
        tags_of(&app, acme.tenant.id, two).await,
        (Vec::new(), two_version + 1)
    );
    assert_eq!(
        tag_events(&app, acme.tenant.id, two).await,
        [("vip".to_owned(), String::new(), true)]
    );
    assert_eq!(
        tag_audit(&app, acme.tenant.id).await,
        [(
            "delete".to_owned(),
            "vip (2 tickets)".to_owned(),
            Some("vip".to_owned()),
            None
        )]
    );
    let page = app.get("/acme/admin/tags").await;
    assert_eq!(listed(&page.body), rows(&[("printer", "1")]));

    // Gone means not found: deleting or renaming it again changes nothing.
    let again = app
        .post_form("/acme/admin/tags/delete", &[("tag", "vip")])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let rename = app
        .post_form(
            "/acme/admin/tags/rename",
            &[("tag", "vip"), ("name", "gold")],
        )
        .await;
    assert_eq!(rename.status, StatusCode::NOT_FOUND);
    assert_eq!(tag_audit(&app, acme.tenant.id).await.len(), 1);

    let activity = unescape(&app.get(&format!("/acme/tickets/{two}/activity")).await.body);
    assert!(
        activity.contains("changed tags from vip to none"),
        "{activity}"
    );
}

#[tokio::test]
async fn a_bad_new_name_is_explained_at_the_field_and_changes_nothing() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let one = tagged(&app, &acme.agent, "One", "alpha, vip").await;
    let before = tags_of(&app, acme.tenant.id, one).await;
    sign_in_as(&mut app, "acme", &acme.admin.email).await;

    let long = "x".repeat(41);
    for (name, message) in [
        ("  ", "Enter a tag."),
        ("gold, silver", "Enter one tag"),
        (long.as_str(), "at most 40 characters"),
    ] {
        app.get("/acme/admin/tags?q=v").await;
        let bad = app
            .post_form(
                "/acme/admin/tags/rename",
                &[("tag", "vip"), ("name", name), ("q", "v")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        let body = unescape(&bad.body);
        // The page keeps its search: vip is the only row, so its field is name-0.
        assert_eq!(listed(&bad.body), rows(&[("vip", "1")]));
        let input = body.find("id=\"name-0\"").expect("the rename field");
        let tag_end = input + body[input..].find('>').unwrap();
        assert!(
            body[input..tag_end].contains("aria-invalid=\"true\"")
                && body[input..tag_end].contains("aria-describedby=\"name-0-error\""),
            "{}",
            &body[input..tag_end]
        );
        assert!(body[input..tag_end].contains(&format!("value=\"{name}\"")));
        let error = body.find("id=\"name-0-error\">").expect("the error");
        assert!(
            body[error..error + 200].contains(message),
            "{}",
            &body[error..error + 200]
        );
    }
    assert_eq!(tags_of(&app, acme.tenant.id, one).await, before);
    assert!(tag_events(&app, acme.tenant.id, one).await.is_empty());
    assert!(tag_audit(&app, acme.tenant.id).await.is_empty());

    // Renaming to the same tag (after normalising) is a no-op.
    app.post_form(
        "/acme/admin/tags/rename",
        &[("tag", "vip"), ("name", " VIP ")],
    )
    .await
    .assert_redirect_to("/acme/admin/tags?notice=saved");
    assert_eq!(tags_of(&app, acme.tenant.id, one).await, before);
    assert!(tag_audit(&app, acme.tenant.id).await.is_empty());
}

#[tokio::test]
async fn agents_and_customers_get_404_and_change_nothing() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let one = tagged(&app, &acme.agent, "One", "vip").await;
    let before = tags_of(&app, acme.tenant.id, one).await;
    for who in [&acme.agent, &acme.customer] {
        sign_in_as(&mut app, "acme", &who.email).await;
        assert_eq!(
            app.get("/acme/admin/tags").await.status,
            StatusCode::NOT_FOUND
        );
        app.get("/acme/").await;
        let rename = app
            .post_form(
                "/acme/admin/tags/rename",
                &[("tag", "vip"), ("name", "gold")],
            )
            .await;
        assert_eq!(rename.status, StatusCode::NOT_FOUND);
        let delete = app
            .post_form("/acme/admin/tags/delete", &[("tag", "vip")])
            .await;
        assert_eq!(delete.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(tags_of(&app, acme.tenant.id, one).await, before);
    assert!(tag_events(&app, acme.tenant.id, one).await.is_empty());
    assert!(tag_audit(&app, acme.tenant.id).await.is_empty());
}

#[tokio::test]
async fn one_tenants_tag_changes_leave_another_tenants_tags_untouched() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let globex = app.create_tenant("globex").await;
    let acme_ticket = tagged(&app, &acme.agent, "Acme", "vip, shared").await;
    let globex_ticket = tagged(&app, &globex.agent, "Globex", "vip, shared, secret").await;
    let globex_before = tags_of(&app, globex.tenant.id, globex_ticket).await;

    sign_in_as(&mut app, "acme", &acme.admin.email).await;
    let page = app.get("/acme/admin/tags").await;
    assert_eq!(listed(&page.body), rows(&[("shared", "1"), ("vip", "1")]));
    // A tag only globex uses is not found here.
    let secret = app
        .post_form("/acme/admin/tags/delete", &[("tag", "secret")])
        .await;
    assert_eq!(secret.status, StatusCode::NOT_FOUND);
    app.get("/acme/admin/tags").await;
    app.post_form(
        "/acme/admin/tags/rename",
        &[("tag", "vip"), ("name", "gold")],
    )
    .await
    .assert_redirect_to("/acme/admin/tags?notice=saved");
    app.post_form("/acme/admin/tags/delete", &[("tag", "shared")])
        .await
        .assert_redirect_to("/acme/admin/tags?notice=admin_deleted");
    assert_eq!(tags_of(&app, acme.tenant.id, acme_ticket).await.0, ["gold"]);

    assert_eq!(
        tags_of(&app, globex.tenant.id, globex_ticket).await,
        globex_before
    );
    assert!(
        tag_events(&app, globex.tenant.id, globex_ticket)
            .await
            .is_empty()
    );
    assert!(tag_audit(&app, globex.tenant.id).await.is_empty());
    assert_eq!(tag_audit(&app, acme.tenant.id).await.len(), 2);

    // Signed in at acme only: globex's tags page asks to sign in there.
    let other = app.get("/globex/admin/tags").await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
    assert!(
        other
            .location()
            .is_some_and(|l| l.starts_with("/globex/login"))
    );
}
