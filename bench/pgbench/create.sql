-- Create ticket, as the app does it in one transaction: the ticket's own rows
-- first (the creation event, the requester as follower, the search document
-- whose words the ticket's trigger then leaves be; their references to
-- the ticket are checked at commit), then the number from the locked counter
-- row in the ticket's own insert (its trigger keeps the status counters),
-- last, so the counter is held only from there to commit.
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true);
select uuid_v7() as ticket \gset
insert into ticket_events (tenant_id, id, ticket_id, actor_id, kind, internal, created_at)
values (:tenant, uuid_v7(), :ticket, :agent, 'created', false, now());
insert into ticket_followers (tenant_id, ticket_id, user_id, created_at)
values (:tenant, :ticket, :requester, now()) on conflict do nothing;
insert into ticket_search (tenant_id, ticket_id, updated_at, closed, doc)
values (:tenant, :ticket, now(), false,
        ticket_search_head('pgbench ticket', 'created by the bench ceiling script'));
with taken as (
  update ticket_counters set next_number = next_number + 1 where tenant_id = :tenant
  returning next_number - 1 as number)
insert into tickets (tenant_id, id, number, subject, description, type_id, priority_id,
       priority_rank, status_id, status_category, requester_id, tags, created_at, updated_at)
select :tenant, :ticket, taken.number, 'pgbench ticket', 'created by the bench ceiling script',
       :type, :priority, 2, :status, 'new', :requester, '{}', now(), now()
  from taken;
commit;
