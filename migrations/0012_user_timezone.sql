-- A user's timezone is their own choice for how dates read on pages; null
-- (every user until they choose) follows the helpdesk's default
-- (tenant_settings.default_timezone). Nobody could choose before this, so the
-- old default 'UTC' is nobody's choice.
alter table users alter column timezone drop default, alter column timezone drop not null;
update users set timezone = null where timezone = 'UTC';
