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
-- whose id it was not given (an id is a bearer secret). PL/pgSQL, as it keeps
-- its statement's plan per connection (a SQL function is planned per call: 0.06
-- against 0.013 ms); `rows 1` tells the planner what the primary key
-- guarantees (estimating a function's usual 1,000 rows, it joined them to the
-- tenant's users by scanning all of them: 34 ms a request at a tenant of 100k).
create function tower_sessions.login(session_id text, tenant uuid)
returns table (data bytea, user_id uuid)
language plpgsql stable security definer rows 1
set search_path = pg_catalog
as $$
begin
    return query
        select s.data, (s.logins ->> tenant::text)::uuid
          from tower_sessions.session s
         where s.id = session_id and s.expiry_date > now();
end
$$;
revoke execute on function tower_sessions.login(text, uuid) from public;
grant usage on schema tower_sessions to tessera_app;
grant execute on function tower_sessions.login(text, uuid) to tessera_app;
