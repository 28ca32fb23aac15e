-- Tickets: per-tenant lists (types, priorities, statuses, categories), tickets,
-- replies with revisions, followers, the activity log, exact status counters
-- and the search document.
--
-- Every table is tenant-owned: `tenant_id` leads the primary key and every index,
-- foreign keys carry it, and row-level security binds `tessera_app` to the
-- transaction's tenant. Indexes are chosen for the list at a million tickets:
-- each filter and sort is served by one, and the status-count bar reads counters.

create extension if not exists unaccent;
create extension if not exists btree_gin;

-- A time-ordered UUID (version 7), for rows created in SQL.
create function uuid_v7() returns uuid language sql volatile as $$
    select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
        from 1 for 6), 52, 1), 53, 1), 'hex')::uuid
$$;

alter table tenants add column ticket_prefix text not null default 'TKT-'
    constraint tenants_ticket_prefix_format check (ticket_prefix ~ '^[A-Za-z0-9-]{0,10}$');

-- Ticket numbers are handed out by locking this row in the creating transaction:
-- gapless (a rolled-back create gives its number back) and race-free.
create table ticket_counters (
    tenant_id uuid primary key references tenants (id) on delete cascade,
    next_number bigint not null default 1
);

create type status_category as enum ('new', 'open', 'waiting', 'resolved', 'closed');

create table ticket_statuses (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    name text not null,
    category status_category not null,
    color text not null,
    position integer not null,
    -- The status a ticket gets when it enters this category automatically.
    is_default boolean not null default false,
    retired boolean not null default false,
    primary key (tenant_id, id),
    constraint ticket_statuses_tenant_name_key unique (tenant_id, name),
    constraint ticket_statuses_name_length check (char_length(name) between 1 and 40),
    constraint ticket_statuses_color_format check (color ~ '^#[0-9a-f]{6}$')
);
create unique index ticket_statuses_default_key on ticket_statuses (tenant_id, category) where is_default;

create table ticket_priorities (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    name text not null,
    -- Higher is more urgent; sorting by priority uses it.
    rank integer not null,
    color text not null,
    is_default boolean not null default false,
    retired boolean not null default false,
    primary key (tenant_id, id),
    constraint ticket_priorities_tenant_name_key unique (tenant_id, name),
    constraint ticket_priorities_name_length check (char_length(name) between 1 and 40),
    constraint ticket_priorities_color_format check (color ~ '^#[0-9a-f]{6}$')
);
create unique index ticket_priorities_default_key on ticket_priorities (tenant_id) where is_default;

create table ticket_types (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    name text not null,
    position integer not null,
    is_default boolean not null default false,
    retired boolean not null default false,
    primary key (tenant_id, id),
    constraint ticket_types_tenant_name_key unique (tenant_id, name),
    constraint ticket_types_name_length check (char_length(name) between 1 and 40)
);
create unique index ticket_types_default_key on ticket_types (tenant_id) where is_default;

-- A tree of up to three levels: Category → Type → Item.
create table categories (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    parent_id uuid,
    name text not null,
    depth smallint not null,
    position integer not null,
    retired boolean not null default false,
    primary key (tenant_id, id),
    foreign key (tenant_id, parent_id) references categories (tenant_id, id),
    constraint categories_depth_range check (depth between 1 and 3),
    constraint categories_root_has_no_parent check ((depth = 1) = (parent_id is null)),
    constraint categories_name_length check (char_length(name) between 1 and 80)
);
create unique index categories_sibling_name_key
    on categories (tenant_id, coalesce(parent_id, '00000000-0000-0000-0000-000000000000'::uuid), lower(name));

-- Groups of agents (teams). Membership and scope arrive with assignment.
create table groups (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    name text not null,
    primary key (tenant_id, id),
    constraint groups_tenant_name_key unique (tenant_id, name)
);

create table tickets (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    number bigint not null,
    subject text not null,
    description text not null default '',
    type_id uuid not null,
    priority_id uuid not null,
    status_id uuid not null,
    -- Copies of the status's category and the priority's rank, so the queue's
    -- partial indexes and the priority sort need no join.
    status_category status_category not null,
    priority_rank integer not null,
    category_id uuid,
    requester_id uuid not null,
    assignee_id uuid,
    group_id uuid,
    tags text[] not null default '{}',
    created_at timestamptz not null,
    updated_at timestamptz not null,
    last_reply_at timestamptz,
    last_reply_by uuid,
    first_response_at timestamptz,
    resolved_at timestamptz,
    closed_at timestamptz,
    reopened boolean not null default false,
    -- Bumped by every change; an edit form carries it (optimistic concurrency).
    version integer not null default 1,
    primary key (tenant_id, id),
    constraint tickets_tenant_number_key unique (tenant_id, number),
    foreign key (tenant_id, type_id) references ticket_types (tenant_id, id),
    foreign key (tenant_id, priority_id) references ticket_priorities (tenant_id, id),
    foreign key (tenant_id, status_id) references ticket_statuses (tenant_id, id),
    foreign key (tenant_id, category_id) references categories (tenant_id, id),
    foreign key (tenant_id, requester_id) references users (tenant_id, id),
    foreign key (tenant_id, assignee_id) references users (tenant_id, id),
    foreign key (tenant_id, group_id) references groups (tenant_id, id),
    foreign key (tenant_id, last_reply_by) references users (tenant_id, id),
    constraint tickets_subject_length check (char_length(subject) between 1 and 200),
    constraint tickets_description_length check (char_length(description) <= 100000)
);

-- The list. Default: not closed, last updated first; the same with closed shown.
create index tickets_queue_idx on tickets (tenant_id, updated_at desc, id desc)
    where status_category <> 'closed';
create index tickets_updated_idx on tickets (tenant_id, updated_at desc, id desc);
-- Newest/oldest sort by number (tickets_tenant_number_key); priority sort:
create index tickets_priority_queue_idx on tickets (tenant_id, priority_rank desc, updated_at desc, id desc)
    where status_category <> 'closed';
create index tickets_priority_idx on tickets (tenant_id, priority_rank desc, updated_at desc, id desc);
-- Filters, each with the default order.
create index tickets_status_idx on tickets (tenant_id, status_id, updated_at desc, id desc);
create index tickets_priority_filter_idx on tickets (tenant_id, priority_id, updated_at desc, id desc);
create index tickets_type_idx on tickets (tenant_id, type_id, updated_at desc, id desc);
create index tickets_category_idx on tickets (tenant_id, category_id, updated_at desc, id desc);
create index tickets_assignee_idx on tickets (tenant_id, assignee_id, updated_at desc, id desc);
create index tickets_group_idx on tickets (tenant_id, group_id, updated_at desc, id desc);
create index tickets_requester_idx on tickets (tenant_id, requester_id, updated_at desc, id desc);
create index tickets_tags_idx on tickets using gin (tenant_id, tags);
create index tickets_created_idx on tickets (tenant_id, created_at);

create table replies (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    ticket_id uuid not null,
    author_id uuid not null,
    body text not null,
    -- An internal note: staff only, never shown or sent to customers.
    internal boolean not null default false,
    created_at timestamptz not null,
    edited_at timestamptz,
    deleted_at timestamptz,
    deleted_by uuid,
    primary key (tenant_id, id),
    foreign key (tenant_id, ticket_id) references tickets (tenant_id, id) on delete cascade,
    foreign key (tenant_id, author_id) references users (tenant_id, id),
    foreign key (tenant_id, deleted_by) references users (tenant_id, id),
    constraint replies_body_length check (char_length(body) between 1 and 100000)
);
create index replies_ticket_idx on replies (tenant_id, ticket_id, created_at, id);

-- Every earlier text of a reply: one row per edit or delete.
create table reply_revisions (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    reply_id uuid not null,
    body text not null,
    change text not null,
    changed_by uuid not null,
    changed_at timestamptz not null,
    primary key (tenant_id, id),
    foreign key (tenant_id, reply_id) references replies (tenant_id, id) on delete cascade,
    foreign key (tenant_id, changed_by) references users (tenant_id, id),
    constraint reply_revisions_change check (change in ('edited', 'deleted'))
);
create index reply_revisions_reply_idx on reply_revisions (tenant_id, reply_id, changed_at);

create table ticket_followers (
    tenant_id uuid not null references tenants (id) on delete cascade,
    ticket_id uuid not null,
    user_id uuid not null,
    created_at timestamptz not null,
    primary key (tenant_id, ticket_id, user_id),
    foreign key (tenant_id, ticket_id) references tickets (tenant_id, id) on delete cascade,
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade
);
create index ticket_followers_user_idx on ticket_followers (tenant_id, user_id);

-- The activity log: who changed what, from what to what, when.
create table ticket_events (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    ticket_id uuid not null,
    actor_id uuid,
    kind text not null,
    field text,
    old_value text,
    new_value text,
    -- Events about internal notes: staff only.
    internal boolean not null default false,
    created_at timestamptz not null,
    primary key (tenant_id, id),
    foreign key (tenant_id, ticket_id) references tickets (tenant_id, id) on delete cascade,
    foreign key (tenant_id, actor_id) references users (tenant_id, id)
);
create index ticket_events_ticket_idx on ticket_events (tenant_id, ticket_id, created_at, id);

-- Exact ticket counts per status, kept by trigger in the same transaction as
-- every change, so the status-count bar never counts rows.
create table ticket_status_counts (
    tenant_id uuid not null references tenants (id) on delete cascade,
    status_id uuid not null,
    n bigint not null default 0,
    primary key (tenant_id, status_id),
    foreign key (tenant_id, status_id) references ticket_statuses (tenant_id, id) on delete cascade
);

create function tickets_count_statuses() returns trigger language plpgsql as $$
begin
    if tg_op in ('INSERT', 'UPDATE') then
        insert into ticket_status_counts as c (tenant_id, status_id, n)
        values (new.tenant_id, new.status_id, 1)
        on conflict (tenant_id, status_id) do update set n = c.n + 1;
    end if;
    if tg_op in ('DELETE', 'UPDATE') then
        update ticket_status_counts set n = n - 1
        where tenant_id = old.tenant_id and status_id = old.status_id;
    end if;
    return null;
end
$$;
create trigger tickets_count_statuses_ins_del after insert or delete on tickets
    for each row execute function tickets_count_statuses();
create trigger tickets_count_statuses_upd after update of status_id on tickets
    for each row when (old.status_id is distinct from new.status_id)
    execute function tickets_count_statuses();

-- The search document: subject (A), description (B) and public replies (C),
-- accent-folded; internal notes are never in it, so nobody matches on them.
-- Kept apart from tickets so status or assignee changes never rewrite it.
create table ticket_search (
    tenant_id uuid not null,
    ticket_id uuid not null,
    updated_at timestamptz not null,
    doc tsvector not null,
    primary key (tenant_id, ticket_id),
    foreign key (tenant_id, ticket_id) references tickets (tenant_id, id) on delete cascade
);
create index ticket_search_doc_idx on ticket_search using gin (tenant_id, doc);

create function search_vector(weight "char", body text) returns tsvector
    language sql stable
    as $$ select setweight(to_tsvector('english', unaccent(coalesce(body, ''))), weight) $$;

create function ticket_search_rebuild(p_tenant uuid, p_ticket uuid) returns void
language sql as $$
    insert into ticket_search (tenant_id, ticket_id, updated_at, doc)
    select t.tenant_id, t.id, t.updated_at,
           search_vector('A', t.subject) || search_vector('B', t.description) ||
           coalesce((select search_vector('C', string_agg(r.body, ' ' order by r.created_at))
                       from replies r
                      where r.tenant_id = p_tenant and r.ticket_id = p_ticket
                        and not r.internal and r.deleted_at is null), '')
      from tickets t
     where t.tenant_id = p_tenant and t.id = p_ticket
    on conflict (tenant_id, ticket_id) do update
        set doc = excluded.doc, updated_at = excluded.updated_at;
$$;

create function ticket_search_on_ticket() returns trigger language plpgsql as $$
begin
    perform ticket_search_rebuild(new.tenant_id, new.id);
    return null;
end
$$;
create trigger tickets_search_ins after insert on tickets
    for each row execute function ticket_search_on_ticket();
create trigger tickets_search_upd after update of subject, description on tickets
    for each row when (old.subject is distinct from new.subject or old.description is distinct from new.description)
    execute function ticket_search_on_ticket();

create function ticket_search_on_reply() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        if not new.internal then
            -- The hot path appends; no re-parse of the thread.
            update ticket_search
               set doc = doc || search_vector('C', new.body), updated_at = new.created_at
             where tenant_id = new.tenant_id and ticket_id = new.ticket_id;
        end if;
    else
        perform ticket_search_rebuild(old.tenant_id, old.ticket_id);
    end if;
    return null;
end
$$;
create trigger replies_search_ins after insert on replies
    for each row execute function ticket_search_on_reply();
create trigger replies_search_chg after update of body, deleted_at, internal on replies
    for each row execute function ticket_search_on_reply();

-- Row-level security and grants for every new table.
do $$
declare
    t text;
begin
    foreach t in array array['ticket_counters', 'ticket_statuses', 'ticket_priorities', 'ticket_types',
                             'categories', 'groups', 'tickets', 'replies', 'reply_revisions',
                             'ticket_followers', 'ticket_events', 'ticket_status_counts', 'ticket_search']
    loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy tenant_isolation on %I to tessera_app '
                       'using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())', t);
        execute format('grant select, insert, update, delete on %I to tessera_app', t);
    end loop;
end
$$;

-- The lists every tenant starts with (admins edit them later). Runs inside the
-- tenant's transaction; also run here for tenants that exist already.
create function seed_ticket_defaults(p_tenant uuid) returns void language plpgsql as $$
declare
    billing uuid := uuid_v7();
    technical uuid := uuid_v7();
    access uuid := uuid_v7();
begin
    insert into ticket_counters (tenant_id) values (p_tenant) on conflict do nothing;
    insert into ticket_types (tenant_id, id, name, position, is_default) values
        (p_tenant, uuid_v7(), 'Issue', 1, true),
        (p_tenant, uuid_v7(), 'Bug', 2, false),
        (p_tenant, uuid_v7(), 'Feature', 3, false);
    insert into ticket_priorities (tenant_id, id, name, rank, color, is_default) values
        (p_tenant, uuid_v7(), 'Low', 1, '#6b7280', false),
        (p_tenant, uuid_v7(), 'Medium', 2, '#2563eb', true),
        (p_tenant, uuid_v7(), 'High', 3, '#d97706', false),
        (p_tenant, uuid_v7(), 'Urgent', 4, '#dc2626', false);
    insert into ticket_statuses (tenant_id, id, name, category, color, position, is_default) values
        (p_tenant, uuid_v7(), 'New', 'new', '#7c3aed', 1, true),
        (p_tenant, uuid_v7(), 'In Progress', 'open', '#2563eb', 2, true),
        (p_tenant, uuid_v7(), 'Awaiting customer', 'waiting', '#d97706', 3, true),
        (p_tenant, uuid_v7(), 'Resolved', 'resolved', '#059669', 4, true),
        (p_tenant, uuid_v7(), 'Closed', 'closed', '#4b5563', 5, true);
    insert into categories (tenant_id, id, parent_id, name, depth, position) values
        (p_tenant, uuid_v7(), null, 'General', 1, 1),
        (p_tenant, billing, null, 'Billing', 1, 2),
        (p_tenant, technical, null, 'Technical', 1, 3);
    insert into categories (tenant_id, id, parent_id, name, depth, position) values
        (p_tenant, uuid_v7(), billing, 'Invoices', 2, 1),
        (p_tenant, uuid_v7(), billing, 'Refunds', 2, 2),
        (p_tenant, access, technical, 'Access', 2, 1),
        (p_tenant, uuid_v7(), technical, 'Performance', 2, 2);
    insert into categories (tenant_id, id, parent_id, name, depth, position) values
        (p_tenant, uuid_v7(), access, 'Password reset', 3, 1),
        (p_tenant, uuid_v7(), access, 'Two-factor authentication', 3, 2);
end
$$;

do $$
declare
    tenant record;
begin
    for tenant in select id from tenants loop
        -- As the application role, like every tenant write (FORCEd policies).
        perform set_config('app.tenant_id', tenant.id::text, true);
        perform set_config('role', 'tessera_app', true);
        perform seed_ticket_defaults(tenant.id);
        perform set_config('role', 'none', true);
    end loop;
    perform set_config('app.tenant_id', '', true);
end
$$;
