-- Search: two random words (bench_words, ranks 100-2000) over the ticket_search document:
-- the newest 51 matches that are not closed (of at most 5,001, counted), from the search table
-- alone, then those tickets.
-- The database work of the page, as the app runs it (role tessera_app, RLS on; the app sends
-- the two selects apart); bench/run passes the variables with -D.
\set r random(1, 1000)
select q from bench_words where i = :r \gset
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true);
set local plan_cache_mode = force_custom_plan;
with page as (
  select ticket_id, count(*) over () from (
    select ticket_id, updated_at from ticket_search
     where tenant_id = :tenant and doc @@ websearch_to_tsquery('english', unaccent(:q))
       and not closed limit 5001) m
   order by updated_at desc, ticket_id desc limit 51)
select t.id, t.number, t.subject, t.type_id, t.status_id, t.status_category, t.priority_id,
       t.priority_rank, t.requester_id, t.assignee_id, t.created_at, t.updated_at,
       t.last_reply_at, t.last_reply_by, t.reopened,
       (select name from users where tenant_id = t.tenant_id and id = t.requester_id) as requester_name
  from tickets t
 where t.tenant_id = :tenant and t.status_category <> 'closed'
   and t.id in (select ticket_id from page)
 order by t.updated_at desc, t.id desc limit 51;
select tenant_id, id, email, name, role, timezone, active from users
 where tenant_id = :tenant and role in ('agent', 'admin') and active order by name;
commit;
