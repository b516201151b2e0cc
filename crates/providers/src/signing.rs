//! The signature of the generic `http` provider, used both ways: leadline signs what it
//! sends to the endpoint, and the endpoint signs what it sends back to leadline.
//!
//! Header `X-Leadline-Signature: t={unix seconds},v1={hex HMAC-SHA256(secret,
//! "{t}.{body}")}`. The timestamp is inside the MAC, so a captured request cannot be
//! replayed later than [`TOLERANCE_SECONDS`] from the receiver's clock; the `.` keeps
//! `t` and the body apart. Several `v1=` entries may be given (while a secret is being
//! rotated); one matching is enough. Public so the server's tests and a benchmark sink
//! can sign and verify without copying the scheme.

use chrono::{DateTime, Utc};

use crate::signature::{equal, hmac_sha256};

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Leadline-Signature";

/// How far the signed timestamp may be from the receiver's clock, either way.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is not t=<unix seconds>,v1=<hex>")]
    Malformed,
    #[error("the signed timestamp is more than {TOLERANCE_SECONDS} seconds from now")]
    Expired,
    #[error("no v1 signature matches the body")]
    Mismatch,
}

/// The header value for `body` signed at `timestamp` (Unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac(secret, timestamp, body))
    )
}

/// Checks a header value against `body`, with `now` as the receiver's clock.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                )
            }
            Some(("v1", value)) => {
                signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?)
            }
            // Unknown schemes (a future v2) are skipped, as long as a v1 is present.
            Some(_) => {}
            None => return Err(SignatureError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now.timestamp() - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Expired);
    }
    let expected = mac(secret, timestamp, body);
    // Compare against every candidate so the time taken does not say which one matched.
    let matched = signatures
        .iter()
        .fold(false, |matched, given| equal(&expected, given) | matched);
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> [u8; 32] {
    hmac_sha256(secret, &[timestamp.to_string().as_bytes(), b".", body])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0).unwrap()
    }

    #[test]
    fn signs_the_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            sign(b"secret", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }

    #[test]
    fn verifies_within_the_tolerance_only() {
        let header = sign(b"secret", 1_700_000_000, b"body");
        assert_eq!(
            verify(b"secret", &header, b"body", at(1_700_000_300)),
            Ok(())
        );
        assert_eq!(
            verify(b"secret", &header, b"body", at(1_699_999_700)),
            Ok(())
        );
        assert_eq!(
            verify(b"secret", &header, b"body", at(1_700_000_301)),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            verify(b"secret", &header, b"b0dy", at(1_700_000_000)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", &header, b"body", at(1_700_000_000)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn accepts_any_of_several_v1_and_refuses_junk() {
        let good = sign(b"secret", 1_700_000_000, b"body");
        let rotated = format!("{good},v1={}", "00".repeat(32));
        assert_eq!(
            verify(b"secret", &rotated, b"body", at(1_700_000_000)),
            Ok(())
        );
        for junk in [
            "",
            "t=1",
            "v1=00",
            "t=x,v1=00",
            "t=1700000000,v1=zz",
            "nonsense",
        ] {
            assert_eq!(
                verify(b"secret", junk, b"body", at(1_700_000_000)),
                Err(SignatureError::Malformed),
                "{junk:?}"
            );
        }
    }
}
