//! The tokens a notification carries, made by the worker at delivery (it holds
//! the server's secret; the action that wrote the row does not need it):
//!
//! - the reply token in the Reply-To address (`support+TOKEN@domain`): the
//!   outbox row's id and a 128-bit HMAC of tenant and id, in lowercase base32 so
//!   it survives mail systems that fold the case of addresses, and short enough
//!   for a local part (52 characters). The row says which ticket and which user;
//! - the unsubscribe token in the link and the `List-Unsubscribe` header: user,
//!   ticket and an HMAC over tenant, user and ticket.
//!
//! Neither is stored: both are checked by recomputing the HMAC, in constant time.

use crate::{
    auth::tokens,
    db::{TenantId, UserId},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

const REPLY_PURPOSE: &str = "reply-to";
const UNSUBSCRIBE_PURPOSE: &str = "unsubscribe";
/// Bytes of the reply token's MAC: 128 bits.
const REPLY_MAC_BYTES: usize = 16;
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

fn unbase32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = BASE32.iter().position(|b| *b == c.to_ascii_lowercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    // Strict: the unused low bits of the last character are zero, so every
    // value has exactly one spelling (up to case).
    (buffer & ((1 << bits) - 1) == 0).then_some(out)
}

/// Equal in time independent of where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn reply_mac(secret: &[u8], tenant: TenantId, id: Uuid) -> Vec<u8> {
    let signature = tokens::sign(secret, REPLY_PURPOSE, &format!("{tenant}:{id}"));
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    bytes.truncate(REPLY_MAC_BYTES);
    bytes
}

/// The reply token of outbox row `id`.
pub fn reply_token(secret: &[u8], tenant: TenantId, id: Uuid) -> String {
    let mut bytes = id.as_bytes().to_vec();
    bytes.extend(reply_mac(secret, tenant, id));
    base32(&bytes)
}

/// The outbox row a reply token names, when its MAC is right for `tenant`.
pub fn parse_reply_token(secret: &[u8], tenant: TenantId, token: &str) -> Option<Uuid> {
    let bytes = unbase32(token.trim())?;
    if bytes.len() != 16 + REPLY_MAC_BYTES {
        return None;
    }
    let id = Uuid::from_slice(&bytes[..16]).ok()?;
    constant_time_eq(&bytes[16..], &reply_mac(secret, tenant, id)).then_some(id)
}

/// The address a reply to row `id` goes to: `pattern` with `{token}` replaced.
pub fn reply_address(pattern: &str, token: &str) -> String {
    pattern.replace("{token}", token)
}

/// The token in `address` when it has the shape of `pattern` (case-insensitive).
pub fn token_in_address<'a>(pattern: &str, address: &'a str) -> Option<&'a str> {
    let (prefix, suffix) = pattern.split_once("{token}")?;
    let lower = address.to_ascii_lowercase();
    if address.len() <= prefix.len() + suffix.len()
        || !lower.starts_with(&prefix.to_ascii_lowercase())
        || !lower.ends_with(&suffix.to_ascii_lowercase())
    {
        return None;
    }
    address.get(prefix.len()..address.len() - suffix.len())
}

fn unsubscribe_value(tenant: TenantId, user: UserId, ticket: Uuid) -> String {
    format!("{tenant}:{user}:{ticket}")
}

/// The token of the link that stops `user` following `ticket`.
pub fn unsubscribe_token(secret: &[u8], tenant: TenantId, user: UserId, ticket: Uuid) -> String {
    let signature = tokens::sign(
        secret,
        UNSUBSCRIBE_PURPOSE,
        &unsubscribe_value(tenant, user, ticket),
    );
    format!("{}.{}.{signature}", user.0.simple(), ticket.simple())
}

/// User and ticket of an unsubscribe token signed for `tenant`.
pub fn parse_unsubscribe_token(
    secret: &[u8],
    tenant: TenantId,
    token: &str,
) -> Option<(UserId, Uuid)> {
    let mut parts = token.trim().splitn(3, '.');
    let user = UserId(Uuid::try_parse(parts.next()?).ok()?);
    let ticket = Uuid::try_parse(parts.next()?).ok()?;
    let signature = parts.next()?;
    tokens::verify(
        secret,
        UNSUBSCRIBE_PURPOSE,
        &unsubscribe_value(tenant, user, ticket),
        signature,
    )
    .then_some((user, ticket))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_round_trips() {
        for bytes in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
            assert_eq!(unbase32(&base32(bytes)).as_deref(), Some(bytes));
        }
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }

    #[test]
    fn reply_tokens_verify_for_their_tenant_only_and_survive_case_folding() {
        let (tenant, other) = (TenantId(Uuid::now_v7()), TenantId(Uuid::now_v7()));
        let id = Uuid::now_v7();
        let token = reply_token(b"secret", tenant, id);
        assert_eq!(token.len(), 52);
        assert_eq!(parse_reply_token(b"secret", tenant, &token), Some(id));
        assert_eq!(
            parse_reply_token(b"secret", tenant, &token.to_uppercase()),
            Some(id)
        );
        assert_eq!(parse_reply_token(b"secret", other, &token), None);
        assert_eq!(parse_reply_token(b"other", tenant, &token), None);
        let mut forged = token.clone();
        forged.replace_range(51..52, if token.ends_with('a') { "b" } else { "a" });
        assert_eq!(parse_reply_token(b"secret", tenant, &forged), None);
        assert_eq!(parse_reply_token(b"secret", tenant, "short"), None);
    }

    #[test]
    fn addresses_yield_their_token_when_they_fit_the_pattern() {
        let pattern = "support+{token}@help.example.test";
        assert_eq!(
            reply_address(pattern, "abc"),
            "support+abc@help.example.test"
        );
        assert_eq!(
            token_in_address(pattern, "Support+ABC@Help.Example.Test"),
            Some("ABC")
        );
        assert_eq!(
            token_in_address(pattern, "support+@help.example.test"),
            None
        );
        assert_eq!(
            token_in_address(pattern, "sales+abc@help.example.test"),
            None
        );
        assert_eq!(token_in_address("no-token@x", "no-token@x"), None);
    }

    #[test]
    fn unsubscribe_tokens_are_bound_to_tenant_user_and_ticket() {
        let tenant = TenantId(Uuid::now_v7());
        let (user, ticket) = (UserId(Uuid::now_v7()), Uuid::now_v7());
        let token = unsubscribe_token(b"s", tenant, user, ticket);
        assert_eq!(
            parse_unsubscribe_token(b"s", tenant, &token),
            Some((user, ticket))
        );
        let other_user = UserId(Uuid::now_v7());
        let swapped = token.replacen(
            &user.0.simple().to_string(),
            &other_user.0.simple().to_string(),
            1,
        );
        assert_eq!(parse_unsubscribe_token(b"s", tenant, &swapped), None);
        assert_eq!(
            parse_unsubscribe_token(b"s", TenantId(Uuid::now_v7()), &token),
            None
        );
        assert_eq!(parse_unsubscribe_token(b"s", tenant, "x.y.z"), None);
    }
}
