//! Reading a keyed request's body: hashed chunk by chunk as it arrives, kept as the
//! chunks that arrived (no copy into one buffer), refused once it passes the route's
//! limit, and handed to the handler unchanged.

use std::fmt::Write as _;
use std::pin::Pin;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{Method, Uri};
use sha2::{Digest, Sha256};

/// Why a body could not be read.
pub(super) enum BodyRefusal {
    /// Larger than the limit of its route.
    TooLarge,
    /// The connection failed while the body was read.
    Unreadable(String),
}

/// A body read to its end, with the request's fingerprint.
pub(super) struct ReadBody {
    chunks: Vec<Bytes>,
    /// SHA-256 of method, path with query, and body, in hex.
    pub(super) fingerprint: String,
}

impl ReadBody {
    /// The body again, as the handler would have read it from the connection.
    pub(super) fn into_body(self) -> Body {
        match <[Bytes; 1]>::try_from(self.chunks) {
            Ok([one]) => Body::from(one),
            Err(chunks) => Body::from_stream(futures::stream::iter(
                chunks.into_iter().map(Ok::<_, std::convert::Infallible>),
            )),
        }
    }
}

/// Reads `body` to its end, hashing it with the request line as it streams, refusing it
/// once it passes `limit` bytes (at once when its declared length does).
pub(super) async fn read_and_fingerprint(
    method: &Method,
    uri: &Uri,
    mut body: Body,
    limit: usize,
) -> Result<ReadBody, BodyRefusal> {
    if body.size_hint().lower() > limit as u64 {
        return Err(BodyRefusal::TooLarge);
    }
    let mut hasher = request_line_hasher(method, uri);
    let mut chunks = Vec::new();
    let mut length = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|error| BodyRefusal::Unreadable(error.to_string()))?;
        if let Ok(data) = frame.into_data() {
            length += data.len();
            if length > limit {
                return Err(BodyRefusal::TooLarge);
            }
            hasher.update(&data);
            chunks.push(data);
        }
    }
    Ok(ReadBody {
        chunks,
        fingerprint: hex(hasher),
    })
}

/// SHA-256 of method, path with query, and body, in hex: what a request is known by
/// under its key. The NUL separators cannot occur in a method or a path, so no two
/// requests share the hashed bytes.
pub fn fingerprint(method: &Method, uri: &Uri, body: &[u8]) -> String {
    let mut hasher = request_line_hasher(method, uri);
    hasher.update(body);
    hex(hasher)
}

fn request_line_hasher(method: &Method, uri: &Uri) -> Sha256 {
    let target = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(target.as_bytes());
    hasher.update([0]);
    hasher
}

fn hex(hasher: Sha256) -> String {
    hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_covers_method_path_and_body() {
        let uri: Uri = "/api/v1/users".parse().unwrap();
        let base = fingerprint(&Method::POST, &uri, b"{}");
        assert_eq!(base.len(), 64);
        assert_eq!(base, fingerprint(&Method::POST, &uri, b"{}"));
        assert_ne!(base, fingerprint(&Method::PUT, &uri, b"{}"));
        assert_ne!(base, fingerprint(&Method::POST, &uri, b"{ }"));
        let other: Uri = "/api/v1/users?x=1".parse().unwrap();
        assert_ne!(base, fingerprint(&Method::POST, &other, b"{}"));
    }

    #[tokio::test]
    async fn a_streamed_body_hashes_as_a_whole_and_is_passed_on_unchanged() {
        let uri: Uri = "/api/v1/campaigns/c/leads:bulk".parse().unwrap();
        let parts = ["{\"leads\":", "[1,2", ",3]}"];
        let streamed = Body::from_stream(futures::stream::iter(
            parts.map(|part| Ok::<_, std::convert::Infallible>(Bytes::from(part))),
        ));
        let read = read_and_fingerprint(&Method::POST, &uri, streamed, 64)
            .await
            .ok()
            .expect("within the limit");
        let whole = parts.concat();
        assert_eq!(
            read.fingerprint,
            fingerprint(&Method::POST, &uri, whole.as_bytes())
        );
        let passed_on = axum::body::to_bytes(read.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(passed_on, whole.as_bytes());
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused() {
        let uri: Uri = "/x".parse().unwrap();
        let declared = Body::from(vec![b'x'; 65]);
        assert!(matches!(
            read_and_fingerprint(&Method::POST, &uri, declared, 64).await,
            Err(BodyRefusal::TooLarge)
        ));
        let streamed = Body::from_stream(futures::stream::iter(
            [[b'x'; 40], [b'x'; 40]].map(|part| Ok::<_, std::convert::Infallible>(part.to_vec())),
        ));
        assert!(matches!(
            read_and_fingerprint(&Method::POST, &uri, streamed, 64).await,
            Err(BodyRefusal::TooLarge)
        ));
    }
}
