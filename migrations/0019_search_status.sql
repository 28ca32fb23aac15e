-- Search lists its matches from the search table alone. Each search document
-- carries its ticket's last update and whether it is closed (kept equal to the
-- ticket's by the triggers below, in the same transaction), so a search's page
-- is the newest matches that are not closed, read off the rows the full-text
-- index points at. Before, every match was looked up in tickets to learn
-- whether it was closed and how recent it was: 2,000 matches of two words at a
-- 300k-ticket tenant cost 25-35 ms of lookups on top of the index's 15-20 ms
-- (bench/). Neither column is indexed, so keeping them is a heap-only update.
-- (As a key of the full-text index, `closed` spared visiting closed matches'
-- rows, but the index scan grew by as much, walking the closed-or-not entries.)

-- Filled with the full-text index dropped: every row gets a new version, and
-- with the index in place each would re-enter all its lexemes into it.
drop index ticket_search_doc_idx;
alter table ticket_search add column closed boolean;
update ticket_search s
   set closed = t.status_category = 'closed', updated_at = t.updated_at
  from tickets t
 where t.tenant_id = s.tenant_id and t.id = s.ticket_id;
alter table ticket_search alter column closed set not null;
-- Room on each page for the copies' updates to stay heap-only.
alter table ticket_search set (fillfactor = 85);
create index ticket_search_doc_idx on ticket_search using gin (tenant_id, doc);

create or replace function ticket_search_rebuild(p_tenant uuid, p_ticket uuid) returns void
language sql as $$
    insert into ticket_search (tenant_id, ticket_id, updated_at, closed, doc)
    select t.tenant_id, t.id, t.updated_at, t.status_category = 'closed',
           search_vector('A', t.subject) || search_vector('B', t.description) ||
           coalesce((select search_vector('C', string_agg(r.body, ' ' order by r.created_at))
                       from replies r
                      where r.tenant_id = p_tenant and r.ticket_id = p_ticket
                        and not r.internal and r.deleted_at is null), '')
      from tickets t
     where t.tenant_id = p_tenant and t.id = p_ticket
    on conflict (tenant_id, ticket_id) do update
        set doc = excluded.doc, updated_at = excluded.updated_at, closed = excluded.closed;
$$;

-- A ticket's change copies its last update and whether it is closed, unless
-- the copy already holds them: a public reply writes its words and its time in
-- one new version (ticket_search_on_reply, unchanged), and the reply's update
-- of the ticket then finds nothing left to copy.
create function ticket_search_copy_status() returns trigger language plpgsql as $$
begin
    update ticket_search
       set updated_at = new.updated_at, closed = new.status_category = 'closed'
     where tenant_id = new.tenant_id and ticket_id = new.id
       and (updated_at, closed) is distinct from (new.updated_at, new.status_category = 'closed');
    return null;
end
$$;
create trigger tickets_search_status after update of updated_at, status_category on tickets
    for each row when (old.updated_at is distinct from new.updated_at
                       or old.status_category is distinct from new.status_category)
    execute function ticket_search_copy_status();
