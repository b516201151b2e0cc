//! The events of each resource, built from the rows a write path changed: the `data`
//! is the resource's API view (see [`crate::views`]), so an event says exactly what a
//! GET would have answered right after the change.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use leadline_core::WorkspaceId;
use leadline_core::campaign::{CampaignStatus, LeadStatus};
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::custom_attribute::AttributeDefinition;
use leadline_core::event::{EventType, NewEvent};
use leadline_core::message::{CallStatus, MessageStatus};
use leadline_core::numbers::Hold;
use leadline_core::views::{
    CampaignView, ConversationView, DecisionEventData, DecisionView, LeadView, MessageView,
    OptOutView, PhoneNumberView,
};

use crate::agent::Decision;
use crate::campaigns::Campaign;
use crate::contacts::ContactRecord;
use crate::conversations::Conversation;
use crate::leads::Lead;
use crate::messages::Message;
use crate::opt_outs::OptOut;
use crate::phone_numbers::PhoneNumber;
use crate::views::contact_view;

pub(crate) fn contact(
    kind: EventType,
    contact: &ContactRecord,
    definitions: &[AttributeDefinition],
    at: DateTime<Utc>,
) -> NewEvent {
    NewEvent::new(
        contact.workspace_id,
        kind,
        contact.id,
        contact_view(contact, definitions),
        at,
    )
}

/// One event per contact of the batch that changed, in the order the batch first
/// names them: `contact.created` for a row this batch created, `contact.updated` for
/// one whose fields (or type) differ from what the batch read. An upsert that changed
/// nothing writes no event.
pub(crate) fn upserted_contacts(
    batch: &[crate::contacts::ContactUpsert],
    before: &HashMap<(WorkspaceId, String), Option<ContactRecord>>,
    current: &HashMap<(WorkspaceId, String), (ContactRecord, bool)>,
    definitions: &crate::contacts::DefinitionsByWorkspace,
    now: DateTime<Utc>,
) -> Vec<NewEvent> {
    let mut seen = HashSet::new();
    let mut events = Vec::new();
    for upsert in batch {
        let key = (upsert.workspace_id, upsert.cellphone.as_str().to_owned());
        let (Some((after, _)), Some(was)) = (current.get(&key), before.get(&key)) else {
            continue;
        };
        if !seen.insert(key.clone()) {
            continue;
        }
        let kind = match was {
            None => EventType::ContactCreated,
            Some(was) if was.fields != after.fields || was.contact_type != after.contact_type => {
                EventType::ContactUpdated
            }
            Some(_) => continue,
        };
        events.push(contact(
            kind,
            after,
            &definitions[&upsert.workspace_id],
            now,
        ));
    }
    events
}

pub(crate) fn conversation(
    kind: EventType,
    conversation: &Conversation,
    at: DateTime<Utc>,
) -> NewEvent {
    NewEvent::new(
        conversation.workspace_id,
        kind,
        conversation.id,
        ConversationView::from(conversation),
        at,
    )
}

/// What a change of a conversation's status and controller from `before` to `after`
/// means, in the order a reader expects: taken over or given back, then its end.
pub(crate) fn conversation_changes(
    before: &Conversation,
    after: &Conversation,
    at: DateTime<Utc>,
) -> Vec<NewEvent> {
    let mut kinds = Vec::new();
    let handed_off = |c: &Conversation| {
        c.controller == Controller::Human || c.status == ConversationStatus::HandedOff
    };
    if !handed_off(before) && handed_off(after) {
        kinds.push(EventType::ConversationHandedOff);
    }
    if handed_off(before) && !handed_off(after) && after.status == ConversationStatus::Active {
        kinds.push(EventType::ConversationReleased);
    }
    if before.status != after.status {
        match after.status {
            ConversationStatus::Closed => kinds.push(EventType::ConversationClosed),
            ConversationStatus::OptedOut => kinds.push(EventType::ConversationOptedOut),
            ConversationStatus::Active | ConversationStatus::HandedOff => {}
        }
    }
    kinds
        .into_iter()
        .map(|kind| conversation(kind, after, at))
        .collect()
}

pub(crate) fn message(kind: EventType, message: &Message, at: DateTime<Utc>) -> NewEvent {
    NewEvent::new(
        message.workspace_id,
        kind,
        message.id,
        MessageView::from(message),
        at,
    )
}

/// The event of an outbound message's status moving from `before` to its status now,
/// if that move is one clients hear about.
pub(crate) fn message_status(
    before: MessageStatus,
    message: &Message,
    at: DateTime<Utc>,
) -> Option<NewEvent> {
    let delivered = |s: MessageStatus| matches!(s, MessageStatus::Delivered | MessageStatus::Read);
    let kind = match message.status {
        MessageStatus::Sent if before != MessageStatus::Sent => EventType::MessageSent,
        s if delivered(s) && !delivered(before) => EventType::MessageDelivered,
        MessageStatus::Failed if before != MessageStatus::Failed => EventType::MessageFailed,
        _ => return None,
    };
    Some(self::message(kind, message, at))
}

/// Whether a call in this state has ended (`call.completed` is written once it has).
pub(crate) fn call_ended(status: CallStatus) -> bool {
    status != CallStatus::Pending
}

pub(crate) fn lead(kind: EventType, lead: &Lead, at: DateTime<Utc>) -> NewEvent {
    NewEvent::new(lead.workspace_id, kind, lead.id, LeadView::from(lead), at)
}

/// What a lead's update from `before` to `after` means: its status moved, and its
/// campaign is over for it once nothing more will be attempted (no next attempt, and
/// no call still waiting for its outcome). A lead left with a voicemail on its last
/// attempt is over though its status stays `VoiceMailLeft`.
pub(crate) fn lead_changes(before: &Lead, after: &Lead, at: DateTime<Utc>) -> Vec<NewEvent> {
    let mut events = Vec::new();
    if before.status != after.status {
        events.push(lead(EventType::LeadStatusChanged, after, at));
    }
    if lead_finished(after) && !lead_finished(before) {
        events.push(lead(EventType::LeadCompleted, after, at));
    }
    events
}

fn lead_finished(lead: &Lead) -> bool {
    lead.next_attempt_at.is_none()
        && !matches!(lead.status, LeadStatus::InCallQueue | LeadStatus::OnCall)
}

pub(crate) fn opt_out(
    kind: EventType,
    workspace_id: leadline_core::WorkspaceId,
    opt_out: &OptOut,
    at: DateTime<Utc>,
) -> NewEvent {
    NewEvent::new(
        workspace_id,
        kind,
        opt_out.contact_id,
        OptOutView::from(opt_out),
        at,
    )
}

pub(crate) fn decision(
    conversation: &Conversation,
    decision: &Decision,
    at: DateTime<Utc>,
) -> NewEvent {
    NewEvent::new(
        conversation.workspace_id,
        EventType::AgentDecision,
        decision.id,
        DecisionEventData {
            decision: DecisionView::from(decision),
            conversation_id: conversation.id.to_string(),
            contact_id: conversation.contact_id.to_string(),
        },
        at,
    )
}

/// The event of a campaign whose status just moved to the one it has now.
pub(crate) fn campaign(campaign: &Campaign, at: DateTime<Utc>) -> Option<NewEvent> {
    let kind = match campaign.status {
        CampaignStatus::Active => EventType::CampaignActivated,
        CampaignStatus::Paused => EventType::CampaignPaused,
        CampaignStatus::Completed => EventType::CampaignCompleted,
        CampaignStatus::Draft => return None,
    };
    Some(NewEvent::new(
        campaign.workspace_id,
        kind,
        campaign.id,
        CampaignView::from(campaign),
        at,
    ))
}

/// What moving a number's hold from `before` to its hold now means: out of rotation
/// (`number.paused`, whether paused or blocked), back in (`number.resumed`), and, when
/// the health check decided it, `number.health_changed` first.
pub(crate) fn number_hold(
    before: &Hold,
    number: &PhoneNumber,
    by_health: bool,
    at: DateTime<Utc>,
) -> Vec<NewEvent> {
    if std::mem::discriminant(before) == std::mem::discriminant(&number.hold) {
        return Vec::new();
    }
    let event = |kind| {
        NewEvent::new(
            number.workspace_id,
            kind,
            number.id,
            PhoneNumberView::from(number),
            at,
        )
    };
    let mut events = Vec::new();
    if by_health {
        events.push(event(EventType::NumberHealthChanged));
    }
    events.push(event(match number.hold {
        Hold::None => EventType::NumberResumed,
        Hold::Paused { .. } | Hold::Blocked { .. } => EventType::NumberPaused,
    }));
    events
}
