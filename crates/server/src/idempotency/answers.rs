//! The answers the `Idempotency-Key` layer gives without running the handler: a stored
//! answer replayed, or a refusal (invalid key, body too large, key in use or reused, the
//! request stopped at its timeout), as problem details or, on the LeadConnector path, in
//! that API's own error shape.

use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use leadline_store::StoreError;
use leadline_store::idempotency::StoredAnswer;

use super::{
    HEADER_NAME, IDEMPOTENT_REPLAYED, IdempotencyOptions, LEAD_CONNECTOR_PREFIX, TAKEOVER_MARGIN,
};
use crate::error::ApiError;
use crate::error::leadconnector::LeadConnectorError;

/// The stored answer, as it was first sent, marked as a replay.
pub(super) fn replay(answer: StoredAnswer) -> Response {
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
pub(super) enum Refusal {
    InvalidKey(&'static str),
    UnreadableBody(String),
    TooLarge(usize),
    InProgress(DateTime<Utc>),
    Mismatch,
    TimedOut(IdempotencyOptions),
    Store(StoreError),
}

impl Refusal {
    /// Problem details, or LeadConnector's own error shape on its path (DESIGN §8).
    pub(super) fn into_response(self, path: &str) -> Response {
        let mut retry_after = None;
        let error = match self {
            Refusal::InvalidKey(why) => {
                ApiError::BadRequest(format!("the {HEADER_NAME} header {why}"))
            }
            Refusal::UnreadableBody(why) => {
                ApiError::BadRequest(format!("could not read the body: {why}"))
            }
            Refusal::TooLarge(limit) => ApiError::PayloadTooLarge(limit),
            Refusal::InProgress(takeover_at) => ApiError::Conflict {
                detail: format!(
                    "a request with this {HEADER_NAME} is still being processed; retry later \
                     (if it stopped without an answer, the key can be used again from {})",
                    takeover_at.to_rfc3339_opts(SecondsFormat::Secs, true)
                ),
                field: Some(HEADER_NAME.to_owned()),
            },
            Refusal::Mismatch => ApiError::field(
                HEADER_NAME,
                "was already used for a different request (method, path or body); send a \
                 new key with a new request",
            ),
            Refusal::TimedOut(options) => {
                retry_after = Some(TAKEOVER_MARGIN.as_secs());
                ApiError::Unavailable(format!(
                    "the request ran longer than {} s and was stopped; part of it may have been \
                     done. Its {HEADER_NAME} can be used again in {} s: a retry with it then \
                     runs the request again",
                    options.request_timeout.as_secs(),
                    TAKEOVER_MARGIN.as_secs()
                ))
            }
            Refusal::Store(error) => ApiError::from(error),
        };
        let mut response = if path.starts_with(LEAD_CONNECTOR_PREFIX) {
            LeadConnectorError::from(error).into_response()
        } else {
            error.into_response()
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
