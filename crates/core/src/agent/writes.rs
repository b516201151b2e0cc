//! What one pass over a conversation writes besides its replies: the read markers,
//! the opt-out or opt-in, the contact's new attribute values, the conversation's
//! changes, the decisions to log and what becomes of the task. The agent's pass rules
//! build it without IO; the store writes it in one transaction.

use chrono::{DateTime, Utc};

use crate::agent::DecisionKind;
use crate::channel::MessageProviderType;
use crate::conversation::{Controller, ConversationStatus};
use crate::custom_attribute::AttributeValue;
use crate::{CustomAttributeId, MessageId, TeamId, UserId};

/// What a turn writes besides its replies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnWrites {
    /// Write only if the conversation is still active and AI-controlled.
    pub requires_agent_control: bool,
    /// The newest inbound message the opt-out handling read.
    pub handled_through: Option<MessageId>,
    /// The newest inbound message the agent's turn answered.
    pub read_through: Option<MessageId>,
    pub opt_out: Option<OptOutChange>,
    /// Lift the contact's opt-out on this channel type (the lead wrote START).
    pub opt_in: Option<MessageProviderType>,
    pub attributes: Vec<(CustomAttributeId, AttributeValue)>,
    pub change: ConversationChange,
    /// A decision's `reply` indexes the outcome's replies.
    pub decisions: Vec<NewDecision>,
    pub next: TaskNext,
}

/// The lead opted out with a message: recorded with the words as evidence, and every
/// queued send to the contact on that channel type canceled.
#[derive(Debug, Clone, PartialEq)]
pub struct OptOutChange {
    pub channel_type: MessageProviderType,
    pub evidence: String,
    pub message_id: MessageId,
}

/// How the conversation changes; `None` keeps a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversationChange {
    pub status: Option<ConversationStatus>,
    pub controller: Option<Controller>,
    /// Becomes the assigned user and an internal participant.
    pub advisor: Option<UserId>,
    /// The team whose queue the conversation goes to (a hand-off).
    pub team: Option<TeamId>,
    pub flow_state: Option<String>,
    /// Agent replies this turn adds to the count the turn limit reads.
    pub turns: u32,
    pub additional_sent: bool,
}

/// A decision to log; `reply` is the index in `replies` of the message it sent.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDecision {
    pub kind: DecisionKind,
    pub reason: String,
    pub detail: Option<serde_json::Value>,
    pub reply: Option<usize>,
}

impl NewDecision {
    pub fn new(kind: DecisionKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
            detail: None,
            reply: None,
        }
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }

    pub fn with_reply(mut self, index: usize) -> Self {
        self.reply = Some(index);
        self
    }
}

/// What becomes of the task once the outcome is written.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum TaskNext {
    /// Done, unless a new inbound message came in meanwhile.
    #[default]
    Done,
    /// Run again at `until`; `waiting_for` says why (shown on the conversation).
    Defer {
        until: DateTime<Utc>,
        waiting_for: String,
    },
}
