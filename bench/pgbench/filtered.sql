-- Filtered list: status + priority + assignee + tag, and its capped count.
-- The database work of the page, as the app runs it (role tessera_app, RLS on);
-- bench/run passes the variables with -D.
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true);
select t.id, t.number, t.subject, ty.name as type_name, t.status_id, st.name as status_name,
       t.status_category, pr.name as priority_name, t.priority_rank, rq.name as requester_name,
       asg.name as assignee_name, t.created_at, t.updated_at, t.last_reply_at,
       lr.name as last_reply_by_name, t.reopened
  from tickets t
  join ticket_types ty on ty.tenant_id = t.tenant_id and ty.id = t.type_id
  join ticket_statuses st on st.tenant_id = t.tenant_id and st.id = t.status_id
  join ticket_priorities pr on pr.tenant_id = t.tenant_id and pr.id = t.priority_id
  join users rq on rq.tenant_id = t.tenant_id and rq.id = t.requester_id
  left join users asg on asg.tenant_id = t.tenant_id and asg.id = t.assignee_id
  left join users lr on lr.tenant_id = t.tenant_id and lr.id = t.last_reply_by
 where t.tenant_id = :tenant and t.status_id = :status and t.priority_id = :priority
   and t.assignee_id = :assignee and t.tags @> array[:tag]::text[]
 order by t.updated_at desc, t.id desc limit 51;
select count(*) from (select 1 from tickets t where t.tenant_id = :tenant and t.status_id = :status
   and t.priority_id = :priority and t.assignee_id = :assignee and t.tags @> array[:tag]::text[]
   order by t.updated_at desc, t.id desc limit 201) capped;
select id, name, category, color, position, is_default, retired from ticket_statuses where tenant_id = :tenant order by position;
select status_id, n from ticket_status_counts where tenant_id = :tenant;
select tenant_id, id, email, name, role, timezone, active from users
 where tenant_id = :tenant and role in ('agent', 'admin') and active order by name;
commit;
