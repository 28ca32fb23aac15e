//! Random tokens and keyed hashes for CSRF and, later, access links and resets.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A 256-bit random value, URL-safe base64 encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS random source failing is not something a request can recover from.
    #[expect(clippy::expect_used, reason = "no entropy means no safe tokens at all")]
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

fn mac(secret: &[u8], purpose: &str, value: &str) -> Hmac<Sha256> {
    #[expect(clippy::expect_used, reason = "HMAC accepts keys of any length")]
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(value.as_bytes());
    mac
}

/// HMAC-SHA256 of `value` under `secret`, separated by `purpose`.
pub fn sign(secret: &[u8], purpose: &str, value: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(secret, purpose, value).finalize().into_bytes())
}

/// Checks a signature made by [`sign`], in constant time.
pub fn verify(secret: &[u8], purpose: &str, value: &str, signature: &str) -> bool {
    match URL_SAFE_NO_PAD.decode(signature) {
        Ok(bytes) => mac(secret, purpose, value).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn signatures_verify_only_for_the_same_secret_purpose_and_value() {
        let sig = sign(b"secret", "csrf", "abc");
        assert!(verify(b"secret", "csrf", "abc", &sig));
        assert!(!verify(b"other", "csrf", "abc", &sig));
        assert!(!verify(b"secret", "reset", "abc", &sig));
        assert!(!verify(b"secret", "csrf", "abd", &sig));
        assert!(!verify(b"secret", "csrf", "abc", "not base64!"));
    }
}
