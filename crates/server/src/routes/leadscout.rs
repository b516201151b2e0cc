//! The Bridge seed endpoint `POST /bridge/api/v1/workspaces/{workspaceId}/leadscout/outbound`:
//! open an AI-controlled conversation with a known contact and queue the opening
//! template. Everything is checked before anything is written: the contact exists
//! (404), the channel exists (404) and carries the given messageProviderType (422), the
//! template exists, is APPROVED and gets exactly its number of parameters (422), and a
//! pre-assigned user belongs to the workspace (422). One active conversation per
//! contact and channel: a second call is a 409, or with `forceSend` reuses the active
//! conversation, sends nothing new and answers `alreadyInitiated: true`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use leadline_core::channel::MessageProviderType;
use leadline_core::contact::LanguageCode;
use leadline_core::conversation::Controller;
use leadline_core::message::MessageType;
use leadline_core::template::TemplateStatus;
use leadline_core::user::UserRef;
use leadline_core::validation::text;
use leadline_core::{
    ChannelId, ContactId, E164, Email, FieldError, FieldErrors, UserId, WorkspaceId,
};
use leadline_store::contacts::ContactRecord;
use leadline_store::conversations::{Conversation, NewOutbound, OpeningWritten};
use leadline_store::messages::MessageTemplate;
use leadline_store::templates::Template;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;
use crate::numbers::SenderRequest;
use crate::routes::contacts::ContactResponse;
use crate::routes::conversations::ConversationResponse;
use crate::state::AppState;
use crate::usecases::outbound::{NewConversation, WhenActive, open_outbound_conversation};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(leadscout_outbound))
}

/// At most this many follow-up messages (Bridge's own limit).
const MAX_ADDITIONAL_MESSAGES: usize = 5;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeadscoutOutboundRequest {
    contact: OutboundContact,
    template: OutboundTemplate,
    #[serde(default)]
    handoff_override: Option<HandoffOverride>,
    /// Reuse an active conversation instead of answering 409.
    #[serde(default)]
    force_send: bool,
    /// Free text for the agent.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<4000>)]
    agent_context: Option<String>,
    /// Up to 5 messages the agent sends only after the lead replies.
    #[serde(default)]
    #[schema(schema_with = additional_messages_schema)]
    additional_messages: Vec<String>,
    #[serde(default)]
    consent: Option<Consent>,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<200>)]
    campaign_id: Option<String>,
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text::<200>)]
    brand_id: Option<String>,
}

fn additional_messages_schema() -> utoipa::openapi::schema::Array {
    leadline_core::schema::texts(
        MAX_ADDITIONAL_MESSAGES,
        crate::routes::conversations::MAX_TEXT,
    )
}

fn contact_identifier_types() -> utoipa::openapi::schema::Object {
    leadline_core::schema::one_of(&["ID", "CELLPHONE", "EMAIL"])
}

fn user_identifier_types() -> utoipa::openapi::schema::Object {
    leadline_core::schema::one_of(&["ID", "EMAIL"])
}

fn ordered_params_schema() -> utoipa::openapi::schema::Array {
    leadline_core::schema::strings(None, 1024)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboundContact {
    /// A contact id (a UUID) for `ID`, an E.164 number for `CELLPHONE`, an email
    /// address for `EMAIL` (422 when it is not).
    identifier: String,
    /// ID, CELLPHONE or EMAIL.
    #[schema(schema_with = contact_identifier_types)]
    identifier_type: String,
    /// SMS, WHATSAPP or VOICE: what the channel carries (422 otherwise).
    #[schema(value_type = MessageProviderType)]
    message_provider_type: String,
    /// A channel of the workspace (404 otherwise).
    #[schema(schema_with = leadline_core::schema::uuid)]
    provider_channel_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboundTemplate {
    /// An APPROVED template of the workspace (422 otherwise).
    #[schema(schema_with = leadline_core::schema::text::<200>)]
    name: String,
    /// Exactly as many as the template has placeholders (422 otherwise), each at most
    /// 1024 characters.
    #[serde(default)]
    #[schema(schema_with = ordered_params_schema)]
    ordered_params: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HandoffOverride {
    #[serde(default)]
    pre_assigned_user: Option<PreAssignedUser>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreAssignedUser {
    /// A user id (a UUID) for `ID`, an email address for `EMAIL`; a user of the
    /// workspace (422 otherwise).
    identifier: String,
    /// ID or EMAIL.
    #[schema(schema_with = user_identifier_types)]
    identifier_type: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Consent {
    /// When the lead consented (RFC 3339).
    #[schema(schema_with = leadline_core::schema::optional_date_time)]
    captured_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateSent {
    name: String,
    /// The queued message, `null` when nothing new was sent (`alreadyInitiated`).
    message_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeadscoutOutboundResponse {
    conversation: ConversationResponse,
    contact: ContactResponse,
    template_sent: TemplateSent,
    already_initiated: bool,
}

/// How the contact is named in the request.
enum ContactKey {
    Id(ContactId),
    Cellphone(E164),
    Email(Email),
}

/// The request after the checks that need no database.
struct Checked {
    contact: ContactKey,
    carries: MessageProviderType,
    channel_id: ChannelId,
    template_name: String,
    params: Vec<String>,
    user: Option<UserRef>,
    agent_context: Option<String>,
    additional_messages: Vec<String>,
    consent_captured_at: Option<DateTime<Utc>>,
    campaign_id: Option<String>,
}

fn check(body: LeadscoutOutboundRequest) -> Result<Checked, FieldErrors> {
    let mut errors = FieldErrors::new();
    let identifier = body.contact.identifier.trim();
    let contact = match body.contact.identifier_type.as_str() {
        "ID" => identifier.parse().map(ContactKey::Id).map_err(|_| {
            FieldError::new(
                "contact.identifier",
                "identifierType ID needs a contact id (a UUID)",
            )
        }),
        "CELLPHONE" => {
            E164::parse_field("contact.identifier", identifier).map(ContactKey::Cellphone)
        }
        "EMAIL" => Email::parse_field("contact.identifier", identifier).map(ContactKey::Email),
        _ => Err(FieldError::new(
            "contact.identifierType",
            "must be ID, CELLPHONE or EMAIL",
        )),
    };
    let contact = errors.check(contact);
    let carries = MessageProviderType::parse(&body.contact.message_provider_type);
    if carries.is_none() {
        errors.push(
            "contact.messageProviderType",
            format!("must be {}", MessageProviderType::expected()),
        );
    }
    let channel_id = body.contact.provider_channel_id.parse().ok();
    if channel_id.is_none() {
        errors.push("contact.providerChannelId", "must be a channel id (a UUID)");
    }
    let template_name = errors.check(text("template.name", &body.template.name, 200));
    for (n, param) in body.template.ordered_params.iter().enumerate() {
        if param.chars().count() > 1024 {
            errors.push(
                format!("template.orderedParams[{n}]"),
                "must be at most 1024 characters",
            );
        }
    }
    let user = body
        .handoff_override
        .and_then(|handoff| handoff.pre_assigned_user)
        .and_then(|user| {
            let field = "handoffOverride.preAssignedUser.identifier";
            let reference = match user.identifier_type.as_str() {
                "ID" => user.identifier.parse().map(UserRef::Id).map_err(|_| {
                    FieldError::new(field, "identifierType ID needs a user id (a UUID)")
                }),
                "EMAIL" => Email::parse_field(field, &user.identifier).map(UserRef::Email),
                _ => Err(FieldError::new(
                    "handoffOverride.preAssignedUser.identifierType",
                    "must be ID or EMAIL",
                )),
            };
            errors.check(reference)
        });
    let agent_context = body
        .agent_context
        .and_then(|context| errors.check(text("agentContext", &context, 4000)));
    if body.additional_messages.len() > MAX_ADDITIONAL_MESSAGES {
        errors.push(
            "additionalMessages",
            format!("at most {MAX_ADDITIONAL_MESSAGES} messages"),
        );
    }
    let additional_messages: Vec<String> = body
        .additional_messages
        .iter()
        .enumerate()
        .filter_map(|(n, message)| {
            errors.check(text(
                &format!("additionalMessages[{n}]"),
                message,
                crate::routes::conversations::MAX_TEXT,
            ))
        })
        .collect();
    let consent_captured_at = body
        .consent
        .and_then(|consent| consent.captured_at)
        .and_then(|raw| match DateTime::parse_from_rfc3339(&raw) {
            Ok(at) => Some(at.with_timezone(&Utc)),
            Err(_) => {
                errors.push(
                    "consent.capturedAt",
                    "must be an RFC 3339 date-time, e.g. 2026-01-31T17:00:00Z",
                );
                None
            }
        });
    let campaign_id = body
        .campaign_id
        .and_then(|campaign| errors.check(text("campaignId", &campaign, 200)));
    if let Some(brand) = &body.brand_id {
        errors.check(text("brandId", brand, 200));
    }
    errors.finish(())?;
    Ok(Checked {
        contact: contact.expect("checked above"),
        carries: carries.expect("checked above"),
        channel_id: channel_id.expect("checked above"),
        template_name: template_name.expect("checked above"),
        params: body.template.ordered_params,
        user,
        agent_context,
        additional_messages,
        consent_captured_at,
        campaign_id,
    })
}

async fn find_contact(
    state: &AppState,
    workspace: WorkspaceId,
    key: &ContactKey,
) -> Result<ContactRecord, ApiError> {
    let not_found = |what: String| ApiError::NotFound {
        detail: format!(
            "no contact {what} in this workspace; create it first with the contacts/partial endpoint"
        ),
        field: Some("contact.identifier".to_owned()),
    };
    match key {
        ContactKey::Id(id) => state
            .store
            .contact(workspace, *id)
            .await?
            .ok_or_else(|| not_found(format!("with id {id}"))),
        ContactKey::Cellphone(cellphone) => state
            .store
            .contact_by_cellphone(workspace, cellphone)
            .await?
            .ok_or_else(|| not_found(format!("with cellphone {cellphone}"))),
        ContactKey::Email(email) => {
            let mut found = state.store.contacts_by_email(workspace, email).await?;
            match found.len() {
                0 => Err(not_found(format!("with email {email}"))),
                1 => Ok(found.remove(0)),
                _ => Err(ApiError::Conflict {
                    detail: format!(
                        "several contacts have the email {email}; name the contact by ID or CELLPHONE"
                    ),
                    field: Some("contact.identifier".to_owned()),
                }),
            }
        }
    }
}

/// The version of the named template to send: the one in the contact's language when
/// there are several.
fn pick_template(mut versions: Vec<Template>, language: Option<LanguageCode>) -> Option<Template> {
    let wanted = language.map(|l| l.as_str().to_ascii_lowercase());
    let position = wanted
        .and_then(|code| {
            versions
                .iter()
                .position(|t| t.language.to_ascii_lowercase().starts_with(&code))
        })
        .unwrap_or(0);
    (!versions.is_empty()).then(|| versions.swap_remove(position))
}

/// Start a LeadScout conversation with a known contact.
#[utoipa::path(post, path = "/bridge/api/v1/workspaces/{workspaceId}/leadscout/outbound", tag = "bridge",
    params(("workspaceId" = String, Path, description = "The workspace of the API key")),
    request_body = LeadscoutOutboundRequest,
    responses((status = 200, body = LeadscoutOutboundResponse), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn leadscout_outbound(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(workspace_in_path): Path<String>,
    ApiJson(body): ApiJson<LeadscoutOutboundRequest>,
) -> ApiResult<(StatusCode, axum::Json<LeadscoutOutboundResponse>)> {
    let workspace = auth.require_workspace(&workspace_in_path)?;
    let force_send = body.force_send;
    let checked = check(body)?;
    let contact = find_contact(&state, workspace, &checked.contact).await?;
    let channel = state
        .store
        .channel(workspace, checked.channel_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no channel '{}' in this workspace", checked.channel_id),
            field: Some("contact.providerChannelId".to_owned()),
        })?;
    if channel.carries != checked.carries {
        return Err(ApiError::field(
            "contact.messageProviderType",
            format!(
                "channel {} carries {}, not {}",
                channel.id, channel.carries, checked.carries
            ),
        ));
    }
    let template = pick_template(
        state
            .store
            .templates_named(workspace, &checked.template_name)
            .await?,
        contact.fields.language_code,
    )
    .ok_or_else(|| {
        ApiError::field(
            "template.name",
            format!(
                "no template named '{}'; create it with POST /api/v1/templates",
                checked.template_name
            ),
        )
    })?;
    if template.status != TemplateStatus::Approved {
        return Err(ApiError::field(
            "template.name",
            format!(
                "template '{}' is {}, and only APPROVED templates can be sent",
                template.name, template.status
            ),
        ));
    }
    if template.channel_type != checked.carries {
        return Err(ApiError::field(
            "template.name",
            format!(
                "template '{}' is for {} channels, not {}",
                template.name, template.channel_type, checked.carries
            ),
        ));
    }
    let rendered = template
        .body
        .render(&checked.params)
        .map_err(|e| ApiError::field("template.orderedParams", e.message))?;
    let assigned_user: Option<UserId> = match &checked.user {
        Some(reference) => Some(
            state
                .store
                .user(workspace, reference)
                .await?
                .ok_or_else(|| {
                    ApiError::field(
                        "handoffOverride.preAssignedUser.identifier",
                        "no such user in this workspace; create it with POST /api/v1/users",
                    )
                })?
                .id,
        ),
        None => contact.fields.owner_id,
    };
    if let Some(opt_out) = state.store.opt_out(contact.id, checked.carries).await? {
        return Err(ApiError::Conflict {
            detail: format!(
                "contact {} opted out of {} on {}; nothing can be sent to it on this channel type until it writes START",
                contact.id,
                checked.carries,
                crate::extract::timestamp(opt_out.opted_out_at)
            ),
            field: Some("contact.identifier".to_owned()),
        });
    }
    let message_type = MessageType::carried_by(checked.carries);
    let active = state
        .store
        .active_conversation(workspace, contact.id, channel.id)
        .await?;
    let refused = |conversation: &Conversation| ApiError::Conflict {
        detail: format!(
            "contact {} already has an active conversation ({}) on this channel; send forceSend: true to reuse it",
            contact.id, conversation.id
        ),
        field: Some("contact.identifier".to_owned()),
    };
    // An active conversation means nothing is sent (409, or reuse with forceSend), so
    // no capacity is reserved for it.
    if let Some(conversation) = active {
        if !force_send {
            return Err(refused(&conversation));
        }
        tracing::info!(conversation = %conversation.id, "LeadScout outbound repeated with forceSend: reusing the active conversation, nothing sent");
        return respond(
            &state,
            workspace,
            contact,
            conversation,
            template.name,
            None,
            true,
        )
        .await;
    }
    let sender = state
        .senders()
        .assign_for_request(&SenderRequest {
            workspace_id: workspace,
            channel: &channel,
            conversation: None,
            contact_id: contact.id,
            recipient: &contact.cellphone,
            campaign_id: checked
                .campaign_id
                .as_deref()
                .and_then(|id| id.parse().ok()),
        })
        .await?;
    let open = NewConversation {
        workspace_id: workspace,
        contact_id: contact.id,
        channel_id: channel.id,
        name: channel.name.clone(),
        controller: Controller::Ai,
        assigned_user_id: assigned_user,
        agent_context: checked.agent_context,
        additional_messages: checked.additional_messages,
        campaign_id: checked.campaign_id,
        consent_captured_at: checked.consent_captured_at,
    };
    let outbound = NewOutbound {
        message_type,
        body: rendered,
        template: Some(MessageTemplate {
            name: template.name.clone(),
            language: template.language.clone(),
            params: checked.params,
        }),
        author_user_id: None,
        sender,
    };
    let now = state.store.clock().now();
    let plan = open_outbound_conversation(open, None, WhenActive::Refuse, outbound, now)
        .expect("no active conversation was found");
    let (conversation, message_id, already_initiated) = match state
        .store
        .write_opening(plan)
        .await?
    {
        OpeningWritten::Opened {
            conversation,
            message,
        } => {
            state.wake_dispatcher();
            tracing::info!(conversation = %conversation.id, contact = %contact.id, channel = %channel.id,
                    template = %template.name, "LeadScout conversation opened; opening template queued");
            (conversation, Some(message.id.to_string()), false)
        }
        // Opened by a concurrent request meanwhile.
        OpeningWritten::AlreadyActive { conversation } if force_send => (conversation, None, true),
        OpeningWritten::AlreadyActive { conversation } => return Err(refused(&conversation)),
        OpeningWritten::Queued { .. } => unreachable!("the plan opens a new conversation"),
    };
    respond(
        &state,
        workspace,
        contact,
        conversation,
        template.name,
        message_id,
        already_initiated,
    )
    .await
}
/// The answer: the conversation, the contact, and the opening sent (if one was).
async fn respond(
    state: &AppState,
    workspace: WorkspaceId,
    contact: ContactRecord,
    conversation: Conversation,
    template_name: String,
    message_id: Option<String>,
    already_initiated: bool,
) -> ApiResult<(StatusCode, axum::Json<LeadscoutOutboundResponse>)> {
    let definitions = state.store.custom_attributes(workspace).await?;
    Ok((
        StatusCode::OK,
        axum::Json(LeadscoutOutboundResponse {
            conversation: (&conversation).into(),
            contact: leadline_store::views::contact_view(&contact, &definitions),
            template_sent: TemplateSent {
                name: template_name,
                message_id,
            },
            already_initiated,
        }),
    ))
}
