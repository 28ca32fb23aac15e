//! Tenants: the support teams Tessera hosts, each isolated from the others.
//!
//! Invariants: a tenant is addressed by its slug, the first path segment of every
//! tenant URL; slugs are lowercase, unique, and never one of the reserved top-level
//! paths. Creating a tenant creates its first admin in the same transaction.

pub mod model;
pub mod repo;
pub mod service;
pub mod slugs;

pub use model::{Tenant, TenantSlug};
pub use slugs::Slugs;
