//! Secrets sealed at rest: XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`) under a
//! 32-byte key that lives outside the database, with a random 24-byte nonce per value
//! (192 bits: random nonces never collide in practice, so no counter has to be kept
//! across nodes).
//!
//! A sealed value is stored as a versioned envelope,
//! `{"v":1,"kid":"1a2b3c4d","nonce":"<base64>","ct":"<base64>"}`, beside a key-id
//! column that lets rotation find the rows still sealed under an older key. The
//! associated data names the value's place, `leadline:v1:{table}.{column}:{row ids}`
//! ([`SealedAt`]), so a ciphertext copied into another row or column fails to open
//! instead of handing one channel's credentials to another.
//!
//! The key id is the first 8 hex characters of SHA-256("leadline key id" || key): it
//! says which key sealed a value without a table of keys, and reveals nothing useful
//! about the key. A [`KeyRing`] holds the primary key (which seals) and previous keys
//! (which only open), so values sealed before a rotation stay readable while it runs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bytes of a key.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
const ENVELOPE_VERSION: u8 = 1;

/// How to make a key, for error messages.
pub const MAKE_A_KEY: &str = "make one with `openssl rand -base64 32`";

/// Why a secret could not be sealed or opened. None of them shows a secret or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The store was opened without keys and met a secret.
    #[error("no secret key is configured: set LEADLINE_SECRET_KEY or a key file ({MAKE_A_KEY})")]
    NoKey,
    /// The value was sealed under a key this process does not have.
    #[error(
        "{at} is sealed with key id {kid}, which is not among this server's secret keys \
         (primary {primary}); give the server that key as primary or previous key"
    )]
    UnknownKey {
        at: String,
        kid: String,
        primary: String,
    },
    /// The key is right but the value does not open: it was tampered with, or copied
    /// from another row.
    #[error(
        "{at} does not decrypt under key id {kid}: the value was altered or belongs to another row"
    )]
    Undecryptable { at: String, kid: String },
    /// The stored text is not an envelope.
    #[error("{at} is not a sealed secret envelope: {reason}")]
    Malformed { at: String, reason: String },
    /// A key given to the server is not 32 bytes of base64 or hex.
    #[error("{source_name} is not a secret key: {reason}; {MAKE_A_KEY}")]
    BadKey { source_name: String, reason: String },
}

/// Where a sealed value lives: bound into its associated data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedAt(String);

impl SealedAt {
    /// `field` is `table.column`; `row` the ids that identify the row.
    pub fn new(field: &str, row: &[&str]) -> Self {
        Self(format!("{field}:{}", row.join(":")))
    }

    fn associated_data(&self) -> Vec<u8> {
        format!("leadline:v1:{}", self.0).into_bytes()
    }
}

impl std::fmt::Display for SealedAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One 32-byte key and its id. `Debug` shows the id only.
#[derive(Clone)]
pub struct SecretKey {
    bytes: [u8; KEY_BYTES],
    id: String,
}

impl SecretKey {
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        let mut digest = Sha256::new();
        digest.update(b"leadline key id");
        digest.update(bytes);
        let mut id = hex::encode(digest.finalize());
        id.truncate(8);
        Self { bytes, id }
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    /// A key written as base64 (standard or URL-safe, padded or not) or hex, of
    /// exactly 32 bytes; `source_name` names where it came from in the error.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        let bad = |reason: String| SecretError::BadKey {
            source_name: source_name.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(bad("it is empty".into()));
        }
        let decoded = if text.len() == 2 * KEY_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit())
        {
            hex::decode(text).ok()
        } else {
            use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
            [&BASE64, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(text).ok())
        };
        let bytes = decoded.ok_or_else(|| bad("it is neither base64 nor hex".into()))?;
        let bytes: [u8; KEY_BYTES] = bytes.try_into().map_err(|bytes: Vec<u8>| {
            bad(format!(
                "it holds {} bytes, a key is {KEY_BYTES}",
                bytes.len()
            ))
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key as base64, as key files hold it.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.bytes)
    }

    /// The key's id: first 8 hex characters of SHA-256("leadline key id" || key).
    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.bytes).into())
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.id)
    }
}

/// The stored form of a sealed value.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    v: u8,
    kid: String,
    nonce: String,
    ct: String,
}

/// A value sealed under the primary key, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The envelope's JSON text.
    pub envelope: String,
    /// The id of the key that sealed it, stored beside it.
    pub key_id: String,
}

/// The keys of this process: the primary seals and opens, previous keys only open.
#[derive(Debug, Clone)]
pub struct KeyRing {
    primary: SecretKey,
    previous: Vec<SecretKey>,
}

impl KeyRing {
    /// `previous` newest first; a previous key equal to the primary is dropped.
    pub fn new(primary: SecretKey, previous: Vec<SecretKey>) -> Self {
        let mut kept: Vec<SecretKey> = Vec::new();
        for key in previous {
            if key.id != primary.id && !kept.iter().any(|k| k.id == key.id) {
                kept.push(key);
            }
        }
        Self {
            primary,
            previous: kept,
        }
    }

    pub fn primary(&self) -> &SecretKey {
        &self.primary
    }

    /// The keys that only open, newest first.
    pub fn previous(&self) -> &[SecretKey] {
        &self.previous
    }

    /// The ids of every key, the primary first.
    pub fn key_ids(&self) -> Vec<String> {
        std::iter::once(&self.primary)
            .chain(&self.previous)
            .map(|key| key.id.clone())
            .collect()
    }

    pub fn has_key(&self, kid: &str) -> bool {
        self.key(kid).is_some()
    }

    fn key(&self, kid: &str) -> Option<&SecretKey> {
        std::iter::once(&self.primary)
            .chain(&self.previous)
            .find(|key| key.id == kid)
    }

    /// Seals `plaintext` for `at` under the primary key with a fresh nonce.
    pub fn seal(&self, plaintext: &[u8], at: &SealedAt) -> Sealed {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let aad = at.associated_data();
        let ct = self
            .primary
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any input under 256 GiB");
        let envelope = Envelope {
            v: ENVELOPE_VERSION,
            kid: self.primary.id.clone(),
            nonce: BASE64.encode(nonce),
            ct: BASE64.encode(ct),
        };
        Sealed {
            envelope: serde_json::to_string(&envelope).expect("an envelope serializes"),
            key_id: self.primary.id.clone(),
        }
    }

    /// Opens an envelope stored at `at`.
    pub fn open(&self, envelope: &str, at: &SealedAt) -> Result<Vec<u8>, SecretError> {
        let malformed = |reason: &str| SecretError::Malformed {
            at: at.to_string(),
            reason: reason.to_owned(),
        };
        let envelope: Envelope =
            serde_json::from_str(envelope).map_err(|_| malformed("not envelope JSON"))?;
        if envelope.v != ENVELOPE_VERSION {
            return Err(malformed("unknown envelope version"));
        }
        let key = self
            .key(&envelope.kid)
            .ok_or_else(|| SecretError::UnknownKey {
                at: at.to_string(),
                kid: envelope.kid.clone(),
                primary: self.primary.id.clone(),
            })?;
        let nonce: [u8; NONCE_BYTES] = BASE64
            .decode(&envelope.nonce)
            .ok()
            .and_then(|nonce| nonce.try_into().ok())
            .ok_or_else(|| malformed("the nonce is not 24 bytes of base64"))?;
        let ct = BASE64
            .decode(&envelope.ct)
            .map_err(|_| malformed("the ciphertext is not base64"))?;
        let aad = at.associated_data();
        key.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &ct,
                    aad: &aad,
                },
            )
            .map_err(|_| SecretError::Undecryptable {
                at: at.to_string(),
                kid: envelope.kid,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        KeyRing::new(SecretKey::generate(), Vec::new())
    }

    #[test]
    fn seals_and_opens_at_the_same_place_only() {
        let ring = ring();
        let here = SealedAt::new("channels.secrets", &["w1", "c1"]);
        let sealed = ring.seal(b"{\"authToken\":\"tok\"}", &here);
        assert!(!sealed.envelope.contains("tok"));
        assert_eq!(sealed.key_id, ring.primary().id());
        assert_eq!(
            ring.open(&sealed.envelope, &here).unwrap(),
            b"{\"authToken\":\"tok\"}"
        );
        let elsewhere = SealedAt::new("channels.secrets", &["w1", "c2"]);
        assert!(matches!(
            ring.open(&sealed.envelope, &elsewhere),
            Err(SecretError::Undecryptable { .. })
        ));
    }

    #[test]
    fn the_same_value_seals_differently_each_time() {
        let ring = ring();
        let at = SealedAt::new("t.c", &["1"]);
        assert_ne!(ring.seal(b"x", &at).envelope, ring.seal(b"x", &at).envelope);
    }

    #[test]
    fn previous_keys_open_and_unknown_keys_are_named() {
        let old = SecretKey::generate();
        let at = SealedAt::new("t.c", &["1"]);
        let sealed = KeyRing::new(old.clone(), vec![]).seal(b"v", &at);
        let rotated = KeyRing::new(SecretKey::generate(), vec![old.clone()]);
        assert_eq!(rotated.open(&sealed.envelope, &at).unwrap(), b"v");
        let without = ring();
        match without.open(&sealed.envelope, &at) {
            Err(SecretError::UnknownKey { kid, .. }) => assert_eq!(kid, old.id()),
            other => panic!("expected an unknown key, got {other:?}"),
        }
    }

    #[test]
    fn a_flipped_bit_does_not_open() {
        let ring = ring();
        let at = SealedAt::new("t.c", &["1"]);
        let sealed = ring.seal(b"value", &at);
        let mut envelope: Envelope = serde_json::from_str(&sealed.envelope).unwrap();
        let mut ct = BASE64.decode(&envelope.ct).unwrap();
        ct[0] ^= 1;
        envelope.ct = BASE64.encode(ct);
        let tampered = serde_json::to_string(&envelope).unwrap();
        assert!(matches!(
            ring.open(&tampered, &at),
            Err(SecretError::Undecryptable { .. })
        ));
        assert!(matches!(
            ring.open("{\"authToken\":\"x\"}", &at),
            Err(SecretError::Malformed { .. })
        ));
    }

    #[test]
    fn keys_parse_from_base64_or_hex_and_name_their_source() {
        let key = SecretKey::generate();
        let again = SecretKey::parse(&key.to_base64(), "LEADLINE_SECRET_KEY").unwrap();
        assert_eq!(again.id(), key.id());
        let hex_text = hex::encode(key.bytes);
        assert_eq!(SecretKey::parse(&hex_text, "x").unwrap().id(), key.id());
        for bad in ["", "short", "c2hvcnQ=", &"zz".repeat(32)] {
            let error = SecretKey::parse(bad, "LEADLINE_SECRET_KEY").unwrap_err();
            let text = error.to_string();
            assert!(text.contains("LEADLINE_SECRET_KEY"), "{text}");
            assert!(text.contains("openssl rand -base64 32"), "{text}");
        }
        assert_eq!(format!("{key:?}"), format!("SecretKey({})", key.id()));
    }

    #[test]
    fn the_key_id_is_derived_from_the_key() {
        // SHA-256("leadline key id" || 32 zero bytes), first 8 hex characters.
        let mut digest = Sha256::new();
        digest.update(b"leadline key id");
        digest.update([0u8; 32]);
        let expected = &hex::encode(digest.finalize())[..8];
        assert_eq!(SecretKey::from_bytes([0; 32]).id(), expected);
    }
}
