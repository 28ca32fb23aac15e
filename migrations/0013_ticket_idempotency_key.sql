-- A client-chosen key on ticket submissions (the ticket form's hidden field,
-- or an Idempotency-Key header): submitting again with the same key, as a
-- client does when its first attempt got no answer, finds the ticket the
-- first attempt made instead of creating a second one.
alter table tickets
    add column idempotency_key text,
    add constraint tickets_idempotency_key_length
        check (idempotency_key is null or length(idempotency_key) between 1 and 100);

create unique index tickets_tenant_idempotency_key
    on tickets (tenant_id, idempotency_key)
    where idempotency_key is not null;
