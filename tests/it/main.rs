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
mod chat;
mod cli;
mod config;
mod demo;
mod email;
mod guests;
mod http;
mod inbound;
mod lifecycle;
mod notification_prefs;
mod passwords;
mod queue;
mod replies;
mod seed;
mod tenancy;
mod ticket_list;
mod tickets;
mod timezone;
