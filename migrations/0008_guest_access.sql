-- Guest submission and secret access links.
--
-- A guest is a contact (a customer without a password). Each access link opens
-- one ticket; the token itself (256 random bits) is only ever in the email and
-- in the guest's cookie, the row keeps its SHA-256. Links stay valid while the
-- ticket is open (and for a while after it closes) until staff revoke them.

create table ticket_access_links (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    ticket_id uuid not null,
    -- The guest the link speaks for: the ticket's requester when it was issued.
    user_id uuid not null,
    token_hash bytea not null,
    created_at timestamptz not null,
    revoked_at timestamptz,
    revoked_by uuid,
    primary key (tenant_id, id),
    foreign key (tenant_id, ticket_id) references tickets (tenant_id, id) on delete cascade,
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade,
    foreign key (tenant_id, revoked_by) references users (tenant_id, id),
    constraint ticket_access_links_token_hash_length check (octet_length(token_hash) = 32)
);
create unique index ticket_access_links_token_key on ticket_access_links (tenant_id, token_hash);
create index ticket_access_links_ticket_idx on ticket_access_links (tenant_id, ticket_id);
create index ticket_access_links_user_idx on ticket_access_links (tenant_id, user_id);
create index ticket_access_links_revoked_by_idx on ticket_access_links (tenant_id, revoked_by)
    where revoked_by is not null;

-- Guest actions counted for rate limits: one row per accepted submission or
-- link request (keyed by client address and by email) and per access token that
-- opened nothing (keyed by client address). Old rows are pruned as new ones arrive.
create table guest_rate_events (
    tenant_id uuid not null references tenants (id) on delete cascade,
    action text not null,
    key text not null,
    created_at timestamptz not null,
    constraint guest_rate_events_action check (action in ('submit', 'link', 'guess'))
);
create index guest_rate_events_key_idx on guest_rate_events (tenant_id, action, key, created_at);

alter table tenant_settings
    add column guest_show_type boolean not null default false,
    add column guest_show_priority boolean not null default false,
    -- Accepted submissions (and, separately, link requests) per hour, for one
    -- client address and for one email address.
    add column guest_hourly_limit integer not null default 10
        constraint tenant_settings_guest_hourly_limit_range check (guest_hourly_limit between 1 and 1000),
    -- Guest tickets one email may open in a day while earlier ones are still open.
    add column guest_daily_open_tickets integer not null default 5
        constraint tenant_settings_guest_daily_open_tickets_range check (guest_daily_open_tickets between 1 and 100);

do $$
declare
    t text;
begin
    foreach t in array array['ticket_access_links', 'guest_rate_events']
    loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy tenant_isolation on %I to tessera_app '
                       'using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())', t);
        execute format('grant select, insert, update, delete on %I to tessera_app', t);
    end loop;
end
$$;
