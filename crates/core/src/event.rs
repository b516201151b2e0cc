//! Events: what happened to a resource, written in the same transaction as the change
//! that caused it, kept in the event log and delivered to webhook endpoints.
//!
//! An event travels as `{"type", "timestamp", "data"}` where `data` is the resource as
//! the API returns it, plus the ids that tie it to others. Types are dotted,
//! `resource.what_happened`, and never change meaning: a changed payload is a new type.

pub mod schedule;
pub mod signature;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::{EventId, WorkspaceId};

crate::wire_enum! {
    /// The kinds of event, by the resource they are about.
    pub enum EventType {
        /// A contact was created (by the API, an import, a lead or an inbound message).
        ContactCreated = "contact.created",
        /// A contact's fields changed.
        ContactUpdated = "contact.updated",
        /// An outbound or inbound conversation began.
        ConversationOpened = "conversation.opened",
        /// A person took the conversation over from the agent.
        ConversationHandedOff = "conversation.handed_off",
        /// A person gave the conversation back to the agent.
        ConversationReleased = "conversation.released",
        ConversationClosed = "conversation.closed",
        /// The lead asked not to be contacted on this conversation's channel.
        ConversationOptedOut = "conversation.opted_out",
        /// The lead wrote.
        MessageReceived = "message.received",
        /// The provider accepted an outbound message.
        MessageSent = "message.sent",
        MessageDelivered = "message.delivered",
        /// An outbound message failed for good.
        MessageFailed = "message.failed",
        /// A call placed outside leadline was logged on a conversation.
        CallLogged = "call.logged",
        /// A call leadline placed ended, with its outcome.
        CallCompleted = "call.completed",
        /// A lead joined a campaign.
        LeadAdded = "lead.added",
        /// A lead's status in its campaign changed.
        LeadStatusChanged = "lead.status_changed",
        /// A lead's campaign is over for it: nothing more will be attempted.
        LeadCompleted = "lead.completed",
        OptOutRecorded = "opt_out.recorded",
        OptOutRevoked = "opt_out.revoked",
        /// The agent decided on a conversation (qualified, handed off, ended …).
        AgentDecision = "agent.decision",
        /// A pool number's health changed (its delivery or answer rate crossed a line).
        NumberHealthChanged = "number.health_changed",
        NumberPaused = "number.paused",
        NumberResumed = "number.resumed",
        CampaignActivated = "campaign.activated",
        CampaignPaused = "campaign.paused",
        CampaignCompleted = "campaign.completed",
        /// A webhook endpoint was disabled: it answered 410 Gone, or failed for 5 days.
        WebhookEndpointDisabled = "webhook_endpoint.disabled",
    }
}

crate::wire_enum! {
    /// How one delivery attempt went.
    pub enum AttemptStatus {
        /// The endpoint answered 2xx.
        Succeeded = "succeeded",
        /// Any other answer, a timeout or no connection.
        Failed = "failed",
    }
}

/// An event about to be written beside the change that caused it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: EventId,
    pub workspace_id: WorkspaceId,
    pub event_type: EventType,
    /// The resource the event is about (filtering by resource matches it).
    pub resource_id: String,
    /// The resource as the API returns it, plus the ids that tie it to others.
    pub data: Value,
    pub occurred_at: DateTime<Utc>,
}

impl NewEvent {
    /// An event about `resource_id`, whose payload data is `data` serialized.
    pub fn new(
        workspace_id: WorkspaceId,
        event_type: EventType,
        resource_id: impl ToString,
        data: impl Serialize,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: EventId::new(),
            workspace_id,
            event_type,
            resource_id: resource_id.to_string(),
            data: serde_json::to_value(data).expect("event data serializes"),
            occurred_at,
        }
    }

    /// The payload that endpoints receive and the log returns.
    pub fn payload(&self) -> String {
        payload(self.event_type, self.occurred_at, &self.data)
    }
}

/// The payload of an event: `{"type", "timestamp", "data"}`.
pub fn payload(event_type: EventType, occurred_at: DateTime<Utc>, data: &Value) -> String {
    #[derive(Serialize)]
    struct Payload<'a> {
        #[serde(rename = "type")]
        event_type: EventType,
        timestamp: String,
        data: &'a Value,
    }
    serde_json::to_string(&Payload {
        event_type,
        timestamp: occurred_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        data,
    })
    .expect("event payload serializes")
}

/// Which event types an endpoint receives: all of them, or the ones listed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EventFilter {
    #[default]
    All,
    Only(Vec<EventType>),
}

impl EventFilter {
    pub fn accepts(&self, event_type: EventType) -> bool {
        match self {
            EventFilter::All => true,
            EventFilter::Only(types) => types.contains(&event_type),
        }
    }

    /// The types listed, `None` for all.
    pub fn listed(&self) -> Option<&[EventType]> {
        match self {
            EventFilter::All => None,
            EventFilter::Only(types) => Some(types),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_payload_is_type_timestamp_and_data() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let text = payload(EventType::LeadAdded, at, &serde_json::json!({"id": "l1"}));
        assert_eq!(
            text,
            r#"{"type":"lead.added","timestamp":"2026-03-01T12:00:00.000Z","data":{"id":"l1"}}"#
        );
    }

    #[test]
    fn every_type_is_dotted_and_named_once() {
        let mut seen = std::collections::HashSet::new();
        for kind in EventType::ALL {
            assert!(kind.as_str().contains('.'), "{kind}");
            assert!(seen.insert(kind.as_str()), "{kind} twice");
            assert_eq!(EventType::parse(kind.as_str()), Some(*kind));
        }
    }

    #[test]
    fn a_filter_lists_or_takes_all() {
        assert!(EventFilter::All.accepts(EventType::MessageSent));
        let only = EventFilter::Only(vec![EventType::LeadAdded]);
        assert!(only.accepts(EventType::LeadAdded));
        assert!(!only.accepts(EventType::MessageSent));
    }
}
