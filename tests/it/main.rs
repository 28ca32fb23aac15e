#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test that cannot set itself up should stop loudly"
)]

//! The integration test binary: every test gets its own database (a copy of a
//! migrated template) on a real PostgreSQL and drives the real router.

mod helpers;

mod admin;
mod admin_tags;
mod attachments;
mod auth;
mod authorization;
mod browser;
mod catalog;
mod chat;
mod cli;
mod config;
mod demo;
mod email;
mod fault;
mod guests;
mod http;
mod inbound;
mod lifecycle;
mod notification_prefs;
mod passwords;
mod queue;
mod replies;
mod resilience;
mod schema;
mod security_attachments;
mod security_csrf;
mod security_db;
mod security_forms;
mod security_markdown;
mod security_sessions;
mod security_source;
mod security_tokens;
mod seed;
mod tenancy;
mod ticket_list;
mod tickets;
mod timezone;
