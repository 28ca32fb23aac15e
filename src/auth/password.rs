//! argon2id hashing, run on the blocking pool so a hash never stalls the runtime.

use anyhow::anyhow;
use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|error| anyhow!("hashing a password: {error}"))
    })
    .await?
}

/// Checks `password` against a stored hash. With no hash (unknown user, or a user
/// without a password) it still does the same work against a fixed hash, so the
/// answer takes as long either way.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| TIMING_DECOY.to_owned());
        let hash = PasswordHash::new(&stored).map_err(|error| anyhow!("stored hash: {error}"))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok();
        Ok(known && matches)
    })
    .await?
}

/// The argon2id hash of a random string nobody knows, with the default parameters.
const TIMING_DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2o3bLDzYcJkkhmflffzFQWpDK8lfI9hHh8QUZpnVjjw";

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_hash_verifies_its_password_only() -> anyhow::Result<()> {
        let hash = super::hash("correct horse".to_owned()).await?;
        assert!(hash.starts_with("$argon2id$"));
        assert!(super::verify("correct horse".to_owned(), Some(hash.clone())).await?);
        assert!(!super::verify("wrong horse!".to_owned(), Some(hash)).await?);
        assert!(!super::verify("correct horse".to_owned(), None).await?);
        Ok(())
    }
}
