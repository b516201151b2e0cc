//! The `Idempotency-Key` header on POSTs: a client that retries a request after a
//! timeout or a dropped connection gets the first attempt's answer instead of creating
//! the thing twice.
//!
//! The first request with a key (per workspace: the API key's) runs normally and its
//! answer (status, content type, body) is stored. A repeat with the same key and the
//! same request (a SHA-256 of method, path with query, and body bytes) gets that answer
//! byte for byte with `Idempotent-Replayed: true`, and the handler does not run. The
//! same key on a different request is a 422; a repeat while the first is still running
//! is a 409. Answers of 500 and above, and 413s, are not kept: the key is released so
//! the client can retry. Keys are 1 to 255 printable ASCII characters (400 otherwise)
//! and expire after 24 hours ([`leadline_store::idempotency::IDEMPOTENCY_KEY_TTL`]);
//! the [`sweeper`] deletes expired keys.
//!
//! **A request that dies.** A request holding a key runs at most
//! [`IdempotencyOptions::request_timeout`] (60 s by default; `--idempotency-timeout-seconds`):
//! past it the handler is stopped and the client is answered 503. A claim still open
//! [`TAKEOVER_MARGIN`] after that (its node crashed or was killed mid-request, or the
//! request was stopped) is taken over by the next request with the same key and body,
//! which runs it again; the old claim can then store nothing. So a crash blocks a key
//! for about a minute and a half, not a day. The margin covers work a stopped handler
//! handed to other tasks and clock differences between nodes.
//!
//! Requests without the header, other methods, and requests whose API key does not
//! authenticate go straight to the handler (which answers 401 as usual): nothing is
//! stored for them.
//!
//! Limits: the body is read before the handler runs (it must be hashed before the key
//! is claimed), up to its route's limit: [`crate::extract::BULK_BODY_LIMIT`] for
//! `…:bulk` routes, [`crate::extract::BODY_LIMIT`] for the others (413 above, key left free). It is hashed as it streams
//! and kept as the chunks that arrived. Only status, content type and body are
//! replayed, not other headers of the first answer.

mod answers;
mod body;
pub mod sweeper;

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use futures::FutureExt;
use leadline_core::WorkspaceId;
use leadline_store::Store;
use leadline_store::idempotency::{ClaimToken, KeyClaim, StoredAnswer};
use tracing::Instrument;

use self::answers::{Refusal, replay};
pub use self::body::fingerprint;
use self::body::{BodyRefusal, read_and_fingerprint};
use crate::auth::workspace_of_key;
use crate::error::ApiError;
use crate::extract::body_limit_of;
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

/// The longest a request holding a key runs by default: far more than any route needs
/// (a bulk add of 50,000 leads takes seconds), short enough that a key whose request
/// died is usable again soon.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How long after its request's timeout a claim is still respected: room for work a
/// stopped handler handed to other tasks (the contact writer) to commit, for the
/// answer's own write, and for clock differences between nodes.
pub const TAKEOVER_MARGIN: Duration = Duration::from_secs(30);

/// How the layer treats requests that run long.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyOptions {
    /// The longest a request holding a key runs before it is stopped (503).
    pub request_timeout: Duration,
}

impl Default for IdempotencyOptions {
    fn default() -> Self {
        Self {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

impl IdempotencyOptions {
    /// How old a claim still in progress must be before another request takes it over.
    pub fn takeover_after(&self) -> TimeDelta {
        TimeDelta::from_std(self.request_timeout + TAKEOVER_MARGIN).unwrap_or(TimeDelta::MAX)
    }
}

/// The middleware; install with `axum::middleware::from_fn_with_state` through
/// `Router::layer`, so the matched route (and with it the body limit) is known.
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
    let limit = body_limit_of(
        parts
            .extensions
            .get::<MatchedPath>()
            .map_or("", MatchedPath::as_str),
    );
    let body = match read_and_fingerprint(&parts.method, &parts.uri, body, limit).await {
        Ok(body) => body,
        Err(BodyRefusal::TooLarge) => return Refusal::TooLarge(limit).into_response(&path),
        Err(BodyRefusal::Unreadable(why)) => {
            return Refusal::UnreadableBody(why).into_response(&path);
        }
    };
    let options = state.idempotency;
    let claim = match state
        .store
        .claim_idempotency_key(
            workspace_id,
            &key,
            &body.fingerprint,
            options.takeover_after(),
        )
        .await
    {
        Ok(KeyClaim::Claimed { token, took_over }) => {
            if took_over {
                tracing::warn!(
                    workspace = %workspace_id,
                    "took over an Idempotency-Key whose request did not finish in time (stopped, or its node died); running the request again"
                );
            }
            Claim {
                store: state.store.clone(),
                workspace_id,
                key,
                token,
                options,
            }
        }
        Ok(KeyClaim::Replay(answer)) => return replay(answer),
        Ok(KeyClaim::InProgress { takeover_at }) => {
            return Refusal::InProgress(takeover_at).into_response(&path);
        }
        Ok(KeyClaim::Mismatch) => return Refusal::Mismatch.into_response(&path),
        Err(error) => return Refusal::Store(error).into_response(&path),
    };
    // The handler and the recording of its answer run in their own task: if the client
    // hangs up, this future is dropped, yet the work it started is still recorded (or
    // the key released) instead of leaving the key claimed with nothing to replay.
    let request = Request::from_parts(parts, body.into_body());
    let task = tokio::spawn(
        claim
            .run_handler(request, next, path)
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
    token: ClaimToken,
    options: IdempotencyOptions,
}

impl Claim {
    /// Runs the handler within the request timeout and records its answer: kept below
    /// 500 (but for a 413), released otherwise. A panic is handed back (after
    /// releasing) for the caller to resume. A handler stopped at the timeout keeps the
    /// claim, to be taken over later like that of a request whose node died.
    async fn run_handler(
        self,
        request: Request,
        next: Next,
        path: String,
    ) -> Result<Response, Box<dyn Any + Send>> {
        let handled = async {
            let response = AssertUnwindSafe(next.run(request)).catch_unwind().await?;
            let (parts, body) = response.into_parts();
            Ok((parts, axum::body::to_bytes(body, usize::MAX).await))
        };
        let (parts, body) = match tokio::time::timeout(self.options.request_timeout, handled).await
        {
            Ok(Ok(answer)) => answer,
            Ok(Err(panic)) => {
                self.release().await;
                return Err(panic);
            }
            Err(_) => {
                tracing::warn!(
                    workspace = %self.workspace_id,
                    timeout_seconds = self.options.request_timeout.as_secs_f64(),
                    "a request holding an Idempotency-Key ran past its timeout and was stopped"
                );
                return Ok(Refusal::TimedOut(self.options).into_response(&path));
            }
        };
        let body = match body {
            Ok(body) => body,
            Err(error) => {
                self.release().await;
                return Ok(
                    ApiError::Internal(format!("could not buffer the answer: {error}"))
                        .into_response(),
                );
            }
        };
        // A 413 comes from reading the body, before the handler did anything: like a
        // 5xx it is not kept, so the key stays usable with a smaller body.
        if parts.status.as_u16() >= 500 || parts.status == StatusCode::PAYLOAD_TOO_LARGE {
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

    /// Stores the answer. On failure the key stays claimed (409 to repeats until it is
    /// taken over) rather than released: the handler's work is done, and releasing at
    /// once would let a retry do it twice while this answer is still on its way.
    async fn complete(&self, answer: &StoredAnswer) {
        match self
            .store
            .complete_idempotency_key(self.workspace_id, &self.key, &self.token, answer)
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
                "could not store the answer of an Idempotency-Key request; the key stays claimed until it is taken over"
            ),
        }
    }

    async fn release(&self) {
        if let Err(error) = self
            .store
            .release_idempotency_key(self.workspace_id, &self.key, &self.token)
            .await
        {
            tracing::error!(
                workspace = %self.workspace_id,
                %error,
                "could not release an Idempotency-Key; repeats get 409 until it is taken over"
            );
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

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

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
    fn a_claim_is_taken_over_after_the_timeout_and_the_margin() {
        let options = IdempotencyOptions {
            request_timeout: Duration::from_secs(60),
        };
        assert_eq!(options.takeover_after(), TimeDelta::seconds(90));
    }
}
