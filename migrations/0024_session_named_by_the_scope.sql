-- A signed-in request's first statement reads its session straight from the
-- store, inside the tenant's scope, instead of through `tower_sessions.login`
-- (migration 0022): no security-definer code, and plain SQL that PostgreSQL
-- plans with the rest of the statement (a light signed-in page measured 3.5 %
-- faster; the statement itself costs about the same).
--
-- The application role sees one session: the one whose id's SHA-256 the
-- transaction names in `app.session`, set with the tenant as the transaction
-- begins (`db::Db::session_tx`). So it still cannot list sessions nor read one
-- whose id it was not given (an id is a bearer secret), and the id itself
-- never appears in a statement's text (pg_stat_activity, the server's log):
-- only its digest does, which opens nothing over HTTP.
--
-- Not FORCEd: the store itself reads and writes as the owner, across tenants.
alter table tower_sessions.session enable row level security;
create policy named_by_the_scope on tower_sessions.session for select to tessera_app
    using (
        expiry_date > now()
        and encode(sha256(convert_to(id, 'UTF8')), 'hex') = current_setting('app.session', true)
    );
grant select on tower_sessions.session to tessera_app;

drop function tower_sessions.login(text, uuid);
