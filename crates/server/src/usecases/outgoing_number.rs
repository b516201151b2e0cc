//! Which number a send would go out from, and why: the selection the scheduler and the
//! API's sends run, over the same pool, explained candidate by candidate. Leadping's
//! outgoing-number endpoints and the console's "why this number" both call
//! [`resolve`] and [`Resolved::answer`]; nothing is reserved.

use leadline_core::numbers::{
    Capability, HealthState, PoolNumber, Selection, SelectionReason, SelectionRequest, select,
};
use leadline_core::{
    CampaignId, ContactId, ConversationId, E164, FieldError, LeadId, PhoneNumberId, SourceId,
    TeamId, WorkspaceId,
};
use leadline_store::conversations::Conversation;
use leadline_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::numbers::assign::{capability_of, resolve_hints};
use crate::numbers::{NumberPools, PoolSnapshot};

/// Candidates listed in `eligibleNumbers` at most (the selected one is always there).
const LISTED: usize = 25;

/// Why a selection cannot be explained.
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    /// A field with an invalid value.
    #[error("{}: {}", .0.field, .0.message)]
    Invalid(FieldError),
    /// An id that names nothing of the workspace.
    #[error("no {what} with this id in the workspace")]
    Unknown { field: String, what: &'static str },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the number is for; every field is optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutgoingNumberRequest {
    /// Ids name rows of the workspace (404 otherwise).
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    pub conversation_id: Option<String>,
    /// A contact id, or the id of a campaign lead (which uses its contact's number).
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    pub lead_id: Option<String>,
    #[schema(schema_with = leadline_core::schema::optional_e164)]
    pub recipient_phone_number: Option<String>,
    /// `sms` (default) or `call`.
    pub channel: Option<Capability>,
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    pub campaign_id: Option<String>,
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    pub source_id: Option<String>,
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    pub team_id: Option<String>,
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

/// A request with its ids checked and its hints resolved.
pub struct Resolved {
    snapshot: std::sync::Arc<PoolSnapshot>,
    selection: SelectionRequest,
}

pub async fn resolve(
    store: &Store,
    pools: &NumberPools,
    workspace: WorkspaceId,
    body: OutgoingNumberRequest,
    manual_override: Option<PhoneNumberId>,
) -> Result<Resolved, SelectionError> {
    let conversation = match &body.conversation_id {
        Some(id) => Some(find_conversation(store, workspace, id, "conversationId").await?),
        None => None,
    };
    let (contact_id, lead_campaign, lead_phone) = match &body.lead_id {
        Some(id) => find_lead(store, workspace, id).await?,
        None => (conversation.as_ref().map(|c| c.contact_id), None, None),
    };
    let recipient = match &body.recipient_phone_number {
        Some(phone) => Some(
            E164::parse_field("recipientPhoneNumber", phone).map_err(SelectionError::Invalid)?,
        ),
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
        (None, Some(conversation)) => conversation_capability(store, conversation).await?,
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
    let snapshot = pools.snapshot(workspace).await?;
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
    pub fn answer(&self) -> OutgoingNumberResponse {
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
pub fn check_override(
    snapshot: &PoolSnapshot,
    number: PhoneNumberId,
    capability: Capability,
) -> Result<(), SelectionError> {
    let Some(found) = snapshot.pool.get(number) else {
        return Err(unknown("fromPhoneNumberId", "phone number"));
    };
    if !found.capabilities.has(capability) {
        let what = match capability {
            Capability::Sms => "send SMS",
            Capability::Call => "place calls",
        };
        return Err(SelectionError::Invalid(FieldError::new(
            "fromPhoneNumberId",
            format!(
                "{} cannot {what}; choose a number with that capability",
                found.number
            ),
        )));
    }
    Ok(())
}

pub async fn conversation_capability(
    store: &Store,
    conversation: &Conversation,
) -> Result<Capability, StoreError> {
    let channel = store
        .channel(conversation.workspace_id, conversation.channel_id)
        .await?;
    Ok(channel
        .and_then(|channel| capability_of(channel.carries))
        .unwrap_or(Capability::Sms))
}

pub async fn find_conversation(
    store: &Store,
    workspace: WorkspaceId,
    id: &str,
    field: &str,
) -> Result<Conversation, SelectionError> {
    let id = parse_id::<ConversationId>(field, id)?;
    store
        .conversation(workspace, id)
        .await?
        .ok_or_else(|| unknown(field, "conversation"))
}

/// A contact, or a campaign lead and its contact: (contact, lead's campaign, lead's phone).
async fn find_lead(
    store: &Store,
    workspace: WorkspaceId,
    id: &str,
) -> Result<(Option<ContactId>, Option<CampaignId>, Option<E164>), SelectionError> {
    let uuid = parse_id::<uuid::Uuid>("leadId", id)?;
    if let Some(contact) = store.contact(workspace, ContactId::from(uuid)).await? {
        return Ok((Some(contact.id), None, Some(contact.cellphone)));
    }
    match store.lead(workspace, LeadId::from(uuid)).await? {
        Some(lead) => Ok((
            Some(lead.contact_id),
            Some(lead.campaign_id),
            Some(lead.phone_number),
        )),
        None => Err(unknown("leadId", "contact or campaign lead")),
    }
}

/// An id given in `field`, or the error naming it.
pub fn parse_id<T: std::str::FromStr>(field: &str, value: &str) -> Result<T, SelectionError> {
    value
        .trim()
        .parse()
        .map_err(|_| SelectionError::Invalid(FieldError::new(field, "must be an id (a UUID)")))
}

fn unknown(field: &str, what: &'static str) -> SelectionError {
    SelectionError::Unknown {
        field: field.to_owned(),
        what,
    }
}
