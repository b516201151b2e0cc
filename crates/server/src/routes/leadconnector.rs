//! The LeadConnector (HighLevel) seed endpoint `POST /conversations/messages/outbound`:
//! log a call made outside leadline into a conversation. Bearer auth, a `Version`
//! header (2021-07-28 or 2021-04-15), `type` must be `Call`. A repeat with the same
//! `altId` in the conversation returns the first record instead of a duplicate.
//! Errors use that API's own shape: `{"statusCode", "message", "error"}`.

use axum::extract::{FromRequestParts, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use bytes_body::RawBody;
use chrono::{DateTime, Utc};
use leadline_core::message::CallStatus;
use leadline_core::{E164, FieldErrors};
use leadline_store::messages::CallDetails;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::error::leadconnector::LeadConnectorError;
pub use crate::error::leadconnector::LeadConnectorErrorBody;
use crate::extract::{parse_json, timestamp};
use crate::routes::conversations::load_conversation;
use crate::state::AppState;
use crate::usecases::call_log::{self, LoggedCall};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(add_outbound_call))
}

/// The API versions this endpoint answers to.
const VERSIONS: [&str; 2] = ["2021-07-28", "2021-04-15"];
const MAX_ATTACHMENTS: usize = 20;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboundCallRequest {
    /// Must be `Call`.
    #[serde(rename = "type")]
    #[schema(schema_with = call_type_schema)]
    message_type: String,
    /// At most 20 `http://` or `https://` URLs.
    #[serde(default)]
    #[schema(schema_with = attachments_schema)]
    attachments: Vec<String>,
    /// A conversation of the workspace (404 otherwise).
    #[schema(schema_with = leadline_core::schema::uuid)]
    conversation_id: String,
    #[schema(schema_with = leadline_core::schema::not_blank)]
    conversation_provider_id: String,
    /// The caller's own id of the call; unique per conversation (at most 200
    /// characters; blank is none).
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text_up_to::<200>)]
    alt_id: Option<String>,
    /// When the call happened (RFC 3339); default now.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_date_time)]
    date: Option<String>,
    #[serde(default)]
    call: Option<CallRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CallRequest {
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_e164)]
    to: Option<String>,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_e164)]
    from: Option<String>,
    /// pending, completed, answered, busy, no-answer, failed, canceled or voicemail.
    #[serde(default)]
    #[schema(value_type = Option<CallStatus>)]
    status: Option<String>,
}

fn call_type_schema() -> utoipa::openapi::schema::Object {
    leadline_core::schema::one_of(&["Call"])
}

fn attachments_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(leadline_core::schema::base_url())
        .max_items(Some(MAX_ATTACHMENTS))
        .build()
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboundCallResponse {
    success: bool,
    conversation_id: String,
    message_id: String,
    message: String,
    contact_id: String,
    date_added: String,
}

/// The `Version` header, required.
fn check_version(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers
        .get("version")
        .map(|v| v.to_str().unwrap_or_default())
    {
        None => Err(ApiError::BadRequest(format!(
            "the Version header is required: send Version: {}",
            VERSIONS[0]
        ))),
        Some(version) if VERSIONS.contains(&version.trim()) => Ok(()),
        Some(version) => Err(ApiError::BadRequest(format!(
            "unsupported Version '{version}': use {} or {}",
            VERSIONS[0], VERSIONS[1]
        ))),
    }
}

struct CheckedCall {
    call: CallDetails,
    date: Option<DateTime<Utc>>,
    attachments: Vec<String>,
    alt_id: Option<String>,
}

fn check(body: &OutboundCallRequest) -> Result<CheckedCall, FieldErrors> {
    let mut errors = FieldErrors::new();
    if body.message_type != "Call" {
        errors.push("type", "must be Call: this endpoint logs outbound calls");
    }
    if body.conversation_provider_id.trim().is_empty() {
        errors.push("conversationProviderId", "must not be empty");
    }
    let number = |errors: &mut FieldErrors, field: &str, value: &Option<String>| {
        value
            .as_deref()
            .and_then(|raw| errors.check(E164::parse_field(field, raw)))
            .map(|n| n.as_str().to_owned())
    };
    let call = body.call.as_ref();
    let to = number(&mut errors, "call.to", &call.and_then(|c| c.to.clone()));
    let from = number(&mut errors, "call.from", &call.and_then(|c| c.from.clone()));
    let status = call.and_then(|c| c.status.as_deref()).and_then(|raw| {
        CallStatus::parse(raw).or_else(|| {
            errors.push("call.status", format!("must be {}", CallStatus::expected()));
            None
        })
    });
    let date = body
        .date
        .as_deref()
        .and_then(|raw| match DateTime::parse_from_rfc3339(raw) {
            Ok(at) => Some(at.with_timezone(&Utc)),
            Err(_) => {
                errors.push(
                    "date",
                    "must be an RFC 3339 date-time, e.g. 2026-01-31T17:00:00Z",
                );
                None
            }
        });
    if body.attachments.len() > MAX_ATTACHMENTS {
        errors.push(
            "attachments",
            format!("at most {MAX_ATTACHMENTS} attachments"),
        );
    }
    for (n, attachment) in body.attachments.iter().enumerate() {
        let valid = reqwest::Url::parse(attachment)
            .map(|url| matches!(url.scheme(), "http" | "https"))
            .unwrap_or(false);
        if !valid {
            errors.push(
                format!("attachments[{n}]"),
                "must be an http:// or https:// URL",
            );
        }
    }
    let alt_id = body
        .alt_id
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    if alt_id.is_some_and(|a| a.len() > 200) {
        errors.push("altId", "must be at most 200 characters");
    }
    errors.finish(CheckedCall {
        call: CallDetails {
            to,
            from,
            status,
            duration_seconds: None,
        },
        date,
        attachments: body.attachments.clone(),
        alt_id: alt_id.map(str::to_owned),
    })
}

/// Record an outbound call made outside leadline.
#[utoipa::path(post, path = "/conversations/messages/outbound", tag = "leadconnector",
    request_body = OutboundCallRequest,
    params(("Version" = String, Header, description = "API version: 2021-07-28 or 2021-04-15",
        pattern = "^(?:2021-07-28|2021-04-15)$")),
    responses((status = 200, body = OutboundCallResponse), (status = 400, body = LeadConnectorErrorBody),
              (status = 401, body = LeadConnectorErrorBody), (status = 404, body = LeadConnectorErrorBody),
              (status = 422, body = LeadConnectorErrorBody)))]
async fn add_outbound_call(
    State(state): State<AppState>,
    RequestParts(mut parts): RequestParts,
    RawBody(body): RawBody,
) -> Result<axum::Json<OutboundCallResponse>, LeadConnectorError> {
    let Authenticated(workspace) = Authenticated::from_request_parts(&mut parts, &state).await?;
    check_version(&parts.headers)?;
    let body: OutboundCallRequest = parse_json(&body)?;
    let checked = check(&body)?;
    let conversation = load_conversation(&state, workspace, &body.conversation_id)
        .await
        .map_err(|_| ApiError::NotFound {
            detail: format!(
                "conversation '{}' not found in this location",
                body.conversation_id
            ),
            field: Some("conversationId".to_owned()),
        })?;
    let logged = LoggedCall {
        call: checked.call,
        note: None,
        alt_id: checked.alt_id,
        date: checked.date,
        attachments: checked.attachments,
    };
    let (message, created) = call_log::log_call(&state.store, &conversation, logged).await?;
    Ok(axum::Json(OutboundCallResponse {
        success: true,
        conversation_id: conversation.id.to_string(),
        message_id: message.id.to_string(),
        message: if created {
            "Call recorded"
        } else {
            "Call already recorded with this altId"
        }
        .to_owned(),
        contact_id: conversation.contact_id.to_string(),
        date_added: timestamp(message.sent_at.unwrap_or(message.created_at)),
    }))
}

/// The request's head, for checks made in this endpoint's own error shape.
struct RequestParts(Parts);

impl<S: Send + Sync> FromRequestParts<S> for RequestParts {
    type Rejection = LeadConnectorError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.clone()))
    }
}

mod bytes_body {
    //! The raw body, with a too-large body answered in the LeadConnector shape.
    use axum::body::Bytes;
    use axum::extract::{FromRequest, Request};
    use axum::http::StatusCode;

    use super::LeadConnectorError;
    use crate::error::ApiError;
    use crate::extract::BODY_LIMIT;

    pub struct RawBody(pub Bytes);

    impl<S: Send + Sync> FromRequest<S> for RawBody {
        type Rejection = LeadConnectorError;

        async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
            Bytes::from_request(request, state)
                .await
                .map(RawBody)
                .map_err(|rejection| {
                    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        ApiError::PayloadTooLarge(BODY_LIMIT).into()
                    } else {
                        ApiError::BadRequest(format!("could not read the body: {rejection}")).into()
                    }
                })
        }
    }
}
