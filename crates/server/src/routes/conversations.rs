//! `/api/v1/conversations`: conversations with their messages and calls, and the
//! human advisor's reply. An advisor's message takes the conversation over from the
//! agent (controller HUMAN) and goes out through the outbox like any other send
//! ([`crate::usecases::reply`]).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::conversation::ConversationStatus;
use leadline_core::user::UserRef;
use leadline_core::validation::text;
use leadline_core::{ConversationId, FieldErrors, MessageId, UserId, WorkspaceId};
use leadline_store::conversations::{Conversation, ConversationFilter};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, path_id};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::usecases::reply::{self, ReplyContent, ReplyError};

/// The longest text message accepted (ten concatenated SMS parts).
pub const MAX_TEXT: usize = 1600;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conversations))
        .routes(routes!(get_conversation))
        .routes(routes!(list_messages, post_message))
}

pub use leadline_core::views::{
    ConversationView as ConversationResponse, MessageView as MessageResponse,
};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ConversationQuery {
    /// Only this contact's conversations.
    #[param(value_type = Option<uuid::Uuid>)]
    contact_id: Option<String>,
    /// Only conversations on this channel.
    #[param(value_type = Option<uuid::Uuid>)]
    channel_id: Option<String>,
    /// Only conversations in this status.
    #[param(value_type = Option<ConversationStatus>)]
    status: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// `nextCursor` of the previous page.
    #[param(
        pattern = r"^(?:|[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}|urn:uuid:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"
    )]
    cursor: Option<String>,
}

/// List conversations, oldest first, filtered by contact, channel and status.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", params(ConversationQuery),
    responses((status = 200, body = Page<ConversationResponse>), (status = 422, body = Problem)))]
async fn list_conversations(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiQuery(query): ApiQuery<ConversationQuery>,
) -> ApiResult<axum::Json<Page<ConversationResponse>>> {
    let mut errors = FieldErrors::new();
    let contact_id = id_filter(&mut errors, "contactId", query.contact_id);
    let channel_id = id_filter(&mut errors, "channelId", query.channel_id);
    let status = query.status.and_then(|raw| {
        ConversationStatus::parse(&raw).or_else(|| {
            errors.push(
                "status",
                format!("must be {}", ConversationStatus::expected()),
            );
            None
        })
    });
    errors.finish(())?;
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    };
    let limit = page.limit()?;
    let after: Option<ConversationId> = page.cursor()?;
    let filter = ConversationFilter {
        contact_id,
        channel_id,
        status,
    };
    let conversations = state
        .store
        .list_conversations(workspace, &filter, after, limit)
        .await?;
    Ok(axum::Json(Page::new(
        conversations
            .iter()
            .map(ConversationResponse::from)
            .collect(),
        limit,
        |c| c.id.clone(),
    )))
}

/// An optional id in a query string; a value that is not a UUID is named in `errors`.
fn id_filter<T: std::str::FromStr>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<String>,
) -> Option<T> {
    value.and_then(|raw| match raw.parse() {
        Ok(id) => Some(id),
        Err(_) => {
            errors.push(field, "must be an id (a UUID)");
            None
        }
    })
}

/// Loads a conversation of the workspace named in a path, or answers 404.
pub async fn load_conversation(
    state: &AppState,
    workspace: WorkspaceId,
    id: &str,
) -> Result<Conversation, ApiError> {
    let conversation_id: ConversationId = path_id("id", id, "conversation")?;
    state
        .store
        .conversation(workspace, conversation_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no conversation '{id}' in this workspace"),
            field: Some("id".to_owned()),
        })
}

/// Fetch a conversation.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "The conversation's id")),
    responses((status = 200, body = ConversationResponse), (status = 404, body = Problem)))]
async fn get_conversation(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ConversationResponse>> {
    let conversation = load_conversation(&state, workspace, &id).await?;
    Ok(axum::Json((&conversation).into()))
}

/// List a conversation's messages and calls, oldest first.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "conversations",
    params(("id" = String, Path, description = "The conversation's id"), PageParams),
    responses((status = 200, body = Page<MessageResponse>), (status = 404, body = Problem)))]
async fn list_messages(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<MessageResponse>>> {
    let conversation = load_conversation(&state, workspace, &id).await?;
    let limit = page.limit()?;
    let after: Option<MessageId> = page.cursor()?;
    let messages = state
        .store
        .list_messages(workspace, conversation.id, after, limit)
        .await?;
    Ok(axum::Json(Page::new(
        messages.into_iter().map(MessageResponse::from).collect(),
        limit,
        |m| m.id.clone(),
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostMessageRequest {
    /// The advisor writing: the id or the email of a user of the workspace (422
    /// otherwise).
    #[schema(schema_with = leadline_core::schema::user_reference)]
    user_id: String,
    #[schema(schema_with = leadline_core::schema::text::<1600>)]
    text: String,
}

/// Send a human advisor's message in a conversation. The advisor takes the
/// conversation over from the agent.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "conversations",
    params(("id" = String, Path, description = "The conversation's id")),
    request_body = PostMessageRequest,
    responses((status = 202, body = MessageResponse), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn post_message(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostMessageRequest>,
) -> ApiResult<(StatusCode, axum::Json<MessageResponse>)> {
    let conversation = load_conversation(&state, workspace, &id).await?;
    let mut errors = FieldErrors::new();
    let text = errors.check(text("text", &body.text, MAX_TEXT));
    let author = UserRef::from_id_or_email(&body.user_id);
    if author.is_none() {
        errors.push("userId", "must be a user id or email");
    }
    errors.finish(())?;
    let author: UserId = state
        .store
        .user(workspace, &author.expect("checked above"))
        .await?
        .ok_or_else(|| {
            ApiError::field(
                "userId",
                format!("no user '{}' in this workspace", body.user_id),
            )
        })?
        .id;
    let text = ReplyContent::Text(text.expect("checked above"));
    let message = reply::advisor_reply(&state.store, &state.senders(), &conversation, author, text)
        .await
        .map_err(|error| match error {
            ReplyError::Store(error) => error.into(),
            ReplyError::NoSender(error) => error.into(),
            ReplyError::Gone(_) => ApiError::not_found(error.to_string()),
            ReplyError::Template(field) => ApiError::Validation(vec![field]),
            ReplyError::NotOpen(_)
            | ReplyError::VoiceChannel
            | ReplyError::OptedOut { .. }
            | ReplyError::WindowClosed => ApiError::Conflict {
                detail: error.to_string(),
                field: None,
            },
        })?;
    state.wake_dispatcher();
    Ok((StatusCode::ACCEPTED, axum::Json(message.into())))
}
