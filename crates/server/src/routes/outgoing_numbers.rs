//! Leadping's outgoing-number endpoints: which number a send would go out from, and
//! why, for a new outbound (`/phone-numbers/outgoing/new`) or an existing conversation,
//! a manual override checked before it is used, and a conversation's override set or
//! cleared. They run the same selection the scheduler and the API's sends use, over the
//! same pool; they reserve nothing.

use axum::body::Bytes;
use axum::extract::{Path, State};
use leadline_core::PhoneNumberId;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, parse_json};
use crate::state::AppState;
pub use crate::usecases::outgoing_number::{
    EligibleNumber, OutgoingNumberRequest, OutgoingNumberResponse,
};
use crate::usecases::outgoing_number::{
    check_override, conversation_capability, find_conversation, parse_id, resolve,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(outgoing_for_new))
        .routes(routes!(outgoing_for_conversation))
        .routes(routes!(check_manual_override))
        .routes(routes!(
            set_conversation_override,
            clear_conversation_override
        ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManualOverrideRequest {
    /// A number of the workspace's pool (404 otherwise) with the capability the send
    /// needs (422 otherwise).
    #[schema(schema_with = leadline_core::schema::uuid)]
    from_phone_number_id: String,
    #[serde(default)]
    selection: Option<OutgoingNumberRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConversationOverrideRequest {
    /// A number of the workspace's pool (404 otherwise) with the capability the
    /// conversation's channel needs (422 otherwise); `phoneNumberId` is read as well.
    #[serde(alias = "phoneNumberId")]
    #[schema(schema_with = leadline_core::schema::uuid)]
    from_phone_number_id: String,
}

/// Choose the number for a new outbound message or call.
#[utoipa::path(post, path = "/phone-numbers/outgoing/new", tag = "phone numbers",
    request_body = OutgoingNumberRequest,
    responses((status = 200, body = OutgoingNumberResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn outgoing_for_new(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<OutgoingNumberRequest>,
) -> ApiResult<axum::Json<OutgoingNumberResponse>> {
    let request = resolve(&state.store, &state.numbers, workspace, body, None).await?;
    Ok(axum::Json(request.answer()))
}

/// Choose the number for the next message of an existing conversation.
#[utoipa::path(post, path = "/phone-numbers/outgoing/conversation/{conversationId}", tag = "phone numbers",
    params(("conversationId" = uuid::Uuid, Path, description = "The conversation's id")),
    request_body(content = Option<OutgoingNumberRequest>, description = "Optional (an empty body, not `null`); the conversation fills what is absent"),
    responses((status = 200, body = OutgoingNumberResponse), (status = 404, body = Problem),
              (status = 422, description = "An invalid field, or `conversationId` that is not an id", body = Problem)))]
async fn outgoing_for_conversation(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(conversation_id): Path<String>,
    body: Bytes,
) -> ApiResult<axum::Json<OutgoingNumberResponse>> {
    // No body at all is none; anything else must be a JSON object (400 otherwise).
    let mut body: OutgoingNumberRequest = if body.is_empty() {
        OutgoingNumberRequest::default()
    } else {
        parse_json(&body)?
    };
    // The path names the conversation; a body that names another one is a mistake the
    // client should hear about rather than have ignored.
    if body
        .conversation_id
        .as_deref()
        .is_some_and(|given| given.trim() != conversation_id.trim())
    {
        return Err(ApiError::field(
            "conversationId",
            "names another conversation than the path; leave it out of the body",
        ));
    }
    body.conversation_id = Some(conversation_id);
    let request = resolve(&state.store, &state.numbers, workspace, body, None).await?;
    Ok(axum::Json(request.answer()))
}

/// Check a manually chosen number: the answer shows whether it can send now and why not.
#[utoipa::path(post, path = "/phone-numbers/outgoing/manual-override", tag = "phone numbers",
    request_body = ManualOverrideRequest,
    responses((status = 200, body = OutgoingNumberResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn check_manual_override(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<ManualOverrideRequest>,
) -> ApiResult<axum::Json<OutgoingNumberResponse>> {
    let number = parse_id::<PhoneNumberId>("fromPhoneNumberId", &body.from_phone_number_id)?;
    let request = resolve(
        &state.store,
        &state.numbers,
        workspace,
        body.selection.unwrap_or_default(),
        Some(number),
    )
    .await?;
    Ok(axum::Json(request.answer()))
}

/// Make every send of a conversation go out from one number until cleared.
#[utoipa::path(post, path = "/phone-numbers/outgoing/conversation/{conversationId}/override", tag = "phone numbers",
    params(("conversationId" = uuid::Uuid, Path, description = "The conversation's id")), request_body = ConversationOverrideRequest,
    responses((status = 200, body = OutgoingNumberResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_conversation_override(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(conversation_id): Path<String>,
    ApiJson(body): ApiJson<ConversationOverrideRequest>,
) -> ApiResult<axum::Json<OutgoingNumberResponse>> {
    let conversation =
        find_conversation(&state.store, workspace, &conversation_id, "conversationId").await?;
    let number = parse_id::<PhoneNumberId>("fromPhoneNumberId", &body.from_phone_number_id)?;
    let capability = conversation_capability(&state.store, &conversation).await?;
    let snapshot = state.numbers.snapshot(workspace).await?;
    check_override(&snapshot, number, capability)?;
    state
        .store
        .set_conversation_override(workspace, conversation.id, Some(number))
        .await?;
    tracing::info!(conversation = %conversation.id, phone_number = %number, "conversation's number overridden by hand");
    let body = OutgoingNumberRequest {
        conversation_id: Some(conversation_id),
        ..OutgoingNumberRequest::default()
    };
    let request = resolve(&state.store, &state.numbers, workspace, body, None).await?;
    Ok(axum::Json(request.answer()))
}

/// Clear a conversation's override: selection picks its number again.
#[utoipa::path(delete, path = "/phone-numbers/outgoing/conversation/{conversationId}/override", tag = "phone numbers",
    params(("conversationId" = uuid::Uuid, Path, description = "The conversation's id")),
    responses((status = 200, body = OutgoingNumberResponse), (status = 404, body = Problem),
              (status = 422, description = "`conversationId` is not an id", body = Problem)))]
async fn clear_conversation_override(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(conversation_id): Path<String>,
) -> ApiResult<axum::Json<OutgoingNumberResponse>> {
    let conversation =
        find_conversation(&state.store, workspace, &conversation_id, "conversationId").await?;
    state
        .store
        .set_conversation_override(workspace, conversation.id, None)
        .await?;
    let body = OutgoingNumberRequest {
        conversation_id: Some(conversation_id),
        ..OutgoingNumberRequest::default()
    };
    let request = resolve(&state.store, &state.numbers, workspace, body, None).await?;
    Ok(axum::Json(request.answer()))
}
