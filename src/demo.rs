//! Demo data for `tessera serve --demo`: tenant `demo` with one account per role,
//! a few customers, and about forty tickets with replies and internal notes
//! spread over the last six weeks.
//!
//! Safe to run on every start: what exists is left alone, and tickets are seeded
//! only while the tenant has none. The tickets are made through the real services
//! (create, edit, reply), driven by a fixed clock that walks from 45 days ago to
//! yesterday, so events, followers, counters and search documents are what real
//! use would have left.

use crate::{
    auth::{
        self,
        model::{NewUser, Role, User},
        service::{CreateUserError, create_user},
    },
    clock::Clock,
    db::Db,
    replies::{self, repo::ReplyId, service::ReplyAction},
    tenants::{self, Tenant},
    tickets::{
        self,
        model::StatusCategory,
        options::TicketOptions,
        service::{SaveError, TicketInput},
    },
};
use anyhow::{Context as _, anyhow};
use time::{Duration, Time};

pub const TENANT_SLUG: &str = "demo";
pub const PASSWORD: &str = "tessera-demo";

/// The demo accounts: email, display name, role.
pub const ACCOUNTS: [(&str, &str, Role); 3] = [
    ("admin@demo.test", "Ada Admin", Role::Admin),
    ("agent@demo.test", "Alex Agent", Role::Agent),
    ("customer@demo.test", "Casey Customer", Role::Customer),
];

/// More customers, so the list's "Created By" varies. They have no password:
/// contacts who write in, not accounts to sign in with.
const CUSTOMERS: [(&str, &str); 4] = [
    ("maria.lindqvist@demo.test", "Maria Lindqvist"),
    ("tom.okafor@demo.test", "Tom Okafor"),
    ("priya.raman@demo.test", "Priya Raman"),
    ("jonas.becker@demo.test", "Jonas Becker"),
];

pub async fn ensure(db: &Db) -> anyhow::Result<Tenant> {
    let account = |(email, name, role): (&str, &str, Role)| {
        NewUser::new(email, Some(name), role, Some(PASSWORD.to_owned())).map_err(anyhow::Error::msg)
    };
    let tenant = match tenants::repo::find_by_slug(db.pool(), TENANT_SLUG).await? {
        Some(tenant) => tenant,
        None => {
            let tenant = tenants::service::create_tenant(
                db,
                TENANT_SLUG,
                "Demo Support",
                account(ACCOUNTS[0])?,
                true,
            )
            .await?;
            // The demo shows the public form too (/demo/submit); set once, so an
            // admin who switches it off keeps it off across restarts.
            let mut tx = db.tenant_tx(tenant.id).await?;
            sqlx::query(
                "update tenant_settings set guest_submission_enabled = true where tenant_id = $1",
            )
            .bind(tenant.id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            tenant
        }
    };
    let mut cast = Vec::with_capacity(ACCOUNTS.len() + CUSTOMERS.len());
    for entry in ACCOUNTS {
        cast.push(ensure_user(db, &tenant, entry.0, || account(entry)).await?);
    }
    for (email, name) in CUSTOMERS {
        let contact =
            || NewUser::new(email, Some(name), Role::Customer, None).map_err(anyhow::Error::msg);
        cast.push(ensure_user(db, &tenant, email, contact).await?);
    }
    seed_tickets(db, &tenant, &cast)
        .await
        .context("seeding the demo tickets")?;
    Ok(tenant)
}

/// The user with `email`, created from `new` if the tenant has nobody with it.
/// Looking first spares hashing a password on every start.
async fn ensure_user(
    db: &Db,
    tenant: &Tenant,
    email: &str,
    new: impl FnOnce() -> anyhow::Result<NewUser>,
) -> anyhow::Result<User> {
    if let Some(user) = find_user(db, tenant, email).await? {
        return Ok(user);
    }
    match create_user(db, tenant.id, new()?).await {
        Ok(user) => Ok(user),
        // Created meanwhile by another process starting at the same time.
        Err(CreateUserError::EmailTaken(_)) => find_user(db, tenant, email)
            .await?
            .ok_or_else(|| anyhow!("demo user {email} vanished")),
        Err(error) => Err(error.into()),
    }
}

async fn find_user(db: &Db, tenant: &Tenant, email: &str) -> anyhow::Result<Option<User>> {
    let mut tx = db.tenant_tx(tenant.id).await?;
    let found = auth::repo::find_credentials(&mut tx, tenant.id, email).await?;
    tx.commit().await?;
    Ok(found.map(|(user, _)| user))
}

/// The banner `serve --demo` prints.
pub fn banner(base_url: &str) -> String {
    let mut text = format!(
        "\n=== demo data ===\nSign in at {base_url}/{TENANT_SLUG}/login with password `{PASSWORD}` as:\n"
    );
    for (email, _, role) in ACCOUNTS {
        text.push_str(&format!(
            "  {email:<22} ({})\n",
            role.label().to_lowercase()
        ));
    }
    text
}

// ---------------------------------------------------------------------------
// The tickets

/// Who acts: the index into the cast `ensure` builds (accounts, then customers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Ada,
    Alex,
    Casey,
    Maria,
    Tom,
    Priya,
    Jonas,
}
use Who::*;

/// One thing done to a ticket after it was opened.
#[derive(Clone, Copy, Debug)]
enum Act {
    /// A public reply; the status stays.
    Reply(&'static str),
    /// An internal note.
    Note(&'static str),
    /// A reply that marks the ticket awaiting the customer.
    Ask(&'static str),
    /// A reply that resolves the ticket.
    Solve(&'static str),
    /// Assigns the ticket to the actor and moves it to In Progress.
    Start,
    /// Assigns the ticket (the edit form).
    Assign(Who),
    /// Moves the ticket to the default status of a category (the edit form).
    Status(StatusCategory),
    /// Changes the priority (the edit form).
    Priority(&'static str),
    /// Follows the ticket.
    Follow,
    /// Rewrites the ticket's n-th reply or note.
    EditReply(usize, &'static str),
    /// Deletes the ticket's n-th reply or note.
    DeleteReply(usize),
}

/// `act`, done by `by`, `wait` minutes after the ticket's previous step.
#[derive(Clone, Copy, Debug)]
struct Step {
    wait: u32,
    by: Who,
    act: Act,
}

const fn step(wait: u32, by: Who, act: Act) -> Step {
    Step { wait, by, act }
}

/// A ticket and what happens to it.
struct DemoTicket {
    /// When it is opened: minutes after midnight 45 days ago (see [`day`]).
    at: u32,
    requester: Who,
    /// Staff who opened it on the requester's behalf; `None`: the requester did.
    opened_by: Option<Who>,
    subject: &'static str,
    description: &'static str,
    kind: &'static str,
    priority: &'static str,
    /// Category names from the top; empty for none.
    category: &'static [&'static str],
    tags: &'static str,
    steps: &'static [Step],
}

const H: u32 = 60;
const D: u32 = 24 * H;

/// `hour:minute` on day `n` of the demo period (day 0 is 45 days ago, day 44 yesterday).
const fn day(n: u32, hour: u32, minute: u32) -> u32 {
    n * D + hour * H + minute
}

const GENERAL: &[&str] = &["General"];
const BILLING: &[&str] = &["Billing"];
const INVOICES: &[&str] = &["Billing", "Invoices"];
const REFUNDS: &[&str] = &["Billing", "Refunds"];
const TECHNICAL: &[&str] = &["Technical"];
const ACCESS: &[&str] = &["Technical", "Access"];
const PASSWORD_RESET: &[&str] = &["Technical", "Access", "Password reset"];
const TWO_FACTOR: &[&str] = &["Technical", "Access", "Two-factor authentication"];
const PERFORMANCE: &[&str] = &["Technical", "Performance"];
const NONE: &[&str] = &[];

use StatusCategory::{Closed, Open};

#[rustfmt::skip]
const TICKETS: &[DemoTicket] = &[
    // ---- Closed -------------------------------------------------------------
    DemoTicket {
        at: day(0, 9, 12), requester: Maria, opened_by: None,
        subject: "Invoice INV-2291 shows the wrong VAT number",
        description: "Hello,\n\nour March invoice **INV-2291** lists VAT number `SE556677889900`, \
            but ours ends in **01**. Our accounts payable team can't book it like this.\n\n\
            Could you re-issue it with the correct number?\n\nThanks,\nMaria",
        kind: "Issue", priority: "Medium", category: INVOICES, tags: "billing",
        steps: &[
            step(40, Alex, Act::Start),
            step(12, Alex, Act::Ask("Hi Maria, sorry about that. Could you confirm the full VAT \
                number exactly as it should appear? I'll have finance re-issue the invoice right away.")),
            step(3 * H, Maria, Act::Reply("It's **SE556677889901**. Thank you!")),
            step(25, Alex, Act::Note("Finance re-issued it as INV-2291-R1 and voided the original. \
                The customer record still had the old number from 2023, fixed that too.")),
            step(D + 2 * H, Alex, Act::Solve("Done: the corrected invoice is \
                [INV-2291-R1](https://billing.demo.test/invoices/INV-2291-R1) and the old one is voided. \
                Future invoices will use the right number.")),
            step(2 * H, Maria, Act::Reply("Perfect, it's booked. Thanks for the quick help!")),
            step(10, Maria, Act::Status(Closed)),
        ],
    },
    DemoTicket {
        at: day(1, 14, 5), requester: Tom, opened_by: None,
        subject: "Can't log in after changing my email address",
        description: "I changed my email from tom@okafor-design.test to tom.okafor@demo.test \
            yesterday. Now the login page says *email or password is incorrect* with both \
            addresses.\n\nI already tried resetting the password twice.",
        kind: "Issue", priority: "High", category: ACCESS, tags: "login",
        steps: &[
            step(35, Alex, Act::Start),
            step(10, Alex, Act::Reply("Hi Tom, the change was half-applied on our side: your \
                login still pointed at the old address. I've fixed it, please try \
                **tom.okafor@demo.test** again.")),
            step(50, Tom, Act::Reply("That worked, I'm in. Thanks!")),
            step(15, Alex, Act::Solve("Great! I'll mark this as resolved.")),
            step(3 * D, Alex, Act::Status(Closed)),
        ],
    },
    DemoTicket {
        at: day(2, 10, 30), requester: Priya, opened_by: None,
        subject: "CSV export cuts off at 10,000 rows",
        description: "**Steps to reproduce**\n\n\
            1. Open *Reports → Shipments*\n\
            2. Set the date range to the last 12 months (about 48,000 rows)\n\
            3. Click **Export CSV**\n\n\
            **Expected:** all rows in the file.\n\
            **Actual:** the file stops after exactly 10,000 rows, no warning.\n\n\
            Happens in Chrome 124 and Firefox 125.",
        kind: "Bug", priority: "Medium", category: TECHNICAL, tags: "csv, export",
        steps: &[
            step(2 * H, Ada, Act::Assign(Alex)),
            step(H + 20, Alex, Act::Note("Reproduced. The export job still has a hard \
                `LIMIT 10000` from the old synchronous exporter. Engineering ticket ENG-311.")),
            step(15, Alex, Act::Reply("Thanks for the precise steps, Priya. Confirmed: it's a bug \
                on our side. A fix is scheduled for Thursday's release; until then, exporting \
                one quarter at a time works.")),
            step(3 * D + 4 * H, Alex, Act::Solve("The fix is live: exports are no longer capped. \
                Could you give the 12-month export another try?")),
            step(5 * H, Priya, Act::Reply("Works: 48,213 rows. Thanks!")),
            step(D, Alex, Act::Status(Closed)),
        ],
    },
    DemoTicket {
        at: day(3, 8, 47), requester: Jonas, opened_by: None,
        subject: "Please cancel our two add-on seats",
        description: "Hi, we no longer need the two extra agent seats we added in January. \
            Please remove them from the next billing cycle.",
        kind: "Issue", priority: "Low", category: BILLING, tags: "billing",
        steps: &[
            step(3 * H, Ada, Act::Solve("Hi Jonas, the two add-on seats are removed as of the next \
                cycle (the 1st). Your next invoice will show 5 seats instead of 7.")),
            step(4 * D, Ada, Act::Status(Closed)),
        ],
    },
    DemoTicket {
        at: day(5, 16, 20), requester: Casey, opened_by: None,
        subject: "Password reset email never arrives",
        description: "I requested a password reset three times this afternoon but no email \
            arrived (I checked spam). My colleague got hers right away.",
        kind: "Issue", priority: "High", category: PASSWORD_RESET, tags: "login",
        steps: &[
            step(15, Alex, Act::Start),
            step(10, Alex, Act::Note("Mail log: all three bounced with \
                `550 5.7.1 Message rejected by policy` from their gateway. Not on our side.")),
            step(5, Alex, Act::Ask("Hi Casey, our mail log shows your company's mail server \
                rejected the messages. Could you ask your IT team to allow \
                `no-reply@tessera.demo.test` and then request the reset once more?")),
            step(D - H, Casey, Act::Reply("Found it: IT had the sender quarantined. It's \
                allowlisted now and the reset email came through. Thanks!")),
            step(30, Alex, Act::Solve("Glad it worked! Resolving this one.")),
            step(D + 3 * H, Casey, Act::Status(Closed)),
        ],
    },
    DemoTicket {
        at: day(8, 11, 0), requester: Maria, opened_by: None,
        subject: "Dashboard takes 30+ seconds to load",
        description: "Since Monday the *Team overview* dashboard takes more than 30 seconds to \
            load, sometimes it times out. The other pages are fine.\n\n\
            We have about 4,000 open tickets, if that matters.",
        kind: "Bug", priority: "High", category: PERFORMANCE, tags: "vip, performance",
        steps: &[
            step(25, Alex, Act::Start),
            step(5, Alex, Act::Reply("Thanks Maria, we can see the slow requests on our side. \
                I've passed this to engineering and will update you here.")),
            step(10, Ada, Act::Priority("Urgent")),
            step(2, Ada, Act::Follow),
            step(2 * H, Alex, Act::Note("Slow query in the status-count widget: it counts \
                rows instead of reading the counters. Patch in review.")),
            step(D + 5 * H, Alex, Act::Solve("A fix was deployed this morning: the dashboard \
                now loads in under two seconds for your team. Let us know if you still see \
                delays.")),
            step(5 * D, Alex, Act::Status(Closed)),
        ],
    },
    DemoTicket {
        at: day(10, 13, 40), requester: Tom, opened_by: None,
        subject: "Feature request: dark mode",
        description: "Our team works late shifts and would love a **dark mode** for the \
            agent views. Is that planned?",
        kind: "Feature", priority: "Low", category: NONE, tags: "",
        steps: &[
            step(D + 2 * H, Ada, Act::Reply("Thanks Tom! Dark mode is on our roadmap for next \
                quarter. I'm closing this request for now; we'll announce it in the release \
                notes.")),
            step(5, Ada, Act::Status(Closed)),
        ],
    },
    DemoTicket {
        at: day(13, 9, 5), requester: Priya, opened_by: None,
        subject: "Refund for duplicate charge on the 3rd",
        description: "Our card was charged **twice** for the monthly plan (2 × €240) on the 3rd. \
            Please refund the duplicate.",
        kind: "Issue", priority: "High", category: REFUNDS, tags: "billing, vip",
        steps: &[
            step(45, Ada, Act::Assign(Ada)),
            step(10, Ada, Act::Note("Payment provider shows two captures 4 seconds apart: a \
                retry after a timeout. Refunding the second one.")),
            step(5, Ada, Act::Solve("Hi Priya, you're right, the payment went through twice. \
                I've refunded €240; it should reach your card within 5 to 10 business days.")),
            step(2 * D, Priya, Act::Reply("Received today, thank you.")),
            step(H, Ada, Act::Status(Closed)),
        ],
    },
    DemoTicket {
        at: day(16, 15, 30), requester: Jonas, opened_by: None,
        subject: "Printer in room 2.14 prints blank pages",
        description: "The HP printer in meeting room 2.14 feeds paper but the pages come out \
            blank. Toner shows 60%.",
        kind: "Issue", priority: "Medium", category: GENERAL, tags: "printer",
        steps: &[
            step(H, Alex, Act::Ask("Hi Jonas, could you print a test page from the printer's \
                own menu (*Reports → Configuration page*) and tell me if that one is blank too?")),
            step(2 * H, Jonas, Act::Reply("The test page is blank as well.")),
            step(30, Alex, Act::Reply("Then it's the drum unit. We'll swap it tomorrow at 9:00.")),
            step(D, Alex, Act::Solve("Drum unit replaced and test page looks good.")),
            step(3 * H, Jonas, Act::Status(Closed)),
        ],
    },
    DemoTicket {
        at: day(20, 10, 10), requester: Casey, opened_by: None,
        subject: "How do I add a colleague to our account?",
        description: "A new colleague starts on Monday. How do I give her access to our tickets?",
        kind: "Issue", priority: "Low", category: GENERAL, tags: "",
        steps: &[
            step(30, Alex, Act::Solve("Hi Casey, here's how:\n\n\
                1. Go to **Settings → Team**\n\
                2. Click **Invite colleague** and enter her email\n\
                3. She gets an invitation link valid for 7 days\n\n\
                Let me know if anything is unclear.")),
            step(H + 15, Casey, Act::Reply("Done, she's in. Thanks!")),
            step(7 * D, Alex, Act::Status(Closed)),
        ],
    },
    // ---- Resolved -----------------------------------------------------------
    DemoTicket {
        at: day(30, 9, 30), requester: Tom, opened_by: None,
        subject: "2FA codes rejected after switching phones",
        description: "I moved to a new phone and restored my authenticator app from a backup, \
            but every code is rejected now. I'm locked out and have a client call at 14:00.",
        kind: "Issue", priority: "Urgent", category: TWO_FACTOR, tags: "login, 2fa",
        steps: &[
            step(10, Alex, Act::Start),
            step(5, Alex, Act::Ask("Hi Tom, we can reset two-factor for you. For security, we'll \
                call you back on the phone number in your profile to confirm it's you. \
                Is now a good time?")),
            step(20, Tom, Act::Reply("Yes, please call now.")),
            step(15, Alex, Act::Note("Identity confirmed by call-back to the number on file. \
                Resetting 2FA.")),
            step(5, Alex, Act::Solve("Two-factor authentication is reset. On your next sign-in \
                you'll be asked to set up the authenticator again: scan the QR code with the \
                app on your new phone.")),
        ],
    },
    DemoTicket {
        at: day(33, 14, 15), requester: Maria, opened_by: None,
        subject: "Download all invoices of last year as PDF",
        description: "Our auditors want every invoice from last year as PDF. Is there a way to \
            download them all at once instead of one by one?",
        kind: "Feature", priority: "Medium", category: INVOICES, tags: "billing",
        steps: &[
            step(2 * H, Ada, Act::Reply("Good news, that exists already: **Billing → Invoices**, \
                filter by year, tick the box in the header row and choose **Download as ZIP**.")),
            step(H, Maria, Act::Reply("Oh, I completely missed that. Got them, thanks!")),
            step(20, Ada, Act::Solve("Happy to help!")),
        ],
    },
    DemoTicket {
        at: day(35, 11, 20), requester: Casey, opened_by: None,
        subject: "Ticket notifications arrive twice",
        description: "Since last week I get every ticket notification email twice, a few \
            seconds apart.",
        kind: "Bug", priority: "Medium", category: TECHNICAL, tags: "email",
        steps: &[
            step(40, Alex, Act::Start),
            step(5, Alex, Act::Ask("Hi Casey, do both copies go to the same address? If you can, \
                forward both to us with full headers.")),
            step(3 * H, Casey, Act::Reply("One goes to casey@ and one to support-team@, which \
                forwards to me. I guess that's it?")),
            step(30, Alex, Act::Solve("Yes, that's the cause: you follow the tickets personally \
                *and* through the team address. Removing support-team@ from the followers, or \
                turning off its forwarding rule, fixes it.")),
        ],
    },
    DemoTicket {
        at: day(37, 8, 55), requester: Jonas, opened_by: None,
        subject: "Ticket times are one hour off",
        description: "All ticket timestamps show one hour earlier than our local time \
            (Berlin).",
        kind: "Bug", priority: "Low", category: GENERAL, tags: "",
        steps: &[
            step(4 * H, Alex, Act::Solve("Hi Jonas, your profile's time zone is still set to UTC. \
                Change it under **Profile → Time zone** to `Europe/Berlin` and the times will \
                match.")),
        ],
    },
    DemoTicket {
        at: day(39, 16, 45), requester: Priya, opened_by: None,
        subject: "Charged after cancelling the trial workspace",
        description: "We cancelled the trial workspace *raman-logistics-test* on the 2nd, but \
            today we were charged €49 for it.",
        kind: "Issue", priority: "High", category: REFUNDS, tags: "billing, vip",
        steps: &[
            step(H + 10, Ada, Act::Assign(Ada)),
            step(5, Ada, Act::Note("The cancellation was saved, but the subscription was not \
                stopped (known issue with trials converted by the sales team).")),
            step(10, Ada, Act::Reply("Sorry about that, Priya. The charge was a mistake on our \
                side; I'm refunding it now.")),
            step(20, Ada, Act::Solve("The €49 are refunded and the subscription is stopped. You \
                won't be charged for this workspace again.")),
        ],
    },
    DemoTicket {
        at: day(41, 10, 5), requester: Tom, opened_by: None,
        subject: "Label printer skips every other label",
        description: "Our Zebra label printer in the warehouse prints one label, skips one, \
            prints one… Started after the driver update.",
        kind: "Issue", priority: "Low", category: GENERAL, tags: "printer",
        steps: &[
            step(H, Alex, Act::Ask("Which driver version is installed now?")),
            step(2 * H, Tom, Act::Reply("Attached is the March invoice you asked for.")),
            step(3, Tom, Act::DeleteReply(1)),
            step(2, Tom, Act::Reply("Driver 2.3.1 from the vendor's site.")),
            step(H, Alex, Act::Solve("With 2.3.1 the printer needs a new calibration: hold the \
                **feed** button for 3 seconds until it flashes twice. That should fix the \
                skipping.")),
        ],
    },
    // ---- Awaiting customer --------------------------------------------------
    DemoTicket {
        at: day(34, 13, 0), requester: Jonas, opened_by: None,
        subject: "SSO login loops back to the sign-in page",
        description: "Since we switched our identity provider, clicking **Sign in with SSO** \
            sends us to the IdP and straight back to the sign-in page. No error shown.",
        kind: "Bug", priority: "High", category: ACCESS, tags: "login, sso",
        steps: &[
            step(H, Alex, Act::Start),
            step(10, Alex, Act::Reply("Thanks Jonas, looking into it.")),
            step(3 * H, Alex, Act::Note("Their new IdP sends the NameID in upper case; we \
                compare it case-sensitively. Workaround on their side: send the email claim \
                in lower case.")),
            step(20, Alex, Act::Ask("We found the cause: your new identity provider sends the \
                user's email in capitals. Could you ask your IdP admin to map the `email` \
                claim in lower case, and try again? A permanent fix on our side is scheduled.")),
        ],
    },
    DemoTicket {
        at: day(38, 9, 40), requester: Casey, opened_by: None,
        subject: "Bulk-close tickets older than 90 days",
        description: "We have a lot of stale tickets from our old process. Could we close \
            everything older than 90 days in one go?",
        kind: "Feature", priority: "Low", category: NONE, tags: "",
        steps: &[
            step(5 * H, Ada, Act::Note("Third request for bulk actions this month, adding it to \
                the roadmap document.")),
            step(5, Ada, Act::Ask("Hi Casey, there's no bulk close yet, but it's on our list. \
                Roughly how many tickets are we talking about? If it's a few hundred, we can \
                close them for you from our side.")),
        ],
    },
    DemoTicket {
        at: day(40, 15, 10), requester: Maria, opened_by: None,
        subject: "Invoices should show our new office address",
        description: "We moved to **Kungsgatan 12, 111 43 Stockholm**. Please update the \
            address on our invoices.",
        kind: "Issue", priority: "Medium", category: INVOICES, tags: "billing, vip",
        steps: &[
            step(50, Alex, Act::Start),
            step(5, Alex, Act::Ask("Hi Maria, should the new address apply from the next invoice \
                on, or should we also re-issue this month's invoice?")),
        ],
    },
    DemoTicket {
        at: day(42, 11, 25), requester: Priya, opened_by: None,
        subject: "API returns 429 during our nightly sync",
        description: "Our nightly sync (about 20,000 requests between 02:00 and 03:00 UTC) has \
            been failing with `429 Too Many Requests` since Tuesday.\n\n\
            Was the rate limit changed?",
        kind: "Bug", priority: "High", category: PERFORMANCE, tags: "api",
        steps: &[
            step(30, Alex, Act::Start),
            step(5, Alex, Act::Reply("Hi Priya, the limit is 60 requests per minute per token; \
                it hasn't changed recently.")),
            step(6, Alex, Act::EditReply(0, "Hi Priya, the limit is **120 requests per minute** \
                per token; it hasn't changed recently. See \
                [the API docs](https://docs.demo.test/api#rate-limits).")),
            step(2 * H, Alex, Act::Ask("Could you send us a few `X-Request-Id` values from the \
                failed responses? Then we can see which limit you hit.")),
        ],
    },
    DemoTicket {
        at: day(43, 9, 15), requester: Tom, opened_by: None,
        subject: "Cannot upload attachments larger than 5 MB",
        description: "Uploading a 7 MB PDF to a ticket fails. The spinner just stops.",
        kind: "Issue", priority: "Medium", category: TECHNICAL, tags: "",
        steps: &[
            step(2 * H, Alex, Act::Ask("Hi Tom, the limit is 25 MB, so 7 MB should work. Which \
                browser are you using, and do you see an error in the browser console \
                (`F12` → *Console*)?")),
        ],
    },
    DemoTicket {
        at: day(44, 8, 30), requester: Jonas, opened_by: None,
        subject: "Printer queue on the 3rd floor stuck on Paused",
        description: "Nobody on the 3rd floor can print: the queue shows **Paused** and \
            resuming it does nothing.",
        kind: "Issue", priority: "High", category: GENERAL, tags: "printer, outage",
        steps: &[
            step(20, Alex, Act::Start),
            step(25, Alex, Act::Ask("I've restarted the print spooler on the server. Could \
                someone on the 3rd floor try printing a test page?")),
        ],
    },
    // ---- In Progress --------------------------------------------------------
    DemoTicket {
        at: day(25, 10, 0), requester: Maria, opened_by: None,
        subject: "Monthly report totals don't match the ticket list",
        description: "The *Monthly summary* report says 312 tickets were closed in April, but \
            the ticket list filtered to Closed + April shows 298.\n\nWhich one is right?",
        kind: "Bug", priority: "Medium", category: GENERAL, tags: "reports",
        steps: &[
            step(H, Alex, Act::Start),
            step(H, Alex, Act::Reply("Hi Maria, I can reproduce this. The report counts by \
                *closed date*, the list filters by *last update*, but the difference is larger \
                than that explains. Looking deeper.")),
            step(3 * H, Maria, Act::Reply("Thanks, no rush, it's for the quarterly review next \
                week.")),
            step(D, Alex, Act::Note("Tickets closed, reopened and closed again are counted \
                twice by the report. Filed ENG-482.")),
            step(10, Alex, Act::Reply("Found it: tickets that were reopened and closed again \
                are counted twice in the report. Engineering is fixing it; the ticket list \
                figure (298) is the right one.")),
        ],
    },
    DemoTicket {
        at: day(28, 14, 30), requester: Priya, opened_by: Some(Ada),
        subject: "Migrate three years of tickets from our old helpdesk",
        description: "From a call with Priya: they want to bring ~18,000 tickets from their old \
            helpdesk.\n\n\
            - export format: CSV, one file per year\n\
            - attachments: not needed\n\
            - requesters should be matched by email",
        kind: "Feature", priority: "Medium", category: GENERAL, tags: "vip, migration",
        steps: &[
            step(5, Ada, Act::Status(Open)),
            step(10, Ada, Act::Reply("Hi Priya, thanks for the call. As agreed: send us a sample \
                CSV with ~100 tickets first, we'll do a test import into a copy of your \
                workspace.")),
            step(D + 3 * H, Priya, Act::Reply("Sample is uploaded to the shared folder \
                (`tickets-sample-2023.csv`).")),
            step(2 * D, Ada, Act::Reply("Test import went fine except for 4 tickets whose \
                requester had no email. Shall we assign those to a placeholder contact?")),
            step(4 * H, Priya, Act::Reply("Yes, please use **archive@raman-logistics.test**.")),
        ],
    },
    DemoTicket {
        at: day(31, 9, 20), requester: Casey, opened_by: None,
        subject: "Search doesn't find tickets by customer email",
        description: "Searching for a customer's email address returns nothing, even though I \
            know they have tickets.\n\n\
            1. Type `jane@example.test` in the search box\n\
            2. Press Enter\n\n\
            Result: *No tickets found*.",
        kind: "Bug", priority: "Medium", category: TECHNICAL, tags: "search",
        steps: &[
            step(2 * H, Alex, Act::Start),
            step(15, Alex, Act::Note("Search only covers subject, description and replies, \
                the requester email is not in it. Asked product whether to add it.")),
            step(10, Alex, Act::Reply("Thanks for the clear steps, Casey. Search currently looks \
                at the subject, description and replies only. Until that changes, the \
                **Requester** filter on the list finds a customer's tickets.")),
            step(2 * D, Casey, Act::Reply("The filter works for now, but searching would be much \
                handier.")),
        ],
    },
    DemoTicket {
        at: day(36, 11, 10), requester: Jonas, opened_by: None,
        subject: "Add a Department field to the ticket form",
        description: "We'd like customers to pick their **department** when they open a \
            ticket, so we can route them to the right team.",
        kind: "Feature", priority: "Low", category: NONE, tags: "",
        steps: &[
            step(D, Ada, Act::Reply("Hi Jonas, custom fields are being built right now. We'll \
                use your setup as a pilot if you like.")),
            step(5, Ada, Act::Status(Open)),
            step(3 * H, Jonas, Act::Reply("Happy to be a pilot! Our departments are Sales, \
                Warehouse, Finance and IT.")),
        ],
    },
    DemoTicket {
        at: day(38, 13, 50), requester: Priya, opened_by: None,
        subject: "Credit note missing for returned licences",
        description: "We returned 3 licences last month but haven't received a credit note.",
        kind: "Issue", priority: "High", category: REFUNDS, tags: "billing",
        steps: &[
            step(H, Ada, Act::Assign(Alex)),
            step(2 * H, Alex, Act::Status(Open)),
            step(5, Alex, Act::Reply("Hi Priya, I've asked finance to issue the credit note for \
                the 3 licences. I'll send it here as soon as I have it.")),
            step(D + 2 * H, Priya, Act::Reply("Any update? Our books close on Friday.")),
            step(30, Alex, Act::Reply("Finance promised it for Thursday, before your books close.")),
        ],
    },
    DemoTicket {
        at: day(40, 9, 5), requester: Maria, opened_by: None,
        subject: "Emails from the helpdesk land in spam at Outlook",
        description: "Our customers on Outlook/Office 365 say replies from our helpdesk end up \
            in their **junk folder**. Gmail users are fine.",
        kind: "Issue", priority: "High", category: TECHNICAL, tags: "email, vip",
        steps: &[
            step(30, Alex, Act::Start),
            step(5, Alex, Act::Reply("Hi Maria, could you ask one affected customer to send you \
                the full headers of such a message and paste them here?")),
            step(4 * H, Maria, Act::Reply("Here's the relevant part:\n\n\
                `Authentication-Results: spf=softfail smtp.mailfrom=support.lindqvist.test`")),
            step(20, Alex, Act::Note("SPF record of their domain doesn't include our new mail \
                relay. They need to add `include:mail.tessera.demo.test`.")),
            step(10, Alex, Act::Reply("Thanks! Your domain's SPF record needs one more entry: \
                `include:mail.tessera.demo.test`. Once your DNS admin has added it, send us a \
                message and we'll verify.")),
        ],
    },
    DemoTicket {
        at: day(41, 14, 20), requester: Tom, opened_by: None,
        subject: "Keyboard shortcuts stopped working in the reply box",
        description: "`Ctrl+Enter` used to send a reply; since yesterday it inserts a line \
            break instead. Firefox 126 on Windows.",
        kind: "Bug", priority: "Low", category: TECHNICAL, tags: "",
        steps: &[
            step(D, Alex, Act::Start),
            step(5, Alex, Act::Reply("Thanks Tom, reproduced in Firefox. We're on it.")),
        ],
    },
    DemoTicket {
        at: day(42, 10, 40), requester: Casey, opened_by: None,
        subject: "Send invoices to accounts@ instead of me",
        description: "Please send our invoices to **accounts@casey-corp.test** from now on, \
            not to my personal address.",
        kind: "Issue", priority: "Medium", category: INVOICES, tags: "billing",
        steps: &[
            step(H, Ada, Act::Start),
            step(5, Ada, Act::Reply("Hi Casey, I've changed the billing contact. The next \
                invoice run is on the 1st; I'll keep this ticket open until it has gone out to \
                the right address.")),
        ],
    },
    DemoTicket {
        at: day(43, 15, 30), requester: Jonas, opened_by: None,
        subject: "Ticket list is slow when filtering by tag",
        description: "Filtering the ticket list by the tag `warehouse` takes 8 to 10 seconds. \
            Other filters are instant.",
        kind: "Bug", priority: "Medium", category: PERFORMANCE, tags: "performance",
        steps: &[
            step(H + 30, Alex, Act::Start),
            step(10, Alex, Act::Reply("Hi Jonas, confirmed, the tag filter is slow for your \
                workspace. Our engineers are looking at it today.")),
        ],
    },
    DemoTicket {
        at: day(43, 7, 55), requester: Tom, opened_by: None,
        subject: "Customer portal returns 502 errors",
        description: "Our customers get **502 Bad Gateway** on the portal since about 07:40. \
            The agent side works.",
        kind: "Issue", priority: "Urgent", category: TECHNICAL, tags: "outage",
        steps: &[
            step(8, Ada, Act::Start),
            step(4, Ada, Act::Note("Load balancer health checks to the portal pool are \
                failing after the 07:30 deploy. Rolling back.")),
            step(3, Ada, Act::Reply("Hi Tom, we're aware and working on it. Updates every 30 \
                minutes on [status.demo.test](https://status.demo.test).")),
            step(40, Tom, Act::Reply("Still seeing 502s from our Berlin office.")),
            step(25, Ada, Act::Reply("The rollback is done and the portal answers again. We're \
                watching it for the next hours before closing this.")),
        ],
    },
    // ---- New ----------------------------------------------------------------
    DemoTicket {
        at: day(42, 17, 45), requester: Priya, opened_by: None,
        subject: "How do I change the sender name on notifications?",
        description: "Notification emails arrive as *Tessera*. Can we change the sender name?",
        kind: "Issue", priority: "Low", category: GENERAL, tags: "",
        steps: &[
            step(20, Priya, Act::Reply("To add: we'd like it to say **Raman Logistics Support**.")),
        ],
    },
    DemoTicket {
        at: day(43, 8, 10), requester: Maria, opened_by: None,
        subject: "Login page says the session expired right away",
        description: "Two colleagues get *Your session has expired* immediately after signing \
            in. Clearing cookies didn't help. Both use Safari 16.",
        kind: "Bug", priority: "High", category: ACCESS, tags: "login",
        steps: &[
            step(H + 15, Alex, Act::Note("Probably the Safari cookie issue fixed in 17.2; \
                check their Safari version before digging further.")),
        ],
    },
    DemoTicket {
        at: day(43, 12, 0), requester: Tom, opened_by: None,
        subject: "Request: weekly summary email for managers",
        description: "It would be great if managers got a **weekly summary** by email: new, \
            resolved and overdue tickets per team.",
        kind: "Feature", priority: "Low", category: NONE, tags: "",
        steps: &[
            step(3 * H, Tom, Act::Reply("Ideally on Monday mornings, as a plain table we can \
                forward to the board.")),
        ],
    },
    DemoTicket {
        at: day(43, 16, 35), requester: Casey, opened_by: None,
        subject: "2FA reset for a colleague who left the company",
        description: "A colleague left last week and her account still has two-factor \
            authentication on her old work phone. Please reset 2FA so we can hand the \
            account to her successor.",
        kind: "Issue", priority: "High", category: TWO_FACTOR, tags: "2fa",
        steps: &[
            step(5, Casey, Act::Reply("Her username is **j.doe**; her manager approved this in \
                writing.")),
        ],
    },
    DemoTicket {
        at: day(44, 7, 50), requester: Jonas, opened_by: None,
        subject: "Invoice PDF download gives a blank page",
        description: "Clicking **Download PDF** on any invoice opens an empty tab.",
        kind: "Bug", priority: "Medium", category: INVOICES, tags: "billing",
        steps: &[
            step(12, Jonas, Act::Reply("Same in Firefox and Chrome.")),
        ],
    },
    DemoTicket {
        at: day(44, 10, 20), requester: Alex, opened_by: None,
        subject: "Renew the TLS certificate of the support portal",
        description: "The certificate of `support.demo.test` expires at the end of the month \
            and the automatic renewal failed.",
        kind: "Issue", priority: "Medium", category: TECHNICAL, tags: "",
        steps: &[
            step(H, Ada, Act::Note("Renewal fails since the DNS move: the validation record \
                points at the old provider. I'll fix the record tomorrow.")),
        ],
    },
    DemoTicket {
        at: day(44, 13, 5), requester: Priya, opened_by: None,
        subject: "Typo in the password reset email",
        description: "The reset email says *\"Click the link below to reset you password\"*: \
            should be *your*.",
        kind: "Bug", priority: "Low", category: PASSWORD_RESET, tags: "",
        steps: &[
            step(50, Alex, Act::Note("Easy copy fix, the text is in the email templates. \
                Bundling it with the next release.")),
        ],
    },
    DemoTicket {
        at: day(44, 15, 40), requester: Casey, opened_by: None,
        subject: "Printer driver for the new office MFP",
        description: "We got a new multifunction printer (Brother MFC-L8900) for the office. \
            Which driver should we install on our laptops?",
        kind: "Issue", priority: "Medium", category: GENERAL, tags: "printer",
        steps: &[
            step(40, Alex, Act::Reply("Thanks Casey, we'll look at this first thing tomorrow.")),
        ],
    },
];

/// Seeds [`TICKETS`] unless the tenant has tickets already. Everything happens in
/// time order across tickets, so their numbers, updates and replies interleave.
async fn seed_tickets(db: &Db, tenant: &Tenant, cast: &[User]) -> anyhow::Result<()> {
    let mut tx = db.tenant_tx(tenant.id).await?;
    let existing: i64 = sqlx::query_scalar("select count(*) from tickets where tenant_id = $1")
        .bind(tenant.id)
        .fetch_one(&mut *tx)
        .await?;
    let options = TicketOptions::load(&mut tx, tenant.id).await?;
    tx.commit().await?;
    if existing > 0 {
        return Ok(());
    }

    let began = std::time::Instant::now();
    let now = Clock::System.now();
    let start = (now - Duration::days(45)).replace_time(Time::MIDNIGHT);
    let seeder = Seeder {
        db,
        clock: Clock::fixed(start),
        options,
        cast,
    };

    // (minute, ticket, step): step 0 opens the ticket, step n is `steps[n - 1]`.
    let mut plan = Vec::new();
    for (i, ticket) in TICKETS.iter().enumerate() {
        let mut at = ticket.at;
        plan.push((at, i, 0));
        for (j, step) in ticket.steps.iter().enumerate() {
            at += step.wait;
            plan.push((at, i, j + 1));
        }
    }
    plan.sort_unstable();

    let mut numbers = vec![0_i64; TICKETS.len()];
    let mut replies: Vec<Vec<ReplyId>> = vec![Vec::new(); TICKETS.len()];
    for (minute, i, j) in plan {
        // Never past the real now, whatever the table says.
        let at = (start + Duration::minutes(minute.into())).min(now);
        let ahead = at - seeder.clock.now();
        if ahead.is_positive() {
            seeder.clock.advance(ahead);
        }
        let ticket = &TICKETS[i];
        let failed = || format!("demo ticket `{}`", ticket.subject);
        if j == 0 {
            numbers[i] = seeder.open(ticket).await.with_context(failed)?;
            continue;
        }
        let done = seeder
            .perform(numbers[i], &replies[i], ticket.steps[j - 1])
            .await
            .with_context(failed)?;
        replies[i].extend(done);
    }
    tracing::info!(
        tickets = TICKETS.len(),
        elapsed_ms = began.elapsed().as_millis(),
        "seeded the demo tickets"
    );
    Ok(())
}

/// What seeding needs at every step: the services' inputs and the fixed clock
/// that walks through the demo period.
struct Seeder<'a> {
    db: &'a Db,
    clock: Clock,
    options: TicketOptions,
    /// The users [`Who`] indexes.
    cast: &'a [User],
}

impl Seeder<'_> {
    fn user(&self, who: Who) -> &User {
        &self.cast[who as usize]
    }

    /// Opens `ticket` as its requester, or as staff on the requester's behalf
    /// (then assigned to that staff member). Returns its number.
    async fn open(&self, ticket: &DemoTicket) -> anyhow::Result<i64> {
        let options = &self.options;
        let requester = self.user(ticket.requester);
        let actor = ticket.opened_by.map_or(requester, |who| self.user(who));
        let type_id = options
            .types
            .iter()
            .find(|t| t.name == ticket.kind)
            .ok_or_else(|| anyhow!("no ticket type named {}", ticket.kind))?
            .id;
        let priority_id = options
            .priorities
            .iter()
            .find(|p| p.name == ticket.priority)
            .ok_or_else(|| anyhow!("no priority named {}", ticket.priority))?
            .id;
        let mut category_path = Vec::new();
        let mut parent = None;
        for name in ticket.category {
            let category = options
                .children(parent)
                .into_iter()
                .find(|c| c.name == *name)
                .ok_or_else(|| anyhow!("no category named {name}"))?;
            category_path.push(category.id.to_string());
            parent = Some(category.id);
        }
        let input = TicketInput {
            subject: ticket.subject.to_owned(),
            description: ticket.description.to_owned(),
            ticket_type: type_id.to_string(),
            priority: priority_id.to_string(),
            category_path,
            requester: requester.email.clone(),
            assignee: match ticket.opened_by {
                Some(_) => actor.id.to_string(),
                None => String::new(),
            },
            tags: ticket.tags.to_owned(),
            ..TicketInput::default()
        };
        let created = tickets::service::create(self.db, &self.clock, actor, input)
            .await
            .map_err(save_error)?;
        Ok(created.number)
    }

    /// Does `step` to ticket `number`, whose replies so far are `replies`.
    /// Returns the reply it wrote, if any.
    async fn perform(
        &self,
        number: i64,
        replies: &[ReplyId],
        step: Step,
    ) -> anyhow::Result<Option<ReplyId>> {
        let (db, clock, options) = (self.db, &self.clock, &self.options);
        let actor = self.user(step.by);
        let reply = |body, internal, action| async move {
            let id = replies::service::add(
                db,
                clock,
                actor,
                number,
                replies::service::NewReply {
                    body,
                    internal,
                    action,
                    ..Default::default()
                },
            )
            .await?;
            anyhow::Ok(Some(id))
        };
        let nth = |n: usize| {
            replies
                .get(n)
                .copied()
                .ok_or_else(|| anyhow!("the ticket has no reply {n}"))
        };
        match step.act {
            Act::Reply(body) => return reply(body, false, ReplyAction::Send).await,
            Act::Note(body) => return reply(body, true, ReplyAction::Send).await,
            Act::Ask(body) => return reply(body, false, ReplyAction::Waiting).await,
            Act::Solve(body) => return reply(body, false, ReplyAction::Resolve).await,
            Act::Start => {
                self.edit(actor, number, |input| {
                    input.assignee = actor.id.to_string();
                    input.status = status_id(options, Open)?;
                    Ok(())
                })
                .await?
            }
            Act::Assign(to) => {
                self.edit(actor, number, |input| {
                    input.assignee = self.user(to).id.to_string();
                    Ok(())
                })
                .await?
            }
            Act::Status(category) => {
                self.edit(actor, number, |input| {
                    input.status = status_id(options, category)?;
                    Ok(())
                })
                .await?
            }
            Act::Priority(name) => {
                self.edit(actor, number, |input| {
                    let priority = options.priorities.iter().find(|p| p.name == name);
                    input.priority = priority
                        .ok_or_else(|| anyhow!("no priority named {name}"))?
                        .id
                        .to_string();
                    Ok(())
                })
                .await?
            }
            Act::Follow => {
                tickets::service::set_following(db, clock, actor, number, true).await?;
            }
            Act::EditReply(n, body) => {
                replies::service::edit(db, clock, actor, number, nth(n)?, body).await?
            }
            Act::DeleteReply(n) => {
                replies::service::delete(db, clock, actor, number, nth(n)?).await?
            }
        }
        Ok(None)
    }

    /// Submits the edit form as it would load for `actor`, after `change`.
    async fn edit(
        &self,
        actor: &User,
        number: i64,
        change: impl FnOnce(&mut TicketInput) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut tx = self.db.tenant_tx(actor.tenant_id).await?;
        let current = tickets::load_visible(&mut tx, actor, number).await?;
        tx.commit().await?;
        let mut input = TicketInput {
            version: None,
            ..TicketInput::from_ticket(&current, &self.options)
        };
        change(&mut input)?;
        tickets::service::edit(self.db, &self.clock, actor, number, input)
            .await
            .map_err(save_error)
    }
}

fn status_id(options: &TicketOptions, category: StatusCategory) -> anyhow::Result<String> {
    options
        .default_status(category)
        .map(|s| s.id.to_string())
        .ok_or_else(|| anyhow!("no {} status", category.as_str()))
}

/// Keeps the field errors, which `SaveError`'s message leaves out.
fn save_error(error: SaveError) -> anyhow::Error {
    match error {
        SaveError::Invalid(errors) => anyhow!("the form has errors: {errors:?}"),
        other => other.into(),
    }
}
