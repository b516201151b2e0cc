//! The HTTP error of `/api/v1`, Bridge and Leadping paths: RFC 9457 problem details
//! (`application/problem+json`). Validation failures list every bad field in `errors`.
//! Internal errors are logged with their cause and answered with a bare 500 that shows
//! nothing of the internals. A database that cannot be reached is a 503 with
//! `Retry-After`, never a 500: the request was fine and may simply be sent again.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leadline_core::{FieldError, FieldErrors};
use leadline_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

pub mod leadconnector;
mod settings;
mod usecases;

#[derive(Debug)]
pub enum ApiError {
    /// 400: the body is not JSON, or a required header is missing.
    BadRequest(String),
    /// 401: no key, or a key that matches nothing.
    Unauthorized,
    /// 403: the path names a workspace the key does not belong to.
    Forbidden(String),
    /// 404: a route or a referenced resource does not exist.
    NotFound {
        detail: String,
        field: Option<String>,
    },
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 409: a unique key is already taken.
    Conflict {
        detail: String,
        field: Option<String>,
    },
    /// 413: the body is over the limit.
    PayloadTooLarge(usize),
    /// 422: fields with invalid values.
    Validation(Vec<FieldError>),
    /// 503: shutting down, or a dependency other than the database is not ready.
    Unavailable(String),
    /// 503: the database cannot be reached. The body says only that: no URL, host or
    /// driver message.
    DatabaseUnreachable,
    /// 500: a bug or a failure of the database; the cause is logged, not shown.
    Internal(String),
}

/// A problem document (RFC 9457), served as `application/problem+json`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProblemDetails)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The invalid fields, for 400 and 422 answers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// JSON path of the field, e.g. `customAttributes.openAttributes[0].customAttributeId`.
    pub field: String,
    pub message: String,
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::NotFound {
            detail: what.into(),
            field: None,
        }
    }

    /// The status and what went wrong, one line per invalid field, for endpoints that
    /// answer in a vendor's own error shape instead of problem details.
    pub fn status_and_messages(self) -> (StatusCode, String, Vec<String>) {
        let (status, _, detail, errors) = self.parts();
        let lines = errors
            .into_iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        (status, detail, lines)
    }

    fn parts(self) -> (StatusCode, &'static str, String, Vec<ProblemField>) {
        let fields = |errors: Vec<FieldError>| {
            errors
                .into_iter()
                .map(|e| ProblemField {
                    field: e.field,
                    message: e.message,
                })
                .collect()
        };
        let one = |field: Option<String>, detail: &str| {
            field
                .map(|f| {
                    vec![ProblemField {
                        field: f,
                        message: detail.to_owned(),
                    }]
                })
                .unwrap_or_default()
        };
        match self {
            ApiError::BadRequest(detail) => {
                (StatusCode::BAD_REQUEST, "bad-request", detail, vec![])
            }
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send a valid API key in the x-api-key header or as Authorization: Bearer KEY \
                 (create one with `leadline apikey create --workspace ID`)"
                    .to_owned(),
                vec![],
            ),
            ApiError::Forbidden(detail) => (StatusCode::FORBIDDEN, "forbidden", detail, vec![]),
            ApiError::NotFound { detail, field } => {
                let errors = one(field, &detail);
                (StatusCode::NOT_FOUND, "not-found", detail, errors)
            }
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "this path does not accept this method; see /openapi.json".to_owned(),
                vec![],
            ),
            ApiError::Conflict { detail, field } => {
                let errors = one(field, &detail);
                (StatusCode::CONFLICT, "conflict", detail, errors)
            }
            ApiError::PayloadTooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                format!("the body is larger than {limit} bytes; send less per request"),
                vec![],
            ),
            ApiError::Validation(errors) => {
                let detail = match errors.as_slice() {
                    [one] => format!("{}: {}", one.field, one.message),
                    many => format!("{} fields are invalid", many.len()),
                };
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    detail,
                    fields(errors),
                )
            }
            ApiError::Unavailable(detail) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                detail,
                vec![],
            ),
            ApiError::DatabaseUnreachable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "database-unreachable",
                format!(
                    "the database is unreachable right now; retry in {RETRY_AFTER_SECONDS} seconds"
                ),
                vec![],
            ),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the server failed to handle this request; it has been logged".to_owned(),
                    vec![],
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, detail, errors) = self.parts();
        let problem = Problem {
            kind: format!("https://leadline.dev/problems/{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        with_retry_after(response)
    }
}

/// Seconds a client is asked to wait before retrying a 503: long enough for a pool to
/// reconnect or a database to fail over, short enough not to stall a client for long.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// Adds `Retry-After` to a 503 answer; other answers pass unchanged.
pub fn with_retry_after(mut response: Response) -> Response {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    }
    response
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::Validation(errors.into_vec())
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        ApiError::Validation(vec![error])
    }
}

impl From<crate::numbers::SenderUnavailable> for ApiError {
    fn from(error: crate::numbers::SenderUnavailable) -> Self {
        use crate::numbers::SenderUnavailable;
        match error {
            SenderUnavailable::NoNumberCanSend { retry_at, reason } => ApiError::Conflict {
                detail: format!(
                    "no phone number can send this now ({reason}); one can from {}",
                    crate::extract::timestamp(retry_at)
                ),
                field: None,
            },
            SenderUnavailable::Store(error) => error.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::ShuttingDown => ApiError::Unavailable(
                "the server is shutting down; retry on another node".to_owned(),
            ),
            unreachable if unreachable.is_unavailable() => {
                // Logged at debug: during an outage every request fails alike, and the
                // workers and /readyz already report the outage once.
                tracing::debug!(error = %unreachable, "database unreachable; answering 503");
                ApiError::DatabaseUnreachable
            }
            StoreError::Secret(cause) => {
                // The row and key id are logged for the operator; the client learns
                // only that the server lacks what it needs, which it cannot fix.
                tracing::error!(%cause, "a stored secret cannot be opened");
                ApiError::Unavailable(
                    "a stored secret of this resource cannot be decrypted with this server's secret keys; \
                     an operator must give the server the right key (see its logs)"
                        .to_owned(),
                )
            }
            StoreError::Duplicate { constraint } => ApiError::Conflict {
                detail: format!("already exists ({constraint})"),
                field: None,
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
