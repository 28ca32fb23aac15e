-- EXPLAIN (ANALYZE, BUFFERS) of every hot query, as the app runs them: role
-- tessera_app with the tenant set (RLS on). bench/run passes the psql variables.
-- Writes (create, reply) are explained inside a transaction that rolls back.
\pset footer off
-- The first page of a list with its capped count (fetch_page_counted), up to its conditions:
-- the capped list walked by its sort keys, the page of it counted, then its tickets read whole
-- (after the capped list's order and limit: :counted_rows, the tenant, :counted_end).
\set counted_select 'select t.*, (select name from users where tenant_id = t.tenant_id and id = t.requester_id) as requester_name, k.matched from (select t.*, count(*) over () as matched from (select t.id, t.updated_at from tickets t'
\set counted_rows ' limit 51) k cross join lateral (select t.tenant_id, t.id, t.number, t.subject, t.type_id, t.status_id, t.status_category, t.priority_id, t.priority_rank, t.requester_id, t.assignee_id, t.created_at, t.updated_at, t.last_reply_at, t.last_reply_by, t.reopened from tickets t where t.tenant_id = '
\set counted_end ' and t.id = k.id) t order by t.updated_at desc, t.id desc'
-- The list's statement (any other page) up to its conditions, as src/tickets/list.rs sends it.
\set list_select 'select t.id, t.number, t.subject, t.type_id, t.status_id, t.status_category, t.priority_id, t.priority_rank, t.requester_id, (select name from users where tenant_id = t.tenant_id and id = t.requester_id) as requester_name, t.assignee_id, t.created_at, t.updated_at, t.last_reply_at, t.last_reply_by, t.reopened from tickets t'

\echo '### every signed-in request: the tenant, the session and its user (auth::repo::request_start)'
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true),
       set_config('app.session', encode(sha256(convert_to(:session, 'UTF8')), 'hex'), true) \g /dev/null
explain (analyze, buffers, costs off)
select te.id, te.slug, te.name, te.is_demo, te.ticket_prefix, te.catalog_version,
       se.data as session_data, u.id as user_id, u.email as user_email, u.name as user_name,
       u.role as user_role, u.timezone as user_timezone, u.active as user_active,
       coalesce(u.timezone, s.default_timezone, 'UTC') as user_zone
  from tenants te
  left join (select se.data, (se.logins ->> :tenant::text)::uuid as user_id
               from tower_sessions.session se
              where se.id = :session and se.expiry_date > now() limit 1) se on true
  left join users u on u.tenant_id = te.id and u.id = se.user_id
  left join tenant_settings s on s.tenant_id = te.id
 where te.id = :tenant;
rollback;

\echo '### queue page, My queue (big tenant): the page with its capped count (its reusable plan)'
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true) \g /dev/null
-- The landing list runs with a reusable plan, made once per connection (db::Plans).
set local plan_cache_mode = force_generic_plan;
prepare landing(uuid, uuid, uuid[]) as
:counted_select
 where t.tenant_id = $1 and t.status_category <> 'closed'
   and (t.assignee_id = $2 or t.group_id = any($3) or t.assignee_id is null)
 order by t.updated_at desc, t.id desc limit 201) t
 order by t.updated_at desc, t.id desc :counted_rows $1 :counted_end;
explain (analyze, buffers, costs off) execute landing(:tenant, :assignee, :groups);
deallocate landing;
set local plan_cache_mode = auto;
explain (analyze, buffers, costs off)
select status_id, n from ticket_status_counts where tenant_id = :tenant;
explain (analyze, buffers, costs off)
select tenant_id, id, email, name, role, timezone, active from users
 where tenant_id = :tenant and role in ('agent', 'admin') and active order by name;
rollback;

\echo '### queue page, My queue (small tenant): the page with its capped count (its reusable plan)'
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :small, true) \g /dev/null
-- The landing list runs with a reusable plan, made once per connection (db::Plans).
set local plan_cache_mode = force_generic_plan;
prepare landing(uuid, uuid, uuid[]) as
:counted_select
 where t.tenant_id = $1 and t.status_category <> 'closed'
   and (t.assignee_id = $2 or t.group_id = any($3) or t.assignee_id is null)
 order by t.updated_at desc, t.id desc limit 201) t
 order by t.updated_at desc, t.id desc :counted_rows $1 :counted_end;
explain (analyze, buffers, costs off) execute landing(:small, :small_agent, :small_groups);
deallocate landing;
set local plan_cache_mode = auto;
rollback;

\echo '### filtered list: status + priority + assignee + tag, with its capped count'
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true) \g /dev/null
explain (analyze, buffers, costs off)
:counted_select
 where t.tenant_id = :tenant and t.status_id = :status and t.priority_id = :priority
   and t.assignee_id = :assignee and t.tags @> array['billing']::text[]
 order by t.updated_at desc, t.id desc limit 201) t
 order by t.updated_at desc, t.id desc :counted_rows :tenant :counted_end;
rollback;

\echo '### sort by priority'
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true) \g /dev/null
explain (analyze, buffers, costs off)
:list_select
 where t.tenant_id = :tenant and t.status_category <> 'closed'
 order by t.priority_rank desc, t.updated_at desc, t.id desc limit 51;
rollback;

\echo '### page 50 (keyset)'
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true) \g /dev/null
explain (analyze, buffers, costs off)
:list_select
 where t.tenant_id = :tenant and t.status_category <> 'closed' and (t.updated_at, t.id) < (:at, :after)
 order by t.updated_at desc, t.id desc limit 51;
rollback;

\echo '### ticket page: the ticket with its replies (as staff) and the people they name, files, followers and guest links (tickets::detail_context)'
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true) \g /dev/null
explain (analyze, buffers, costs off)
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
rollback;

\echo '### search, two words (big tenant), in My queue: the matches newest first, then their tickets in that order until a page is found'
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true) \g /dev/null
explain (analyze, buffers, costs off)
select t.*, m.matched
  from (select ticket_id, updated_at, count(*) over () as matched
          from (select ticket_id, updated_at from ticket_search
                 where tenant_id = :tenant and doc @@ websearch_to_tsquery('english', unaccent(:words))
                   and not closed limit 5001) a
         order by updated_at desc, ticket_id desc) m
 cross join lateral (
       :list_select
        where t.tenant_id = :tenant and t.status_category <> 'closed'
          and (t.assignee_id = :assignee or t.group_id = any(:groups) or t.assignee_id is null)
          and t.id = m.ticket_id) t
 order by m.updated_at desc, m.ticket_id desc limit 51;
rollback;

\echo '### search, two words (small tenant), in My queue: the matches newest first, then their tickets in that order until a page is found'
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :small, true) \g /dev/null
explain (analyze, buffers, costs off)
select t.*, m.matched
  from (select ticket_id, updated_at, count(*) over () as matched
          from (select ticket_id, updated_at from ticket_search
                 where tenant_id = :small and doc @@ websearch_to_tsquery('english', unaccent(:words))
                   and not closed limit 5001) a
         order by updated_at desc, ticket_id desc) m
 cross join lateral (
       :list_select
        where t.tenant_id = :small and t.status_category <> 'closed'
          and (t.assignee_id = :small_agent or t.group_id = any(:small_groups) or t.assignee_id is null)
          and t.id = m.ticket_id) t
 order by m.updated_at desc, m.ticket_id desc limit 51;
rollback;

\echo '### create ticket and reply (rolled back): the inserts with their triggers'
begin;
select set_config('role', 'tessera_app', true), set_config('app.tenant_id', :tenant, true) \g /dev/null
select uuid_v7() as new_ticket \gset
-- As the app creates: the search document first, then the number and the ticket,
-- whose trigger leaves the document be (migration 0021).
explain (analyze, buffers, costs off)
insert into ticket_search (tenant_id, ticket_id, updated_at, closed, doc)
values (:tenant, :'new_ticket', now(), false, ticket_search_head('explained ticket', 'explained'));
explain (analyze, buffers, costs off)
update ticket_counters set next_number = next_number + 1 where tenant_id = :tenant returning next_number - 1;
explain (analyze, buffers, costs off)
insert into tickets (tenant_id, id, number, subject, description, type_id, priority_id, priority_rank,
       status_id, status_category, requester_id, tags, created_at, updated_at)
select t.tenant_id, :'new_ticket', (select next_number from ticket_counters where tenant_id = :tenant),
       'explained ticket', 'explained', t.type_id, t.priority_id, t.priority_rank, t.status_id,
       t.status_category, t.requester_id, '{}', now(), now()
  from tickets t where t.tenant_id = :tenant and t.number = :number;
explain (analyze, buffers, costs off)
insert into replies (tenant_id, id, ticket_id, author_id, body, internal, created_at)
select t.tenant_id, uuid_v7(), t.id, t.requester_id, 'explained reply', false, now()
  from tickets t where t.tenant_id = :tenant and t.number = :number;
rollback;
