-- A list filtered by assignee and status (an agent's open tickets, the
-- filter bar's most common pair) walked every ticket of the assignee in
-- tickets_assignee_idx and tested each one's status on the heap: 1,444 rows
-- read to list 2 at the 300k-ticket tenant, for the page and again for its
-- count (3 ms of a filtered view's 4). With the status in the key both read
-- only the assignee's tickets in that status, newest first.
create index tickets_assignee_status_idx on tickets (tenant_id, assignee_id, status_id, updated_at desc, id desc);
