-- Email outbox: every notification is a row written in the transaction of the
-- action that caused it, delivered later by the mail worker with retries.
--
-- Tenant-owned like every other table (tenant_id leads the primary key, foreign
-- keys carry it, FORCEd row-level security binds `tessera_app` to the
-- transaction's tenant). The worker is the one reader that must see every
-- tenant's due rows; it does so as its own role `tessera_mailer`, which may read
-- and update this table only (see the end of this file).

create table email_outbox (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    -- The recipient: a user of the tenant (null once that user is deleted), and the
    -- address and name the message was rendered for.
    recipient_user_id uuid,
    recipient_email text not null,
    recipient_name text not null default '',
    -- The From display name (the tenant's name); the address is `smtp.from`.
    from_name text not null,
    -- Which template rendered it (`ticket_created`, `reply_added`, …).
    template text not null,
    ticket_id uuid,
    subject text not null,
    body_text text not null,
    body_html text not null,
    -- Threading: every message of a ticket refers to the ticket's thread root.
    message_id text not null,
    in_reply_to text,
    thread_references text,
    -- One row per cause and recipient, however often the cause is replayed.
    idempotency_key text not null,
    status text not null default 'pending',
    attempts integer not null default 0,
    next_attempt_at timestamptz not null,
    last_error text,
    created_at timestamptz not null,
    sent_at timestamptz,
    primary key (tenant_id, id),
    constraint email_outbox_tenant_idempotency_key unique (tenant_id, idempotency_key),
    constraint email_outbox_tenant_message_id_key unique (tenant_id, message_id),
    constraint email_outbox_status check (status in ('pending', 'sent', 'failed')),
    constraint email_outbox_attempts_range check (attempts >= 0),
    constraint email_outbox_sent_has_time check ((status = 'sent') = (sent_at is not null)),
    foreign key (tenant_id, recipient_user_id) references users (tenant_id, id)
        on delete set null (recipient_user_id),
    foreign key (tenant_id, ticket_id) references tickets (tenant_id, id) on delete cascade
);

-- The worker claims due rows across tenants, oldest due first: the one index that
-- does not lead with tenant_id, because that query has no tenant. Partial, so it
-- stays as small as the queue, not the history.
create index email_outbox_due_idx on email_outbox (next_attempt_at, tenant_id, id)
    where status = 'pending';
-- Per tenant, newest first (the admin outbox page later).
create index email_outbox_tenant_created_idx on email_outbox (tenant_id, created_at desc, id desc);

-- Row-level security and grants, exactly like every tenant-owned table.
do $$
declare
    t text;
begin
    foreach t in array array['email_outbox']
    loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy tenant_isolation on %I to tessera_app '
                       'using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())', t);
        execute format('grant select, insert, update, delete on %I to tessera_app', t);
    end loop;
end
$$;

-- The mail worker's role. Why a role and not a SECURITY DEFINER function or the
-- owner: the policies are FORCEd, so the owner (when it is not a superuser) sees
-- no rows at all, and a definer function would run as that same owner. A role
-- that owns nothing, may only select and update this one table, and has a policy
-- of its own that spans tenants keeps the cross-tenant reach as narrow as the
-- job: it can read no ticket, user or reply, and cannot create mail. The worker
-- switches to it with `set_config('role', 'tessera_mailer', true)`, transaction-local
-- like `db::TenantTx`.
do $$
begin
    create role tessera_mailer nologin;
exception
    when duplicate_object or unique_violation then null;
end
$$;

do $$
begin
    execute format('grant tessera_mailer to %I', current_user);
exception
    when others then null;
end
$$;

grant usage on schema public to tessera_mailer;
grant select on email_outbox to tessera_mailer;
grant update (status, attempts, next_attempt_at, last_error, sent_at) on email_outbox to tessera_mailer;
create policy mail_delivery on email_outbox to tessera_mailer using (true) with check (true);
