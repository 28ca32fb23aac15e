-- Account tokens: password-reset and invitation links.
--
-- The token itself (256 random bits) is only ever in the email; the row keeps its
-- SHA-256. A token is single use (`used_at`), expires (`expires_at`), and issuing
-- a new one of the same purpose for a user marks the older unused ones used.

create table account_tokens (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    user_id uuid not null,
    purpose text not null,
    token_hash bytea not null,
    expires_at timestamptz not null,
    used_at timestamptz,
    created_at timestamptz not null,
    primary key (tenant_id, id),
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade,
    constraint account_tokens_purpose check (purpose in ('reset', 'invite')),
    constraint account_tokens_token_hash_key unique (token_hash),
    constraint account_tokens_token_hash_length check (octet_length(token_hash) = 32)
);
create index account_tokens_user_idx on account_tokens (tenant_id, user_id);

-- Row-level security and grants, as for every tenant-owned table.
do $$
declare
    t text;
begin
    foreach t in array array['account_tokens']
    loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy tenant_isolation on %I to tessera_app '
                       'using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())', t);
        execute format('grant select, insert, update, delete on %I to tessera_app', t);
    end loop;
end
$$;
