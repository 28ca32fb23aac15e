//! Which tenant each slug names, as this process has seen it.

use crate::db::TenantId;
use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

/// Slug → tenant id, kept so that a signed-in request can scope its transaction
/// as it begins and read the tenant's row with its user in one statement
/// (`web::tenant::enter_tenant`), instead of reading the row first to learn the
/// id. Only the id is kept: the row (name, prefix, catalog version) is read on
/// every request. Slugs are never renamed; the request still checks that the
/// row it read has its slug, and forgets the entry if not.
#[derive(Default)]
pub struct Slugs {
    ids: Mutex<HashMap<String, TenantId>>,
}

/// More slugs than this seen by one process, and the map starts over.
const MAX_SLUGS: usize = 10_000;

impl Slugs {
    pub fn id_of(&self, slug: &str) -> Option<TenantId> {
        self.lock().get(slug).copied()
    }

    pub fn remember(&self, slug: &str, id: TenantId) {
        let mut ids = self.lock();
        if ids.len() >= MAX_SLUGS {
            ids.clear();
        }
        ids.insert(slug.to_owned(), id);
    }

    pub fn forget(&self, slug: &str) {
        self.lock().remove(slug);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, TenantId>> {
        // A panic while holding the lock cannot leave the map half-changed.
        self.ids
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
