//! Leadping's outgoing-number endpoints: which number a send would go out from, and
//! why, for a new outbound (`/phone-numbers/outgoing/new`) or an existing conversation,
//! a manual override checked before it is used, and a conversation's override set or
//! cleared. They run the same selection the scheduler and the API's sends use, over the
//! same pool; they reserve nothing.

use axum::body::Bytes;
use axum::extract::{Path, State};
use leadline_core::numbers::{
    Capability, HealthState, PoolNumber, Selection, SelectionReason, SelectionRequest, select,
};
use leadline_core::{
    CampaignId, ContactId, ConversationId, E164, LeadId, PhoneNumberId, SourceId, TeamId,
    WorkspaceId,
};
use leadline_store::conversations::Conversation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, parse_json};
use crate::numbers::PoolSnapshot;
use crate::numbers::assign::{capability_of, resolve_hints};
use crate::state::AppState;

/// Candidates listed in `eligibleNumbers` at most (the selected one is always there).
const LISTED: usize = 25;

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

/// What the number is for; every field is optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutgoingNumberRequest {
    /// Ids name rows of the workspace (404 otherwise).
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    conversation_id: Option<String>,
    /// A contact id, or the id of a campaign lead (which uses its contact's number).
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    lead_id: Option<String>,
    #[schema(schema_with = leadline_core::schema::optional_e164)]
    recipient_phone_number: Option<String>,
    /// `sms` (default) or `call`.
    channel: Option<Capability>,
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    campaign_id: Option<String>,
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    source_id: Option<String>,
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    team_id: Option<String>,
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

/// The chosen number and every listed candidate, best first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutgoingNumberResponse {
    can_send: bool,
    setup_message: Option<String>,
    phone_number_id: Option<String>,
    number: Option<String>,
    display_number: Option<String>,
    health_status: Option<HealthState>,
    health_label: Option<String>,
    health_warning: Option<String>,
    selection_reason: Option<SelectionReason>,
    reason_label: Option<String>,
    was_manually_overridden: bool,
    campaign_id: Option<String>,
    source_id: Option<String>,
    eligible_numbers: Vec<EligibleNumber>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EligibleNumber {
    phone_number_id: String,
    number: String,
    display_number: String,
    health_status: HealthState,
    health_label: String,
    health_warning: Option<String>,
    can_send: bool,
    selection_reason: SelectionReason,
    reason_label: String,
    label: Option<String>,
    campaign_id: Option<String>,
    source_id: Option<String>,
    team_id: Option<String>,
    is_selected: bool,
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
    let request = resolve(&state, workspace, body, None).await?;
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
    let request = resolve(&state, workspace, body, None).await?;
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
        &state,
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
        find_conversation(&state, workspace, &conversation_id, "conversationId").await?;
    let number = parse_id::<PhoneNumberId>("fromPhoneNumberId", &body.from_phone_number_id)?;
    let capability = conversation_capability(&state, &conversation).await?;
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
    let request = resolve(&state, workspace, body, None).await?;
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
        find_conversation(&state, workspace, &conversation_id, "conversationId").await?;
    state
        .store
        .set_conversation_override(workspace, conversation.id, None)
        .await?;
    let body = OutgoingNumberRequest {
        conversation_id: Some(conversation_id),
        ..OutgoingNumberRequest::default()
    };
    let request = resolve(&state, workspace, body, None).await?;
    Ok(axum::Json(request.answer()))
}

/// A request with its ids checked and its hints resolved.
struct Resolved {
    snapshot: std::sync::Arc<PoolSnapshot>,
    selection: SelectionRequest,
}

async fn resolve(
    state: &AppState,
    workspace: WorkspaceId,
    body: OutgoingNumberRequest,
    manual_override: Option<PhoneNumberId>,
) -> ApiResult<Resolved> {
    let store = &state.store;
    let conversation = match &body.conversation_id {
        Some(id) => Some(find_conversation(state, workspace, id, "conversationId").await?),
        None => None,
    };
    let (contact_id, lead_campaign, lead_phone) = match &body.lead_id {
        Some(id) => find_lead(state, workspace, id).await?,
        None => (conversation.as_ref().map(|c| c.contact_id), None, None),
    };
    let recipient = match &body.recipient_phone_number {
        Some(phone) => Some(E164::parse_field("recipientPhoneNumber", phone)?),
        None => match (lead_phone, contact_id) {
            (Some(phone), _) => Some(phone),
            (None, Some(contact)) => store
                .contact(workspace, contact)
                .await?
                .map(|c| c.cellphone),
            (None, None) => None,
        },
    };
    let capability = match (body.channel, &conversation) {
        (Some(channel), _) => channel,
        (None, Some(conversation)) => conversation_capability(state, conversation).await?,
        (None, None) => Capability::Sms,
    };
    let campaign_id = match &body.campaign_id {
        Some(id) => {
            let id = parse_id::<CampaignId>("campaignId", id)?;
            store
                .campaign(workspace, id)
                .await?
                .ok_or_else(|| unknown("campaignId", "campaign"))?;
            Some(id)
        }
        None => lead_campaign.or_else(|| {
            conversation
                .as_ref()
                .and_then(|c| c.campaign_id.as_deref())
                .and_then(|id| id.parse().ok())
        }),
    };
    let source_id = match &body.source_id {
        Some(id) => {
            let id = parse_id::<SourceId>("sourceId", id)?;
            store
                .source(workspace, id)
                .await?
                .ok_or_else(|| unknown("sourceId", "source"))?;
            Some(id)
        }
        None => None,
    };
    let team_id = match &body.team_id {
        Some(id) => {
            let id = parse_id::<TeamId>("teamId", id)?;
            store
                .team(workspace, id)
                .await?
                .ok_or_else(|| unknown("teamId", "team"))?;
            Some(id)
        }
        None => None,
    };
    let snapshot = state.numbers.snapshot(workspace).await?;
    let mut hints = resolve_hints(
        store,
        &snapshot,
        workspace,
        conversation.as_ref(),
        contact_id,
        recipient.as_ref(),
    )
    .await?;
    if let Some(number) = manual_override {
        check_override(&snapshot, number, capability)?;
        hints.manual_override = Some(number);
    }
    let selection = SelectionRequest {
        channel_id: conversation.as_ref().map(|c| c.channel_id),
        recipient,
        campaign_id,
        source_id,
        team_id,
        max_listed: LISTED,
        ..hints.request(capability)
    };
    Ok(Resolved {
        snapshot,
        selection,
    })
}

impl Resolved {
    /// Runs the selection and shapes the answer.
    fn answer(&self) -> OutgoingNumberResponse {
        let selection = select(&self.snapshot.pool, &self.selection);
        response(&self.snapshot, &self.selection, &selection)
    }
}

fn response(
    snapshot: &PoolSnapshot,
    request: &SelectionRequest,
    selection: &Selection,
) -> OutgoingNumberResponse {
    let numbers = snapshot.pool.numbers();
    let selected_index = selection.selected.as_ref().map(|s| s.index);
    let served_campaign = |number: &PoolNumber| {
        request
            .campaign_id
            .filter(|id| number.campaign_ids.contains(id))
            .or_else(|| number.campaign_ids.first().copied())
            .map(|id| id.to_string())
    };
    let served_source = |number: &PoolNumber| {
        request
            .source_id
            .filter(|id| number.source_ids.contains(id))
            .or_else(|| number.source_ids.first().copied())
            .map(|id| id.to_string())
    };
    let eligible_numbers = selection
        .candidates
        .iter()
        .map(|candidate| {
            let number = &numbers[candidate.index];
            EligibleNumber {
                phone_number_id: number.id.to_string(),
                number: number.number.as_str().to_owned(),
                display_number: number.display_number.clone(),
                health_status: number.health.state,
                health_label: number.health.label.clone(),
                health_warning: candidate.warning.clone(),
                can_send: candidate.can_send,
                selection_reason: candidate.reason,
                reason_label: candidate.reason_label.clone(),
                label: number.label.clone(),
                campaign_id: served_campaign(number),
                source_id: served_source(number),
                team_id: number.team_id.map(|id| id.to_string()),
                is_selected: Some(candidate.index) == selected_index,
            }
        })
        .collect();
    let chosen = selection.selected.as_ref().map(|s| (s, &numbers[s.index]));
    OutgoingNumberResponse {
        can_send: selection.can_send(),
        setup_message: selection.setup_message.clone(),
        phone_number_id: chosen.map(|(_, n)| n.id.to_string()),
        number: chosen.map(|(_, n)| n.number.as_str().to_owned()),
        display_number: chosen.map(|(_, n)| n.display_number.clone()),
        health_status: chosen.map(|(_, n)| n.health.state),
        health_label: chosen.map(|(_, n)| n.health.label.clone()),
        health_warning: chosen.and_then(|(s, _)| s.warning.clone()),
        selection_reason: chosen.map(|(s, _)| s.reason),
        reason_label: chosen.map(|(s, _)| s.reason_label.clone()),
        was_manually_overridden: selection.manually_overridden,
        campaign_id: chosen.and_then(|(_, n)| served_campaign(n)),
        source_id: chosen.and_then(|(_, n)| served_source(n)),
        eligible_numbers,
    }
}

/// An override must be a number of the pool that can do what the send needs.
fn check_override(
    snapshot: &PoolSnapshot,
    number: PhoneNumberId,
    capability: Capability,
) -> ApiResult<()> {
    let Some(found) = snapshot.pool.get(number) else {
        return Err(unknown("fromPhoneNumberId", "phone number"));
    };
    if !found.capabilities.has(capability) {
        let what = match capability {
            Capability::Sms => "send SMS",
            Capability::Call => "place calls",
        };
        return Err(ApiError::field(
            "fromPhoneNumberId",
            format!(
                "{} cannot {what}; choose a number with that capability",
                found.number
            ),
        ));
    }
    Ok(())
}

async fn conversation_capability(
    state: &AppState,
    conversation: &Conversation,
) -> ApiResult<Capability> {
    let channel = state
        .store
        .channel(conversation.workspace_id, conversation.channel_id)
        .await?;
    Ok(channel
        .and_then(|channel| capability_of(channel.carries))
        .unwrap_or(Capability::Sms))
}

async fn find_conversation(
    state: &AppState,
    workspace: WorkspaceId,
    id: &str,
    field: &str,
) -> ApiResult<Conversation> {
    let id = parse_id::<ConversationId>(field, id)?;
    state
        .store
        .conversation(workspace, id)
        .await?
        .ok_or_else(|| unknown(field, "conversation"))
}

/// A contact, or a campaign lead and its contact: (contact, lead's campaign, lead's phone).
async fn find_lead(
    state: &AppState,
    workspace: WorkspaceId,
    id: &str,
) -> ApiResult<(Option<ContactId>, Option<CampaignId>, Option<E164>)> {
    let uuid = parse_id::<uuid::Uuid>("leadId", id)?;
    if let Some(contact) = state
        .store
        .contact(workspace, ContactId::from(uuid))
        .await?
    {
        return Ok((Some(contact.id), None, Some(contact.cellphone)));
    }
    match state.store.lead(workspace, LeadId::from(uuid)).await? {
        Some(lead) => Ok((
            Some(lead.contact_id),
            Some(lead.campaign_id),
            Some(lead.phone_number),
        )),
        None => Err(unknown("leadId", "contact or campaign lead")),
    }
}

fn parse_id<T: std::str::FromStr>(field: &str, value: &str) -> ApiResult<T> {
    value
        .trim()
        .parse()
        .map_err(|_| ApiError::field(field, "must be an id (a UUID)"))
}

fn unknown(field: &str, what: &str) -> ApiError {
    ApiError::NotFound {
        detail: format!("no {what} with this id in the workspace"),
        field: Some(field.to_owned()),
    }
}
