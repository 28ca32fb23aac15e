//! `tessera seed`: realistic tenants, tickets and replies in bulk, for measuring
//! Tessera at a million tickets (`bench/`).
//!
//! The shape follows `../shared/reference/perf-kit` so our figures compare with its
//! anchors: one tenant holds 30 % of the tickets, the others a long tail (median
//! about 5,000 at a million); about 75 % are closed; replies per ticket follow an
//! exponential law (mean replies ÷ tickets, some tickets with 20+), a share of the
//! staff ones internal notes; text is drawn from an 8,000-word list with a skewed
//! rank (P(rank < x) = √(x/8000)), so a common word is in a third of the tickets
//! and most words are rare, which is what makes full-text search meaningful.
//!
//! Speed comes from set-based SQL: every chunk of tickets is planned in a temporary
//! table (`generate_series`, `random()`) and written with one `INSERT … SELECT` per
//! table. Row triggers would do per-row work (status counters, search documents),
//! so they are off while a tenant is written (`session_replication_role = replica`
//! for a superuser, else `alter table … disable trigger user`) and the seed computes
//! exactly what they compute, set-based: the counters from each chunk's statuses and
//! the search document with the expression of `ticket_search_rebuild()`. A trigger
//! added to these tables later must be mirrored here; `tests/it/seed.rs` checks the
//! counters and search documents against the triggers' own functions.
//!
//! Each tenant is one transaction: it is there completely or not at all, and a
//! second run skips every tenant whose slug exists (idempotent per tenant).

use crate::db::Db;
use anyhow::bail;
use sqlx::{ConnectOptions as _, Connection as _, PgConnection, Postgres, Transaction};
use std::{
    collections::VecDeque,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::Poll,
    time::Instant,
};
use uuid::Uuid;

/// The word list (perf-kit's `words.txt`): line order is the frequency rank.
const WORDS: &str = include_str!("seed_words.txt");

/// Tags drawn onto tickets (0–2 each).
const TAGS: [&str; 12] = [
    "billing",
    "login",
    "vip",
    "refund",
    "outage",
    "api",
    "email",
    "mobile",
    "export",
    "sso",
    "printer",
    "migration",
];

/// Tickets written per statement batch: large enough for set-based speed, small
/// enough that the temporary tables stay in a few tens of megabytes.
pub const DEFAULT_CHUNK: u64 = 10_000;

/// What to create.
#[derive(Clone, Debug)]
pub struct SeedOptions {
    pub tenants: u32,
    pub tickets: u64,
    pub replies: u64,
    /// Tenants are `{prefix}-1` (the big one) … `{prefix}-{tenants}`.
    pub prefix: String,
    /// The password of every admin and agent (customers get none).
    pub password: String,
    /// Tenants seeded at once, each on its own connection.
    pub jobs: usize,
    pub chunk: u64,
}

/// One tenant of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantPlan {
    pub slug: String,
    pub name: String,
    pub tickets: u64,
    pub replies: u64,
    pub agents: u64,
    pub customers: u64,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub seeded: Vec<TenantPlan>,
    /// Slugs that existed already and were left alone.
    pub skipped: Vec<String>,
}

/// One seeding worker, polled by [`run`].
type Worker<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>>;

/// Progress lines go here (the CLI prints them; tests drop them).
pub type Progress = Arc<dyn Fn(&str) + Send + Sync>;

/// Splits `total` in proportion to `weights`, exactly (largest remainder).
fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut out: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut left = total.saturating_sub(out.iter().sum());
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for i in order.into_iter().cycle() {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

/// The tenants to create: the first takes 30 % of the tickets, the rest follow
/// perf-kit's tail (tenant `2 + floor(99·u^1.7)` for uniform `u`), largest first;
/// replies in proportion to tickets; agents ≈ 1 per 1,500 tickets (at least 3) and
/// customers ≈ 4.7 per 100 tickets (at least 20), as in the kit.
pub fn plan(options: &SeedOptions) -> anyhow::Result<Vec<TenantPlan>> {
    if options.tenants == 0 {
        bail!("--tenants must be at least 1");
    }
    let prefix = options.prefix.trim();
    let slug_ok = !prefix.is_empty()
        && prefix.len() <= 30
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !prefix.starts_with('-');
    if !slug_ok {
        bail!("--seed-tenant-prefix must be 1 to 30 lowercase letters, digits or hyphens");
    }
    let n = options.tenants as usize;
    let tail = n - 1;
    let mut weights = vec![if tail == 0 { 1.0 } else { 0.3 }];
    let exponent = 1.0 / 1.7;
    for j in 0..tail {
        let share =
            ((j + 1) as f64 / tail as f64).powf(exponent) - (j as f64 / tail as f64).powf(exponent);
        weights.push(0.7 * share);
    }
    let tickets = apportion(options.tickets, &weights);
    let ticket_weights: Vec<f64> = tickets.iter().map(|&t| t as f64).collect();
    let replies = apportion(options.replies, &ticket_weights);
    Ok(tickets
        .iter()
        .zip(&replies)
        .enumerate()
        .map(|(i, (&tickets, &replies))| TenantPlan {
            slug: format!("{prefix}-{}", i + 1),
            name: format!("{} {}", capitalized(prefix), i + 1),
            tickets,
            replies,
            agents: (tickets / 1500).max(3),
            customers: ((tickets as f64 * 0.047).round() as u64).max(20),
        })
        .collect())
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>()
    })
}

/// Seeds every planned tenant that does not exist yet, `options.jobs` at a time,
/// then refreshes the planner's statistics.
pub async fn run(db: &Db, options: &SeedOptions, progress: Progress) -> anyhow::Result<SeedReport> {
    let plan = plan(options)?;
    let hash = crate::auth::password::hash(options.password.clone()).await?;
    let words: Vec<String> = WORDS
        .lines()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let queue = Mutex::new(VecDeque::from(plan));
    let report = Mutex::new(SeedReport::default());
    let started = Instant::now();
    let chunk = options.chunk.max(100);
    // The workers run as futures of this task (the work is in PostgreSQL, not
    // here), each on a connection of its own.
    let mut workers: Vec<Option<Worker<'_>>> = Vec::new();
    for _ in 0..options.jobs.max(1) {
        let (queue, report, progress, words, hash) = (&queue, &report, &progress, &words, &hash);
        workers.push(Some(Box::pin(async move {
            // A connection of its own, without sqlx's statement logging: every
            // statement here is slow on purpose.
            let connect = (*db.pool().connect_options())
                .clone()
                .disable_statement_logging();
            let mut conn = PgConnection::connect_with(&connect).await?;
            prepare_session(&mut conn, words).await?;
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                let Some(tenant) = next else { break };
                let seeded =
                    seed_tenant(&mut conn, &tenant, hash, chunk, progress, started).await?;
                if let Ok(mut report) = report.lock() {
                    if seeded {
                        report.seeded.push(tenant);
                    } else {
                        report.skipped.push(tenant.slug);
                    }
                }
            }
            conn.close().await?;
            anyhow::Ok(())
        })));
    }
    std::future::poll_fn(|cx| {
        let mut busy = false;
        for slot in &mut workers {
            if let Some(worker) = slot {
                match worker.as_mut().poll(cx) {
                    Poll::Ready(Ok(())) => *slot = None,
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => busy = true,
                }
            }
        }
        if busy {
            Poll::Pending
        } else {
            Poll::Ready(Ok(()))
        }
    })
    .await?;
    drop(workers);
    let report = report
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a seed worker panicked"))?;
    if !report.seeded.is_empty() {
        progress(&format!(
            "vacuuming and analyzing ({:.0} s so far)",
            started.elapsed().as_secs_f64()
        ));
        // Vacuumed as autovacuum would have: the queue's count walks an index
        // alone only where the visibility map says the rows are visible.
        sqlx::raw_sql("vacuum (analyze) tickets")
            .execute(db.pool())
            .await?;
        sqlx::query("analyze").execute(db.pool()).await?;
    }
    Ok(report)
}

/// The session's temporary tables and text generator; they live as long as the
/// connection, which the worker keeps for all its tenants.
async fn prepare_session(conn: &mut PgConnection, words: &[String]) -> anyhow::Result<()> {
    for statement in SESSION_SQL {
        sqlx::raw_sql(statement).execute(&mut *conn).await?;
    }
    sqlx::query("truncate seed_words")
        .execute(&mut *conn)
        .await?;
    sqlx::query("insert into seed_words (ws) values ($1)")
        .bind(words)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A seeded ticket's status category, from its status's position (`seed_t.st`).
const STATUS_CATEGORY: &str =
    "(array['new', 'open', 'waiting', 'resolved', 'closed'])[t.st]::status_category";

const SESSION_SQL: [&str; 6] = [
    "create temp table if not exists seed_words (ws text[] not null)",
    "create temp table if not exists seed_users (k bigint primary key, id uuid not null)",
    // One chunk of tickets, fully decided before anything is written.
    "create temp table if not exists seed_t (
        number bigint primary key, id uuid not null, subject text not null,
        description text not null, st int not null, pr int not null, ty int not null,
        category_id uuid, group_id uuid, tags text[] not null, requester_id uuid not null,
        agent_id uuid not null, assignee_id uuid, nr int not null,
        created_at timestamptz not null, updated_at timestamptz not null)",
    "create temp table if not exists seed_r (
        ticket_id uuid not null, k int not null, id uuid not null, author_id uuid not null,
        staff boolean not null, internal boolean not null, created_at timestamptz not null,
        body text not null)",
    // Per ticket of the chunk: what the reply triggers and services would have set.
    "create temp table if not exists seed_ra (
        ticket_id uuid primary key, public_replies int not null, first_response_at timestamptz,
        last_reply_at timestamptz, last_reply_by uuid, last_by_staff boolean, doc tsvector)",
    // `n` texts numbered from `first`, of `wmin..=wmax` words, each word's rank
    // skewed to the top of the list like perf-kit's generator.
    "create or replace function pg_temp.seed_texts(first bigint, n bigint, wmin int, wmax int)
     returns table (i bigint, txt text) language plpgsql volatile rows 10000 as $$
     declare ws text[]; nw int; len int; parts text[]; j bigint; k int;
     begin
         select w.ws into ws from seed_words w limit 1;
         nw := array_length(ws, 1);
         for j in first .. first + n - 1 loop
             len := wmin + floor(random() * (wmax - wmin + 1))::int;
             parts := '{}';
             for k in 1 .. len loop
                 parts[k] := ws[1 + floor(nw * random() ^ 2)::int];
             end loop;
             i := j;
             txt := array_to_string(parts, ' ');
             return next;
         end loop;
     end $$",
];

/// The tenant's lists as created by `seed_ticket_defaults`, in the order the
/// generator indexes them (1-based in SQL).
struct Lists {
    /// new, open, waiting, resolved, closed
    statuses: Vec<Uuid>,
    status_names: Vec<String>,
    /// Low, Medium, High, Urgent
    priorities: Vec<Uuid>,
    priority_ranks: Vec<i32>,
    /// Issue, Bug, Feature
    types: Vec<Uuid>,
    categories: Vec<Uuid>,
    groups: Vec<Uuid>,
}

/// Seeds one tenant in one transaction; false when its slug exists already.
async fn seed_tenant(
    conn: &mut PgConnection,
    tenant: &TenantPlan,
    hash: &str,
    chunk: u64,
    progress: &Progress,
    started: Instant,
) -> anyhow::Result<bool> {
    let exists: bool = sqlx::query_scalar("select exists (select 1 from tenants where slug = $1)")
        .bind(&tenant.slug)
        .fetch_one(&mut *conn)
        .await?;
    if exists {
        progress(&format!("{}: exists, skipped", tenant.slug));
        return Ok(false);
    }
    let tenant_started = Instant::now();
    let mut tx = conn.begin().await?;
    let superuser: bool =
        sqlx::query_scalar("select rolsuper from pg_roles where rolname = current_user")
            .fetch_one(&mut *tx)
            .await?;
    sqlx::raw_sql(if superuser {
        "set local session_replication_role = replica"
    } else {
        "alter table tickets disable trigger user; alter table replies disable trigger user"
    })
    .execute(&mut *tx)
    .await?;
    // The temporary tables are never analyzed, so the planner would guess nested
    // loops for joins of thousands of rows; every join here is a hash join's job.
    sqlx::raw_sql(
        "set local synchronous_commit = off; set local work_mem = '64MB';
         set local enable_nestloop = off; set local enable_mergejoin = off",
    )
    .execute(&mut *tx)
    .await?;
    // Reproducible text and shape per tenant.
    let seed = (tenant
        .slug
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31) ^ u32::from(b))
        % 1000) as f64
        / 1000.0;
    sqlx::query("select setseed($1)")
        .bind(seed)
        .execute(&mut *tx)
        .await?;

    let tenant_id: Uuid = sqlx::query_scalar(
        "insert into tenants (id, slug, name) values (uuid_v7(), $1, $2) returning id",
    )
    .bind(&tenant.slug)
    .bind(&tenant.name)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("select seed_ticket_defaults($1)")
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into groups (tenant_id, id, name)
         select $1, uuid_v7(), g from unnest(array['First line', 'Second line', 'Billing team']) g",
    )
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
    insert_users(&mut tx, tenant_id, tenant, hash).await?;
    insert_group_members(&mut tx, tenant_id, tenant).await?;
    let lists = load_lists(&mut tx, tenant_id).await?;
    // "Now" of the generated timeline (the newest ticket is a day old): the
    // database's, so the seed never reads a clock of its own.
    let anchor: time::OffsetDateTime = sqlx::query_scalar("select now()")
        .fetch_one(&mut *tx)
        .await?;

    let mut written = 0u64;
    let mut replies_written = 0u64;
    while written < tenant.tickets {
        let lo = written + 1;
        let hi = (written + chunk).min(tenant.tickets);
        // Replies due by ticket `hi`, so the tenant's total is exact.
        let due = |upto: u64| {
            (tenant.replies as u128 * upto as u128 / tenant.tickets.max(1) as u128) as u64
        };
        let chunk_replies = due(hi) - due(lo - 1);
        let range = Chunk {
            lo,
            hi,
            replies: chunk_replies,
        };
        write_chunk(&mut tx, tenant_id, tenant, &lists, range, anchor).await?;
        written = hi;
        replies_written += chunk_replies;
        if hi == tenant.tickets || hi.is_multiple_of(chunk * 5) {
            progress(&format!(
                "{}: {written}/{} tickets, {replies_written} replies ({:.1} s; {:.0} s total)",
                tenant.slug,
                tenant.tickets,
                tenant_started.elapsed().as_secs_f64(),
                started.elapsed().as_secs_f64()
            ));
        }
    }
    sqlx::query("update ticket_counters set next_number = $2 + 1 where tenant_id = $1")
        .bind(tenant_id)
        .bind(tenant.tickets as i64)
        .execute(&mut *tx)
        .await?;
    if !superuser {
        sqlx::raw_sql(
            "alter table tickets enable trigger user; alter table replies enable trigger user",
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    if tenant.tickets == 0 {
        progress(&format!("{}: created (no tickets)", tenant.slug));
    }
    Ok(true)
}

/// The admin (`admin@{slug}.example`), agents (`agent{k}@…`) and customers
/// (`customer{k}@…`); staff share one password hash, customers have none.
async fn insert_users(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    tenant: &TenantPlan,
    hash: &str,
) -> anyhow::Result<()> {
    sqlx::query("truncate seed_users")
        .execute(&mut **tx)
        .await?;
    sqlx::query("insert into seed_users (k, id) select k, uuid_v7() from generate_series(0, $1) k")
        .bind((tenant.agents + tenant.customers) as i64)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "insert into users (tenant_id, id, email, name, role, password_hash, created_at, updated_at)
         select $1, u.id,
                case when u.k = 0 then 'admin'
                     when u.k <= $3 then 'agent' || u.k
                     else 'customer' || (u.k - $3) end || '@' || $2 || '.example',
                case when u.k = 0 then 'Admin of ' || $2
                     else initcap(w.ws[1 + (u.k * 7919) % 8000]) || ' '
                          || initcap(w.ws[1 + (u.k * 104729 + 17) % 8000]) end,
                (case when u.k = 0 then 'admin' when u.k <= $3 then 'agent'
                      else 'customer' end)::user_role,
                case when u.k <= $3 then $4 end,
                now() - interval '1500 days', now()
           from seed_users u, seed_words w
          order by u.k",
    )
    .bind(tenant_id)
    .bind(&tenant.slug)
    .bind(tenant.agents as i64)
    .bind(hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every agent works in one of the three groups (every fourth one in two), and
/// the billing team covers only the first top-level category, so "My queue"
/// is the scoped queue of a real team, not the whole tenant.
async fn insert_group_members(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    tenant: &TenantPlan,
) -> anyhow::Result<()> {
    sqlx::query(
        "with g as (select id, row_number() over (order by name) - 1 as i
                      from groups where tenant_id = $1)
         insert into group_members (tenant_id, group_id, user_id)
         select distinct $1, g.id, u.id
           from seed_users u
           join g on g.i = u.k % 3 or (u.k % 4 = 0 and g.i = (u.k + 1) % 3)
          where u.k between 1 and $2",
    )
    .bind(tenant_id)
    .bind(tenant.agents as i64)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "insert into group_categories (tenant_id, group_id, category_id)
         select $1, g.id, c.id
           from groups g,
                lateral (select id from categories
                          where tenant_id = $1 and parent_id is null
                          order by position limit 1) c
          where g.tenant_id = $1 and g.name = 'Billing team'",
    )
    .bind(tenant_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn load_lists(tx: &mut Transaction<'_, Postgres>, tenant_id: Uuid) -> anyhow::Result<Lists> {
    let statuses: Vec<(Uuid, String)> = sqlx::query_as(
        "select id, name from ticket_statuses where tenant_id = $1 and is_default order by category",
    )
    .bind(tenant_id)
    .fetch_all(&mut **tx)
    .await?;
    let priorities: Vec<(Uuid, i32)> = sqlx::query_as(
        "select id, rank from ticket_priorities where tenant_id = $1 and not retired order by rank",
    )
    .bind(tenant_id)
    .fetch_all(&mut **tx)
    .await?;
    let types = ids(
        tx,
        tenant_id,
        "select id from ticket_types where tenant_id = $1 and not retired order by position",
    )
    .await?;
    let categories = ids(
        tx,
        tenant_id,
        "select id from categories where tenant_id = $1 order by depth, position",
    )
    .await?;
    let groups = ids(
        tx,
        tenant_id,
        "select id from groups where tenant_id = $1 order by name",
    )
    .await?;
    if statuses.len() != 5 || priorities.len() != 4 || types.len() != 3 {
        bail!(
            "the tenant's default lists are not the five statuses, four priorities and three types the seed expects"
        );
    }
    let (statuses, status_names) = statuses.into_iter().unzip();
    let (priorities, priority_ranks) = priorities.into_iter().unzip();
    Ok(Lists {
        statuses,
        status_names,
        priorities,
        priority_ranks,
        types,
        categories,
        groups,
    })
}

async fn ids(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    sql: &'static str,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(sql)
        .bind(tenant_id)
        .fetch_all(&mut **tx)
        .await
}

/// Tickets `lo..=hi` of a tenant and the replies among them.
struct Chunk {
    lo: u64,
    hi: u64,
    replies: u64,
}

/// Tickets `lo..=hi` of the tenant with `replies` replies among them.
async fn write_chunk(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    tenant: &TenantPlan,
    lists: &Lists,
    chunk: Chunk,
    anchor: time::OffsetDateTime,
) -> anyhow::Result<()> {
    let Chunk { lo, hi, replies } = chunk;
    sqlx::raw_sql("truncate seed_t, seed_r, seed_ra")
        .execute(&mut **tx)
        .await?;
    // The plan. Age 0 is the oldest ticket, 1 the newest; the newest 15 % are
    // mostly unresolved, the rest mostly closed (perf-kit's mix: ~74 % closed).
    // Reply counts: exponential weights, rounded along their running sum so the
    // chunk gets exactly `replies`.
    sqlx::query(
        "insert into seed_t
         with base as (
             select g.number, g.number::float8 / $2 as age, random() as st_r, random() as pr_r,
                    random() as ty_r, random() as cat_r, random() as grp_r, random() as tag_r,
                    random() as tag2_r, random() as asg_r,
                    1 + floor(random() * $3)::bigint as agent_k,
                    $3 + 1 + floor(random() * $4)::bigint as customer_k,
                    -ln(1 - random()) as w, -ln(1 - random()) as dur,
                    g.subject, g.description
               from rows from (generate_series($5::bigint, $6::bigint),
                               pg_temp.seed_texts($5, $6 - $5 + 1, 4, 10),
                               pg_temp.seed_texts($5, $6 - $5 + 1, 20, 80))
                    as g(number, i1, subject, i2, description)
         ), running as (
             select b.*, sum(w) over (order by number) as cum from base b
         ), shaped as (
             select r.*, coalesce(lag(cum) over (order by number), 0) as prev,
                    max(cum) over () as total,
                    case when age > 0.85 then
                        case when st_r < 0.10 then 1 when st_r < 0.55 then 2 when st_r < 0.75 then 3
                             when st_r < 0.90 then 4 else 5 end
                    else
                        case when st_r < 0.04 then 2 when st_r < 0.05 then 3 when st_r < 0.15 then 4
                             else 5 end
                    end as st
               from running r
         ), counted as (
             select s.*, (round(cum * $7 / total) - round(prev * $7 / total))::int as nr,
                    $8::timestamptz - interval '1 day' - (1 - age) * interval '1450 days' as created_at
               from shaped s
         )
         select c.number, uuid_v7(), initcap(c.subject), c.description, c.st,
                case when pr_r < 0.20 then 1 when pr_r < 0.75 then 2 when pr_r < 0.95 then 3 else 4 end,
                case when ty_r < 0.70 then 1 when ty_r < 0.90 then 2 else 3 end,
                case when cat_r >= 0.25
                     then ($9::uuid[])[1 + floor((cat_r - 0.25) / 0.75 * cardinality($9::uuid[]))::int] end,
                case when grp_r >= 0.20
                     then ($10::uuid[])[1 + floor((grp_r - 0.20) / 0.80 * cardinality($10::uuid[]))::int] end,
                case when tag_r < 0.40 then '{}'::text[]
                     when tag_r < 0.85 then array[($11::text[])[1 + floor(tag2_r * 12)::int]]
                     else array[($11::text[])[1 + floor(tag2_r * 12)::int],
                                ($11::text[])[1 + (floor(tag2_r * 12)::int + 1 + floor(tag_r * 1000)::int % 11) % 12]]
                end,
                cu.id, ag.id,
                case when c.st <> 1 and asg_r >= 0.05 then ag.id end,
                c.nr, c.created_at,
                least(c.created_at + ((c.nr + 1) + floor(dur * 2880)) * interval '1 minute', $8::timestamptz)
           from counted c
           join seed_users ag on ag.k = c.agent_k
           join seed_users cu on cu.k = c.customer_k",
    )
    .bind(tenant_id)
    .bind(tenant.tickets as f64)
    .bind(tenant.agents as i64)
    .bind(tenant.customers as i64)
    .bind(lo as i64)
    .bind(hi as i64)
    .bind(replies as f64)
    .bind(anchor)
    .bind(&lists.categories)
    .bind(&lists.groups)
    .bind(TAGS.as_slice())
    .execute(&mut **tx)
    .await?;

    // Replies alternate requester / staff; about one staff reply in seven is an
    // internal note. Times are strictly increasing within a ticket and before
    // its last update.
    sqlx::query(
        "insert into seed_r
         with r as (
             select t.id as ticket_id, s.k, t.requester_id, t.agent_id, t.nr, t.created_at,
                    t.updated_at, row_number() over (order by t.number, s.k) as rn
               from seed_t t cross join lateral generate_series(1, t.nr) s(k)
         )
         select r.ticket_id, r.k, uuid_v7(),
                case when r.k % 2 = 1 then r.requester_id else r.agent_id end,
                r.k % 2 = 0,
                r.k % 2 = 0 and random() < 0.15,
                r.created_at + (r.updated_at - r.created_at) * (r.k::float8 / (r.nr + 1)),
                x.txt
           from r join pg_temp.seed_texts(1, (select coalesce(sum(nr), 0) from seed_t), 8, 50) x
             on x.i = r.rn",
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "insert into seed_ra
         select r.ticket_id,
                count(*) filter (where not r.internal),
                min(r.created_at) filter (where r.staff and not r.internal),
                max(r.created_at) filter (where not r.internal),
                (array_agg(r.author_id order by r.k desc) filter (where not r.internal))[1],
                (array_agg(r.staff order by r.k desc) filter (where not r.internal))[1],
                search_vector('C', string_agg(r.body, ' ' order by r.created_at)
                                   filter (where not r.internal))
           from seed_r r group by r.ticket_id",
    )
    .execute(&mut **tx)
    .await?;

    sqlx::query(&format!(
        "insert into tickets (tenant_id, id, number, subject, description, type_id, priority_id,
             status_id, status_category, priority_rank, category_id, requester_id, assignee_id,
             group_id, tags, created_at, updated_at, last_reply_at, last_reply_by,
             first_response_at, resolved_at, closed_at, version, awaiting_staff)
         select $1, t.id, t.number, t.subject, t.description, ($2::uuid[])[t.ty],
                ($3::uuid[])[t.pr], ($4::uuid[])[t.st], {STATUS_CATEGORY},
                ($5::int[])[t.pr], t.category_id, t.requester_id, t.assignee_id, t.group_id,
                t.tags, t.created_at, t.updated_at, ra.last_reply_at, ra.last_reply_by,
                ra.first_response_at,
                case when t.st >= 4 then t.updated_at end,
                case when t.st = 5 then t.updated_at end,
                1 + coalesce(ra.public_replies, 0),
                ra.first_response_at is null or not coalesce(ra.last_by_staff, false)
           from seed_t t left join seed_ra ra on ra.ticket_id = t.id
          order by t.number"
    ))
    .bind(tenant_id)
    .bind(&lists.types)
    .bind(&lists.priorities)
    .bind(&lists.statuses)
    .bind(&lists.priority_ranks)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "insert into replies (tenant_id, id, ticket_id, author_id, body, internal, created_at)
         select $1, r.id, r.ticket_id, r.author_id, r.body, r.internal, r.created_at
           from seed_r r order by r.ticket_id, r.k",
    )
    .bind(tenant_id)
    .execute(&mut **tx)
    .await?;
    // Exactly `ticket_search_rebuild()`'s row: the ticket's last update, whether it
    // is closed, and its document: subject A, description B, the public replies
    // in order as C.
    sqlx::query(&format!(
        "insert into ticket_search (tenant_id, ticket_id, updated_at, closed, doc)
         select $1, t.id, t.updated_at, {STATUS_CATEGORY} = 'closed',
                ticket_search_head(t.subject, t.description) || coalesce(ra.doc, '')
           from seed_t t left join seed_ra ra on ra.ticket_id = t.id
          order by t.number"
    ))
    .bind(tenant_id)
    .execute(&mut **tx)
    .await?;
    // What creating the ticket does: the requester and the assignee follow it.
    sqlx::query(
        "insert into ticket_followers (tenant_id, ticket_id, user_id, created_at)
         select $1, t.id, t.requester_id, t.created_at from seed_t t
         union all
         select $1, t.id, t.assignee_id, t.created_at from seed_t t
          where t.assignee_id is not null and t.assignee_id <> t.requester_id",
    )
    .bind(tenant_id)
    .execute(&mut **tx)
    .await?;
    // Activity: every ticket's creation, and the status change that resolved or
    // closed it.
    sqlx::query(
        "insert into ticket_events (tenant_id, id, ticket_id, actor_id, kind, field, old_value,
             new_value, created_at)
         select $1, uuid_v7(), t.id, t.requester_id, 'created', null, null, null, t.created_at
           from seed_t t
         union all
         select $1, uuid_v7(), t.id, t.agent_id, 'field_changed', 'status', ($2::text[])[2],
                ($2::text[])[t.st], t.updated_at
           from seed_t t where t.st >= 4",
    )
    .bind(tenant_id)
    .bind(&lists.status_names)
    .execute(&mut **tx)
    .await?;
    // The counters the status trigger keeps.
    sqlx::query(
        "insert into ticket_status_counts as c (tenant_id, status_id, n)
         select $1, ($2::uuid[])[t.st], count(*) from seed_t t group by t.st
         on conflict (tenant_id, status_id) do update set n = c.n + excluded.n",
    )
    .bind(tenant_id)
    .bind(&lists.statuses)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(tenants: u32, tickets: u64, replies: u64) -> SeedOptions {
        SeedOptions {
            tenants,
            tickets,
            replies,
            prefix: "bench".to_owned(),
            password: String::new(),
            jobs: 1,
            chunk: DEFAULT_CHUNK,
        }
    }

    #[test]
    fn the_plan_has_one_big_tenant_and_a_long_tail_with_exact_totals() {
        let plan = plan(&options(100, 1_000_000, 5_000_000)).unwrap_or_default();
        assert_eq!(plan.len(), 100);
        assert_eq!(plan.iter().map(|t| t.tickets).sum::<u64>(), 1_000_000);
        assert_eq!(plan.iter().map(|t| t.replies).sum::<u64>(), 5_000_000);
        assert_eq!(plan[0].tickets, 300_000);
        assert_eq!(plan[0].slug, "bench-1");
        let mut sizes: Vec<u64> = plan.iter().map(|t| t.tickets).collect();
        sizes.sort_unstable();
        let median = sizes[50];
        assert!((4_000..=7_000).contains(&median), "median {median}");
        assert!(plan.iter().any(|t| (8_000..=12_000).contains(&t.tickets)));
    }

    #[test]
    fn one_tenant_takes_everything_and_bad_prefixes_are_refused() {
        let plan = plan(&options(1, 10, 7)).unwrap_or_default();
        assert_eq!(plan.len(), 1);
        assert_eq!((plan[0].tickets, plan[0].replies), (10, 7));
        let mut bad = options(2, 10, 10);
        bad.prefix = "Bench!".to_owned();
        assert!(super::plan(&bad).is_err());
    }
}
