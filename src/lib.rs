//! Tessera: a self-hosted, multi-tenant helpdesk.
//!
//! The crate is laid out feature first (see `../shared/STYLE.md`): the plumbing
//! every feature shares sits at the top (`config`, `db`, `error`, `web`, …) and each
//! feature (`auth`, `tenants`, `home`, …) owns its routes, rules and SQL.
//!
//! Two rules hold everywhere and are enforced here rather than remembered:
//! - tenant-scoped SQL runs inside [`db::TenantTx`], which sets the tenant for
//!   PostgreSQL row-level security, so a query cannot see another tenant's rows;
//! - the only caller of the system clock is [`clock::Clock`].

pub mod account;
pub mod admin;
pub mod app;
pub mod attachments;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod email;
pub mod error;
pub mod guests;
pub mod home;
pub mod jobs;
pub mod local_pg;
pub mod markdown;
pub mod passwords;
pub mod replies;
pub mod seed;
pub mod state;
pub mod telemetry;
pub mod tenants;
pub mod tickets;
pub mod web;

/// The schema migrations, embedded in the binary and applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
