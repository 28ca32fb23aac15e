-- Ticket page: the ticket with its names, its replies and the people they name, its files,
-- followers and live guest links in one statement, as the app reads it
-- (tickets::detail_context, as staff); :number has about 20 replies.
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true);
select t.tenant_id, t.id, t.number, t.subject, t.description, t.type_id, t.priority_id, t.status_id,
       t.status_category, t.category_id, t.requester_id, r.name, r.email, t.assignee_id, a.name,
       t.group_id, t.tags, t.created_at, t.updated_at, t.last_reply_at, t.resolved_at, t.closed_at,
       t.reopened, t.resolution_notes, t.version,
       (select coalesce(json_agg(x order by x.created_at, x.id), '[]')
          from (select re.id, re.ticket_id, re.author_id, re.body, re.internal, re.created_at,
                       re.edited_at, re.deleted_at, re.deleted_by
                  from replies re
                 where re.tenant_id = :tenant and re.ticket_id = t.id) x) as replies,
       (select coalesce(json_agg(json_build_object('id', u.id, 'name', u.name, 'role', u.role)), '[]')
          from users u
         where u.tenant_id = :tenant and u.id in (
               select named.id from replies re
                cross join lateral (values (re.author_id), (re.deleted_by)) named(id)
                where re.tenant_id = :tenant and re.ticket_id = t.id)) as people,
       (select coalesce(json_agg(json_build_object('id', f.id, 'reply_id', f.reply_id,
                 'filename', f.filename, 'content_type', f.content_type,
                 'size_bytes', f.size_bytes, 'internal', f.internal) order by f.created_at, f.id), '[]')
          from attachments f where f.tenant_id = :tenant and f.ticket_id = t.id) as files,
       (select coalesce(json_agg(json_build_object('user_id', fo.user_id, 'name', u.name)
                 order by fo.created_at), '[]')
          from ticket_followers fo join users u on u.tenant_id = fo.tenant_id and u.id = fo.user_id
         where fo.tenant_id = :tenant and fo.ticket_id = t.id) as followers,
       (select count(*) from ticket_access_links l
         where l.tenant_id = :tenant and l.ticket_id = t.id and l.revoked_at is null) as guest_links
  from tickets t
  join users r on r.tenant_id = t.tenant_id and r.id = t.requester_id
  left join users a on a.tenant_id = t.tenant_id and a.id = t.assignee_id
 where t.tenant_id = :tenant and t.number = :number;
commit;
