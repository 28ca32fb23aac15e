-- What a tenant's pages read about its setup (the option lists, the staff and
-- groups, the attachment and reopening settings) changes seldom and is read on
-- every page. Each process keeps it per tenant (`tickets::catalog`) with the
-- version it was read at; the tenant row every request reads anyway carries the
-- current version, so a change made through any instance is seen by the next
-- request everywhere, and no page reads the lists themselves while they hold.
alter table tenants add column catalog_version bigint not null default 0;

-- Runs as the owner: `tessera_app` may only read tenants. The new version is
-- taken in the changing transaction, so it commits with the change or not at all.
create function bump_catalog_version() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
    update tenants set catalog_version = catalog_version + 1
     where id = (case when tg_op = 'DELETE' then old.tenant_id else new.tenant_id end);
    return null;
end
$$;
revoke all on function bump_catalog_version() from public;

do $$
declare
    t text;
begin
    foreach t in array array['ticket_statuses', 'ticket_priorities', 'ticket_types', 'categories',
                             'groups', 'tenant_settings']
    loop
        execute format('create trigger %I after insert or update or delete on %I '
                       'for each row execute function bump_catalog_version()',
                       t || '_catalog_version', t);
    end loop;
end
$$;

-- Of the users, only the staff list (names of active agents and admins) is in
-- the catalog: customers signing up or being filed for (the busy case) leave it.
create trigger users_catalog_version_ins after insert on users
    for each row when (new.role <> 'customer')
    execute function bump_catalog_version();
create trigger users_catalog_version_del after delete on users
    for each row when (old.role <> 'customer')
    execute function bump_catalog_version();
create trigger users_catalog_version_upd after update of name, role, active on users
    for each row when (old.name is distinct from new.name or old.role is distinct from new.role
                       or old.active is distinct from new.active)
    execute function bump_catalog_version();
