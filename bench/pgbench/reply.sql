-- Reply: the reply (its trigger appends to the search document), the ticket's
-- reply fields, the event, on a random unresolved ticket of the tenant.
\set n random(1, :maxnumber)
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true);
select id as ticket from tickets where tenant_id = :tenant and number = :n \gset
insert into replies (tenant_id, id, ticket_id, author_id, body, internal, created_at)
values (:tenant, uuid_v7(), :ticket, :agent, 'a reply written by the bench ceiling script', false, now());
update tickets set updated_at = now(), version = version + 1, last_reply_at = now(),
       last_reply_by = :agent, first_response_at = coalesce(first_response_at, now())
 where tenant_id = :tenant and id = :ticket;
insert into ticket_events (tenant_id, id, ticket_id, actor_id, kind, internal, created_at)
values (:tenant, uuid_v7(), :ticket, :agent, 'reply_added', false, now());
commit;
