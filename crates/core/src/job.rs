//! Kinds of outbox job: the work a job does, typed once here and stored as JSON with a
//! versioned type name (`{"type": "send.v1", "messageId": …}`), so the store, the
//! dispatcher and the tests read one definition.

use serde::{Deserialize, Serialize};

use crate::MessageId;

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
}

impl Task {
    /// The message the task is about, if any.
    pub fn message_id(&self) -> Option<MessageId> {
        match self {
            Task::SendV1 { message_id } | Task::SandboxReceiptV1 { message_id } => {
                Some(*message_id)
            }
        }
    }

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Task::SendV1 { .. } => "send",
            Task::SandboxReceiptV1 { .. } => "sandbox_receipt",
        }
    }

    /// The JSON the jobs table keeps.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("tasks serialize")
    }
}
