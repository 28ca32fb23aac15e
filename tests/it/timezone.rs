//! Dates read in the viewer's timezone: the helpdesk's default for users who
//! chose none, the user's own choice from their settings page otherwise, and
//! an unknown name is refused at the field.

use crate::{
    helpers::TestApp,
    tickets::{create_direct, sign_in_as, subject},
};
use axum::http::StatusCode;

#[tokio::test]
async fn dates_read_in_the_viewers_timezone_else_the_helpdesks() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    // The test clock stands at 2026-03-02 09:00 UTC.
    let number = create_direct(&app, &acme.agent, subject("Clock check")).await;
    let page = format!("/acme/tickets/{number}");
    sign_in_as(&mut app, "acme", "agent@acme.test").await;
    assert!(
        app.get(&page).await.body.contains("3/2/2026, 09:00"),
        "UTC by default"
    );

    // The helpdesk's default applies to everyone who chose none.
    sqlx::query(
        "update tenant_settings set default_timezone = 'America/New_York' where tenant_id = $1",
    )
    .bind(acme.tenant.id)
    .execute(app.db.pool())
    .await
    .unwrap();
    let body = app.get(&page).await.body;
    assert!(
        body.contains("3/2/2026, 04:00"),
        "New York is 5 hours behind in March"
    );
    let settings = app.get("/acme/account/notifications").await.body;
    assert!(
        settings.contains("The helpdesk&#39;s default (America/New_York)")
            || settings.contains("The helpdesk's default (America/New_York)")
    );

    // The user's own choice wins, on every page.
    let saved = app
        .post_form("/acme/account/timezone", &[("timezone", "Asia/Kolkata")])
        .await;
    saved.assert_redirect_to("/acme/account/notifications?notice=saved");
    assert!(
        app.get(&page).await.body.contains("3/2/2026, 14:30"),
        "Kolkata is UTC+5:30"
    );
    let settings = app.get("/acme/account/notifications").await.body;
    assert!(settings.contains(r#"<option value="Asia/Kolkata" selected>"#));

    // Another user of the same helpdesk still reads the default.
    sign_in_as(&mut app, "acme", "customer@acme.test").await;
    let number = create_direct(&app, &acme.customer, subject("Mine")).await;
    assert!(
        app.get(&format!("/acme/tickets/{number}"))
            .await
            .body
            .contains("3/2/2026, 04:00")
    );

    // An unknown name is refused at the field and changes nothing.
    let refused = app
        .post_form("/acme/account/timezone", &[("timezone", "Mars/Olympus")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains(r#"aria-describedby="timezone-error""#)
    );
    assert!(refused.body.contains("Choose a timezone from the list."));
    assert!(
        app.get(&format!("/acme/tickets/{number}"))
            .await
            .body
            .contains("3/2/2026, 04:00")
    );

    // Back to the default.
    sign_in_as(&mut app, "acme", "agent@acme.test").await;
    app.post_form("/acme/account/timezone", &[("timezone", "")])
        .await;
    assert!(app.get(&page).await.body.contains("3/2/2026, 04:00"));
}
