-- Ticket page: the ticket with its names, its replies with authors, its activity
-- and followers (the detail page's main reads); :number has about 20 replies.
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true);
select t.*, ty.name, st.name, pr.name, rq.name, rq.email, asg.name
  from tickets t
  join ticket_types ty on ty.tenant_id = t.tenant_id and ty.id = t.type_id
  join ticket_statuses st on st.tenant_id = t.tenant_id and st.id = t.status_id
  join ticket_priorities pr on pr.tenant_id = t.tenant_id and pr.id = t.priority_id
  join users rq on rq.tenant_id = t.tenant_id and rq.id = t.requester_id
  left join users asg on asg.tenant_id = t.tenant_id and asg.id = t.assignee_id
 where t.tenant_id = :tenant and t.number = :number;
select r.id, r.author_id, a.name, a.role, r.body, r.internal, r.created_at, r.edited_at, r.deleted_at
  from replies r join users a on a.tenant_id = r.tenant_id and a.id = r.author_id
 where r.tenant_id = :tenant
   and r.ticket_id = (select id from tickets where tenant_id = :tenant and number = :number)
 order by r.created_at, r.id;
select e.kind, e.field, e.old_value, e.new_value, e.created_at, u.name
  from ticket_events e left join users u on u.tenant_id = e.tenant_id and u.id = e.actor_id
 where e.tenant_id = :tenant
   and e.ticket_id = (select id from tickets where tenant_id = :tenant and number = :number)
 order by e.created_at, e.id;
select u.name from ticket_followers f join users u on u.tenant_id = f.tenant_id and u.id = f.user_id
 where f.tenant_id = :tenant
   and f.ticket_id = (select id from tickets where tenant_id = :tenant and number = :number);
commit;
