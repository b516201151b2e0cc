//! Signing per the Standard Webhooks specification: a secret is `whsec_` + base64 of
//! its bytes; a delivery is signed as `v1,` + base64 of HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}`; several signatures (during a secret
//! rotation) are joined by spaces in one `webhook-signature` header.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Secret;

const PREFIX: &str = "whsec_";
/// Bytes of a new secret (the specification allows 24 to 64).
pub const NEW_SECRET_BYTES: usize = 32;
const MIN_SECRET_BYTES: usize = 24;
const MAX_SECRET_BYTES: usize = 64;

/// An endpoint's signing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

/// Why a text is not a webhook secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretFormatError {
    #[error("a webhook secret starts with whsec_")]
    Prefix,
    #[error("a webhook secret is whsec_ followed by base64")]
    Base64,
    #[error("a webhook secret holds 24 to 64 bytes, this one {0}")]
    Length(usize),
}

impl WebhookSecret {
    /// A new random secret.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; NEW_SECRET_BYTES];
        rand::fill(&mut bytes[..]);
        Self(bytes)
    }

    /// Reads `whsec_…`.
    pub fn parse(text: &str) -> Result<Self, SecretFormatError> {
        let encoded = text.strip_prefix(PREFIX).ok_or(SecretFormatError::Prefix)?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| SecretFormatError::Base64)?;
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            return Err(SecretFormatError::Length(bytes.len()));
        }
        Ok(Self(bytes))
    }

    /// `whsec_…`, as shown to the user once and stored sealed.
    pub fn expose(&self) -> Secret {
        Secret::new(format!("{PREFIX}{}", STANDARD.encode(&self.0)))
    }

    /// The signature of one delivery: `v1,` + base64 HMAC-SHA256.
    pub fn sign(&self, message_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(message_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header: one signature per secret, space separated.
pub fn signature_header(
    secrets: &[&WebhookSecret],
    message_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| secret.sign(message_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signs_as_the_reference_implementation() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_generated_secret_reads_back() {
        let secret = WebhookSecret::generate();
        let text = secret.expose();
        assert!(text.expose().starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(text.expose()).unwrap(), secret);
    }

    #[test]
    fn malformed_secrets_are_refused() {
        assert_eq!(WebhookSecret::parse("abc"), Err(SecretFormatError::Prefix));
        assert_eq!(
            WebhookSecret::parse("whsec_!!"),
            Err(SecretFormatError::Base64)
        );
        assert_eq!(
            WebhookSecret::parse("whsec_AAAA"),
            Err(SecretFormatError::Length(3))
        );
    }

    #[test]
    fn two_secrets_give_two_signatures() {
        let (a, b) = (WebhookSecret::generate(), WebhookSecret::generate());
        let header = signature_header(&[&a, &b], "id", 1, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts, vec![a.sign("id", 1, b"{}"), b.sign("id", 1, b"{}")]);
    }
}
