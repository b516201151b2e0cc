//! API keys. A key is shown once, when it is created; the store keeps only its SHA-256.
//! A key carries 256 random bits, so a plain (unsalted) hash is enough: there is no
//! dictionary to attack, and the hash can be looked up by equality in an index.
//!
//! Also the pure rules of a key's life: its display prefix, its scope (what methods it
//! may use), its optional name and its expiry.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::FieldError;

/// Every key starts with this, so a leaked key is recognisable in logs and scanners.
const PREFIX: &str = "ll_";

/// Random characters shown after [`PREFIX`] in a key's display prefix: enough to tell a
/// workspace's keys apart (48 bits), while the 210 bits left unshown keep the key secret.
const SHOWN_RANDOM_CHARS: usize = 8;

/// Longest key name accepted.
pub const MAX_NAME_CHARS: usize = 100;

/// The secret a client sends in `x-api-key` or `Authorization: Bearer`.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Self(format!("{PREFIX}{encoded}"))
    }

    /// Wraps what a client sent. Anything is accepted here: a wrong key simply has no
    /// stored hash to match.
    pub fn from_client(secret: &str) -> Self {
        Self(secret.trim().to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> ApiKeyHash {
        ApiKeyHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// What lists show of the key, e.g. `ll_Ab3dE9xQ`: its first characters, never the
    /// whole secret.
    pub fn display_prefix(&self) -> String {
        self.0
            .chars()
            .take(PREFIX.len() + SHOWN_RANDOM_CHARS)
            .collect()
    }
}

crate::wire_enum! {
    /// What a key may do: everything, or only read.
    pub enum ApiKeyScope {
        /// Every method.
        Full = "full",
        /// Only GET and HEAD; anything else is refused with 403.
        ReadOnly = "read_only",
    }
}

impl ApiKeyScope {
    /// Whether a key of this scope may send a request with `method` (an HTTP method
    /// name, upper case as on the wire).
    pub fn permits(self, method: &str) -> bool {
        match self {
            ApiKeyScope::Full => true,
            ApiKeyScope::ReadOnly => matches!(method, "GET" | "HEAD"),
        }
    }
}

/// A key with an expiry stops working at that instant: `now` at or after it.
pub fn is_expired(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires_at.is_some_and(|at| at <= now)
}

/// Checks a key's name: trimmed, 1 to [`MAX_NAME_CHARS`] characters, no control
/// characters (a name is printed in tables and logs).
pub fn key_name(field: &str, value: &str) -> Result<String, FieldError> {
    let name = crate::validation::text(field, value, MAX_NAME_CHARS)?;
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters such as line breaks",
        ));
    }
    Ok(name)
}

/// Checks a requested expiry: it must lie after `now`, or the key would be born dead.
pub fn expiry(
    field: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, FieldError> {
    if is_expired(Some(expires_at), now) {
        return Err(FieldError::new(
            field,
            format!(
                "must be in the future (now is {})",
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        ));
    }
    Ok(expires_at)
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// SHA-256 of a key: what the store keeps. Equality is constant-time; hashing (for the
/// key cache) is over the same bytes, so the two agree.
#[allow(clippy::derived_hash_with_manual_eq)]
#[derive(Debug, Clone, Copy, Eq, Hash)]
pub struct ApiKeyHash([u8; 32]);

impl ApiKeyHash {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(stored: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(stored, &mut bytes).ok()?;
        Some(Self(bytes))
    }
}

/// Compared in constant time so response timing reveals nothing about a stored hash.
impl PartialEq for ApiKeyHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_unique_prefixed_and_hash_round_trips() {
        let a = ApiKey::generate();
        let b = ApiKey::generate();
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with(PREFIX));
        assert_eq!(a.expose().len(), PREFIX.len() + 43);
        assert_eq!(ApiKeyHash::from_hex(&a.hash().to_hex()), Some(a.hash()));
        assert_ne!(a.hash(), b.hash());
        assert_eq!(ApiKey::from_client(a.expose()).hash(), a.hash());
    }

    #[test]
    fn the_display_prefix_is_the_start_of_the_key_and_not_all_of_it() {
        let key = ApiKey::generate();
        let prefix = key.display_prefix();
        assert_eq!(prefix.len(), PREFIX.len() + SHOWN_RANDOM_CHARS);
        assert!(key.expose().starts_with(&prefix));
        assert_ne!(prefix, ApiKey::generate().display_prefix());
    }

    #[test]
    fn read_only_keys_may_only_get_and_head() {
        for method in ["GET", "HEAD"] {
            assert!(ApiKeyScope::ReadOnly.permits(method));
        }
        for method in ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get"] {
            assert!(!ApiKeyScope::ReadOnly.permits(method), "{method}");
            assert!(ApiKeyScope::Full.permits(method), "{method}");
        }
        assert_eq!(ApiKeyScope::parse("read_only"), Some(ApiKeyScope::ReadOnly));
        assert_eq!(ApiKeyScope::parse("readonly"), None);
    }

    #[test]
    fn a_key_expires_at_its_instant() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let second = chrono::Duration::seconds(1);
        assert!(!is_expired(None, at));
        assert!(!is_expired(Some(at), at - second));
        assert!(is_expired(Some(at), at));
        assert!(is_expired(Some(at), at + second));
        assert!(expiry("expiresAt", at, at).is_err());
        assert_eq!(expiry("expiresAt", at, at - second), Ok(at));
    }

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(key_name("name", "  CRM sync ").as_deref(), Ok("CRM sync"));
        for bad in ["", "   ", "two\nlines", &"x".repeat(MAX_NAME_CHARS + 1)] {
            let error = key_name("name", bad).unwrap_err();
            assert_eq!(error.field, "name", "{bad:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = ApiKey::generate();
        assert!(!format!("{key:?}").contains(&key.expose()[3..]));
    }
}
