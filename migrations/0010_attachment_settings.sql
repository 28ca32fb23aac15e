-- Attachment settings of a tenant: the maximum size per file (in MB, bounded by
-- the operator's `attachments.max_file_bytes` when it is used) and an optional
-- allow-list of formats (format names the application knows: JPG, PNG, …).
-- The row already has RLS (migration 0006); these are plain columns of it.
alter table tenant_settings
    add column attachment_max_file_mb integer not null default 25
        constraint tenant_settings_attachment_max_file_mb_range
            check (attachment_max_file_mb between 1 and 1048576),
    add column attachment_allow_list boolean not null default false,
    add column attachment_formats text[] not null
        default array['JPG', 'PNG', 'GIF', 'PDF', 'DOC', 'DOCX', 'TXT', 'ZIP']
        constraint tenant_settings_attachment_formats_size
            check (cardinality(attachment_formats) <= 50);
