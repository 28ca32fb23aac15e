//! The authorization matrix: every tenant route against every kind of caller,
//! as listed in `fixtures/authorization.tsv` (its header says how to read it),
//! and a check that the file lists every route the sources define.

use crate::helpers::{PASSWORD, TestApp};
use axum::http::{Method, StatusCode};
use std::{
    collections::BTreeSet,
    fmt::{self, Write as _},
    path::{Path, PathBuf},
};
use tessera::{
    auth::model::{NewUser, Role, User},
    replies::{repo::ReplyId, service as replies},
    tickets::service::{self as tickets, TicketInput},
    web::SESSION_COOKIE,
};

const MATRIX_FILE: &str = "tests/it/fixtures/authorization.tsv";
/// The subject of ticket G: must never appear where G may not be seen.
const SUBJECT_CANARY: &str = "CANARY-G-subject";
/// The text of the agent's internal note: must never reach a customer.
const NOTE_CANARY: &str = "CANARY-note";
const TENANT: &str = "acme";

/// Who asks, in the matrix's column order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Principal {
    Anonymous,
    Customer,
    OtherCustomer,
    Agent,
    Admin,
    AgentOtherTenant,
}

const PRINCIPALS: [Principal; 6] = [
    Principal::Anonymous,
    Principal::Customer,
    Principal::OtherCustomer,
    Principal::Agent,
    Principal::Admin,
    Principal::AgentOtherTenant,
];

impl Principal {
    fn column(self) -> &'static str {
        match self {
            Principal::Anonymous => "anonymous",
            Principal::Customer => "customer",
            Principal::OtherCustomer => "other_customer",
            Principal::Agent => "agent",
            Principal::Admin => "admin",
            Principal::AgentOtherTenant => "agent_other_tenant",
        }
    }

    fn index(self) -> usize {
        PRINCIPALS
            .iter()
            .position(|p| *p == self)
            .expect("every principal is listed")
    }

    fn is_staff_of_tenant(self) -> bool {
        matches!(self, Principal::Agent | Principal::Admin)
    }

    fn may_see_ticket_g(self) -> bool {
        matches!(
            self,
            Principal::Customer | Principal::Agent | Principal::Admin
        )
    }
}

/// One expected answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// A 303 to the tenant's login page.
    Login,
    /// A 303 anywhere but the login page.
    Redirect,
    Status(StatusCode),
}

impl Expect {
    fn parse(cell: &str) -> Result<Self, String> {
        match cell {
            "login" => Ok(Expect::Login),
            "303" => Ok(Expect::Redirect),
            other => other
                .parse::<u16>()
                .ok()
                .and_then(|code| StatusCode::from_u16(code).ok())
                .map(Expect::Status)
                .ok_or_else(|| format!("`{other}` is not a status code or `login`")),
        }
    }

    fn matches(self, status: StatusCode, location: Option<&str>) -> bool {
        let to_login = location.is_some_and(|l| l.starts_with(&format!("/{TENANT}/login")));
        match self {
            Expect::Login => status == StatusCode::SEE_OTHER && to_login,
            Expect::Redirect => status == StatusCode::SEE_OTHER && !to_login,
            Expect::Status(expected) => status == expected,
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Login => write!(f, "login (303 → /{TENANT}/login)"),
            Expect::Redirect => f.write_str("303 (not to login)"),
            Expect::Status(status) => write!(f, "{}", status.as_u16()),
        }
    }
}

/// Which reply `{reply}` stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReplyTarget {
    None,
    CustomerReply,
    AgentReply,
    AgentNote,
    ReplyOnOtherTicket,
}

impl ReplyTarget {
    fn parse(cell: &str) -> Result<Self, String> {
        Ok(match cell {
            "-" => ReplyTarget::None,
            "customer_reply" => ReplyTarget::CustomerReply,
            "agent_reply" => ReplyTarget::AgentReply,
            "agent_note" => ReplyTarget::AgentNote,
            "reply_on_other_ticket" => ReplyTarget::ReplyOnOtherTicket,
            other => return Err(format!("unknown reply `{other}`")),
        })
    }
}

struct Row {
    line: usize,
    method: Method,
    path: String,
    reply_cell: String,
    reply: ReplyTarget,
    body: Option<String>,
    expected: [Expect; 6],
}

const HEADER: [&str; 10] = [
    "method",
    "path",
    "reply",
    "body",
    "anonymous",
    "customer",
    "other_customer",
    "agent",
    "admin",
    "agent_other_tenant",
];

fn bad_line(line: usize, why: &str) -> ! {
    panic!("{MATRIX_FILE}:{line}: {why}")
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The rows of the matrix file; panics with the line on anything malformed.
fn read_matrix() -> Vec<Row> {
    let text = std::fs::read_to_string(manifest_dir().join(MATRIX_FILE))
        .unwrap_or_else(|e| panic!("reading {MATRIX_FILE}: {e}"));
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'));
    let (_, header) = lines.next().expect("the matrix has a header line");
    assert_eq!(
        header.split('\t').collect::<Vec<_>>(),
        HEADER,
        "{MATRIX_FILE}: the header"
    );
    let rows: Vec<Row> = lines
        .map(|(line, text)| {
            let cells: Vec<&str> = text.split('\t').collect();
            if cells.len() != HEADER.len() {
                bad_line(
                    line,
                    &format!("{} columns, expected {}", cells.len(), HEADER.len()),
                );
            }
            let method = match cells[0] {
                "GET" => Method::GET,
                "POST" => Method::POST,
                other => bad_line(
                    line,
                    &format!("method `{other}`: the test sends GET and POST only"),
                ),
            };
            let path = cells[1];
            if !path.starts_with("/{t}") {
                bad_line(line, &format!("path `{path}` does not start with /{{t}}"));
            }
            let reply = ReplyTarget::parse(cells[2]).unwrap_or_else(|e| bad_line(line, &e));
            if path.contains("{reply}") != (reply != ReplyTarget::None) {
                bad_line(
                    line,
                    "a path with {reply} needs a reply, and only such a path",
                );
            }
            let mut expected = [Expect::Login; 6];
            for (slot, cell) in expected.iter_mut().zip(&cells[4..]) {
                *slot = Expect::parse(cell).unwrap_or_else(|e| bad_line(line, &e));
            }
            Row {
                line,
                method,
                path: path.to_owned(),
                reply_cell: cells[2].to_owned(),
                reply,
                body: (cells[3] != "-").then(|| cells[3].to_owned()),
                expected,
            }
        })
        .collect();
    assert!(!rows.is_empty(), "{MATRIX_FILE} lists no routes");
    rows
}

/// What every cell runs against: a fresh ticket G with its replies, so that one
/// cell's change (a delete, an edit, a sign-out) never decides the next one.
struct Fixture {
    number: i64,
    customer_reply: ReplyId,
    agent_reply: ReplyId,
    agent_note: ReplyId,
    reply_on_other_ticket: ReplyId,
}

struct World {
    app: TestApp,
    customer: User,
    other_customer: User,
    agent: User,
    admin: User,
    /// Each principal's session cookie, once signed in.
    sessions: [Option<String>; 6],
}

impl World {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let acme = app.create_tenant(TENANT).await;
        let globex = app.create_tenant("globex").await;
        let other_customer = tessera::auth::service::create_user(
            &app.db,
            acme.tenant.id,
            NewUser::new(
                "other@acme.test",
                Some("Other customer of acme"),
                Role::Customer,
                Some(PASSWORD.to_owned()),
            )
            .expect("a valid user"),
        )
        .await
        .expect("creating the other customer");
        // Tenant 2 has a ticket of its own, so its numbers overlap tenant 1's.
        ticket(&app, &globex.customer, "A globex ticket").await;
        Self {
            app,
            customer: acme.customer,
            other_customer,
            agent: acme.agent,
            admin: acme.admin,
            sessions: Default::default(),
        }
    }

    async fn fixture(&self) -> Fixture {
        let number = ticket(&self.app, &self.customer, SUBJECT_CANARY).await;
        let other = ticket(&self.app, &self.other_customer, "Ticket H").await;
        Fixture {
            number,
            customer_reply: reply(
                &self.app,
                &self.customer,
                number,
                "From the customer",
                false,
            )
            .await,
            agent_reply: reply(&self.app, &self.agent, number, "From the agent", false).await,
            agent_note: reply(
                &self.app,
                &self.agent,
                number,
                &format!("{NOTE_CANARY}: staff only"),
                true,
            )
            .await,
            reply_on_other_ticket: reply(&self.app, &self.other_customer, other, "On H", false)
                .await,
        }
    }

    /// Makes the app's cookie jar that of `who`, with a form token to post.
    async fn become_principal(&mut self, who: Principal) {
        self.app.clear_cookies();
        if who != Principal::Anonymous {
            match &self.sessions[who.index()] {
                Some(session) => self.app.set_cookie(SESSION_COOKIE, session),
                None => {
                    let (tenant, email) = match who {
                        Principal::Customer => (TENANT, self.customer.email.clone()),
                        Principal::OtherCustomer => (TENANT, self.other_customer.email.clone()),
                        Principal::Agent => (TENANT, self.agent.email.clone()),
                        Principal::Admin => (TENANT, self.admin.email.clone()),
                        Principal::AgentOtherTenant => ("globex", "agent@globex.test".to_owned()),
                        Principal::Anonymous => unreachable!(),
                    };
                    self.app
                        .sign_in(tenant, &email, PASSWORD)
                        .await
                        .assert_redirect_to(&format!("/{tenant}/"));
                    self.sessions[who.index()] = self.app.cookie(SESSION_COOKIE).map(str::to_owned);
                }
            }
        }
        // A page with a form: the login page, or home when signed in.
        let login = self.app.get(&format!("/{TENANT}/login")).await;
        if login.status == StatusCode::SEE_OTHER {
            self.app.get(&format!("/{TENANT}/")).await;
        }
        assert!(self.app.csrf_token().is_some(), "no form token for {who:?}");
    }

    /// Forgets a session the last request replaced or ended (sign-in, sign-out).
    fn keep_session(&mut self, who: Principal) {
        let slot = &mut self.sessions[who.index()];
        if slot.as_deref() != self.app.cookie(SESSION_COOKIE) {
            *slot = None;
        }
    }
}

async fn ticket(app: &TestApp, requester: &User, subject: &str) -> i64 {
    let input = TicketInput {
        subject: subject.to_owned(),
        description: "Something is broken.".to_owned(),
        ..TicketInput::default()
    };
    tickets::create(&app.db, &app.clock, requester, input)
        .await
        .expect("creating a ticket")
        .number
}

async fn reply(app: &TestApp, author: &User, number: i64, body: &str, internal: bool) -> ReplyId {
    replies::add(
        &app.db,
        &app.clock,
        author,
        number,
        replies::NewReply {
            body,
            internal,
            ..Default::default()
        },
    )
    .await
    .expect("adding a reply")
}

fn concrete_path(row: &Row, fixture: &Fixture) -> String {
    let reply = match row.reply {
        ReplyTarget::None => None,
        ReplyTarget::CustomerReply => Some(fixture.customer_reply),
        ReplyTarget::AgentReply => Some(fixture.agent_reply),
        ReplyTarget::AgentNote => Some(fixture.agent_note),
        ReplyTarget::ReplyOnOtherTicket => Some(fixture.reply_on_other_ticket),
    };
    let mut path = row
        .path
        .replace("{t}", TENANT)
        .replace("{number}", &fixture.number.to_string());
    if let Some(reply) = reply {
        path = path.replace("{reply}", &reply.to_string());
    }
    path
}

/// A cell that went differently from the file.
struct Mismatch {
    line: usize,
    route: String,
    reply: String,
    principal: &'static str,
    expected: String,
    got: String,
}

fn table(mismatches: &[Mismatch]) -> String {
    let titles = ["line", "route", "reply", "principal", "expected", "got"];
    let rows: Vec<[String; 6]> = mismatches
        .iter()
        .map(|m| {
            [
                m.line.to_string(),
                m.route.clone(),
                m.reply.clone(),
                m.principal.to_owned(),
                m.expected.clone(),
                m.got.clone(),
            ]
        })
        .collect();
    let mut widths = titles.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for cells in std::iter::once(titles.map(str::to_owned)).chain(rows) {
        for (cell, width) in cells.iter().zip(widths) {
            let _ = write!(out, "{cell:<width$}  ");
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

// One test per kind of caller, each in a world of its own, so the harness runs
// the matrix's columns side by side.
#[tokio::test]
async fn every_route_answers_anonymous_callers_as_the_matrix_says() {
    check_matrix_column(Principal::Anonymous).await;
}

#[tokio::test]
async fn every_route_answers_the_requester_as_the_matrix_says() {
    check_matrix_column(Principal::Customer).await;
}

#[tokio::test]
async fn every_route_answers_another_customer_as_the_matrix_says() {
    check_matrix_column(Principal::OtherCustomer).await;
}

#[tokio::test]
async fn every_route_answers_an_agent_as_the_matrix_says() {
    check_matrix_column(Principal::Agent).await;
}

#[tokio::test]
async fn every_route_answers_an_admin_as_the_matrix_says() {
    check_matrix_column(Principal::Admin).await;
}

#[tokio::test]
async fn every_route_answers_an_agent_of_another_tenant_as_the_matrix_says() {
    check_matrix_column(Principal::AgentOtherTenant).await;
}

async fn check_matrix_column(column: Principal) {
    let rows = read_matrix();
    let mut world = World::new().await;
    let mut mismatches = Vec::new();
    let mut cells = 0;
    for row in &rows {
        for (who, expected) in PRINCIPALS.into_iter().zip(row.expected) {
            if who != column {
                continue;
            }
            cells += 1;
            let fixture = world.fixture().await;
            world.become_principal(who).await;
            let path = concrete_path(row, &fixture);
            let response = if row.method == Method::GET {
                world.app.get(&path).await
            } else {
                let body = row
                    .body
                    .as_deref()
                    .unwrap_or_default()
                    .replace("{password}", PASSWORD);
                let fields: Vec<(String, String)> =
                    serde_urlencoded::from_str(&body).expect("the body is URL-encoded");
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                world.app.post_form(&path, &fields).await
            };
            world.keep_session(who);

            let mut mismatch = |expected: String, got: String| {
                mismatches.push(Mismatch {
                    line: row.line,
                    route: format!("{} {}", row.method, row.path),
                    reply: row.reply_cell.clone(),
                    principal: who.column(),
                    expected,
                    got,
                });
            };
            if !expected.matches(response.status, response.location()) {
                let mut got = response.status.as_u16().to_string();
                if let Some(location) = response.location() {
                    let _ = write!(got, " → {location}");
                }
                mismatch(expected.to_string(), got);
            }
            let body = &response.body;
            if response.status == StatusCode::NOT_FOUND && body.contains(SUBJECT_CANARY) {
                mismatch(
                    "404 without G's subject".to_owned(),
                    "G's subject in the body".to_owned(),
                );
            } else if !who.may_see_ticket_g() && body.contains(SUBJECT_CANARY) {
                mismatch(
                    "nothing of ticket G".to_owned(),
                    "G's subject in the body".to_owned(),
                );
            }
            if !who.is_staff_of_tenant()
                && (body.contains(NOTE_CANARY) || body.contains("Internal note"))
            {
                mismatch(
                    "no internal note".to_owned(),
                    "the note (or its label) in the body".to_owned(),
                );
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells differ from {MATRIX_FILE}:\n{}",
        mismatches.len(),
        table(&mismatches)
    );
}

/// Routes that are not tenant routes, so the matrix leaves them out: the
/// health checks and the static files answer everyone alike.
const NOT_TENANT_ROUTES: [&str; 3] = ["/healthz", "/readyz", "/static/{*path}"];

const METHODS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "head", "options", "any",
];

/// Every `.route("path", methods)` in the Rust sources under `dir`, as
/// (METHOD, path) pairs. axum does not expose its route table, so the sources
/// are read. A route whose path is not a string literal, or whose methods
/// cannot be read, is answered with "?" so that it shows up as unlisted.
fn routes_in_sources(dir: &Path, found: &mut BTreeSet<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            routes_in_sources(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            routes_in(&source, found);
        }
    }
}

fn routes_in(source: &str, found: &mut BTreeSet<(String, String)>) {
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let args = rest.trim_start();
        let Some((path, after)) = args
            .strip_prefix('"')
            .and_then(|literal| literal.split_once('"'))
        else {
            found.insert(("?".to_owned(), "a path that is not a literal".to_owned()));
            continue;
        };
        // The method router: everything up to the `)` that closes `.route(`.
        let mut depth = 1;
        let handler: String = after
            .chars()
            .take_while(|c| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth > 0
            })
            .collect();
        let methods: Vec<&str> = METHODS
            .into_iter()
            .filter(|method| calls(&handler, method))
            .collect();
        if methods.is_empty() {
            found.insert(("?".to_owned(), path.to_owned()));
        }
        for method in methods {
            found.insert((method.to_uppercase(), path.to_owned()));
        }
    }
}

/// Whether `code` calls `name(` as a function of its own (`get(`, `.post(`,
/// `routing::post(`), not as the end of a longer name (`forget(`).
fn calls(code: &str, name: &str) -> bool {
    code.match_indices(&format!("{name}(")).any(|(at, _)| {
        code[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

#[test]
fn the_matrix_lists_every_route_of_the_router_and_no_other() {
    let mut routes = BTreeSet::new();
    routes_in_sources(&manifest_dir().join("src"), &mut routes);
    assert!(
        routes.iter().any(|(_, path)| path == "/{tenant}/tickets"),
        "reading the routes from the sources found too little: {routes:?}"
    );
    let listed: BTreeSet<(String, String)> = read_matrix()
        .into_iter()
        .map(|row| (row.method.to_string(), row.path))
        .collect();

    let mut problems = Vec::new();
    let mut tenant_routes = BTreeSet::new();
    for (method, path) in &routes {
        if let Some(rest) = path.strip_prefix("/{tenant}") {
            let route = (method.clone(), format!("/{{t}}{rest}"));
            if !listed.contains(&route) {
                problems.push(format!(
                    "{method} {} is a route but {MATRIX_FILE} does not list it",
                    route.1
                ));
            }
            tenant_routes.insert(route);
        } else if !NOT_TENANT_ROUTES.contains(&path.as_str()) {
            problems.push(format!(
                "{method} {path} is neither a tenant route nor an exempted one"
            ));
        }
    }
    for (method, path) in listed.difference(&tenant_routes) {
        problems.push(format!(
            "{method} {path} is listed in {MATRIX_FILE} but is no route"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn reading_routes_from_source_finds_methods_and_multi_line_routes() {
    let mut found = BTreeSet::new();
    routes_in(
        r#"Router::new()
            .route(
                "/{tenant}/a",
                get(handlers::list).post(handlers::create),
            )
            .route("/{tenant}/b", axum::routing::post(handlers::delete))
            .route(PATH, get(x))
            .route_layer(layer)"#,
        &mut found,
    );
    let pair = |m: &str, p: &str| (m.to_owned(), p.to_owned());
    assert_eq!(
        found,
        BTreeSet::from([
            pair("GET", "/{tenant}/a"),
            pair("POST", "/{tenant}/a"),
            pair("POST", "/{tenant}/b"),
            pair("?", "a path that is not a literal"),
        ])
    );
}
