-- A signed-in request reads its session, its tenant and its user in one
-- statement, inside the tenant's scope (`auth::repo::request_start`), instead of
-- a session query on the pool first (with its own connection hand-back) and the
-- tenant and user after.
--
-- The session's data is MessagePack, which SQL cannot read; Tessera's session
-- store (`auth::session_store`) writes the session's logins (tenant id → user
-- id) beside it as JSON. Rows written before this migration have none: their
-- user is looked up apart, once per request, until the session is next saved.
alter table tower_sessions.session add column logins jsonb;

-- The live session with this id and its user in `tenant`: the one way the
-- application role reads the store. It can neither list sessions nor read one
-- whose id it was not given (an id is a bearer secret).
create function tower_sessions.login(session_id text, tenant uuid)
returns table (data bytea, user_id uuid)
language sql stable security definer
set search_path = pg_catalog
as $$
    select s.data, (s.logins ->> tenant::text)::uuid
      from tower_sessions.session s
     where s.id = session_id and s.expiry_date > now()
$$;
revoke execute on function tower_sessions.login(text, uuid) from public;
grant usage on schema tower_sessions to tessera_app;
grant execute on function tower_sessions.login(text, uuid) to tessera_app;
