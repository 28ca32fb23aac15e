//! Admin SQL. Every function runs inside a `TenantTx` and takes the tenant; the
//! `tenant_id` filters say so to the reader, row-level security enforces it.

use crate::{
    auth::model::{Role, User},
    db::{TenantId, UserId},
    tickets::model::{CategoryId, GroupId, PriorityId, StatusCategory, StatusId, TypeId},
};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

// ---- general settings ----

/// The tenant's general settings (its row in `tenants` and in `tenant_settings`).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Settings {
    pub name: String,
    pub ticket_prefix: String,
    pub reopen_window_days: i32,
    pub customers_can_reopen: bool,
    pub guest_submission_enabled: bool,
    pub notification_email: Option<String>,
    pub default_timezone: String,
}

pub async fn settings_for_update(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<Settings, sqlx::Error> {
    // The settings row is created with the tenant; a missing one (a tenant made
    // before the migration without it) is made here.
    sqlx::query("insert into tenant_settings (tenant_id) values ($1) on conflict do nothing")
        .bind(tenant)
        .execute(&mut *conn)
        .await?;
    sqlx::query_as::<_, Settings>(
        "select t.name, t.ticket_prefix, s.reopen_window_days, s.customers_can_reopen, \
                s.guest_submission_enabled, s.notification_email, s.default_timezone \
         from tenant_settings s join tenants t on t.id = s.tenant_id \
         where s.tenant_id = $1 for no key update of s",
    )
    .bind(tenant)
    .fetch_one(conn)
    .await
}

pub async fn settings(conn: &mut PgConnection, tenant: TenantId) -> Result<Settings, sqlx::Error> {
    settings_for_update(conn, tenant).await
}

pub async fn save_settings(
    conn: &mut PgConnection,
    tenant: TenantId,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query("update tenants set name = $2, ticket_prefix = $3, updated_at = $4 where id = $1")
        .bind(tenant)
        .bind(&settings.name)
        .bind(&settings.ticket_prefix)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "update tenant_settings set reopen_window_days = $2, customers_can_reopen = $3, \
            guest_submission_enabled = $4, notification_email = $5, default_timezone = $6, \
            updated_at = $7 \
         where tenant_id = $1",
    )
    .bind(tenant)
    .bind(settings.reopen_window_days)
    .bind(settings.customers_can_reopen)
    .bind(settings.guest_submission_enabled)
    .bind(&settings.notification_email)
    .bind(&settings.default_timezone)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether PostgreSQL knows `name` as a timezone (its IANA database).
pub async fn timezone_exists(conn: &mut PgConnection, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from pg_timezone_names where name = $1)")
        .bind(name)
        .fetch_one(conn)
        .await
}

// ---- statuses ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StatusRow {
    pub id: StatusId,
    pub name: String,
    pub category: StatusCategory,
    pub color: String,
    pub is_default: bool,
    pub retired: bool,
    pub tickets: i64,
}

/// Every status in display order, with how many tickets have it, locked against
/// other admin changes (the rules look at the whole list). `no key update`
/// leaves tickets free to refer to them meanwhile.
pub async fn statuses(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<Vec<StatusRow>, sqlx::Error> {
    sqlx::query_as::<_, StatusRow>(
        "select s.id, s.name, s.category, s.color, s.is_default, s.retired, \
                coalesce(c.n, 0) as tickets \
         from ticket_statuses s \
         left join ticket_status_counts c on c.tenant_id = s.tenant_id and c.status_id = s.id \
         where s.tenant_id = $1 order by s.position, s.name for no key update of s",
    )
    .bind(tenant)
    .fetch_all(conn)
    .await
}

pub async fn insert_status(
    conn: &mut PgConnection,
    tenant: TenantId,
    name: &str,
    category: StatusCategory,
    color: &str,
) -> Result<StatusId, sqlx::Error> {
    sqlx::query_scalar(
        "insert into ticket_statuses (tenant_id, id, name, category, color, position) \
         values ($1, $2, $3, $4, $5, \
                 (select coalesce(max(position), 0) + 1 from ticket_statuses where tenant_id = $1)) \
         returning id",
    )
    .bind(tenant)
    .bind(StatusId::generate())
    .bind(name)
    .bind(category)
    .bind(color)
    .fetch_one(conn)
    .await
}

pub async fn update_status(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: StatusId,
    name: &str,
    color: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update ticket_statuses set name = $3, color = $4 where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(name)
    .bind(color)
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes `id` the one default of its category.
pub async fn set_default_status(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: StatusId,
    category: StatusCategory,
) -> Result<(), sqlx::Error> {
    // Off first: the partial unique index allows one default per category.
    sqlx::query(
        "update ticket_statuses set is_default = false \
         where tenant_id = $1 and category = $2 and is_default",
    )
    .bind(tenant)
    .bind(category)
    .execute(&mut *conn)
    .await?;
    sqlx::query("update ticket_statuses set is_default = true where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The table holding one of the ordered or retirable lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum List {
    Statuses,
    Priorities,
    Types,
    Categories,
}

impl List {
    fn table(self) -> &'static str {
        match self {
            List::Statuses => "ticket_statuses",
            List::Priorities => "ticket_priorities",
            List::Types => "ticket_types",
            List::Categories => "categories",
        }
    }

    /// The tickets column that refers to this list.
    fn ticket_column(self) -> &'static str {
        match self {
            List::Statuses => "status_id",
            List::Priorities => "priority_id",
            List::Types => "type_id",
            List::Categories => "category_id",
        }
    }
}

pub async fn set_retired(
    conn: &mut PgConnection,
    tenant: TenantId,
    list: List,
    id: Uuid,
    retired: bool,
) -> Result<(), sqlx::Error> {
    // The table name comes from the enum, never from input.
    sqlx::query(&format!(
        "update {} set retired = $3 where tenant_id = $1 and id = $2",
        list.table()
    ))
    .bind(tenant)
    .bind(id)
    .bind(retired)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes positions 1, 2, … in the order given.
pub async fn set_positions(
    conn: &mut PgConnection,
    tenant: TenantId,
    list: List,
    ordered: &[Uuid],
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "update {} as t set position = o.ord \
         from unnest($2::uuid[]) with ordinality as o(id, ord) \
         where t.tenant_id = $1 and t.id = o.id and t.position is distinct from o.ord",
        list.table()
    ))
    .bind(tenant)
    .bind(ordered)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn in_use(
    conn: &mut PgConnection,
    tenant: TenantId,
    list: List,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "select exists (select 1 from tickets where tenant_id = $1 and {} = $2)",
        list.ticket_column()
    ))
    .bind(tenant)
    .bind(id)
    .fetch_one(conn)
    .await
}

pub async fn delete(
    conn: &mut PgConnection,
    tenant: TenantId,
    list: List,
    id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "delete from {} where tenant_id = $1 and id = $2",
        list.table()
    ))
    .bind(tenant)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

// ---- priorities ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PriorityRow {
    pub id: PriorityId,
    pub name: String,
    pub rank: i32,
    pub color: String,
    pub is_default: bool,
    pub retired: bool,
    pub tickets: i64,
}

pub async fn priorities(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<Vec<PriorityRow>, sqlx::Error> {
    sqlx::query_as::<_, PriorityRow>(
        "select p.id, p.name, p.rank, p.color, p.is_default, p.retired, \
                (select count(*) from tickets t where t.tenant_id = p.tenant_id and t.priority_id = p.id) as tickets \
         from ticket_priorities p where p.tenant_id = $1 order by p.rank desc, p.name for no key update of p",
    )
    .bind(tenant)
    .fetch_all(conn)
    .await
}

pub async fn insert_priority(
    conn: &mut PgConnection,
    tenant: TenantId,
    name: &str,
    rank: i32,
    color: &str,
) -> Result<PriorityId, sqlx::Error> {
    sqlx::query_scalar(
        "insert into ticket_priorities (tenant_id, id, name, rank, color) \
         values ($1, $2, $3, $4, $5) returning id",
    )
    .bind(tenant)
    .bind(PriorityId::generate())
    .bind(name)
    .bind(rank)
    .bind(color)
    .fetch_one(conn)
    .await
}

/// Renames, recolours and re-ranks a priority, and moves the rank copied onto
/// its tickets with it.
pub async fn update_priority(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: PriorityId,
    name: &str,
    rank: i32,
    color: &str,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "update ticket_priorities set name = $3, rank = $4, color = $5 \
         where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(name)
    .bind(rank)
    .bind(color)
    .execute(&mut *conn)
    .await?;
    let moved = sqlx::query(
        "update tickets set priority_rank = $3 \
         where tenant_id = $1 and priority_id = $2 and priority_rank <> $3",
    )
    .bind(tenant)
    .bind(id)
    .bind(rank)
    .execute(conn)
    .await?;
    Ok(moved.rows_affected())
}

pub async fn set_default_priority(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: PriorityId,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update ticket_priorities set is_default = false where tenant_id = $1 and is_default",
    )
    .bind(tenant)
    .execute(&mut *conn)
    .await?;
    sqlx::query("update ticket_priorities set is_default = true where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

// ---- types ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TypeRow {
    pub id: TypeId,
    pub name: String,
    pub is_default: bool,
    pub retired: bool,
    pub tickets: i64,
}

pub async fn types(conn: &mut PgConnection, tenant: TenantId) -> Result<Vec<TypeRow>, sqlx::Error> {
    sqlx::query_as::<_, TypeRow>(
        "select y.id, y.name, y.is_default, y.retired, \
                (select count(*) from tickets t where t.tenant_id = y.tenant_id and t.type_id = y.id) as tickets \
         from ticket_types y where y.tenant_id = $1 order by y.position, y.name for no key update of y",
    )
    .bind(tenant)
    .fetch_all(conn)
    .await
}

pub async fn insert_type(
    conn: &mut PgConnection,
    tenant: TenantId,
    name: &str,
) -> Result<TypeId, sqlx::Error> {
    sqlx::query_scalar(
        "insert into ticket_types (tenant_id, id, name, position) \
         values ($1, $2, $3, \
                 (select coalesce(max(position), 0) + 1 from ticket_types where tenant_id = $1)) \
         returning id",
    )
    .bind(tenant)
    .bind(TypeId::generate())
    .bind(name)
    .fetch_one(conn)
    .await
}

pub async fn rename_type(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: TypeId,
    name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update ticket_types set name = $3 where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_default_type(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: TypeId,
) -> Result<(), sqlx::Error> {
    sqlx::query("update ticket_types set is_default = false where tenant_id = $1 and is_default")
        .bind(tenant)
        .execute(&mut *conn)
        .await?;
    sqlx::query("update ticket_types set is_default = true where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

// ---- categories ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CategoryRow {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub name: String,
    pub depth: i16,
    pub retired: bool,
    pub tickets: i64,
}

/// Every category, siblings in order (the tree is assembled by the caller).
pub async fn categories(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<Vec<CategoryRow>, sqlx::Error> {
    sqlx::query_as::<_, CategoryRow>(
        "select c.id, c.parent_id, c.name, c.depth, c.retired, \
                (select count(*) from tickets t where t.tenant_id = c.tenant_id and t.category_id = c.id) as tickets \
         from categories c where c.tenant_id = $1 order by c.depth, c.position, c.name for no key update of c",
    )
    .bind(tenant)
    .fetch_all(conn)
    .await
}

pub async fn insert_category(
    conn: &mut PgConnection,
    tenant: TenantId,
    parent: Option<CategoryId>,
    depth: i16,
    name: &str,
) -> Result<CategoryId, sqlx::Error> {
    sqlx::query_scalar(
        "insert into categories (tenant_id, id, parent_id, name, depth, position) \
         values ($1, $2, $3, $4, $5, \
                 (select coalesce(max(position), 0) + 1 from categories \
                  where tenant_id = $1 and parent_id is not distinct from $3)) \
         returning id",
    )
    .bind(tenant)
    .bind(CategoryId::generate())
    .bind(parent)
    .bind(name)
    .bind(depth)
    .fetch_one(conn)
    .await
}

pub async fn rename_category(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: CategoryId,
    name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update categories set name = $3 where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

// ---- tags ----

/// A tag and how many of the tenant's tickets carry it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TagRow {
    pub tag: String,
    pub tickets: i64,
}

/// The tenant's tags in name order, those containing `q` (all when empty), at
/// most `limit`. Unnests every ticket's tags: fine for an admin page.
pub async fn tags(
    conn: &mut PgConnection,
    tenant: TenantId,
    q: &str,
    limit: i64,
) -> Result<Vec<TagRow>, sqlx::Error> {
    sqlx::query_as::<_, TagRow>(
        "select tag, count(*) as tickets \
           from tickets, unnest(tags) as tag \
          where tenant_id = $1 and ($2 = '' or strpos(tag, $2) > 0) \
          group by tag order by tag limit $3",
    )
    .bind(tenant)
    .bind(q)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Whether any of the tenant's tickets carries `tag`.
pub async fn tag_exists(
    conn: &mut PgConnection,
    tenant: TenantId,
    tag: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from tickets where tenant_id = $1 and tags @> array[$2::text])",
    )
    .bind(tenant)
    .bind(tag)
    .fetch_one(conn)
    .await
}

/// One statement: replaces `tag` by `new` (or removes it when `new` is `None`)
/// on every ticket of the tenant that carries it, keeping the order of the
/// other tags and no duplicate (renaming onto a tag a ticket has already
/// merges the two); bumps each changed ticket's `version` and `updated_at` and
/// writes one staff-only "changed tags" event per changed ticket. Returns how
/// many tickets changed.
///
/// The tickets are locked (`for update`) as they are read, so a ticket edited
/// meanwhile is rewritten from its newest tags, not a stale copy.
pub async fn retag(
    conn: &mut PgConnection,
    tenant: TenantId,
    tag: &str,
    new: Option<&str>,
    actor: UserId,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let changed = sqlx::query(
        "with target as ( \
             select t.id, t.tags as old_tags, \
                    case when $3::text is null then array_remove(t.tags, $2::text) \
                         else array(select case when u.tag = $2::text then $3::text else u.tag end \
                                      from unnest(t.tags) with ordinality as u(tag, ord) \
                                     group by 1 order by min(u.ord)) \
                    end as new_tags \
               from tickets t \
              where t.tenant_id = $1 and t.tags @> array[$2::text] \
                for update of t), \
         updated as ( \
             update tickets t \
                set tags = target.new_tags, version = t.version + 1, updated_at = $4 \
               from target \
              where t.tenant_id = $1 and t.id = target.id \
             returning t.id, target.old_tags, target.new_tags) \
         insert into ticket_events (tenant_id, id, ticket_id, actor_id, kind, field, old_value, \
                                    new_value, internal, created_at) \
         select $1, uuid_v7(), u.id, $5, 'field_changed', 'tags', \
                array_to_string(u.old_tags, ', '), array_to_string(u.new_tags, ', '), true, $4 \
           from updated u",
    )
    .bind(tenant)
    .bind(tag)
    .bind(new)
    .bind(now)
    .bind(actor)
    .execute(conn)
    .await?;
    Ok(changed.rows_affected())
}

// ---- users ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub has_password: bool,
}

const USER_ROW: &str = "id, email, name, role, active, password_hash is not null as has_password";

/// Users whose name or email contains `q` (all when empty), staff first, at most `limit`.
pub async fn search_users(
    conn: &mut PgConnection,
    tenant: TenantId,
    q: &str,
    limit: i64,
) -> Result<Vec<UserRow>, sqlx::Error> {
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    sqlx::query_as::<_, UserRow>(&format!(
        "select {USER_ROW} from users \
         where tenant_id = $1 and ($2 = '' or name ilike $3 or email ilike $3) \
         order by role desc, lower(name), id limit $4"
    ))
    .bind(tenant)
    .bind(q)
    .bind(pattern)
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn find_user_for_update(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "select {USER_ROW} from users where tenant_id = $1 and id = $2 for no key update"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Gives a contact a name and role of its own (see `service::users`).
pub async fn adopt_contact(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    name: &str,
    role: Role,
    now: OffsetDateTime,
) -> Result<User, sqlx::Error> {
    sqlx::query_as::<_, User>(
        "update users set name = $3, role = $4, updated_at = $5 \
          where tenant_id = $1 and id = $2 \
          returning tenant_id, id, email, name, role, timezone, active",
    )
    .bind(tenant)
    .bind(id)
    .bind(name)
    .bind(role)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// The active admins, locked: two admins demoting each other at once cannot
/// both pass the last-admin check.
pub async fn lock_active_admins(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<Vec<UserId>, sqlx::Error> {
    sqlx::query_scalar(
        "select id from users where tenant_id = $1 and role = 'admin' and active \
         order by id for no key update",
    )
    .bind(tenant)
    .fetch_all(conn)
    .await
}

pub async fn set_role(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    role: Role,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query("update users set role = $3, updated_at = $4 where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .bind(role)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_active(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    active: bool,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query("update users set active = $3, updated_at = $4 where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .bind(active)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_password_hash(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    hash: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update users set password_hash = $3, updated_at = $4 where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Group memberships end when a user stops being staff.
pub async fn remove_memberships(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from group_members where tenant_id = $1 and user_id = $2")
        .bind(tenant)
        .bind(user)
        .execute(conn)
        .await?;
    Ok(())
}

// ---- groups ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct GroupRow {
    pub id: GroupId,
    pub name: String,
    pub tickets: i64,
    /// How the group auto-assigns (`tickets::assignment::AutoAssign`).
    pub auto_assign: String,
}

pub async fn groups(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<Vec<GroupRow>, sqlx::Error> {
    sqlx::query_as::<_, GroupRow>(
        "select g.id, g.name, g.auto_assign, \
                (select count(*) from tickets t where t.tenant_id = g.tenant_id and t.group_id = g.id) as tickets \
         from groups g where g.tenant_id = $1 order by lower(g.name), g.id",
    )
    .bind(tenant)
    .fetch_all(conn)
    .await
}

pub async fn find_group_for_update(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: GroupId,
) -> Result<Option<GroupRow>, sqlx::Error> {
    sqlx::query_as::<_, GroupRow>(
        "select g.id, g.name, g.auto_assign, \
                (select count(*) from tickets t where t.tenant_id = g.tenant_id and t.group_id = g.id) as tickets \
         from groups g where g.tenant_id = $1 and g.id = $2 for no key update of g",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MemberRow {
    pub group_id: GroupId,
    pub user_id: UserId,
    pub name: String,
    pub email: String,
}

pub async fn group_members(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query_as::<_, MemberRow>(
        "select m.group_id, m.user_id, u.name, u.email from group_members m \
         join users u on u.tenant_id = m.tenant_id and u.id = m.user_id \
         where m.tenant_id = $1 order by lower(u.name), u.id",
    )
    .bind(tenant)
    .fetch_all(conn)
    .await
}

pub async fn group_categories(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<Vec<(GroupId, CategoryId)>, sqlx::Error> {
    sqlx::query_as::<_, (GroupId, CategoryId)>(
        "select group_id, category_id from group_categories where tenant_id = $1",
    )
    .bind(tenant)
    .fetch_all(conn)
    .await
}

pub async fn insert_group(
    conn: &mut PgConnection,
    tenant: TenantId,
    name: &str,
) -> Result<GroupId, sqlx::Error> {
    sqlx::query_scalar("insert into groups (tenant_id, id, name) values ($1, $2, $3) returning id")
        .bind(tenant)
        .bind(GroupId::generate())
        .bind(name)
        .fetch_one(conn)
        .await
}

pub async fn rename_group(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: GroupId,
    name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update groups set name = $3 where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_group(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: GroupId,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from groups where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds a member; false when they already were one.
pub async fn add_member(
    conn: &mut PgConnection,
    tenant: TenantId,
    group: GroupId,
    user: UserId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "insert into group_members (tenant_id, group_id, user_id) values ($1, $2, $3) \
         on conflict do nothing",
    )
    .bind(tenant)
    .bind(group)
    .bind(user)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a member; false when they were not one.
pub async fn remove_member(
    conn: &mut PgConnection,
    tenant: TenantId,
    group: GroupId,
    user: UserId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "delete from group_members where tenant_id = $1 and group_id = $2 and user_id = $3",
    )
    .bind(tenant)
    .bind(group)
    .bind(user)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces a group's scope with `categories`.
pub async fn set_group_categories(
    conn: &mut PgConnection,
    tenant: TenantId,
    group: GroupId,
    categories: &[CategoryId],
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from group_categories where tenant_id = $1 and group_id = $2")
        .bind(tenant)
        .bind(group)
        .execute(&mut *conn)
        .await?;
    let ids: Vec<Uuid> = categories.iter().map(|c| c.0).collect();
    sqlx::query(
        "insert into group_categories (tenant_id, group_id, category_id) \
         select $1, $2, unnest($3::uuid[])",
    )
    .bind(tenant)
    .bind(group)
    .bind(ids)
    .execute(conn)
    .await?;
    Ok(())
}

// ---- the audit log ----

/// One change to write to the audit log.
#[derive(Clone, Debug)]
pub struct AuditEntry<'a> {
    pub area: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub before: Option<String>,
    pub after: Option<String>,
}

pub async fn insert_audit(
    conn: &mut PgConnection,
    tenant: TenantId,
    actor: UserId,
    entry: &AuditEntry<'_>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into admin_audit_log \
            (tenant_id, id, actor_id, area, action, subject, before, after, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(actor)
    .bind(entry.area)
    .bind(entry.action)
    .bind(entry.subject)
    .bind(&entry.before)
    .bind(&entry.after)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditRow {
    pub id: Uuid,
    pub actor_name: Option<String>,
    pub area: String,
    pub action: String,
    pub subject: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub created_at: OffsetDateTime,
}

/// Newest first, `limit` rows after the row `after` (keyset: created_at, id).
pub async fn audit_page(
    conn: &mut PgConnection,
    tenant: TenantId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as::<_, AuditRow>(
        "select a.id, u.name as actor_name, a.area, a.action, a.subject, a.before, a.after, a.created_at \
         from admin_audit_log a \
         left join users u on u.tenant_id = a.tenant_id and u.id = a.actor_id \
         where a.tenant_id = $1 \
           and ($2::uuid is null or (a.created_at, a.id) < \
                (select c.created_at, c.id from admin_audit_log c where c.tenant_id = $1 and c.id = $2)) \
         order by a.created_at desc, a.id desc limit $3",
    )
    .bind(tenant)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}
