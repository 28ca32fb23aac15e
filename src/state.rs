//! The state every handler shares. Anything a test swaps is a field here.

use crate::{
    attachments::storage::Store, clock::Clock, config::Config, db::Db, tenants::Slugs,
    tickets::catalog::Catalogs,
};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub config: Config,
    pub clock: Clock,
    /// Attachment storage, as configured (one S3 client for the process).
    pub store: Store,
    /// Each tenant's catalog as last read (option lists, staff, settings).
    pub catalogs: Catalogs,
    /// Which tenant each slug names (see [`Slugs`]).
    pub slugs: Slugs,
    /// Key for CSRF tokens (and later other signed values).
    secret: SecretString,
}

impl AppState {
    pub fn new(db: Db, config: Config, clock: Clock, secret: SecretString) -> Self {
        Self(Arc::new(Inner {
            store: crate::attachments::storage::from_config(&config),
            catalogs: Catalogs::default(),
            slugs: Slugs::default(),
            db,
            config,
            clock,
            secret,
        }))
    }

    pub fn secret_bytes(&self) -> &[u8] {
        self.0.secret.expose_secret().as_bytes()
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
