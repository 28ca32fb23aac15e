-- Search: two random words (bench_words, ranks 100-2000) over the ticket_search document, in
-- the agent's "My queue" (the default view): the open matches (of at most 5,001, counted)
-- newest first, each one's ticket looked up with the queue's conditions until a page is found,
-- in one statement as src/tickets/list.rs (search_newest_first) sends it; then the assignee
-- choices. As the app runs it (role tessera_app, RLS on); bench/run passes the variables with -D.
\set r random(1, 1000)
select q from bench_words where i = :r \gset
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true);
set local plan_cache_mode = force_custom_plan;
select m.group_id, c.category_id from group_members m
  left join group_categories c on c.tenant_id = m.tenant_id and c.group_id = m.group_id
 where m.tenant_id = :tenant and m.user_id = :agent;
select t.*, m.matched
  from (select ticket_id, updated_at, count(*) over () as matched
          from (select ticket_id, updated_at from ticket_search
                 where tenant_id = :tenant and doc @@ websearch_to_tsquery('english', unaccent(:q))
                   and not closed limit 5001) a
         order by updated_at desc, ticket_id desc) m
 cross join lateral (
       select t.id, t.number, t.subject, t.type_id, t.status_id, t.status_category,
              t.priority_id, t.priority_rank, t.requester_id, t.assignee_id, t.created_at,
              t.updated_at, t.last_reply_at, t.last_reply_by, t.reopened,
              (select name from users where tenant_id = t.tenant_id and id = t.requester_id) as requester_name
         from tickets t
        where t.tenant_id = :tenant and t.status_category <> 'closed'
          and (t.assignee_id = :agent or t.group_id = any(:groups) or t.assignee_id is null)
          and t.id = m.ticket_id) t
 order by m.updated_at desc, m.ticket_id desc limit 51;
select tenant_id, id, email, name, role, timezone, active from users
 where tenant_id = :tenant and role in ('agent', 'admin') and active order by name;
commit;
