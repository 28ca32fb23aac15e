//! Account SQL. Every function runs inside a `TenantTx`; row-level security
//! scopes it to that tenant, and the `tenant_id` filters say so to the reader.

use super::model::{Role, User};
use crate::{
    db::{TenantId, UserId},
    tenants::Tenant,
};
use sqlx::{FromRow, PgConnection, Row};
use time::OffsetDateTime;

const USER_COLUMNS: &str = "tenant_id, id, email, name, role, timezone, active";

/// The timezone `user` reads dates in: their own choice, else the helpdesk's default.
pub async fn timezone_of(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: &User,
) -> Result<String, sqlx::Error> {
    match &user.timezone {
        Some(zone) => Ok(zone.clone()),
        None => crate::account::repo::default_timezone(conn, tenant).await,
    }
}

/// What a request with a session cookie starts from, read in one statement
/// inside the tenant's scope: the tenant's row, the session's stored data if
/// it is live, and the user it is signed in as here with the timezone they
/// read dates in. The user comes from the logins the session store writes
/// beside the data (migration 0022): `None` for a session stored before.
pub struct RequestStart {
    pub tenant: Tenant,
    pub session_data: Option<Vec<u8>>,
    pub user: Option<(User, String)>,
}

/// [`RequestStart`] for session `session`; `None` if the tenant is gone.
/// `conn` must be a transaction begun by `Db::session_tx` for the same
/// session: the application role reads no other (migration 0024).
///
/// The session is read in a subquery that its `limit` keeps whole, so its
/// user id is cast from the logins' text there: joined straight to `users`,
/// the cast (not leakproof) could not be an index condition under row-level
/// security, and PostgreSQL read all of a tenant's users to find the one
/// (3.6 ms at a tenant of 14,000 users, against 0.12).
pub async fn request_start(
    conn: &mut PgConnection,
    tenant: TenantId,
    session: &str,
) -> Result<Option<RequestStart>, sqlx::Error> {
    let row = sqlx::query(
        "select te.id, te.slug, te.name, te.is_demo, te.ticket_prefix, te.catalog_version, \
                se.data as session_data, \
                u.id as user_id, u.email as user_email, u.name as user_name, \
                u.role as user_role, u.timezone as user_timezone, u.active as user_active, \
                coalesce(u.timezone, s.default_timezone, 'UTC') as user_zone \
           from tenants te \
           left join (select se.data, (se.logins ->> $1::text)::uuid as user_id \
                        from tower_sessions.session se \
                       where se.id = $2 and se.expiry_date > now() limit 1) se on true \
           left join users u on u.tenant_id = te.id and u.id = se.user_id \
           left join tenant_settings s on s.tenant_id = te.id \
          where te.id = $1",
    )
    .bind(tenant)
    .bind(session)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let tenant = Tenant::from_row(&row)?;
    let user = match row.try_get::<Option<UserId>, _>("user_id")? {
        Some(id) => Some((
            User {
                tenant_id: tenant.id,
                id,
                email: row.try_get("user_email")?,
                name: row.try_get("user_name")?,
                role: row.try_get("user_role")?,
                timezone: row.try_get("user_timezone")?,
                active: row.try_get("user_active")?,
            },
            row.try_get("user_zone")?,
        )),
        None => None,
    };
    Ok(Some(RequestStart {
        tenant,
        session_data: row.try_get("session_data")?,
        user,
    }))
}

pub async fn find_user(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as::<_, User>(&format!(
        "select {USER_COLUMNS} from users where tenant_id = $1 and id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The user with this email (any case) and their password hash, if any.
pub async fn find_credentials(
    conn: &mut PgConnection,
    tenant: TenantId,
    email: &str,
) -> Result<Option<(User, Option<String>)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: User,
        password_hash: Option<String>,
    }
    let row = sqlx::query_as::<_, Row>(&format!(
        "select {USER_COLUMNS}, password_hash from users \
         where tenant_id = $1 and email_key = lower($2)"
    ))
    .bind(tenant)
    .bind(email)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| (row.user, row.password_hash)))
}

pub async fn insert_user(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    email: &str,
    name: &str,
    role: Role,
    password_hash: Option<&str>,
) -> Result<User, sqlx::Error> {
    sqlx::query_as::<_, User>(&format!(
        "insert into users (tenant_id, id, email, name, role, password_hash) \
         values ($1, $2, $3, $4, $5, $6) returning {USER_COLUMNS}"
    ))
    .bind(tenant)
    .bind(id)
    .bind(email)
    .bind(name)
    .bind(role)
    .bind(password_hash)
    .fetch_one(conn)
    .await
}

/// The throttle counter for one key: failures so far and when its window began.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct ThrottleCounter {
    pub failures: i32,
    pub window_started_at: OffsetDateTime,
}

pub async fn throttle_counter(
    conn: &mut PgConnection,
    tenant: TenantId,
    scope: &str,
    key: &str,
) -> Result<Option<ThrottleCounter>, sqlx::Error> {
    sqlx::query_as::<_, ThrottleCounter>(
        "select failures, window_started_at from login_throttle \
         where tenant_id = $1 and scope = $2 and key = $3",
    )
    .bind(tenant)
    .bind(scope)
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// Counts one failure, starting a new window when the current one has ended.
pub async fn record_failure(
    conn: &mut PgConnection,
    tenant: TenantId,
    scope: &str,
    key: &str,
    now: OffsetDateTime,
    window_start_cutoff: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into login_throttle as t (tenant_id, scope, key, failures, window_started_at) \
         values ($1, $2, $3, 1, $4) \
         on conflict (tenant_id, scope, key) do update set \
           failures = case when t.window_started_at <= $5 then 1 else t.failures + 1 end, \
           window_started_at = case when t.window_started_at <= $5 then $4 else t.window_started_at end",
    )
    .bind(tenant)
    .bind(scope)
    .bind(key)
    .bind(now)
    .bind(window_start_cutoff)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn clear_failures(
    conn: &mut PgConnection,
    tenant: TenantId,
    scope: &str,
    key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from login_throttle where tenant_id = $1 and scope = $2 and key = $3")
        .bind(tenant)
        .bind(scope)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}
