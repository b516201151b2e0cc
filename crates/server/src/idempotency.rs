//! The `Idempotency-Key` header on POSTs: a client that retries a request after a
//! timeout or a dropped connection gets the first attempt's answer instead of creating
//! the thing twice.
//!
//! The first request with a key (per workspace: the API key's) runs normally and its
//! answer (status, content type, body) is stored. A repeat with the same key and the
//! same request (a SHA-256 of method, path with query, and body bytes) gets that answer
//! byte for byte with `Idempotent-Replayed: true`, and the handler does not run. The
//! same key on a different request is a 422; a repeat while the first is still running
//! is a 409. Answers of 500 and above are not kept: the key is released so the client
//! can retry. Keys are 1 to 255 printable ASCII characters (400 otherwise) and expire
//! after 24 hours ([`leadline_store::idempotency::IDEMPOTENCY_KEY_TTL`]).
//!
//! Requests without the header, other methods, and requests whose API key does not
//! authenticate go straight to the handler (which answers 401 as usual): nothing is
//! stored for them.
//!
//! Limits: request bodies are buffered up to [`BODY_LIMIT`] (413 above), so a route
//! that accepts larger bodies must not rely on this layer for them; only status,
//! content type and body are replayed, not other headers of the first answer.

use std::any::Any;
use std::fmt::Write as _;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leadline_core::WorkspaceId;
use leadline_store::idempotency::{KeyClaim, StoredAnswer};
use leadline_store::{Store, StoreError};
use sha2::{Digest, Sha256};
use tracing::Instrument;

use crate::auth::workspace_of_key;
use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use crate::routes::leadconnector::LeadConnectorError;
use crate::state::AppState;

/// The request header carrying the client's key.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// Set to `true` on an answer that was replayed from the store.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The header as error documents name it.
const HEADER_NAME: &str = "Idempotency-Key";

/// Longest key accepted: room for a UUID or a client's own composite key, while a row
/// stays small.
pub const MAX_KEY_LENGTH: usize = 255;

/// Where the LeadConnector seed endpoint lives; it answers errors in its own JSON.
const LEAD_CONNECTOR_PREFIX: &str = "/conversations/";

/// The middleware; install with `axum::middleware::from_fn_with_state`.
pub async fn honour_idempotency_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST || !request.headers().contains_key(IDEMPOTENCY_KEY) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(workspace_id) = workspace_of_key(&parts, &state).await else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let path = parts.uri.path().to_owned();
    let key = match presented_key(&parts.headers) {
        Ok(key) => key,
        Err(refusal) => return refusal.into_response(&path),
    };
    let body = match buffer_body(body, BODY_LIMIT).await {
        Ok(body) => body,
        Err(refusal) => return refusal.into_response(&path),
    };
    let fingerprint = fingerprint(&parts.method, &parts.uri, &body);
    let claim = match state
        .store
        .claim_idempotency_key(workspace_id, &key, &fingerprint)
        .await
    {
        Ok(KeyClaim::Claimed) => Claim {
            store: state.store.clone(),
            workspace_id,
            key,
            fingerprint,
        },
        Ok(KeyClaim::Replay(answer)) => return replay(answer),
        Ok(KeyClaim::InProgress) => return Refusal::InProgress.into_response(&path),
        Ok(KeyClaim::Mismatch) => return Refusal::Mismatch.into_response(&path),
        Err(error) => return Refusal::Store(error).into_response(&path),
    };
    // The handler and the recording of its answer run in their own task: if the client
    // hangs up, this future is dropped, yet the work it started is still recorded (or
    // the key released) instead of leaving the key claimed with nothing to replay.
    let request = Request::from_parts(parts, Body::from(body));
    let task = tokio::spawn(
        claim
            .run_handler(request, next)
            .instrument(tracing::Span::current()),
    );
    match task.await {
        Ok(Ok(response)) => response,
        // The handler panicked and the key is released; let the panic layer answer.
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(join) => {
            ApiError::Unavailable(format!("the request was cancelled: {join}")).into_response()
        }
    }
}

/// A key this request owns until it completes or releases it.
struct Claim {
    store: Store,
    workspace_id: WorkspaceId,
    key: String,
    fingerprint: String,
}

impl Claim {
    /// Runs the handler and records its answer: kept below 500, released otherwise.
    /// A panic is handed back (after releasing) for the caller to resume.
    async fn run_handler(
        self,
        request: Request,
        next: Next,
    ) -> Result<Response, Box<dyn Any + Send>> {
        let response = match CatchUnwind(Box::pin(next.run(request))).await {
            Ok(response) => response,
            Err(panic) => {
                self.release().await;
                return Err(panic);
            }
        };
        let (parts, body) = response.into_parts();
        let body = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(body) => body,
            Err(error) => {
                self.release().await;
                return Ok(
                    ApiError::Internal(format!("could not buffer the answer: {error}"))
                        .into_response(),
                );
            }
        };
        if parts.status.as_u16() >= 500 {
            self.release().await;
        } else {
            let answer = StoredAnswer {
                status: parts.status.as_u16(),
                content_type: parts
                    .headers
                    .get(CONTENT_TYPE)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned),
                body: body.to_vec(),
            };
            self.complete(&answer).await;
        }
        Ok(Response::from_parts(parts, Body::from(body)))
    }

    /// Stores the answer. On failure the key stays claimed (409 to repeats until it
    /// expires) rather than released: the handler's work is done, and releasing would
    /// let a retry do it twice.
    async fn complete(&self, answer: &StoredAnswer) {
        match self
            .store
            .complete_idempotency_key(self.workspace_id, &self.key, &self.fingerprint, answer)
            .await
        {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                workspace = %self.workspace_id,
                "an Idempotency-Key claim was lost before its answer was stored"
            ),
            Err(error) => tracing::error!(
                workspace = %self.workspace_id,
                %error,
                "could not store the answer of an Idempotency-Key request; the key stays claimed until it expires"
            ),
        }
    }

    async fn release(&self) {
        if let Err(error) = self
            .store
            .release_idempotency_key(self.workspace_id, &self.key, &self.fingerprint)
            .await
        {
            tracing::error!(
                workspace = %self.workspace_id,
                %error,
                "could not release an Idempotency-Key; repeats get 409 until it expires"
            );
        }
    }
}

/// Polls a future, turning a panic into `Err(payload)`: `FutureExt::catch_unwind` of
/// the futures crate, which this crate does not otherwise need.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// The key, if the request sends exactly one that is 1..=255 printable ASCII
/// characters.
fn presented_key(headers: &HeaderMap) -> Result<String, Refusal> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(Refusal::InvalidKey("must be sent once, not repeated"));
    };
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_KEY_LENGTH {
        return Err(Refusal::InvalidKey(
            "must be 1 to 255 characters long (a UUID is a good key)",
        ));
    }
    if !bytes.iter().all(|b| (b' '..=b'~').contains(b)) {
        return Err(Refusal::InvalidKey(
            "may only hold printable ASCII characters",
        ));
    }
    // Printable ASCII is UTF-8.
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// Reads the whole body, refusing it once it passes `limit` bytes.
async fn buffer_body(mut body: Body, limit: usize) -> Result<Bytes, Refusal> {
    if body.size_hint().lower() > limit as u64 {
        return Err(Refusal::TooLarge);
    }
    let mut buffer = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|error| Refusal::UnreadableBody(error.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buffer.len() + data.len() > limit {
                return Err(Refusal::TooLarge);
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buffer))
}

/// SHA-256 of method, path with query, and body, in hex. The NUL separators cannot
/// occur in a method or a path, so no two requests share the hashed bytes.
fn fingerprint(method: &Method, uri: &Uri, body: &[u8]) -> String {
    let target = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(target.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// The stored answer, as it was first sent, marked as a replay.
fn replay(answer: StoredAnswer) -> Response {
    let Ok(status) = StatusCode::from_u16(answer.status) else {
        return ApiError::Internal(format!("stored answer status {}", answer.status))
            .into_response();
    };
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(content_type) = answer
        .content_type
        .and_then(|value| HeaderValue::from_str(&value).ok())
    {
        headers.insert(CONTENT_TYPE, content_type);
    }
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Why the layer answers itself instead of running the handler.
enum Refusal {
    InvalidKey(&'static str),
    UnreadableBody(String),
    TooLarge,
    InProgress,
    Mismatch,
    Store(StoreError),
}

impl Refusal {
    /// Problem details, or LeadConnector's own error shape on its path (DESIGN §8).
    fn into_response(self, path: &str) -> Response {
        let error = match self {
            Refusal::InvalidKey(why) => {
                ApiError::BadRequest(format!("the {HEADER_NAME} header {why}"))
            }
            Refusal::UnreadableBody(why) => {
                ApiError::BadRequest(format!("could not read the body: {why}"))
            }
            Refusal::TooLarge => ApiError::PayloadTooLarge(BODY_LIMIT),
            Refusal::InProgress => ApiError::Conflict {
                detail: format!(
                    "a request with this {HEADER_NAME} is still being processed; retry later"
                ),
                field: Some(HEADER_NAME.to_owned()),
            },
            Refusal::Mismatch => ApiError::field(
                HEADER_NAME,
                "was already used for a different request (method, path or body); send a \
                 new key with a new request",
            ),
            Refusal::Store(error) => ApiError::from(error),
        };
        if path.starts_with(LEAD_CONNECTOR_PREFIX) {
            LeadConnectorError::from(error).into_response()
        } else {
            error.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(value: &str) -> Result<String, ()> {
        let mut headers = HeaderMap::new();
        headers.insert(IDEMPOTENCY_KEY, HeaderValue::from_str(value).unwrap());
        presented_key(&headers).map_err(|_| ())
    }

    #[test]
    fn keys_are_1_to_255_printable_ascii_characters() {
        assert_eq!(key("a"), Ok("a".to_owned()));
        assert_eq!(key("order 42/retry~1"), Ok("order 42/retry~1".to_owned()));
        assert!(key("").is_err());
        assert!(key("tab\there").is_err());
        assert!(key(&"k".repeat(255)).is_ok());
        assert!(key(&"k".repeat(256)).is_err());
        let mut headers = HeaderMap::new();
        headers.append(IDEMPOTENCY_KEY, HeaderValue::from_static("a"));
        headers.append(IDEMPOTENCY_KEY, HeaderValue::from_static("b"));
        assert!(presented_key(&headers).is_err());
    }

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
}
