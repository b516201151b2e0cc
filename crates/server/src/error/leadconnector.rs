//! The LeadConnector API's error shape, `{statusCode, message, error}`: what its
//! endpoint answers on failure, and what the layers in front of it (rate limits,
//! `Idempotency-Key`) answer on its paths. Kept beside [`ApiError`] rather than in the
//! endpoint's route module so that those layers need nothing from `routes`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leadline_core::FieldErrors;
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiError;

/// Where the LeadConnector endpoint lives: errors on paths under it use its shape.
pub const PATH_PREFIX: &str = "/conversations/";

/// `message` of an error: one sentence, or one line per invalid field for 422.
fn error_message_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
    utoipa::openapi::RefOr::T(Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)))
            .build(),
    ))
}

/// The error shape of the LeadConnector API.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeadConnectorErrorBody {
    status_code: u16,
    /// One line per invalid field for 422, else one sentence.
    #[schema(schema_with = error_message_schema)]
    message: serde_json::Value,
    error: String,
}

/// Any failure of this endpoint, answered in the LeadConnector shape.
pub struct LeadConnectorError(ApiError);

impl From<ApiError> for LeadConnectorError {
    fn from(error: ApiError) -> Self {
        Self(error)
    }
}

impl From<FieldErrors> for LeadConnectorError {
    fn from(errors: FieldErrors) -> Self {
        Self(errors.into())
    }
}

impl From<leadline_store::StoreError> for LeadConnectorError {
    fn from(error: leadline_store::StoreError) -> Self {
        Self(error.into())
    }
}

impl IntoResponse for LeadConnectorError {
    fn into_response(self) -> Response {
        let (status, detail, lines) = self.0.status_and_messages();
        let message = if status == StatusCode::UNPROCESSABLE_ENTITY && !lines.is_empty() {
            serde_json::json!(lines)
        } else {
            serde_json::json!(detail)
        };
        let body = LeadConnectorErrorBody {
            status_code: status.as_u16(),
            message,
            error: status.canonical_reason().unwrap_or("Error").to_owned(),
        };
        crate::error::with_retry_after((status, axum::Json(body)).into_response())
    }
}

/// A refusal made before the handler runs (a rate limit), in this endpoint's shape.
pub fn refusal(status: StatusCode, message: String) -> Response {
    let body = LeadConnectorErrorBody {
        status_code: status.as_u16(),
        message: serde_json::json!(message),
        error: status.canonical_reason().unwrap_or("Error").to_owned(),
    };
    (status, axum::Json(body)).into_response()
}
