//! `/api/v1/conversations`: conversations with their messages and calls, and the
//! human advisor's reply. An advisor's message takes the conversation over from the
//! agent (controller HUMAN) and goes out through the outbox like any other send.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::channel::MessageProviderType;
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::message::{CallStatus, Direction, MessageStatus, MessageType};
use leadline_core::user::UserRef;
use leadline_core::validation::text;
use leadline_core::{ConversationId, FieldErrors, MessageId, UserId, WorkspaceId};
use leadline_store::conversations::{Conversation, ConversationFilter, NewOutbound, Participant};
use leadline_store::messages::Message;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, path_id, timestamp};
use crate::numbers::SenderRequest;
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::usecases::outbound::send_in;

/// The longest text message accepted (ten concatenated SMS parts).
pub const MAX_TEXT: usize = 1600;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conversations))
        .routes(routes!(get_conversation))
        .routes(routes!(list_messages, post_message))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantResponse {
    identifier: String,
    identifier_type: String,
    role: leadline_core::conversation::ParticipantRole,
    joined_at: String,
    last_seen_at: Option<String>,
}

impl From<&Participant> for ParticipantResponse {
    fn from(participant: &Participant) -> Self {
        Self {
            identifier: participant.identifier.clone(),
            identifier_type: participant.identifier_type.clone(),
            role: participant.role,
            joined_at: timestamp(participant.joined_at),
            last_seen_at: participant.last_seen_at.map(timestamp),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantsResponse {
    externals: Vec<ParticipantResponse>,
    internals: Vec<ParticipantResponse>,
}

/// A conversation in the Bridge shape, with leadline's own fields added.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationResponse {
    id: String,
    workspace_id: String,
    participants: ParticipantsResponse,
    created_at: String,
    updated_at: String,
    name: String,
    status: ConversationStatus,
    contact_id: String,
    channel_id: String,
    controller: Controller,
    assigned_user_id: Option<String>,
    agent_context: Option<String>,
    campaign_id: Option<String>,
    agent: AgentMemoryResponse,
}

/// What the conversation remembers of its agent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentMemoryResponse {
    /// Agent replies so far (the turn limit counts them).
    turns: u32,
    last_reply_at: Option<String>,
    /// When the lead last wrote (WhatsApp's 24-hour window runs from it).
    last_inbound_at: Option<String>,
    /// The LeadScout additional messages went out.
    additional_messages_sent: bool,
}

impl From<&Conversation> for ConversationResponse {
    fn from(conversation: &Conversation) -> Self {
        Self {
            id: conversation.id.to_string(),
            workspace_id: conversation.workspace_id.to_string(),
            participants: ParticipantsResponse {
                externals: conversation
                    .participants
                    .externals
                    .iter()
                    .map(Into::into)
                    .collect(),
                internals: conversation
                    .participants
                    .internals
                    .iter()
                    .map(Into::into)
                    .collect(),
            },
            created_at: timestamp(conversation.created_at),
            updated_at: timestamp(conversation.updated_at),
            name: conversation.name.clone(),
            status: conversation.status,
            contact_id: conversation.contact_id.to_string(),
            channel_id: conversation.channel_id.to_string(),
            controller: conversation.controller,
            assigned_user_id: conversation.assigned_user_id.map(|u| u.to_string()),
            agent_context: conversation.agent_context.clone(),
            campaign_id: conversation.campaign_id.clone(),
            agent: AgentMemoryResponse {
                turns: conversation.agent.turns,
                last_reply_at: conversation.agent.replied_at.map(timestamp),
                last_inbound_at: conversation.agent.last_inbound_at.map(timestamp),
                additional_messages_sent: conversation.agent.additional_sent,
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageTemplateResponse {
    name: String,
    language: String,
    params: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallResponse {
    to: Option<String>,
    from: Option<String>,
    status: Option<CallStatus>,
    duration_seconds: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageResponse {
    id: String,
    conversation_id: String,
    contact_id: String,
    channel_id: String,
    direction: Direction,
    #[serde(rename = "type")]
    message_type: MessageType,
    status: MessageStatus,
    body: Option<String>,
    template: Option<MessageTemplateResponse>,
    author_user_id: Option<String>,
    provider_message_id: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    call: Option<CallResponse>,
    attachments: Vec<String>,
    alt_id: Option<String>,
    sent_at: Option<String>,
    delivered_at: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<Message> for MessageResponse {
    fn from(message: Message) -> Self {
        Self {
            id: message.id.to_string(),
            conversation_id: message.conversation_id.to_string(),
            contact_id: message.contact_id.to_string(),
            channel_id: message.channel_id.to_string(),
            direction: message.direction,
            message_type: message.message_type,
            status: message.status,
            body: message.body,
            template: message.template.map(|t| MessageTemplateResponse {
                name: t.name,
                language: t.language,
                params: t.params,
            }),
            author_user_id: message.author_user_id.map(|u| u.to_string()),
            provider_message_id: message.provider_message_id,
            error_code: message.error_code,
            error_message: message.error_message,
            call: message.call.map(|c| CallResponse {
                to: c.to,
                from: c.from,
                status: c.status,
                duration_seconds: c.duration_seconds,
            }),
            attachments: message.attachments,
            alt_id: message.alt_id,
            sent_at: message.sent_at.map(timestamp),
            delivered_at: message.delivered_at.map(timestamp),
            created_at: timestamp(message.created_at),
            updated_at: timestamp(message.updated_at),
        }
    }
}

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
    if matches!(
        conversation.status,
        ConversationStatus::OptedOut | ConversationStatus::Closed
    ) {
        return Err(ApiError::Conflict {
            detail: format!(
                "the conversation is {}; nothing more can be sent in it",
                conversation.status
            ),
            field: None,
        });
    }
    let channel = state
        .store
        .channel(workspace, conversation.channel_id)
        .await?
        .ok_or_else(|| ApiError::not_found("the conversation's channel no longer exists"))?;
    let message_type = match channel.carries {
        MessageProviderType::Sms => MessageType::Sms,
        MessageProviderType::Whatsapp => MessageType::Whatsapp,
        MessageProviderType::Voice => {
            return Err(ApiError::Conflict {
                detail:
                    "this conversation is on a VOICE channel: text messages cannot be sent on it"
                        .into(),
                field: None,
            });
        }
    };
    let contact = state
        .store
        .contact(workspace, conversation.contact_id)
        .await?
        .ok_or_else(|| ApiError::not_found("the conversation's contact no longer exists"))?;
    if let Some(opt_out) = state.store.opt_out(contact.id, channel.carries).await? {
        return Err(ApiError::Conflict {
            detail: format!(
                "the contact opted out of {} on {}; nothing can be sent to it on this channel type",
                channel.carries,
                timestamp(opt_out.opted_out_at)
            ),
            field: None,
        });
    }
    let sender = state
        .senders()
        .assign_for_request(&SenderRequest {
            workspace_id: workspace,
            channel: &channel,
            conversation: Some(&conversation),
            contact_id: contact.id,
            recipient: &contact.cellphone,
            campaign_id: conversation
                .campaign_id
                .as_deref()
                .and_then(|id| id.parse().ok()),
        })
        .await?;
    let outbound = NewOutbound {
        message_type,
        body: text.expect("checked above"),
        template: None,
        author_user_id: Some(author),
        sender,
    };
    let plan = send_in(&conversation, outbound, state.store.clock().now());
    let message = plan.message.clone();
    state.store.write_opening(plan).await?;
    state.wake_dispatcher();
    tracing::info!(conversation = %conversation.id, message_id = %message.id, advisor = %author, "advisor message queued");
    Ok((StatusCode::ACCEPTED, axum::Json(message.into())))
}
