//! Kinds of outbox job: the work a job does, typed once here and stored as JSON with a
//! versioned type name (`{"type": "send.v1", "messageId": …}`), so the store, the
//! dispatcher and the tests read one definition.

use serde::{Deserialize, Serialize};

use crate::{EventId, MessageId, WebhookEndpointId};

/// The work a job does, stored as JSON with a versioned type name. A new kind of work
/// is a new variant; a changed one gets a new version beside the old.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Task {
    /// Hand the message to its channel's provider.
    #[serde(rename = "send.v1", rename_all = "camelCase")]
    SendV1 { message_id: MessageId },
    /// Report a sandbox message delivered (the sandbox's own delivery receipt).
    #[serde(rename = "sandbox_receipt.v1", rename_all = "camelCase")]
    SandboxReceiptV1 { message_id: MessageId },
    /// Deliver an event to one webhook endpoint (its lane is the endpoint's).
    #[serde(rename = "webhook.v1", rename_all = "camelCase")]
    WebhookV1 {
        event_id: EventId,
        endpoint_id: WebhookEndpointId,
    },
}

impl Task {
    /// The message the task is about, if any.
    pub fn message_id(&self) -> Option<MessageId> {
        match self {
            Task::SendV1 { message_id } | Task::SandboxReceiptV1 { message_id } => {
                Some(*message_id)
            }
            Task::WebhookV1 { .. } => None,
        }
    }

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Task::SendV1 { .. } => "send",
            Task::SandboxReceiptV1 { .. } => "sandbox_receipt",
            Task::WebhookV1 { .. } => "webhook",
        }
    }

    /// The outbox lane of a webhook endpoint's deliveries: each endpoint is a lane of
    /// its own, so a slow or dead one holds up only itself.
    pub fn webhook_lane(endpoint_id: WebhookEndpointId) -> String {
        format!("webhook:{endpoint_id}")
    }

    /// The JSON the jobs table keeps.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("tasks serialize")
    }
}
