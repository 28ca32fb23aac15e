//! The authorization matrix: every tenant route against every kind of caller,
//! as listed in `fixtures/authorization.tsv` (its header says how to read it),
//! with every seeded string carrying a canary that says who may see it; and a
//! check that the file lists every route the router serves, no more, no less.
//!
//! One world is built once and shared by all callers (POSTs on a ticket get a
//! fresh ticket G of their own). Every response body — pages, downloads,
//! search results, activity — and every email the run put in the outbox is
//! searched for canaries its reader may not see.

use crate::helpers::{PASSWORD, TestApp, TestResponse};
use axum::http::{Method, StatusCode};
use figment::providers::Serialized;
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::{self, Write as _},
    net::{IpAddr, Ipv4Addr},
    path::{Path, PathBuf},
    time::Instant,
};
use tessera::{
    auth::model::{NewUser, Role, User},
    config::Config,
    guests::service as guests,
    replies::{repo::ReplyId, service as replies},
    tenants::Tenant,
    tickets::{
        model::TicketId,
        service::{self as tickets, TicketInput},
    },
    web::{SESSION_COOKIE, csrf},
};

const MATRIX_FILE: &str = "tests/it/fixtures/authorization.tsv";
pub(crate) const TENANT: &str = "acme";
const TENANT_2: &str = "globex";
/// Customer A's address (it carries G's canary: only who may see G may see it).
pub(crate) const EMAIL_A: &str = "ann-cnry-g-mail@acme.test";
const EMAIL_A2: &str = "bob-cnry-h-mail@acme.test";
const EMAIL_B: &str = "carol-cnry-t2-mail@globex.test";
/// A word only internal notes contain: searching for it must find nothing for
/// a customer or a guest.
const NOTE_WORD: &str = "xylophonic";

/// Who asks, in the matrix's column order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Principal {
    Anonymous,
    Guest,
    GuestRevoked,
    GuestOtherTicket,
    CustomerA,
    CustomerA2,
    CustomerB,
    Agent,
    Admin,
    AgentT2,
    AdminT2,
}

pub(crate) const PRINCIPALS: [Principal; 11] = [
    Principal::Anonymous,
    Principal::Guest,
    Principal::GuestRevoked,
    Principal::GuestOtherTicket,
    Principal::CustomerA,
    Principal::CustomerA2,
    Principal::CustomerB,
    Principal::Agent,
    Principal::Admin,
    Principal::AgentT2,
    Principal::AdminT2,
];

impl Principal {
    pub(crate) fn column(self) -> &'static str {
        match self {
            Principal::Anonymous => "anonymous",
            Principal::Guest => "guest",
            Principal::GuestRevoked => "guest_revoked",
            Principal::GuestOtherTicket => "guest_other_ticket",
            Principal::CustomerA => "customer_a",
            Principal::CustomerA2 => "customer_a2",
            Principal::CustomerB => "customer_b",
            Principal::Agent => "agent",
            Principal::Admin => "admin",
            Principal::AgentT2 => "agent_t2",
            Principal::AdminT2 => "admin_t2",
        }
    }

    pub(crate) fn index(self) -> usize {
        PRINCIPALS
            .iter()
            .position(|p| *p == self)
            .expect("every principal is listed")
    }

    /// The tenant and address it signs in with, if it signs in.
    pub(crate) fn account(self) -> Option<(&'static str, &'static str)> {
        match self {
            Principal::CustomerA => Some((TENANT, EMAIL_A)),
            Principal::CustomerA2 => Some((TENANT, EMAIL_A2)),
            Principal::CustomerB => Some((TENANT_2, EMAIL_B)),
            Principal::Agent => Some((TENANT, "agent@acme.test")),
            Principal::Admin => Some((TENANT, "admin@acme.test")),
            Principal::AgentT2 => Some((TENANT_2, "agent@globex.test")),
            Principal::AdminT2 => Some((TENANT_2, "admin@globex.test")),
            Principal::Anonymous
            | Principal::Guest
            | Principal::GuestRevoked
            | Principal::GuestOtherTicket => None,
        }
    }

    /// Each caller comes from an address of its own, so that one caller's
    /// failed guesses never throttle another.
    fn client_ip(self) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, 10 + self.index() as u8))
    }
}

/// Who may see what: every seeded string carries `cnry-{class}-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Canary {
    /// Ticket G: subject, description, public replies, its file, its tag,
    /// customer A's name and address.
    G,
    /// Internal notes (on G and H) and their files: tenant 1's staff only.
    Note,
    /// Ticket H (customer A2's) and customer A2.
    H,
    /// Tenant 2's ticket and people.
    T2,
    /// Tenant 2's internal note.
    T2Note,
}

const CANARIES: [Canary; 5] = [
    Canary::G,
    Canary::Note,
    Canary::H,
    Canary::T2,
    Canary::T2Note,
];

impl Canary {
    fn marker(self) -> &'static str {
        match self {
            Canary::G => "cnry-g-",
            Canary::Note => "cnry-note-",
            Canary::H => "cnry-h-",
            Canary::T2 => "cnry-t2-",
            Canary::T2Note => "cnry-t2note-",
        }
    }

    fn visible_to(self, who: Principal) -> bool {
        use Principal as P;
        match self {
            Canary::G => matches!(who, P::Guest | P::CustomerA | P::Agent | P::Admin),
            Canary::Note => matches!(who, P::Agent | P::Admin),
            Canary::H => matches!(
                who,
                P::GuestOtherTicket | P::CustomerA2 | P::Agent | P::Admin
            ),
            Canary::T2 => matches!(who, P::CustomerB | P::AgentT2 | P::AdminT2),
            Canary::T2Note => matches!(who, P::AgentT2 | P::AdminT2),
        }
    }
}

/// The canaries in `text` that `who` may not see.
fn forbidden_canaries(who: Principal, text: &str) -> Vec<&'static str> {
    CANARIES
        .into_iter()
        .filter(|canary| !canary.visible_to(who) && text.contains(canary.marker()))
        .map(Canary::marker)
        .collect()
}

/// One expected answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
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

    pub(crate) fn matches(self, status: StatusCode, location: Option<&str>) -> bool {
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

/// What the `{reply}`, `{id}` or `{token}` of a path stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    None,
    CustomerReply,
    AgentReply,
    AgentNote,
    ReplyOnOtherTicket,
    GFile,
    NoteFile,
    HFile,
    T2File,
    GToken,
    HToken,
    RevokedToken,
    UnknownToken,
    Nil,
}

impl Target {
    fn parse(cell: &str) -> Result<Self, String> {
        Ok(match cell {
            "-" => Target::None,
            "customer_reply" => Target::CustomerReply,
            "agent_reply" => Target::AgentReply,
            "agent_note" => Target::AgentNote,
            "reply_on_other_ticket" => Target::ReplyOnOtherTicket,
            "g_file" => Target::GFile,
            "note_file" => Target::NoteFile,
            "h_file" => Target::HFile,
            "t2_file" => Target::T2File,
            "g_token" => Target::GToken,
            "h_token" => Target::HToken,
            "revoked_token" => Target::RevokedToken,
            "unknown_token" => Target::UnknownToken,
            "nil" => Target::Nil,
            other => return Err(format!("unknown target `{other}`")),
        })
    }

    /// The placeholder it fills.
    fn placeholder(self) -> Option<&'static str> {
        match self {
            Target::None => None,
            Target::CustomerReply
            | Target::AgentReply
            | Target::AgentNote
            | Target::ReplyOnOtherTicket => Some("{reply}"),
            Target::GFile | Target::NoteFile | Target::HFile | Target::T2File | Target::Nil => {
                Some("{id}")
            }
            Target::GToken | Target::HToken | Target::RevokedToken | Target::UnknownToken => {
                Some("{token}")
            }
        }
    }
}

pub(crate) struct Row {
    pub(crate) line: usize,
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) target_cell: String,
    pub(crate) target: Target,
    pub(crate) body: Option<String>,
    pub(crate) expected: [Expect; 11],
}

const HEADER: [&str; 15] = [
    "method",
    "path",
    "target",
    "body",
    "anonymous",
    "guest",
    "guest_revoked",
    "guest_other_ticket",
    "customer_a",
    "customer_a2",
    "customer_b",
    "agent",
    "admin",
    "agent_t2",
    "admin_t2",
];

fn bad_line(line: usize, why: &str) -> ! {
    panic!("{MATRIX_FILE}:{line}: {why}")
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The rows of the matrix file; panics with the line on anything malformed.
pub(crate) fn read_matrix() -> Vec<Row> {
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
            let target = Target::parse(cells[2]).unwrap_or_else(|e| bad_line(line, &e));
            for placeholder in ["{reply}", "{id}", "{token}"] {
                if path.contains(placeholder) != (target.placeholder() == Some(placeholder)) {
                    bad_line(
                        line,
                        &format!("a path with {placeholder} needs a target that fills it, and only such a path"),
                    );
                }
            }
            let mut expected = [Expect::Login; 11];
            for (slot, cell) in expected.iter_mut().zip(&cells[4..]) {
                *slot = Expect::parse(cell).unwrap_or_else(|e| bad_line(line, &e));
            }
            Row {
                line,
                method,
                path: path.to_owned(),
                target_cell: cells[2].to_owned(),
                target,
                body: (cells[3] != "-").then(|| cells[3].to_owned()),
                expected,
            }
        })
        .collect();
    assert!(!rows.is_empty(), "{MATRIX_FILE} lists no routes");
    rows
}

/// Ticket G as one cell sees it: its number, replies and access links.
#[derive(Clone)]
pub(crate) struct TicketG {
    pub(crate) number: i64,
    pub(crate) customer_reply: ReplyId,
    pub(crate) agent_reply: ReplyId,
    pub(crate) agent_note: ReplyId,
    pub(crate) live_token: String,
    pub(crate) revoked_token: String,
}

/// What a caller carries between requests.
#[derive(Clone)]
struct Credentials {
    cookies: Vec<(String, String)>,
    csrf_token: String,
    /// Its session as stored when it signed in, put back before each of its
    /// requests: a cell that signs out (or in again) ends the session, and
    /// signing in anew for the next cell would cost a password hash each time.
    session: Option<(String, Vec<u8>, time::OffsetDateTime)>,
}

pub(crate) struct World {
    pub(crate) app: TestApp,
    attachments_dir: PathBuf,
    pub(crate) acme: Tenant,
    pub(crate) customer_a: User,
    pub(crate) agent: User,
    /// The shared ticket G, seeded through the forms with files.
    pub(crate) g: TicketG,
    reply_on_h: ReplyId,
    h_token: String,
    g_file: uuid::Uuid,
    note_file: uuid::Uuid,
    h_file: uuid::Uuid,
    t2_file: uuid::Uuid,
    credentials: [Option<Credentials>; 11],
    /// How many fresh tickets G were made.
    fresh_tickets: usize,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.attachments_dir);
    }
}

async fn new_user(app: &TestApp, tenant: &Tenant, email: &str, name: &str, role: Role) -> User {
    tessera::auth::service::create_user(
        &app.db,
        tenant.id,
        NewUser::new(email, Some(name), role, Some(PASSWORD.to_owned())).expect("a valid user"),
    )
    .await
    .expect("creating a user")
}

async fn rename(app: &TestApp, user: &User, name: &str) {
    sqlx::query("update users set name = $1 where id = $2")
        .bind(name)
        .bind(user.id)
        .execute(app.db.pool())
        .await
        .expect("renaming a user");
}

async fn ticket_id(app: &TestApp, tenant: &Tenant, number: i64) -> TicketId {
    sqlx::query_scalar("select id from tickets where tenant_id = $1 and number = $2")
        .bind(tenant.id)
        .bind(number)
        .fetch_one(app.db.pool())
        .await
        .expect("the ticket's id")
}

async fn ticket(app: &TestApp, requester: &User, subject: &str, description: &str) -> i64 {
    let input = TicketInput {
        subject: subject.to_owned(),
        description: description.to_owned(),
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

/// A live link of ticket `number` for `user`.
async fn link(app: &TestApp, tenant: &Tenant, number: i64, user: &User) -> String {
    let id = ticket_id(app, tenant, number).await;
    let mut tx = app.db.tenant_tx(tenant.id).await.expect("a transaction");
    let token = guests::issue_link(&mut tx, app.clock.now(), id, user.id)
        .await
        .expect("issuing a link");
    tx.commit().await.expect("commit");
    token
}

/// The id of the attachment called `filename`.
async fn attachment(app: &TestApp, filename: &str) -> uuid::Uuid {
    sqlx::query_scalar("select id from attachments where filename = $1")
        .bind(filename)
        .fetch_one(app.db.pool())
        .await
        .unwrap_or_else(|e| panic!("the attachment {filename}: {e}"))
}

/// Signs in through the form and returns the redirect's ticket number.
async fn sign_in(app: &mut TestApp, tenant: &str, email: &str) {
    app.clear_cookies();
    app.sign_in(tenant, email, PASSWORD)
        .await
        .assert_redirect_to(&format!("/{tenant}/"));
}

fn number_in(response: &TestResponse, tenant: &str) -> i64 {
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    response
        .location()
        .and_then(|l| l.strip_prefix(&format!("/{tenant}/tickets/")))
        .and_then(|rest| rest.split(['?', '#', '/']).next())
        .and_then(|n| n.parse().ok())
        .expect("a ticket number in the redirect")
}

impl World {
    pub(crate) async fn new() -> Self {
        let attachments_dir =
            std::env::temp_dir().join(format!("tessera-authz-{}", uuid::Uuid::now_v7()));
        let mut app = TestApp::with_config(
            Config::defaults().merge(Serialized::default("attachments.dir", &attachments_dir)),
        )
        .await;
        let acme = app.create_tenant(TENANT).await;
        let globex = app.create_tenant(TENANT_2).await;
        let customer_a = acme.customer.clone();
        sqlx::query("update users set email = $1 where id = $2")
            .bind(EMAIL_A)
            .bind(customer_a.id)
            .execute(app.db.pool())
            .await
            .expect("giving customer A a canary address");
        rename(&app, &customer_a, "Ann cnry-g-name").await;
        let customer_a2 = new_user(
            &app,
            &acme.tenant,
            EMAIL_A2,
            "Bob cnry-h-name",
            Role::Customer,
        )
        .await;
        sqlx::query("update users set email = $1 where id = $2")
            .bind(EMAIL_B)
            .bind(globex.customer.id)
            .execute(app.db.pool())
            .await
            .expect("giving customer B a canary address");
        rename(&app, &globex.customer, "Carol cnry-t2-name").await;
        rename(&app, &globex.agent, "Dave cnry-t2-agentname").await;
        rename(&app, &globex.admin, "Erin cnry-t2-adminname").await;

        // Ticket G, by customer A through the form, with a file.
        sign_in(&mut app, TENANT, EMAIL_A).await;
        app.get(&format!("/{TENANT}/tickets/new")).await;
        let created = app
            .post_multipart(
                &format!("/{TENANT}/tickets"),
                &[
                    ("subject", "Printer cnry-g-subject"),
                    ("description", "It jams. cnry-g-description pelican"),
                ],
                &[("cnry-g-file.txt", b"cnry-g-filecontent")],
            )
            .await;
        let g_number = number_in(&created, TENANT);
        // The agent tags G and writes a note with a file.
        sign_in(&mut app, TENANT, "agent@acme.test").await;
        let g_path = format!("/{TENANT}/tickets/{g_number}");
        app.get(&format!("{g_path}/edit")).await;
        let edited = app
            .post_form(
                &g_path,
                &[
                    ("subject", "Printer cnry-g-subject"),
                    ("description", "It jams. cnry-g-description pelican"),
                    ("requester", EMAIL_A),
                    ("tags", "cnry-g-tag"),
                ],
            )
            .await;
        assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
        app.get(&g_path).await;
        let noted = app
            .post_multipart(
                &format!("{g_path}/replies"),
                &[
                    ("body", &format!("cnry-note-body {NOTE_WORD}")),
                    ("internal", "1"),
                    ("action", "send"),
                ],
                &[("cnry-note-file.txt", b"cnry-note-filecontent")],
            )
            .await;
        assert_eq!(noted.status, StatusCode::SEE_OTHER, "{}", noted.body);

        // Ticket H, by customer A2, with a file and a note.
        sign_in(&mut app, TENANT, EMAIL_A2).await;
        app.get(&format!("/{TENANT}/tickets/new")).await;
        let created = app
            .post_multipart(
                &format!("/{TENANT}/tickets"),
                &[
                    ("subject", "Scanner cnry-h-subject"),
                    ("description", "Slow. cnry-h-description"),
                ],
                &[("cnry-h-file.txt", b"cnry-h-filecontent")],
            )
            .await;
        let h_number = number_in(&created, TENANT);
        let reply_on_h = reply(&app, &customer_a2, h_number, "cnry-h-reply", false).await;
        reply(&app, &acme.agent, h_number, "cnry-note-onh", true).await;

        // Tenant 2's ticket (its numbers overlap tenant 1's), with a file and a note.
        sign_in(&mut app, TENANT_2, EMAIL_B).await;
        app.get(&format!("/{TENANT_2}/tickets/new")).await;
        let created = app
            .post_multipart(
                &format!("/{TENANT_2}/tickets"),
                &[
                    ("subject", "Globex cnry-t2-subject"),
                    ("description", "Broken. cnry-t2-description"),
                ],
                &[("cnry-t2-file.txt", b"cnry-t2-filecontent")],
            )
            .await;
        let t2_number = number_in(&created, TENANT_2);
        reply(&app, &globex.agent, t2_number, "cnry-t2-reply", false).await;
        reply(
            &app,
            &globex.agent,
            t2_number,
            &format!("cnry-t2note-body {NOTE_WORD}"),
            true,
        )
        .await;
        app.clear_cookies();

        let g_file = attachment(&app, "cnry-g-file.txt").await;
        let note_file = attachment(&app, "cnry-note-file.txt").await;
        let h_file = attachment(&app, "cnry-h-file.txt").await;
        let t2_file = attachment(&app, "cnry-t2-file.txt").await;
        let h_token = link(&app, &acme.tenant, h_number, &customer_a2).await;
        let mut world = Self {
            g: TicketG {
                number: g_number,
                customer_reply: ReplyId::generate(),
                agent_reply: ReplyId::generate(),
                agent_note: ReplyId::generate(),
                live_token: String::new(),
                revoked_token: String::new(),
            },
            app,
            attachments_dir,
            acme: acme.tenant,
            customer_a,
            agent: acme.agent,
            reply_on_h,
            h_token,
            g_file,
            note_file,
            h_file,
            t2_file,
            credentials: Default::default(),
            fresh_tickets: 0,
        };
        world.g = world.replies_and_links(g_number).await;
        world
    }

    /// Replies and access links on ticket `number` (one link revoked, one live).
    async fn replies_and_links(&self, number: i64) -> TicketG {
        let app = &self.app;
        let customer_reply = reply(app, &self.customer_a, number, "cnry-g-custreply", false).await;
        let agent_reply = reply(app, &self.agent, number, "cnry-g-agentreply", false).await;
        let agent_note = reply(
            app,
            &self.agent,
            number,
            &format!("cnry-note-n {NOTE_WORD}"),
            true,
        )
        .await;
        let revoked_token = link(app, &self.acme, number, &self.customer_a).await;
        guests::revoke(&app.db, &app.clock, &self.agent, number)
            .await
            .expect("revoking G's links");
        let live_token = link(app, &self.acme, number, &self.customer_a).await;
        TicketG {
            number,
            customer_reply,
            agent_reply,
            agent_note,
            live_token,
            revoked_token,
        }
    }

    /// A fresh ticket G of customer A, for a cell that changes things.
    pub(crate) async fn fresh_g(&mut self) -> TicketG {
        self.fresh_tickets += 1;
        let number = ticket(
            &self.app,
            &self.customer_a,
            "Fresh cnry-g-subject2",
            "cnry-g-description2",
        )
        .await;
        self.replies_and_links(number).await
    }

    /// Makes the app's cookie jar that of `who` on ticket `g`; returns its form token.
    pub(crate) async fn become_principal(&mut self, who: Principal, g: &TicketG) -> String {
        self.app.client_ip = who.client_ip();
        let credentials = match &self.credentials[who.index()] {
            Some(credentials) => credentials.clone(),
            None => {
                self.app.clear_cookies();
                if let Some((tenant, email)) = who.account() {
                    sign_in(&mut self.app, tenant, email).await;
                } else {
                    self.app.get(&format!("/{TENANT}/login")).await;
                }
                let session = match self.app.cookie(SESSION_COOKIE) {
                    Some(id) if who.account().is_some() => Some(
                        sqlx::query_as(
                            "select id, data, expiry_date from tower_sessions.session where id = $1",
                        )
                        .bind(id)
                        .fetch_one(self.app.db.pool())
                        .await
                        .expect("the session just made"),
                    ),
                    _ => None,
                };
                let credentials = Credentials {
                    session,
                    cookies: [SESSION_COOKIE, csrf::COOKIE]
                        .into_iter()
                        .filter_map(|name| {
                            self.app
                                .cookie(name)
                                .map(|value| (name.to_owned(), value.to_owned()))
                        })
                        .collect(),
                    csrf_token: self
                        .app
                        .csrf_token()
                        .unwrap_or_else(|| panic!("no form token for {who:?}"))
                        .to_owned(),
                };
                self.credentials[who.index()] = Some(credentials.clone());
                credentials
            }
        };
        if let Some((id, data, expiry)) = &credentials.session {
            sqlx::query(
                "insert into tower_sessions.session (id, data, expiry_date) values ($1, $2, $3) \
                 on conflict (id) do nothing",
            )
            .bind(id)
            .bind(data)
            .bind(expiry)
            .execute(self.app.db.pool())
            .await
            .expect("putting the session back");
        }
        self.app.clear_cookies();
        for (name, value) in &credentials.cookies {
            self.app.set_cookie(name, value);
        }
        let access = match who {
            Principal::Guest => Some(&g.live_token),
            Principal::GuestRevoked => Some(&g.revoked_token),
            Principal::GuestOtherTicket => Some(&self.h_token),
            _ => None,
        };
        if let Some(token) = access {
            self.app.set_cookie(tessera::guests::ACCESS_COOKIE, token);
        }
        credentials.csrf_token
    }

    pub(crate) fn concrete_path(&self, row: &Row, g: &TicketG) -> String {
        let value = match row.target {
            Target::None => String::new(),
            Target::CustomerReply => g.customer_reply.to_string(),
            Target::AgentReply => g.agent_reply.to_string(),
            Target::AgentNote => g.agent_note.to_string(),
            Target::ReplyOnOtherTicket => self.reply_on_h.to_string(),
            Target::GFile => self.g_file.to_string(),
            Target::NoteFile => self.note_file.to_string(),
            Target::HFile => self.h_file.to_string(),
            Target::T2File => self.t2_file.to_string(),
            Target::GToken => g.live_token.clone(),
            Target::HToken => self.h_token.clone(),
            Target::RevokedToken => g.revoked_token.clone(),
            Target::UnknownToken => "A".repeat(43),
            Target::Nil => uuid::Uuid::nil().to_string(),
        };
        let mut path = row
            .path
            .replace("{t}", TENANT)
            .replace("{number}", &g.number.to_string());
        if let Some(placeholder) = row.target.placeholder() {
            path = path.replace(placeholder, &value);
        }
        path
    }

    /// Sends one request as the jar stands, with `token` in POST bodies.
    pub(crate) async fn send(
        &mut self,
        method: &Method,
        path: &str,
        body: &str,
        token: &str,
    ) -> TestResponse {
        self.send_with(method, path, body, Some(token), &[]).await
    }

    /// Sends one request as the jar stands: a POST's body gets `token` as its
    /// form field when there is one, and `headers` are added.
    pub(crate) async fn send_with(
        &mut self,
        method: &Method,
        path: &str,
        body: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        if *method == Method::GET {
            return self.app.request(Method::GET, path, None, headers).await;
        }
        let mut fields: Vec<(String, String)> =
            serde_urlencoded::from_str(body).expect("the body is URL-encoded");
        if let Some(token) = token {
            fields.push((csrf::FIELD.to_owned(), token.to_owned()));
        }
        let body = serde_urlencoded::to_string(&fields).expect("encoding a form");
        let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        self.app
            .request(method.clone(), path, Some(body), &all)
            .await
    }
}

/// The form a row posts, its placeholders filled.
pub(crate) fn body_of(row: &Row) -> String {
    row.body
        .as_deref()
        .unwrap_or_default()
        .replace("{password}", PASSWORD)
        .replace("{email_a}", &EMAIL_A.replace('@', "%40"))
}

/// A cell that went differently from the file.
struct Mismatch {
    line: usize,
    route: String,
    target: String,
    principal: &'static str,
    expected: String,
    got: String,
}

fn table(mismatches: &[Mismatch]) -> String {
    let titles = ["line", "route", "target", "principal", "expected", "got"];
    let rows: Vec<[String; 6]> = mismatches
        .iter()
        .map(|m| {
            [
                m.line.to_string(),
                m.route.clone(),
                m.target.clone(),
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

/// Whether a cell changes things, so that it needs a fresh ticket G.
pub(crate) fn changes_ticket(row: &Row) -> bool {
    row.method == Method::POST && row.path.contains("{number}")
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_matrix_says_and_leaks_no_canary() {
    let started = Instant::now();
    let rows = read_matrix();
    let mut world = World::new().await;
    let seeded = started.elapsed();
    let mut mismatches = Vec::new();
    let mut cells = 0;
    let mut bodies = 0;
    for row in &rows {
        for (who, expected) in PRINCIPALS.into_iter().zip(row.expected) {
            cells += 1;
            let g = if changes_ticket(row) {
                world.fresh_g().await
            } else {
                world.g.clone()
            };
            let token = world.become_principal(who, &g).await;
            let path = world.concrete_path(row, &g);
            let body = body_of(row);
            let response = world.send(&row.method, &path, &body, &token).await;
            bodies += 1;

            let mut mismatch = |expected: String, got: String| {
                mismatches.push(Mismatch {
                    line: row.line,
                    route: format!("{} {}", row.method, row.path),
                    target: row.target_cell.clone(),
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
            let text = &response.body;
            let leaked = forbidden_canaries(who, text);
            if !leaked.is_empty() {
                mismatch("no canary it may not see".to_owned(), leaked.join(" "));
            }
            if !matches!(who, Principal::Agent | Principal::Admin) && text.contains("Internal note")
            {
                mismatch(
                    "no internal note".to_owned(),
                    "the note's label in the body".to_owned(),
                );
            }
        }
    }

    // Search: a word only internal notes contain finds nothing for anyone
    // but staff, while a word of G's description finds G for whoever may see
    // it (so the probe is live).
    let matrix_done = started.elapsed();
    for who in PRINCIPALS {
        let g = world.g.clone();
        world.become_principal(who, &g).await;
        for (query, may_find) in [
            (
                NOTE_WORD,
                matches!(who, Principal::Agent | Principal::Admin),
            ),
            (
                "pelican",
                matches!(
                    who,
                    Principal::CustomerA | Principal::Agent | Principal::Admin
                ),
            ),
        ] {
            let path = format!("/{TENANT}/tickets?q={query}");
            let response = world.app.get(&path).await;
            bodies += 1;
            let found_g = response.body.contains("cnry-g-subject");
            let must_find = query == "pelican" && may_find;
            let leaked = forbidden_canaries(who, &response.body);
            if (found_g && !may_find) || (must_find && !found_g) || !leaked.is_empty() {
                mismatches.push(Mismatch {
                    line: 0,
                    route: format!("GET {path}"),
                    target: "-".to_owned(),
                    principal: who.column(),
                    expected: format!("G listed: {must_find} (may be: {may_find})"),
                    got: format!(
                        "{}, G listed: {found_g} {}",
                        response.status.as_u16(),
                        leaked.join(" ")
                    ),
                });
            }
        }
    }

    // Every email the run produced: nothing its recipient may not see.
    let recipients: BTreeMap<&str, Principal> = PRINCIPALS
        .into_iter()
        .filter_map(|who| who.account().map(|(_, email)| (email, who)))
        .collect();
    let mails: Vec<(String, String, String, String)> = sqlx::query_as(
        "select recipient_email, subject, body_text, body_html from email_outbox \
          where channel = 'email'",
    )
    .fetch_all(world.app.db.pool())
    .await
    .expect("reading the outbox");
    let mut mails_to_customers = 0;
    for (to, subject, text, html) in &mails {
        // Someone who is none of the callers (a user the matrix created) may
        // see no canary at all, like an anonymous caller.
        let who = recipients
            .get(to.as_str())
            .copied()
            .unwrap_or(Principal::Anonymous);
        if matches!(who, Principal::CustomerA | Principal::CustomerA2) {
            mails_to_customers += 1;
        }
        let leaked = forbidden_canaries(who, &format!("{subject}\n{text}\n{html}"));
        if !leaked.is_empty() || (who == Principal::CustomerA && text.contains(NOTE_WORD)) {
            mismatches.push(Mismatch {
                line: 0,
                route: format!("email to {to}: {subject}"),
                target: "-".to_owned(),
                principal: who.column(),
                expected: "no canary it may not see".to_owned(),
                got: leaked.join(" "),
            });
        }
    }
    assert!(
        mails_to_customers > 0,
        "the run emailed no customer, so the outbox check saw nothing"
    );

    // The router's own table: every listed route answers its methods, and
    // every other method of its path is 405 (nothing unlisted hides there).
    let g = world.g.clone();
    let token = world.become_principal(Principal::Admin, &g).await;
    let mut probes = 0;
    let listed: BTreeMap<String, (BTreeSet<Method>, &Row)> =
        rows.iter().fold(BTreeMap::new(), |mut paths, row| {
            paths
                .entry(row.path.clone())
                .or_insert_with(|| (BTreeSet::new(), row))
                .0
                .insert(row.method.clone());
            paths
        });
    for (path, (methods, row)) in &listed {
        let concrete = world.concrete_path(row, &g);
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            if methods.contains(&method) {
                continue;
            }
            probes += 1;
            let response = world
                .app
                .request(method.clone(), &concrete, None, &[(csrf::HEADER, &token)])
                .await;
            if response.status != StatusCode::METHOD_NOT_ALLOWED {
                mismatches.push(Mismatch {
                    line: row.line,
                    route: format!("{method} {path}"),
                    target: row.target_cell.clone(),
                    principal: "admin",
                    expected: "405 (the matrix lists no such method)".to_owned(),
                    got: response.status.as_u16().to_string(),
                });
            }
        }
    }

    eprintln!(
        "authorization matrix: {} rows, {cells} cells, {bodies} bodies and {} emails searched \
         for canaries, {probes} method probes, {} fresh tickets; seeded in {seeded:?}, \
         matrix done at {matrix_done:?}, all in {:?}",
        rows.len(),
        mails.len(),
        world.fresh_tickets,
        started.elapsed()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells (and the search, outbox and method probes) differ from \
         {MATRIX_FILE}:\n{}",
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

/// Router calls that add routes some other way than `.route("literal", …)`:
/// the scan below could not read them, so any of them fails the check.
const OPAQUE_ROUTING: [&str; 6] = [
    ".nest(",
    ".nest_service(",
    ".route_service(",
    ".fallback_service(",
    "on(MethodFilter",
    "any_service(",
];

/// Every `.route("path", methods)` in the Rust sources under `dir`, as
/// (METHOD, path) pairs. axum does not expose its route table, so the sources
/// are read; the matrix test then probes the live router with every method
/// of every listed path, so a route the scan misread shows up there. A route
/// whose path is not a string literal, whose methods cannot be read, or that is
/// added by an opaque call is answered with "?" so that it shows up as unlisted.
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
            for call in OPAQUE_ROUTING {
                if source.contains(call) {
                    found.insert((
                        "?".to_owned(),
                        format!(
                            "{call}…) in {} (routes the scan cannot read)",
                            path.display()
                        ),
                    ));
                }
            }
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
            .route("/{tenant}/c", method_router)
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
            pair("?", "/{tenant}/c"),
        ])
    );
}
