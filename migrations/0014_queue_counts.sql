-- The open-tickets queue index carries the columns a queue's scope and the
-- common filters test, so a capped count ("1,000+ tickets") of a scoped or
-- filtered queue is an index-only walk of at most 1,001 entries. Without
-- them, counting an agent's "My queue" at a 300k-ticket tenant OR-ed three
-- bitmaps (80k index entries, 2,000 heap pages: 140-270 ms a page view,
-- measured by bench/). It replaces tickets_queue_idx (same key, same rows).
create index tickets_open_covering_idx on tickets (tenant_id, updated_at desc, id desc)
    include (assignee_id, group_id, category_id, status_id, priority_id)
    where status_category <> 'closed';
drop index tickets_queue_idx;

-- Auto-close looks for one tenant's resolved tickets past their window. The
-- old index led with resolved_at alone, so each tenant's run walked every
-- tenant's resolved tickets (70-100 ms a tenant at a million tickets, the
-- whole job proportional to tenants x tickets).
create index tickets_resolved_tenant_idx on tickets (tenant_id, resolved_at)
    where status_category = 'resolved';
drop index tickets_resolved_idx;
