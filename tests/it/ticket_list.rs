//! The ticket list: who sees what, closed tickets, status counts, filters,
//! sorts, search and keyset pages.

use crate::{
    helpers::TestApp,
    tickets::{
        add_user, change_direct, create_direct, option_id, reply_direct, sign_in_as, subject,
        unescape,
    },
};
use axum::http::StatusCode;
use std::collections::BTreeSet;
use tessera::{auth::model::Role, jobs::index_upkeep, tickets::service::TicketInput};
use time::Duration;

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

/// The "Showing …" line.
fn showing(html: &str) -> String {
    let marker = "<span id=\"showing\">";
    let start = html.find(marker).expect("the showing line") + marker.len();
    html[start..start + html[start..].find('<').expect("the line ends")].to_owned()
}

/// The count on the status badge `name`.
fn badge_count(html: &str, name: &str) -> String {
    let bar = &html[html.find("class=\"status-bar\"").expect("the status bar")..];
    let marker = format!(">{name} <span class=\"count\">");
    let start = bar
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} badge"))
        + marker.len();
    bar[start..start + bar[start..].find('<').expect("the count ends")].to_owned()
}

/// The href of the link whose text is `text`.
fn link_to(html: &str, text: &str) -> Option<String> {
    let end = html.find(&format!(">{text}</a>"))?;
    let tag = &html[html[..end].rfind("<a ")?..end];
    let start = tag.find("href=\"")? + 6;
    Some(unescape(&tag[start..start + tag[start..].find('"')?]))
}

async fn listed_at(app: &mut TestApp, path: &str) -> Vec<i64> {
    let page = app.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    listed(&page.body)
}

#[tokio::test]
async fn customers_see_only_their_own_tickets_and_agents_see_all() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let other = add_user(
        &app,
        acme.tenant.id,
        "olga@acme.test",
        "Olga Other",
        Role::Customer,
    )
    .await;
    create_direct(&app, &acme.customer, subject("Mine, first")).await;
    create_direct(&app, &other, subject("Olga's")).await;
    create_direct(&app, &acme.customer, subject("Mine, second")).await;

    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    let page = app.get("/acme/tickets").await;
    assert!(page.body.contains("<h1>My tickets</h1>"));
    assert_eq!(listed(&page.body), [3, 1]);
    assert!(!page.body.contains("Olga"));
    assert_eq!(
        showing(&page.body),
        "Showing 2 tickets (closed tickets hidden)"
    );
    assert_eq!(badge_count(&page.body, "New"), "2");
    assert_eq!(
        app.get("/acme/tickets/2").await.status,
        StatusCode::NOT_FOUND
    );

    sign_in_as(&mut app, "acme", &other.email).await;
    assert_eq!(listed_at(&mut app, "/acme/tickets").await, [2]);

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let page = app.get("/acme/tickets").await;
    assert_eq!(listed(&page.body), [3, 2, 1]);
    assert_eq!(
        showing(&page.body),
        "Showing 3 tickets (closed tickets hidden)"
    );
    assert_eq!(badge_count(&page.body, "New"), "3");
}

#[tokio::test]
async fn closed_tickets_are_hidden_until_asked_for_and_the_status_counts_are_exact() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let closed = option_id(&app, tenant, "ticket_statuses", "Closed").await;
    let in_progress = option_id(&app, tenant, "ticket_statuses", "In Progress").await;
    for title in ["One", "Two", "Three", "Four"] {
        create_direct(&app, &acme.customer, subject(title)).await;
        app.clock.advance(Duration::minutes(1));
    }
    change_direct(&app, &acme.agent, 2, |input| input.status = closed.clone()).await;

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let page = app.get("/acme/tickets").await;
    assert_eq!(listed(&page.body), [4, 3, 1]);
    assert_eq!(
        showing(&page.body),
        "Showing 3 tickets (closed tickets hidden)"
    );
    assert_eq!(badge_count(&page.body, "New"), "3");
    assert_eq!(badge_count(&page.body, "In Progress"), "0");
    assert_eq!(badge_count(&page.body, "Closed"), "1");

    let toggle = link_to(&page.body, "Show closed tickets").expect("the toggle");
    let page = app.get(&toggle).await;
    assert_eq!(
        listed(&page.body),
        [2, 4, 3, 1],
        "closing was its last change"
    );
    assert_eq!(showing(&page.body), "Showing 4 tickets");
    let toggle = link_to(&page.body, "Hide closed tickets").expect("the toggle back");
    assert_eq!(listed_at(&mut app, &toggle).await, [4, 3, 1]);

    // The Closed badge lists the closed tickets.
    let closed_badge = link_to(&page.body, "Closed <span class=\"count\">1</span>")
        .expect("the Closed badge links");
    assert_eq!(listed_at(&mut app, &closed_badge).await, [2]);

    // A status change moves the counts at once, by form or by reply.
    app.clock.advance(Duration::minutes(1));
    change_direct(&app, &acme.agent, 1, |input| {
        input.status = in_progress.clone();
    })
    .await;
    app.get("/acme/tickets/3").await;
    app.post_form(
        "/acme/tickets/3/replies",
        &[("body", "Over to you."), ("action", "waiting")],
    )
    .await;
    let page = app.get("/acme/tickets").await;
    assert_eq!(badge_count(&page.body, "New"), "1");
    assert_eq!(badge_count(&page.body, "In Progress"), "1");
    assert_eq!(badge_count(&page.body, "Awaiting customer"), "1");
    assert_eq!(badge_count(&page.body, "Closed"), "1");
    assert_eq!(
        showing(&page.body),
        "Showing 3 tickets (closed tickets hidden)"
    );

    // Customers count their own tickets.
    let other = add_user(&app, tenant, "olga@acme.test", "Olga Other", Role::Customer).await;
    create_direct(&app, &other, subject("Olga's")).await;
    sign_in_as(&mut app, "acme", &other.email).await;
    let page = app.get("/acme/tickets").await;
    assert_eq!(badge_count(&page.body, "New"), "1");
    assert_eq!(badge_count(&page.body, "Closed"), "0");
    assert_eq!(
        showing(&page.body),
        "Showing 1 ticket (closed tickets hidden)"
    );
}

#[tokio::test]
async fn the_list_beside_a_ticket_counts_the_same_tickets_as_the_list() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    create_direct(&app, &acme.customer, subject("One")).await;
    create_direct(&app, &acme.customer, subject("Two")).await;
    for who in [&acme.agent.email, &acme.customer.email] {
        sign_in_as(&mut app, "acme", who).await;
        // The page asks for its side list once the list is in view.
        let page = app.get("/acme/tickets/1").await;
        assert!(
            page.body
                .contains("hx-get=\"/acme/tickets/side?current=1\" hx-trigger=\"intersect once\""),
            "{who}: {}",
            page.body
        );
        let side = app.get("/acme/tickets/side?current=1").await;
        assert_eq!(side.status, StatusCode::OK);
        assert!(
            side.body
                .contains("<p class=\"muted small\">Showing 2 tickets (closed tickets hidden)</p>"),
            "{who}"
        );
        assert!(
            side.body.contains("aria-current=\"true\""),
            "{who}: the ticket shown is marked"
        );
    }
}

#[tokio::test]
async fn each_filter_narrows_the_list_and_each_sort_orders_it() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let other = add_user(&app, tenant, "olga@acme.test", "Olga Other", Role::Customer).await;
    let id = async |table: &str, name: &str| option_id(&app, tenant, table, name).await;
    let (bug, feature) = (
        id("ticket_types", "Bug").await,
        id("ticket_types", "Feature").await,
    );
    let issue = id("ticket_types", "Issue").await;
    let low = id("ticket_priorities", "Low").await;
    let high = id("ticket_priorities", "High").await;
    let urgent = id("ticket_priorities", "Urgent").await;
    let in_progress = id("ticket_statuses", "In Progress").await;
    let new = id("ticket_statuses", "New").await;
    let category = async |name: &str| id("categories", name).await;
    let (technical, access) = (category("Technical").await, category("Access").await);
    let password_reset = category("Password reset").await;
    let performance = category("Performance").await;
    let (billing, invoices) = (category("Billing").await, category("Invoices").await);
    let general = category("General").await;
    let agent = acme.agent.clone();
    let (agent_id, admin_id) = (agent.id.to_string(), acme.admin.id.to_string());

    // Day 1 (2026-03-02).
    create_direct(
        &app,
        &agent,
        TicketInput {
            subject: "Printer".to_owned(),
            ticket_type: bug.clone(),
            priority: high.clone(),
            category_path: vec![technical.clone(), access.clone(), password_reset],
            requester: acme.customer.email.clone(),
            assignee: agent_id.clone(),
            tags: "VIP, printer".to_owned(),
            ..TicketInput::default()
        },
    )
    .await;
    // Day 2.
    app.clock.advance(Duration::days(1));
    create_direct(
        &app,
        &agent,
        TicketInput {
            subject: "Invoice".to_owned(),
            priority: low.clone(),
            category_path: vec![billing.clone(), invoices],
            requester: other.email.clone(),
            tags: "billing".to_owned(),
            ..TicketInput::default()
        },
    )
    .await;
    // Day 3.
    app.clock.advance(Duration::days(1));
    create_direct(
        &app,
        &agent,
        TicketInput {
            subject: "Slow".to_owned(),
            ticket_type: feature.clone(),
            priority: urgent.clone(),
            category_path: vec![technical.clone(), performance],
            requester: acme.customer.email.clone(),
            assignee: admin_id.clone(),
            ..TicketInput::default()
        },
    )
    .await;
    app.clock.advance(Duration::minutes(5));
    create_direct(
        &app,
        &agent,
        TicketInput {
            subject: "Question".to_owned(),
            category_path: vec![general],
            ..TicketInput::default()
        },
    )
    .await;
    // Day 4: ticket 4 is worked on.
    app.clock.advance(Duration::days(1));
    change_direct(&app, &agent, 4, |input| input.status = in_progress.clone()).await;

    sign_in_as(&mut app, "acme", &agent.email).await;
    let cases: Vec<(String, Vec<i64>)> = vec![
        (String::new(), vec![4, 3, 2, 1]),
        (format!("status={in_progress}"), vec![4]),
        (format!("status={new}"), vec![3, 2, 1]),
        (format!("priority={high}"), vec![1]),
        (format!("priority={low}"), vec![2]),
        (format!("type={bug}"), vec![1]),
        (format!("type={issue}"), vec![4, 2]),
        (format!("category={technical}"), vec![3, 1]),
        (format!("category={access}"), vec![1]),
        (format!("category={billing}"), vec![2]),
        ("assignee=me".to_owned(), vec![1]),
        ("assignee=unassigned".to_owned(), vec![4, 2]),
        (format!("assignee={admin_id}"), vec![3]),
        ("requester=customer%40acme.test".to_owned(), vec![3, 1]),
        ("requester=OLGA%40acme.test".to_owned(), vec![2]),
        ("requester=nobody%40acme.test".to_owned(), vec![]),
        ("tag=vip".to_owned(), vec![1]),
        ("tag=Printer".to_owned(), vec![1]),
        ("tag=billing".to_owned(), vec![2]),
        ("tag=nothing".to_owned(), vec![]),
        (
            "created_from=2026-03-03&created_to=2026-03-03".to_owned(),
            vec![2],
        ),
        ("created_from=2026-03-04".to_owned(), vec![4, 3]),
        ("created_to=2026-03-03".to_owned(), vec![2, 1]),
        ("updated_from=2026-03-05".to_owned(), vec![4]),
        ("updated_to=2026-03-04".to_owned(), vec![3, 2, 1]),
        (format!("priority={high}&assignee=me&tag=vip"), vec![1]),
        (format!("priority={low}&assignee=me"), vec![]),
    ];
    for (query, expected) in &cases {
        let page = app.get(&format!("/acme/tickets?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}");
        assert_eq!(&listed(&page.body), expected, "filter {query:?}");
        let noun = if expected.len() == 1 {
            "ticket"
        } else {
            "tickets"
        };
        assert_eq!(
            showing(&page.body),
            format!("Showing {} {noun} (closed tickets hidden)", expected.len()),
            "filter {query:?}"
        );
    }

    // Day 5: a reply brings ticket 1 to the top of "last updated" only.
    app.clock.advance(Duration::days(1));
    reply_direct(&app, &acme.customer, 1, "Still broken.", false).await;
    let sorts: [(&str, Vec<i64>); 5] = [
        ("", vec![1, 4, 3, 2]),
        ("sort=updated", vec![1, 4, 3, 2]),
        ("sort=newest", vec![4, 3, 2, 1]),
        ("sort=oldest", vec![1, 2, 3, 4]),
        // Urgent, High, Medium, Low.
        ("sort=priority", vec![3, 1, 4, 2]),
    ];
    for (query, expected) in &sorts {
        let page = app.get(&format!("/acme/tickets?{query}")).await;
        assert_eq!(&listed(&page.body), expected, "sort {query:?}");
    }

    // Customers filter within their own tickets.
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    assert_eq!(
        listed_at(&mut app, &format!("/acme/tickets?category={technical}")).await,
        [1, 3]
    );
    assert_eq!(
        listed_at(&mut app, &format!("/acme/tickets?category={billing}")).await,
        Vec::<i64>::new()
    );
}

#[tokio::test]
async fn search_finds_words_in_subjects_descriptions_and_public_replies_but_not_notes() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let customer = acme.customer.clone();
    create_direct(&app, &customer, subject("Café menu is broken")).await;
    create_direct(
        &app,
        &customer,
        TicketInput {
            subject: "Login fails".to_owned(),
            description: "The zebra icon spins forever.".to_owned(),
            ..TicketInput::default()
        },
    )
    .await;
    create_direct(&app, &customer, subject("Export problem")).await;
    reply_direct(&app, &acme.agent, 3, "Try the giraffe workaround.", false).await;
    create_direct(&app, &customer, subject("Slow pages")).await;
    reply_direct(&app, &acme.agent, 4, "Looks like an okapi issue.", true).await;

    for who in [&acme.agent.email, &customer.email] {
        sign_in_as(&mut app, "acme", who).await;
        let cases: [(&str, Vec<i64>); 9] = [
            ("cafe", vec![1]),
            ("CAFE", vec![1]),
            ("Café", vec![1]),
            ("MENU", vec![1]),
            ("zebra", vec![2]),
            ("giraffe", vec![3]),
            ("okapi", vec![]),
            ("login zebra", vec![2]),
            ("nothing-like-this", vec![]),
        ];
        for (words, expected) in &cases {
            let path = format!("/acme/tickets?q={}", words.replace(' ', "+"));
            let path = path.replace("é", "%C3%A9");
            let page = app.get(&path).await;
            assert_eq!(page.status, StatusCode::OK, "{who}: {words}");
            assert_eq!(&listed(&page.body), expected, "{who} searching {words:?}");
            if expected.is_empty() {
                assert!(page.body.contains("No tickets match."));
            }
        }
    }
}

/// A create writes its ticket's search document itself, before the numbering
/// statement (whose trigger then leaves it be): it must be exactly the one the
/// trigger's rebuild writes, or search and the list by search would drift.
#[tokio::test]
async fn a_created_tickets_search_document_is_the_one_a_rebuild_writes() {
    let app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let mut input = subject("Café printer jams");
    input.description = "The **toner** light blinks; nothing prints.".to_owned();
    let number = create_direct(&app, &acme.customer, input).await;
    let read = async || -> (String, bool, bool) {
        sqlx::query_as(
            "select s.doc::text, s.updated_at = t.updated_at, s.closed \
               from ticket_search s \
               join tickets t on t.tenant_id = s.tenant_id and t.id = s.ticket_id \
              where t.tenant_id = $1 and t.number = $2",
        )
        .bind(acme.tenant.id)
        .bind(number)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
    };
    let written = read().await;
    assert!(
        written.0.contains("'toner':") && written.0.contains("'cafe':"),
        "{written:?}"
    );
    sqlx::query(
        "select ticket_search_rebuild(tenant_id, id) from tickets where tenant_id = $1 and number = $2",
    )
    .bind(acme.tenant.id)
    .bind(number)
    .execute(app.db.pool())
    .await
    .unwrap();
    let rebuilt = read().await;
    assert_eq!(written, rebuilt);
    assert_eq!(
        (written.1, written.2),
        (true, false),
        "its time and state are the ticket's"
    );
}

#[tokio::test]
async fn the_upkeep_job_merges_new_search_entries_and_search_still_finds_them() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    create_direct(&app, &acme.customer, subject("Walrus printer jams")).await;
    reply_direct(&app, &acme.agent, 1, "Try the narwhal cartridge.", false).await;

    // The writes went to the indexes' pending lists, which the job merges.
    let merged = index_upkeep::run_once(&app.db).await.unwrap();
    assert!(merged > 0, "nothing was pending ({merged})");
    assert_eq!(index_upkeep::run_once(&app.db).await.unwrap(), 0);

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    for words in ["walrus", "narwhal", "printer+narwhal"] {
        let page = app.get(&format!("/acme/tickets?q={words}")).await;
        assert_eq!(listed(&page.body), vec![1], "searching {words}");
    }
}

#[tokio::test]
async fn a_ticket_number_in_the_search_box_opens_the_ticket_if_it_may_be_seen() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let other = add_user(
        &app,
        acme.tenant.id,
        "olga@acme.test",
        "Olga Other",
        Role::Customer,
    )
    .await;
    for n in 1..=13 {
        let requester = if n == 12 { &other } else { &acme.customer };
        create_direct(&app, requester, subject(&format!("Ticket number {n}"))).await;
    }
    for who in [&acme.agent.email, &acme.customer.email] {
        sign_in_as(&mut app, "acme", who).await;
        for typed in ["13", "TKT-13", "TKT-000013", "tkt-000013", "+13+"] {
            let response = app.get(&format!("/acme/tickets?q={typed}")).await;
            response.assert_redirect_to("/acme/tickets/13");
        }
    }
    // Olga's ticket is no number the customer can open.
    for typed in ["12", "TKT-000012"] {
        let response = app.get(&format!("/acme/tickets?q={typed}")).await;
        assert_eq!(response.status, StatusCode::OK, "{typed}");
        assert!(listed(&response.body).is_empty());
        assert!(response.body.contains("No tickets match."));
    }
    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    app.get("/acme/tickets?q=TKT-000012")
        .await
        .assert_redirect_to("/acme/tickets/12");
}

/// Follows "Next page" from `first`, running `between` before each next page;
/// returns every page's numbers in order.
async fn page_through(
    app: &mut TestApp,
    first: &str,
    mut between: impl AsyncFnMut(&TestApp, usize),
) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut next = Some(first.to_owned());
    while let Some(path) = next {
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        pages.push(listed(&page.body));
        next = link_to(&page.body, "Next page →");
        assert!(pages.len() <= 5, "paging does not end");
        if next.is_some() {
            between(app, pages.len()).await;
        }
    }
    pages
}

#[tokio::test]
async fn a_search_lists_its_matches_by_latest_activity_and_hides_closed_ones_like_the_list() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let agent = acme.agent.clone();
    let closed = option_id(&app, acme.tenant.id, "ticket_statuses", "Closed").await;
    for n in 1..=55 {
        create_direct(&app, &acme.customer, subject(&format!("Walrus {n}"))).await;
        app.clock.advance(Duration::seconds(1));
    }
    create_direct(&app, &acme.customer, subject("Something else")).await;
    // A reply moves a ticket up; closing one hides it.
    reply_direct(&app, &agent, 3, "On it.", false).await;
    app.clock.advance(Duration::seconds(1));
    change_direct(&app, &agent, 54, |input| input.status = closed.clone()).await;
    sign_in_as(&mut app, "acme", &agent.email).await;

    let pages = page_through(&mut app, "/acme/tickets?q=walrus", async |_, _| {}).await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [50, 4],
        "{pages:?}"
    );
    let expected: Vec<i64> = std::iter::once(3)
        .chain((1..=55).rev().filter(|n| ![3, 54].contains(n)))
        .collect();
    assert_eq!(pages.concat(), expected);
    // Closed ones shown, the ticket closed last is the latest activity.
    let with_closed = listed_at(&mut app, "/acme/tickets?q=walrus&closed=1").await;
    assert_eq!(with_closed[..3], [54, 3, 55]);
    // Paging goes through open and closed matches alike, each once.
    let pages = page_through(&mut app, "/acme/tickets?q=walrus&closed=1", async |_, _| {}).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 5]);
    let mut all = pages.concat();
    all.sort_unstable();
    assert_eq!(all, (1..=55).collect::<Vec<i64>>());
    // Another order goes through the list's own query, and agrees on what matches.
    let newest = listed_at(&mut app, "/acme/tickets?q=walrus&sort=newest").await;
    assert_eq!(newest[..3], [55, 53, 52]);
}

#[tokio::test]
async fn paging_shows_every_ticket_once_even_while_tickets_change() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    let in_progress = option_id(&app, tenant, "ticket_statuses", "In Progress").await;
    let agent = acme.agent.clone();
    for n in 1..=120 {
        create_direct(&app, &agent, subject(&format!("Ticket {n}"))).await;
        // Some share their time, so the id must break ties.
        if n % 3 == 0 {
            app.clock.advance(Duration::minutes(1));
        }
    }
    sign_in_as(&mut app, "acme", &agent.email).await;

    // Newest first: changes never move a ticket.
    let touch = async |app: &TestApp, numbers: &[i64]| {
        for &number in numbers {
            app.clock.advance(Duration::seconds(1));
            change_direct(app, &agent, number, |input| {
                input.status = in_progress.clone();
                input.tags = format!("{}, touched", input.tags);
            })
            .await;
        }
    };
    let pages = page_through(
        &mut app,
        "/acme/tickets?sort=newest",
        async |app, page| match page {
            1 => touch(app, &[10, 30, 60]).await,
            _ => touch(app, &[5, 15]).await,
        },
    )
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 20]);
    let all: Vec<i64> = pages.concat();
    assert_eq!(all, (1..=120).rev().collect::<Vec<i64>>());

    // Last updated first: a ticket changed while paging moves to the top (already
    // passed), but none shows twice and all the others show.
    let mut changed = BTreeSet::new();
    let pages = page_through(&mut app, "/acme/tickets", async |app, page| {
        let numbers: &[i64] = match page {
            1 => &[40, 20, 110],
            _ => &[7, 8, 119],
        };
        changed.extend(numbers.iter().copied());
        touch(app, numbers).await;
    })
    .await;
    let all: Vec<i64> = pages.concat();
    let unique: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "a ticket showed twice: {all:?}");
    for number in 1..=120 {
        if !changed.contains(&number) {
            assert!(unique.contains(&number), "ticket {number} never showed");
        }
    }
    // The first page is ordered by last change, the ones touched before first.
    assert_eq!(pages[0][..5], [15, 5, 60, 30, 10]);

    // Paging survives a filter in the query string.
    let filtered = page_through(
        &mut app,
        "/acme/tickets?tag=touched&sort=oldest",
        async |_, _| {},
    )
    .await
    .concat();
    let mut touched: Vec<i64> = changed.iter().copied().collect();
    touched.extend([5, 10, 15, 30, 60]);
    touched.sort_unstable();
    assert_eq!(filtered, touched);
}

#[tokio::test]
async fn a_filter_matching_more_than_200_tickets_says_200_plus_on_every_page() {
    let mut app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    let tenant = acme.tenant.id;
    // 1,005 tickets in one statement, and the number counter moved past them.
    // Tag `edge` is on exactly 200 of them (the cap), `over` on 201.
    sqlx::query(
        "insert into tickets (tenant_id, id, number, subject, type_id, priority_id, \
           priority_rank, status_id, status_category, requester_id, created_at, updated_at, \
           tags) \
         select $1, gen_random_uuid(), g.n, 'Bulk ticket ' || g.n, ty.id, pr.id, pr.rank, \
                st.id, st.category, $2, $3, $3, \
                case when g.n <= 200 then array['edge', 'over'] \
                     when g.n = 201 then array['over'] else '{}' end \
           from generate_series(1, 1005) g(n) \
           join ticket_types ty on ty.tenant_id = $1 and ty.name = 'Issue' \
           join ticket_priorities pr on pr.tenant_id = $1 and pr.name = 'Low' \
           join ticket_statuses st on st.tenant_id = $1 and st.name = 'New'",
    )
    .bind(tenant)
    .bind(acme.customer.id)
    .bind(app.clock.now())
    .execute(app.db.pool())
    .await
    .unwrap();
    sqlx::query("update ticket_counters set next_number = 1006 where tenant_id = $1")
        .bind(tenant)
        .execute(app.db.pool())
        .await
        .unwrap();
    let high = option_id(&app, tenant, "ticket_priorities", "High").await;
    let low = option_id(&app, tenant, "ticket_priorities", "Low").await;
    app.clock.advance(Duration::minutes(1));
    let number = create_direct(
        &app,
        &acme.customer,
        TicketInput {
            subject: "Not bulk".to_owned(),
            priority: high.clone(),
            ..TicketInput::default()
        },
    )
    .await;
    assert_eq!(number, 1006);

    sign_in_as(&mut app, "acme", &acme.agent.email).await;
    let page = app.get(&format!("/acme/tickets?priority={low}")).await;
    assert_eq!(
        showing(&page.body),
        "Showing 200+ tickets (closed tickets hidden)"
    );
    let first = listed(&page.body);
    assert_eq!(first.len(), 50);
    // The next page is counted the same way, and lists the next 50.
    let next = link_to(&page.body, "Next page →").expect("a next page");
    let page = app.get(&next).await;
    assert_eq!(
        showing(&page.body),
        "Showing 200+ tickets (closed tickets hidden)"
    );
    let second = listed(&page.body);
    assert_eq!(second.len(), 50);
    assert!(second.iter().all(|n| !first.contains(n)), "{second:?}");
    // At the cap exactly, the count is exact.
    let page = app.get("/acme/tickets?tag=edge").await;
    assert_eq!(
        showing(&page.body),
        "Showing 200 tickets (closed tickets hidden)"
    );
    assert_eq!(listed(&page.body).len(), 50);
    let page = app.get("/acme/tickets?tag=over").await;
    assert_eq!(
        showing(&page.body),
        "Showing 200+ tickets (closed tickets hidden)"
    );
    let page = app.get(&format!("/acme/tickets?priority={high}")).await;
    assert_eq!(
        showing(&page.body),
        "Showing 1 ticket (closed tickets hidden)"
    );
    // Unfiltered, the exact total comes from the counters.
    let page = app.get("/acme/tickets").await;
    assert_eq!(
        showing(&page.body),
        "Showing 1,006 tickets (closed tickets hidden)"
    );
    assert_eq!(badge_count(&page.body, "New"), "1,006");
    assert_eq!(listed(&page.body)[0], 1006);

    // A customer's own list is filtered by nature.
    sign_in_as(&mut app, "acme", &acme.customer.email).await;
    let page = app.get("/acme/tickets").await;
    assert_eq!(
        showing(&page.body),
        "Showing 200+ tickets (closed tickets hidden)"
    );
}

async fn plan_cache_mode(conn: &mut sqlx::PgConnection) -> String {
    sqlx::query_scalar("select current_setting('plan_cache_mode')")
        .fetch_one(conn)
        .await
        .unwrap()
}

/// The landing list's statement is prepared and reused with one plan per
/// connection when its transaction is planned as the list asks
/// (`ListQuery::plans`, `TenantTx::plan`); any other list is planned for its
/// values; and the planning is the transaction's own: the next transaction on
/// the same connection plans per values again.
#[tokio::test]
async fn the_landing_list_reuses_its_plan_within_its_transaction_only() {
    use tessera::{
        db::{Db, Plans},
        tickets::{catalog::Catalog, list},
    };
    let app = TestApp::new().await;
    let acme = app.create_tenant("acme").await;
    create_direct(&app, &acme.customer, subject("Printer jams")).await;
    let agent = &acme.agent;
    // One connection, so the second transaction is on the first one's.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with((*app.db.pool().connect_options()).clone())
        .await
        .unwrap();
    let db = Db::from_pool(pool);

    let mut tx = db.tenant_tx(acme.tenant.id).await.unwrap();
    let catalog = Catalog::load(&mut tx, acme.tenant.id).await.unwrap();
    let landing = list::ListQuery::parse(&Default::default(), agent, &catalog.options);
    let filtered = list::ListQuery::parse(
        &serde_urlencoded::from_str("sort=priority").unwrap(),
        agent,
        &catalog.options,
    );
    assert_eq!(landing.plans(agent), Plans::Generic);
    assert_eq!(filtered.plans(agent), Plans::Auto);
    tx.plan(landing.plans(agent)).await.unwrap();
    for _ in 0..2 {
        let page = list::fetch_page(&mut tx, acme.tenant.id, agent, &landing, &catalog)
            .await
            .unwrap();
        assert_eq!(page.rows.len(), 1);
    }
    let plans: Vec<(i64, i64)> = sqlx::query_as(
        "select generic_plans, custom_plans from pg_prepared_statements \
          where statement like 'select t.id, t.number, t.subject, %'",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert_eq!(plans, [(2, 0)], "one statement, its one plan used twice");
    assert_eq!(plan_cache_mode(&mut tx).await, "force_generic_plan");
    tx.end_read();

    let mut next = db.tenant_tx(acme.tenant.id).await.unwrap();
    assert_eq!(plan_cache_mode(&mut next).await, "auto");
}
