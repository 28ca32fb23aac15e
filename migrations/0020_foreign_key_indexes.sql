-- The referencing side of every foreign key gets an index PostgreSQL can use to
-- find the rows a deleted (or re-keyed) parent row affects. Three were missing:
-- deleting a ticket scanned the whole outbox for its messages (one scan per
-- ticket when a tenant's tickets go), and deleting a user scanned the outbox and
-- the admin audit log. Partial where the column is mostly null: a lookup for a
-- given value implies it is not null, so the planner uses them.
create index email_outbox_ticket_idx on email_outbox (tenant_id, ticket_id)
    where ticket_id is not null;
create index email_outbox_recipient_idx on email_outbox (tenant_id, recipient_user_id)
    where recipient_user_id is not null;
create index admin_audit_log_actor_idx on admin_audit_log (tenant_id, actor_id)
    where actor_id is not null;
