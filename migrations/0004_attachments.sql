-- Attachments: files uploaded with a ticket's description, a reply or an internal
-- note. The bytes live in storage under a random key; the row keeps what the
-- person saw (the normalised original name) and what we found (the sniffed
-- content type, the size and the SHA-256 of the stored bytes).

create table attachments (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    ticket_id uuid not null,
    -- Null: attached to the ticket's description.
    reply_id uuid,
    uploader_id uuid not null,
    filename text not null,
    content_type text not null,
    size_bytes bigint not null,
    sha256 bytea not null,
    storage_key text not null,
    -- On an internal note: staff only, like the note.
    internal boolean not null default false,
    created_at timestamptz not null,
    primary key (tenant_id, id),
    foreign key (tenant_id, ticket_id) references tickets (tenant_id, id) on delete cascade,
    foreign key (tenant_id, reply_id) references replies (tenant_id, id) on delete cascade,
    foreign key (tenant_id, uploader_id) references users (tenant_id, id),
    constraint attachments_storage_key_key unique (tenant_id, storage_key),
    constraint attachments_filename_length check (char_length(filename) between 1 and 255),
    constraint attachments_size_range check (size_bytes >= 0),
    constraint attachments_sha256_length check (octet_length(sha256) = 32),
    constraint attachments_content_type_length check (char_length(content_type) between 1 and 255)
);
create index attachments_ticket_idx on attachments (tenant_id, ticket_id, created_at, id);
create index attachments_reply_idx on attachments (tenant_id, reply_id) where reply_id is not null;
create index attachments_uploader_idx on attachments (tenant_id, uploader_id);

-- Row-level security and grants, as for every tenant-owned table.
do $$
declare
    t text;
begin
    foreach t in array array['attachments']
    loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy tenant_isolation on %I to tessera_app '
                       'using (tenant_id = app_tenant_id()) with check (tenant_id = app_tenant_id())', t);
        execute format('grant select, insert, update, delete on %I to tessera_app', t);
    end loop;
end
$$;
