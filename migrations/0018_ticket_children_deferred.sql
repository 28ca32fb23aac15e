-- A new ticket's number is taken from its tenant's counter row, which stays
-- locked until the creating transaction commits (numbers are gap-free), so
-- every create of a tenant waits for the one before it from that point. The
-- create therefore writes the ticket's own rows (its creation event, its
-- followers, its files, a guest's access link) and reads everything its
-- notifications need first, and takes the number in the ticket's insert, last
-- but for the messages that print it. Those rows then precede the ticket they
-- belong to in the transaction: their references to it are checked at commit.
alter table ticket_events
    alter constraint ticket_events_tenant_id_ticket_id_fkey deferrable initially deferred;
alter table ticket_followers
    alter constraint ticket_followers_tenant_id_ticket_id_fkey deferrable initially deferred;
alter table attachments
    alter constraint attachments_tenant_id_ticket_id_fkey deferrable initially deferred;
alter table ticket_access_links
    alter constraint ticket_access_links_tenant_id_ticket_id_fkey deferrable initially deferred;
