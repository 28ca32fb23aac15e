-- A new ticket's number is taken from its tenant's counter row, locked until
-- the create commits (numbers are gap-free), so every create of a tenant waits
-- for the one before it from there (0018). Two more of the ticket's rows now
-- come before that point:
--
-- * its messages, which print the number as marks that the numbering
--   statement fills in (tickets::repo::insert_numbered);
-- * its search document (0019's row), whose words were the costliest part of
--   the ticket's insert: 0.45 of 0.8 ms, measured at the 300k-ticket tenant.
--
-- Like the ticket's other rows they precede it: their references to it are
-- checked at commit.
alter table email_outbox
    alter constraint email_outbox_tenant_id_ticket_id_fkey deferrable initially deferred;
alter table ticket_search
    alter constraint ticket_search_tenant_id_ticket_id_fkey deferrable initially deferred;

-- A ticket's own words: the subject weighs most, then the description (its
-- replies', weight C, are appended by ticket_search_on_reply).
create function ticket_search_head(p_subject text, p_description text) returns tsvector
language sql stable as $$
    select search_vector('A', p_subject) || search_vector('B', p_description);
$$;

create or replace function ticket_search_rebuild(p_tenant uuid, p_ticket uuid) returns void
language sql as $$
    insert into ticket_search (tenant_id, ticket_id, updated_at, closed, doc)
    select t.tenant_id, t.id, t.updated_at, t.status_category = 'closed',
           ticket_search_head(t.subject, t.description) ||
           coalesce((select search_vector('C', string_agg(r.body, ' ' order by r.created_at))
                       from replies r
                      where r.tenant_id = p_tenant and r.ticket_id = p_ticket
                        and not r.internal and r.deleted_at is null), '')
      from tickets t
     where t.tenant_id = p_tenant and t.id = p_ticket
    on conflict (tenant_id, ticket_id) do update
        set doc = excluded.doc, updated_at = excluded.updated_at, closed = excluded.closed;
$$;

-- A ticket inserted with its document already written (a create) keeps it;
-- any other insert (the seed, a test's fixture) gets one here.
create or replace function ticket_search_on_ticket() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' and exists (
        select 1 from ticket_search where tenant_id = new.tenant_id and ticket_id = new.id
    ) then
        return null;
    end if;
    perform ticket_search_rebuild(new.tenant_id, new.id);
    return null;
end
$$;
