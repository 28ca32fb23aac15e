-- Filtered list: status + priority + assignee + tag, with its capped count.
-- The database work of the page, as the app runs it (role tessera_app, RLS on);
-- bench/run passes the variables with -D.
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true);
-- The page and its capped count in one statement (fetch_page_counted); the
-- other names come from the app's catalog.
select t.*, (select name from users where tenant_id = t.tenant_id and id = t.requester_id) as requester_name,
       k.matched
  from (select t.*, count(*) over () as matched
          from (select t.id, t.updated_at from tickets t
                 where t.tenant_id = :tenant and t.status_id = :status and t.priority_id = :priority
                   and t.assignee_id = :assignee and t.tags @> array[:tag]::text[]
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
