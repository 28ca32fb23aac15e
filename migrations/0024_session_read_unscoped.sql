-- A signed-in request now reads its session in the statement that scopes its
-- transaction to the tenant, before the switch to the application role takes
-- effect (`db::Unscoped`, `auth::repo::request_start`): the application role no
-- longer reads the session store at all, so the security-definer function it
-- read a session through goes, with the role's access to the store's schema.
-- (The function's call cost more than the rest of the statement: 0.037 against
-- 0.016 ms a request.)
drop function tower_sessions.login(text, uuid);
revoke usage on schema tower_sessions from tessera_app;
