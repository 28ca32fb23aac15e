-- Lifecycle and admin settings: per-tenant settings, resolution notes, group
-- membership and scope, and the admin audit log.

-- One row per tenant, created with the tenant (and here for existing ones).
create table tenant_settings (
    tenant_id uuid primary key references tenants (id) on delete cascade,
    -- A customer reply within this many days of resolving reopens the ticket;
    -- after it the auto-close job closes the ticket.
    reopen_window_days integer not null default 7,
    customers_can_reopen boolean not null default true,
    guest_submission_enabled boolean not null default false,
    -- Where new-ticket notifications go; null for none.
    notification_email text,
    default_timezone text not null default 'UTC',
    updated_at timestamptz not null default now(),
    constraint tenant_settings_reopen_window_range check (reopen_window_days between 0 and 365),
    constraint tenant_settings_notification_email_format
        check (notification_email is null or notification_email ~ '^[^@\s]+@[^@\s]+$')
);
insert into tenant_settings (tenant_id) select id from tenants on conflict do nothing;

-- Shown to the requester; kept when the ticket is reopened.
alter table tickets add column resolution_notes text
    constraint tickets_resolution_notes_length check (char_length(resolution_notes) <= 20000);
-- The auto-close job walks resolved tickets by their resolution time.
create index tickets_resolved_idx on tickets (resolved_at) where status_category = 'resolved';

create table group_members (
    tenant_id uuid not null,
    group_id uuid not null,
    user_id uuid not null,
    primary key (tenant_id, group_id, user_id),
    foreign key (tenant_id, group_id) references groups (tenant_id, id) on delete cascade,
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade
);
create index group_members_user_idx on group_members (tenant_id, user_id);

-- A group's scope: the categories whose unassigned tickets its members see in their queue.
create table group_categories (
    tenant_id uuid not null,
    group_id uuid not null,
    category_id uuid not null,
    primary key (tenant_id, group_id, category_id),
    foreign key (tenant_id, group_id) references groups (tenant_id, id) on delete cascade,
    foreign key (tenant_id, category_id) references categories (tenant_id, id) on delete cascade
);
create index group_categories_category_idx on group_categories (tenant_id, category_id);

-- Who changed which setting, from what to what, when.
create table admin_audit_log (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    actor_id uuid,
    area text not null,
    action text not null,
    subject text not null,
    before text,
    after text,
    created_at timestamptz not null,
    primary key (tenant_id, id),
    foreign key (tenant_id, actor_id) references users (tenant_id, id)
);
create index admin_audit_log_recent_idx on admin_audit_log (tenant_id, created_at desc, id desc);

-- Indexes for foreign keys that had none (deleting a tenant or user must not scan).
create index tickets_last_reply_by_idx on tickets (tenant_id, last_reply_by) where last_reply_by is not null;
create index replies_author_idx on replies (tenant_id, author_id);
create index replies_deleted_by_idx on replies (tenant_id, deleted_by) where deleted_by is not null;
create index reply_revisions_changed_by_idx on reply_revisions (tenant_id, changed_by);
create index ticket_events_actor_idx on ticket_events (tenant_id, actor_id);
create index categories_parent_idx on categories (tenant_id, parent_id);

do $$
declare
    t text;
begin
    foreach t in array array['tenant_settings', 'group_members', 'group_categories', 'admin_audit_log']
    loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy tenant_isolation on %I to tessera_app '
                       'using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())', t);
        execute format('grant select, insert, update, delete on %I to tessera_app', t);
    end loop;
end
$$;
-- Admins edit the tenant's own row (name, ticket prefix) through the application role.
grant update (name, ticket_prefix, updated_at) on tenants to tessera_app;

-- New tenants get their settings row with their default lists.
create or replace function seed_ticket_defaults_and_settings(p_tenant uuid) returns void
language plpgsql as $$
begin
    perform seed_ticket_defaults(p_tenant);
    insert into tenant_settings (tenant_id) values (p_tenant) on conflict do nothing;
end
$$;
