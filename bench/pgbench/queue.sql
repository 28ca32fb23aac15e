-- Queue page (default view: the agent's "My queue"): the agent's groups, newest-updated
-- unresolved tickets in their scope with the capped count, status counters, assignee choices.
-- The database work of the page, as the app runs it (role tessera_app, RLS on);
-- bench/run passes the variables with -D (groups: the agent's groups, a uuid[] literal).
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true);
select m.group_id, c.category_id from group_members m
  left join group_categories c on c.tenant_id = m.tenant_id and c.group_id = m.group_id
 where m.tenant_id = :tenant and m.user_id = :agent;
-- The page and its capped count in one statement, as src/tickets/list.rs
-- (fetch_page_counted) sends it; the other names come from the app's catalog.
select t.*, (select name from users where tenant_id = t.tenant_id and id = t.requester_id) as requester_name,
       k.matched
  from (select t.*, count(*) over () as matched
          from (select t.id, t.updated_at from tickets t
                 where t.tenant_id = :tenant and t.status_category <> 'closed'
                   and (t.assignee_id = :agent or t.group_id = any(:groups) or t.assignee_id is null)
                 order by t.updated_at desc, t.id desc limit 201) t
         order by t.updated_at desc, t.id desc limit 51) k
 cross join lateral (select t.tenant_id, t.id, t.number, t.subject, t.type_id, t.status_id,
                            t.status_category, t.priority_id, t.priority_rank, t.requester_id,
                            t.assignee_id, t.created_at, t.updated_at, t.last_reply_at,
                            t.last_reply_by, t.reopened
                       from tickets t where t.tenant_id = :tenant and t.id = k.id) t
 order by t.updated_at desc, t.id desc;
select id, name, category, color, position, is_default, retired from ticket_statuses where tenant_id = :tenant order by position;
select status_id, n from ticket_status_counts where tenant_id = :tenant;
select tenant_id, id, email, name, role, timezone, active from users
 where tenant_id = :tenant and role in ('agent', 'admin') and active order by name;
commit;
