//! `serve --demo`: the demo tenant's tickets, seeded once, seen as a customer sees them.

use crate::helpers::TestApp;
use axum::http::StatusCode;
use tessera::{db::Db, db::TenantId, demo};

/// What the seeding left, to compare two runs.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    tickets: i64,
    replies: i64,
    notes: i64,
    users: i64,
    events: i64,
}

async fn counts(db: &Db, tenant: TenantId) -> Counts {
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let mut count = async |sql: &str| -> i64 {
        sqlx::query_scalar(sql)
            .bind(tenant)
            .fetch_one(&mut *tx)
            .await
            .unwrap()
    };
    let counts = Counts {
        tickets: count("select count(*) from tickets where tenant_id = $1").await,
        replies: count("select count(*) from replies where tenant_id = $1 and not internal").await,
        notes: count("select count(*) from replies where tenant_id = $1 and internal").await,
        users: count("select count(*) from users where tenant_id = $1").await,
        events: count("select count(*) from ticket_events where tenant_id = $1").await,
    };
    tx.commit().await.unwrap();
    counts
}

/// The longest stretch of `text` that Markdown and HTML escaping leave as it is,
/// so it appears verbatim in any page that shows `text`.
fn verbatim(text: &str) -> &str {
    text.split(|c| "<>&\"'*_`[]()#\n".contains(c))
        .max_by_key(|part| part.len())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_demo_tenant_is_seeded_once_with_varied_tickets_and_customers_see_only_their_own() {
    let mut app = TestApp::new().await;
    let tenant = demo::ensure(&app.db).await.unwrap();
    let first = counts(&app.db, tenant.id).await;
    assert_eq!(demo::ensure(&app.db).await.unwrap().id, tenant.id);
    assert_eq!(
        counts(&app.db, tenant.id).await,
        first,
        "a second run adds nothing"
    );
    assert!((35..=45).contains(&first.tickets), "{first:?}");
    assert!(first.notes >= 1, "{first:?}");

    let mut tx = app.db.tenant_tx(tenant.id).await.unwrap();
    let per_status: Vec<(String, i64)> = sqlx::query_as(
        "select s.name, count(t.id) from ticket_statuses s \
         left join tickets t on t.tenant_id = s.tenant_id and t.status_id = s.id \
         where s.tenant_id = $1 group by s.name, s.position order by s.position",
    )
    .bind(tenant.id)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert_eq!(per_status.len(), 5);
    assert!(per_status.iter().all(|(_, n)| *n > 0), "{per_status:?}");
    let in_the_future: i64 = sqlx::query_scalar(
        "select count(*) from tickets where tenant_id = $1 and greatest(created_at, updated_at, \
         coalesce(last_reply_at, created_at)) > now()",
    )
    .bind(tenant.id)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(in_the_future, 0);
    let tickets: Vec<(i64, String, String)> = sqlx::query_as(
        "select t.number, t.subject, u.email from tickets t \
         join users u on u.tenant_id = t.tenant_id and u.id = t.requester_id \
         where t.tenant_id = $1 order by t.number",
    )
    .bind(tenant.id)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    let notes: Vec<(i64, String)> = sqlx::query_as(
        "select t.number, r.body from replies r \
         join tickets t on t.tenant_id = r.tenant_id and t.id = r.ticket_id \
         where r.tenant_id = $1 and r.internal",
    )
    .bind(tenant.id)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let (own, others): (Vec<_>, Vec<_>) = tickets
        .iter()
        .partition(|(_, _, email)| email == "customer@demo.test");
    assert!(!own.is_empty() && !others.is_empty());
    let own_numbers: Vec<i64> = own.iter().map(|(number, _, _)| *number).collect();
    let note_texts: Vec<&str> = notes.iter().map(|(_, body)| verbatim(body)).collect();
    assert!(
        note_texts.iter().all(|text| text.len() >= 20),
        "{note_texts:?}"
    );

    // Staff see the notes on a customer's ticket: the check below can find them.
    let (noted, note) = notes
        .iter()
        .find(|(number, _)| own_numbers.contains(number))
        .expect("the customer has a ticket with an internal note");
    app.sign_in("demo", "agent@demo.test", demo::PASSWORD).await;
    let page = app.get(&format!("/demo/tickets/{noted}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(verbatim(note)), "{}", page.body);

    app.clear_cookies();
    let signed_in = app
        .sign_in("demo", "customer@demo.test", demo::PASSWORD)
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let open_list = app.get("/demo/tickets").await;
    let full_list = app.get("/demo/tickets?closed=1").await;
    let mut pages = vec![open_list, full_list];
    for number in &own_numbers {
        pages.push(app.get(&format!("/demo/tickets/{number}")).await);
    }
    for page in &pages {
        assert_eq!(page.status, StatusCode::OK);
        for (_, subject, _) in &others {
            assert!(
                !page.body.contains(verbatim(subject)),
                "another customer's ticket `{subject}` is shown"
            );
        }
        for text in &note_texts {
            assert!(
                !page.body.contains(text),
                "an internal note is shown: {text}"
            );
        }
    }
    for (_, subject, _) in &own {
        assert!(
            pages[1].body.contains(verbatim(subject)),
            "the customer's own ticket `{subject}` is listed"
        );
    }
}
