-- Indexes found missing by the benchmark at a million tickets (bench/, issue 9).

-- The assignee choices of every list page: staff by name. Without it the query
-- filtered every user of the tenant (customers are ~98 % of users) on each view.
create index users_staff_idx on users (tenant_id, name)
    where role in ('agent', 'admin') and active;

-- The foreign keys' referencing-side indexes the benchmark also asked for are
-- created by 0006_lifecycle_and_settings.sql.

-- Full-text search under row-level security. The policies of `tessera_app` are
-- security-barrier quals, and PostgreSQL evaluates a user's condition inside an
-- index scan (before the policy) only when its operator is leakproof. `@@`
-- (ts_match_vq) is not marked so, which made the planner read every search
-- document of the tenant through the primary key and filter them (EXPLAIN at a
-- 30k-ticket tenant: 36,000 documents detoasted, 540 ms) instead of using
-- ticket_search_doc_idx (142 entries, 10 ms). Matching a tsvector against a
-- tsquery reveals nothing about a row beyond the result, so it is safe to mark.
-- Needs a superuser (local mode and the usual installs); elsewhere search still
-- works, only slower, and the warning says why.
do $$
begin
    alter function ts_match_vq(tsvector, tsquery) leakproof;
exception
    when insufficient_privilege then
        raise warning 'ts_match_vq is not leakproof (needs a superuser): search will not use its index under row-level security';
end
$$;
