//! What clients are told about limits, in the fields of
//! draft-ietf-httpapi-ratelimit-headers (revision 10 and later):
//!
//! ```text
//! RateLimit-Policy: "key";q=100;w=1;ll-burst=200
//! RateLimit: "key";r=57
//! ```
//!
//! The policy is named by its [`Scope`]; `q` requests per `w` = 1 second is the bucket's
//! sustained rate, and the vendor parameter `ll-burst` its size (the draft has no
//! parameter of its own for a token bucket's burst). `r` is what is left of the bucket.
//! A refusal adds `t`, the seconds until the bucket admits a request again, which is
//! also `Retry-After`.

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leadline_core::rate_limit::Bucket;

use super::{Admitted, Limited, Scope};
use crate::error::Problem;

pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// The error format of the path a refusal answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// RFC 9457 problem details, as on every path but one.
    Problem,
    /// `{"statusCode", "message", "error"}` on the LeadConnector path.
    LeadConnector,
}

pub(super) fn policy(scope: Scope, bucket: Bucket) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "\"{}\";q={};w=1;ll-burst={}",
        scope.as_str(),
        bucket.per_second,
        bucket.burst
    ))
    .expect("digits and a token make a valid header value")
}

/// Adds the policy and what is left of it to an admitted request's answer.
pub fn add_headers(admitted: &Admitted, headers: &mut HeaderMap) {
    headers.insert(RATELIMIT_POLICY, admitted.policy.clone());
    let remaining = format!("\"{}\";r={}", admitted.scope.as_str(), admitted.remaining);
    headers.insert(
        RATELIMIT,
        HeaderValue::from_str(&remaining).expect("a valid header value"),
    );
}

/// Why a request was refused, in one sentence a person can act on.
fn detail(limited: &Limited) -> String {
    let Bucket { per_second, burst } = limited.bucket;
    let wait = limited.retry_after;
    match limited.scope {
        Scope::Key => format!(
            "this API key is over its workspace's limit of {per_second} requests a second \
             (bursts of {burst}); retry in {wait} s, or raise the limit with \
             PUT /api/v1/settings/rate-limits"
        ),
        Scope::Address => format!(
            "too many requests without a valid API key from this address (at most \
             {per_second} a second, bursts of {burst}); retry in {wait} s with a valid key"
        ),
        Scope::Channel => format!(
            "too many webhook calls for this channel (at most {per_second} a second, bursts \
             of {burst}); retry in {wait} s"
        ),
    }
}

/// The 429 answer of a refused request, with `Retry-After` and the rate-limit fields.
pub fn too_many_requests(limited: &Limited, shape: Shape) -> Response {
    let status = StatusCode::TOO_MANY_REQUESTS;
    let mut response = match shape {
        Shape::Problem => {
            let problem = Problem {
                kind: "https://leadline.dev/problems/rate-limited".to_owned(),
                title: "Too Many Requests".to_owned(),
                status: status.as_u16(),
                detail: detail(limited),
                errors: Vec::new(),
            };
            let mut response = (status, axum::Json(problem)).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            );
            response
        }
        Shape::LeadConnector => crate::error::leadconnector::refusal(status, detail(limited)),
    };
    let headers = response.headers_mut();
    headers.insert(RETRY_AFTER, HeaderValue::from(limited.retry_after));
    headers.insert(RATELIMIT_POLICY, policy(limited.scope, limited.bucket));
    let remaining = format!(
        "\"{}\";r=0;t={}",
        limited.scope.as_str(),
        limited.retry_after
    );
    headers.insert(
        RATELIMIT,
        HeaderValue::from_str(&remaining).expect("a valid header value"),
    );
    response
}

/// A refusal made before the handler runs (403 of a read-only key), in the path's shape.
pub fn refusal(error: crate::error::ApiError, shape: Shape) -> Response {
    match shape {
        Shape::Problem => error.into_response(),
        Shape::LeadConnector => {
            crate::error::leadconnector::LeadConnectorError::from(error).into_response()
        }
    }
}
