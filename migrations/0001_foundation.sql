-- Foundation: tenants, users, sessions, login throttling, and row-level security.
--
-- Tenancy rule (DESIGN.md): every tenant-owned table has `tenant_id` and a primary
-- key that starts with it; foreign keys carry `tenant_id`. The application runs
-- tenant-scoped queries as the role `tessera_app`, which owns nothing, inside a
-- transaction that sets `app.tenant_id`. The policies below are FORCEd (owners too),
-- so a query that forgets its tenant filter sees only the current tenant's rows.

-- The role is cluster-wide, so several databases (tests) may race to create it.
do $$
begin
    create role tessera_app nologin;
exception
    when duplicate_object or unique_violation then null;
end
$$;

-- Lets the migrating user `set role tessera_app` even when it is not a superuser.
do $$
begin
    execute format('grant tessera_app to %I', current_user);
exception
    when others then null;
end
$$;

grant usage on schema public to tessera_app;

-- The current tenant of the transaction, or null outside one. Policies use it.
create function app_tenant_id() returns uuid
    language sql stable
    as $$ select nullif(current_setting('app.tenant_id', true), '')::uuid $$;

create table tenants (
    id uuid primary key,
    slug text not null,
    name text not null,
    is_demo boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint tenants_slug_key unique (slug),
    constraint tenants_slug_format check (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$'),
    constraint tenants_name_length check (char_length(name) between 1 and 120)
);

create type user_role as enum ('customer', 'agent', 'admin');

create table users (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    email text not null,
    name text not null,
    role user_role not null,
    -- Null for contacts who never set a password (guests, invited users).
    password_hash text,
    timezone text not null default 'UTC',
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint users_email_format check (email ~ '^[^@\s]+@[^@\s]+$' and char_length(email) <= 254),
    constraint users_name_length check (char_length(name) between 1 and 120)
);
-- Email is unique per tenant, case-insensitively.
create unique index users_tenant_email_key on users (tenant_id, lower(email));

-- Failed sign-ins in fixed windows, per account (`scope = 'account'`, key = lower email)
-- and per client address (`scope = 'address'`). Kept in PostgreSQL, not in memory,
-- so the limit holds across every instance.
create table login_throttle (
    tenant_id uuid not null references tenants (id) on delete cascade,
    scope text not null,
    key text not null,
    failures integer not null default 0,
    window_started_at timestamptz not null,
    primary key (tenant_id, scope, key),
    constraint login_throttle_scope check (scope in ('account', 'address'))
);

-- tower-sessions' PostgreSQL store; this is exactly the table it would create.
create schema tower_sessions;
create table tower_sessions.session (
    id text primary key not null,
    data bytea not null,
    expiry_date timestamptz not null
);
create index session_expiry_date_idx on tower_sessions.session (expiry_date);

-- Row-level security on every tenant-owned table.
-- Not FORCEd: the tenant is resolved from its slug by the owner role before any
-- tenant is set. The application role still sees only its own tenant's row.
alter table tenants enable row level security;
create policy tenant_isolation on tenants to tessera_app
    using (id = app_tenant_id()) with check (id = app_tenant_id());

alter table users enable row level security;
alter table users force row level security;
create policy tenant_isolation on users to tessera_app
    using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id());

alter table login_throttle enable row level security;
alter table login_throttle force row level security;
create policy tenant_isolation on login_throttle to tessera_app
    using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id());

grant select on tenants to tessera_app;
grant select, insert, update, delete on users, login_throttle to tessera_app;
