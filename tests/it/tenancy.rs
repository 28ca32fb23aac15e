//! Tenant isolation: in the database (row-level security) and on the web.

use crate::helpers::{PASSWORD, TestApp};
use axum::http::StatusCode;
use tessera::db::UserId;

#[tokio::test]
async fn a_query_without_a_tenant_filter_sees_only_the_current_tenants_rows() {
    let app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let globex = app.create_tenant("globex").await;

    let mut tx = app.db.tenant_tx(acme.tenant.id).await.unwrap();
    let emails: Vec<String> = sqlx::query_scalar("select email from users order by email")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        emails,
        ["admin@acme.test", "agent@acme.test", "customer@acme.test"]
    );

    let explicit: i64 = sqlx::query_scalar("select count(*) from users where tenant_id = $1")
        .bind(globex.tenant.id)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        explicit, 0,
        "asking for another tenant's rows by id returns nothing"
    );

    let tenants: Vec<String> = sqlx::query_scalar("select slug from tenants")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(tenants, ["acme"]);
}

#[tokio::test]
async fn a_tenant_transaction_cannot_write_another_tenants_rows() {
    let app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let globex = app.create_tenant("globex").await;

    let mut tx = app.db.tenant_tx(acme.tenant.id).await.unwrap();
    let insert = sqlx::query(
        "insert into users (tenant_id, id, email, name, role) values ($1, $2, 'x@globex.test', 'X', 'admin')",
    )
    .bind(globex.tenant.id)
    .bind(UserId::generate())
    .execute(&mut *tx)
    .await;
    assert!(
        insert.is_err(),
        "the row-level security check refuses the insert"
    );
    drop(tx);

    let mut tx = app.db.tenant_tx(acme.tenant.id).await.unwrap();
    let updated = sqlx::query("update users set name = 'taken over'")
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(updated, 3, "only acme's three users");
    tx.commit().await.unwrap();

    let mut tx = app.db.tenant_tx(globex.tenant.id).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar("select name from users")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert!(names.iter().all(|name| name != "taken over"), "{names:?}");
}

#[tokio::test]
async fn the_application_role_sees_nothing_when_no_tenant_is_set() {
    let app = TestApp::new().await;
    app.create_tenant("acme").await;
    let mut tx = app.db.pool().begin().await.unwrap();
    sqlx::query("set local role tessera_app")
        .execute(&mut *tx)
        .await
        .unwrap();
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(users, 0);
}

#[tokio::test]
async fn a_login_in_one_tenant_grants_nothing_in_another() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    app.create_tenant("globex").await;
    app.sign_in("acme", &acme.admin.email, PASSWORD)
        .await
        .assert_redirect_to("/acme/");

    let response = app.get("/globex/").await;
    response.assert_redirect_to("/globex/login?next=%2Fglobex%2F");
    // acme's admin has no account in globex.
    let response = app.sign_in("globex", &acme.admin.email, PASSWORD).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/acme/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_same_email_may_exist_in_two_tenants_with_separate_accounts() {
    let mut app = TestApp::new().await;
    app.create_tenant("acme").await;
    app.create_tenant("globex").await;
    app.sign_in("acme", "agent@acme.test", PASSWORD).await;
    let other = tessera::auth::model::NewUser::new(
        "agent@acme.test",
        Some("Namesake"),
        tessera::auth::model::Role::Customer,
        Some("another-password".into()),
    )
    .unwrap();
    let globex = tessera::tenants::repo::find_by_slug(app.db.pool(), "globex")
        .await
        .unwrap()
        .unwrap();
    tessera::auth::service::create_user(&app.db, globex.id, other)
        .await
        .unwrap();
    let wrong = app.sign_in("globex", "agent@acme.test", PASSWORD).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.sign_in("globex", "agent@acme.test", "another-password")
        .await
        .assert_redirect_to("/globex/");
    let home = app.get("/globex/").await;
    assert!(home.body.contains("Namesake"));
}

#[tokio::test]
async fn an_unknown_tenant_is_a_404_page() {
    let mut app = TestApp::new().await;
    for path in ["/nope/login", "/nope/", "/nope"] {
        let response = app.get(path).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert!(response.body.contains("Page not found"), "{path}");
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=utf-8")
        );
    }
}
