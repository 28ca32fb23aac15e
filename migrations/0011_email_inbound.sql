-- Email, second part: per-user notification preferences, the tenant's inbound
-- mail settings, and the record of every inbound message with its decision.

-- One row per user who changed a preference; a user without a row gets every
-- notification (the defaults below).
create table notification_preferences (
    tenant_id uuid not null references tenants (id) on delete cascade,
    user_id uuid not null,
    ticket_created boolean not null default true,
    replies boolean not null default true,
    changes boolean not null default true,
    assignment boolean not null default true,
    internal_notes boolean not null default true,
    -- Staff: only mail about tickets assigned to them.
    only_assigned boolean not null default false,
    updated_at timestamptz not null,
    primary key (tenant_id, user_id),
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade
);

-- Inbound mail per tenant; a tenant without a row accepts no inbound mail.
create table email_settings (
    tenant_id uuid primary key references tenants (id) on delete cascade,
    -- SHA-256 (hex) of the secret mail services present to post inbound mail;
    -- the secret itself is shown once, when it is made.
    inbound_secret_hash text,
    -- Mail that matches no ticket opens a new one (else it is rejected).
    accept_email_tickets boolean not null default false,
    updated_at timestamptz not null
);

-- Every inbound message and what was decided, for the admin page and for
-- threading: the Message-IDs of accepted messages join the ticket's thread.
create table inbound_emails (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    message_id text,
    from_address text not null default '',
    subject text not null default '',
    size_bytes integer not null,
    decision text not null,
    reason text not null,
    ticket_id uuid,
    user_id uuid,
    reply_id uuid,
    received_at timestamptz not null,
    primary key (tenant_id, id),
    constraint inbound_emails_decision check (decision in ('reply', 'ticket', 'rejected', 'duplicate')),
    constraint inbound_emails_accepted_has_ticket
        check (decision not in ('reply', 'ticket') or ticket_id is not null),
    foreign key (tenant_id, ticket_id) references tickets (tenant_id, id) on delete set null (ticket_id),
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete set null (user_id),
    foreign key (tenant_id, reply_id) references replies (tenant_id, id) on delete set null (reply_id)
);
-- The admin page, newest first.
create index inbound_emails_tenant_received_idx on inbound_emails (tenant_id, received_at desc, id desc);
-- Duplicates and threading look up accepted messages by Message-ID.
create index inbound_emails_tenant_message_id_idx on inbound_emails (tenant_id, message_id)
    where decision in ('reply', 'ticket');
create index inbound_emails_tenant_ticket_idx on inbound_emails (tenant_id, ticket_id);
create index inbound_emails_tenant_user_idx on inbound_emails (tenant_id, user_id);
create index inbound_emails_tenant_reply_idx on inbound_emails (tenant_id, reply_id);

do $$
declare
    t text;
begin
    foreach t in array array['notification_preferences', 'email_settings', 'inbound_emails']
    loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy tenant_isolation on %I to tessera_app '
                       'using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())', t);
        execute format('grant select, insert, update, delete on %I to tessera_app', t);
    end loop;
end
$$;

-- Ticket mail to a user carries an unsubscribe link to this tenant page; the
-- worker signs it at delivery (and adds `List-Unsubscribe`).
alter table email_outbox add column unsubscribe_path text;

-- Chat notifications (Slack-compatible incoming webhooks) go through the same
-- outbox with the same retries: a row's channel says how it is delivered.
alter table email_outbox
    add column channel text not null default 'email',
    add column webhook_url text,
    add column payload text,
    add constraint email_outbox_channel check (channel in ('email', 'chat')),
    add constraint email_outbox_chat_has_target
        check (channel = 'email' or (webhook_url is not null and payload is not null));

-- One webhook per tenant and the events it hears.
create table chat_webhooks (
    tenant_id uuid primary key references tenants (id) on delete cascade,
    url text not null,
    on_new_ticket boolean not null default true,
    on_reopened boolean not null default true,
    updated_at timestamptz not null
);
alter table chat_webhooks enable row level security;
alter table chat_webhooks force row level security;
create policy tenant_isolation on chat_webhooks to tessera_app
    using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id());
grant select, insert, update, delete on chat_webhooks to tessera_app;
