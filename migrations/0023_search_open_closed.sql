-- The search documents of open and of closed tickets get a full-text index
-- each. A search lists open tickets unless asked for closed ones too, and three
-- in four tickets are closed: with one index over all documents, a search
-- visited every match's row only to drop the closed ones (EXPLAIN of two words
-- at a 300k-ticket tenant: 1,182 matches, 855 of them closed, 8.8 ms; with the
-- open documents' own index: 327 matches, 3.4 ms). With the database alone,
-- 254 -> 611 searches a second at that tenant, 1,960 -> 2,375 at a 10k-ticket
-- one (bench/pgbench/search.sql as it was then).
--
-- `closed` was a key of the index once (0019's note): that index still read
-- the closed matches' entries. A partial index has none to read. A search that
-- shows closed tickets reads both indexes (tickets::list::search_page), and a
-- ticket's document moves between them when it closes or reopens.
create index ticket_search_open_idx on ticket_search using gin (tenant_id, doc) where not closed;
create index ticket_search_closed_idx on ticket_search using gin (tenant_id, doc) where closed;
drop index ticket_search_doc_idx;
