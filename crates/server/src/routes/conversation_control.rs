//! Who speaks in a conversation: `POST /api/v1/conversations/{id}/handoff` lets an
//! advisor take it over from the agent, `…/release` gives it back, and
//! `GET …/decisions` lists every decision the agent (and the opt-out handling) made in
//! it, with its reason.

use axum::body::Bytes;
use axum::extract::{Path, State};
use leadline_core::DecisionId;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiQuery, parse_json};
use crate::pagination::{Page, PageParams};
use crate::routes::conversations::{ConversationResponse, load_conversation};
use crate::state::AppState;
use crate::usecases::hand_off::{self, HandOffError, ReleaseError};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(hand_off))
        .routes(routes!(release))
        .routes(routes!(list_decisions))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HandoffRequest {
    /// The advisor taking over (a user id or email of a user of the workspace, 422
    /// otherwise); absent keeps the assigned user.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_user_reference)]
    user_id: Option<String>,
    /// Why, for the decision log.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text_up_to::<500>)]
    reason: Option<String>,
}

/// Take a conversation over from the agent: it becomes HANDED_OFF and HUMAN-controlled,
/// and the agent never answers in it again unless it is released.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/handoff", tag = "conversations",
    params(("id" = String, Path, description = "The conversation's id")),
    request_body(content = Option<HandoffRequest>, description = "Optional (an empty body, not `null`)"),
    responses((status = 200, body = ConversationResponse), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn hand_off(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<axum::Json<ConversationResponse>> {
    let conversation = load_conversation(&state, workspace, &id).await?;
    // The body is optional: none keeps the assigned user; anything else must be a JSON
    // object (400 otherwise).
    let body: HandoffRequest = if body.is_empty() {
        HandoffRequest::default()
    } else {
        parse_json(&body)?
    };
    let reason = match body.reason.as_deref().map(str::trim) {
        Some(reason) if reason.chars().count() > 500 => {
            return Err(ApiError::field("reason", "must be at most 500 characters"));
        }
        Some(reason) if !reason.is_empty() => reason.to_owned(),
        _ => "an advisor took the conversation over".to_owned(),
    };
    hand_off::by_person(
        &state.store,
        &conversation,
        body.user_id.as_deref(),
        &reason,
    )
    .await
    .map_err(|error| match error {
        HandOffError::NotOpen(_) => ApiError::Conflict {
            detail: error.to_string(),
            field: None,
        },
        HandOffError::InvalidAdvisor | HandOffError::UnknownAdvisor(_) => {
            ApiError::field("userId", error.to_string())
        }
        HandOffError::Store(error) => error.into(),
    })?;
    reload(&state, &conversation).await
}

/// Give a conversation back to the agent: ACTIVE and AI-controlled again. The agent
/// answers from the lead's next message on; what came before was the advisor's.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/release", tag = "conversations",
    params(("id" = String, Path, description = "The conversation's id")),
    responses((status = 200, body = ConversationResponse), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn release(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ConversationResponse>> {
    let conversation = load_conversation(&state, workspace, &id).await?;
    hand_off::release(&state.store, &conversation)
        .await
        .map_err(|error| match error {
            ReleaseError::NotOpen(_) | ReleaseError::AnotherActive => ApiError::Conflict {
                detail: error.to_string(),
                field: None,
            },
            ReleaseError::Store(error) => error.into(),
        })?;
    reload(&state, &conversation).await
}

async fn reload(
    state: &AppState,
    conversation: &leadline_store::conversations::Conversation,
) -> ApiResult<axum::Json<ConversationResponse>> {
    let fresh = state
        .store
        .conversation(conversation.workspace_id, conversation.id)
        .await?
        .ok_or_else(|| ApiError::not_found("the conversation was deleted"))?;
    Ok(axum::Json((&fresh).into()))
}

pub use leadline_core::views::DecisionView as DecisionResponse;

/// List the agent's decisions in a conversation, oldest first.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/decisions", tag = "conversations",
    params(("id" = String, Path, description = "The conversation's id"), PageParams),
    responses((status = 200, body = Page<DecisionResponse>), (status = 404, body = Problem)))]
async fn list_decisions(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<DecisionResponse>>> {
    let conversation = load_conversation(&state, workspace, &id).await?;
    let limit = page.limit()?;
    let after: Option<DecisionId> = page.cursor()?;
    let decisions = state
        .store
        .agent_decisions(workspace, conversation.id, after, limit)
        .await?;
    Ok(axum::Json(Page::new(
        decisions.into_iter().map(DecisionResponse::from).collect(),
        limit,
        |d| d.id.clone(),
    )))
}
