-- Working the queue: "needs response", agent availability, auto-assignment per
-- group, saved views, and the indexes behind the queue and its quick filters.

-- Needs response: the last public message is the requester's (a customer's),
-- or no staff member has replied yet. Kept by the reply in its transaction.
alter table tickets add column awaiting_staff boolean not null default true;
update tickets t
   set awaiting_staff = t.first_response_at is null
       or coalesce((select u.role = 'customer'
                      from replies r
                      join users u on u.tenant_id = r.tenant_id and u.id = r.author_id
                     where r.tenant_id = t.tenant_id and r.ticket_id = t.id
                       and not r.internal and r.deleted_at is null
                     order by r.created_at desc, r.id desc
                     limit 1), false);

-- Whether auto-assignment may pick an agent.
alter table users add column availability text not null default 'available'
    constraint users_availability_value check (availability in ('available', 'away'));

-- Auto-assignment: off by default. `last_assigned_user_id` is where round-robin
-- continues (no foreign key: a removed user only restarts the rotation).
alter table groups add column auto_assign text not null default 'off'
    constraint groups_auto_assign_value check (auto_assign in ('off', 'round_robin', 'least_loaded'));
alter table groups add column last_assigned_user_id uuid;

-- The queue and the quick filters, each in the list's default order (the other
-- sorts reuse 0002's indexes). Closed tickets are hidden unless asked for, so
-- the partial indexes leave them out.
-- "My queue": unassigned tickets in the agent's groups' categories (assigned to
-- me and assigned to my groups use tickets_assignee_idx and tickets_group_idx).
create index tickets_unassigned_category_idx on tickets (tenant_id, category_id, updated_at desc, id desc)
    where assignee_id is null and status_category <> 'closed';
create index tickets_unassigned_idx on tickets (tenant_id, updated_at desc, id desc)
    where assignee_id is null and status_category <> 'closed';
create index tickets_needs_response_idx on tickets (tenant_id, updated_at desc, id desc)
    where awaiting_staff and status_category <> 'closed';
create index tickets_reopened_idx on tickets (tenant_id, updated_at desc, id desc)
    where reopened and status_category <> 'closed';
-- Least-loaded auto-assignment counts each member's open tickets.
create index tickets_assignee_open_idx on tickets (tenant_id, assignee_id)
    where status_category in ('new', 'open', 'waiting');

-- A saved list: a name and the list's query string (filters, sort, columns).
-- Personal unless an admin shares it with all staff.
create table saved_views (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    owner_id uuid not null,
    name text not null,
    query text not null,
    shared boolean not null default false,
    position integer not null,
    created_at timestamptz not null,
    primary key (tenant_id, id),
    foreign key (tenant_id, owner_id) references users (tenant_id, id) on delete cascade,
    constraint saved_views_name_length check (char_length(name) between 1 and 80),
    constraint saved_views_query_length check (char_length(query) <= 2000)
);
create index saved_views_owner_idx on saved_views (tenant_id, owner_id, position);
create index saved_views_shared_idx on saved_views (tenant_id, position) where shared;

do $$
declare
    t text;
begin
    foreach t in array array['saved_views']
    loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy tenant_isolation on %I to tessera_app '
                       'using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())', t);
        execute format('grant select, insert, update, delete on %I to tessera_app', t);
    end loop;
end
$$;
