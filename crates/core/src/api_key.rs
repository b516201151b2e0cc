//! API keys. A key is shown once, when it is created; the store keeps only its SHA-256.
//! A key carries 256 random bits, so a plain (unsalted) hash is enough: there is no
//! dictionary to attack, and the hash can be looked up by equality in an index.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Every key starts with this, so a leaked key is recognisable in logs and scanners.
const PREFIX: &str = "ll_";

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
    fn debug_never_shows_the_secret() {
        let key = ApiKey::generate();
        assert!(!format!("{key:?}").contains(&key.expose()[3..]));
    }
}
