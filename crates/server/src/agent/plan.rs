//! A pass's writes, gathered before they are made: the replies (drafts until their
//! sending numbers are reserved), the decisions, and the conversation's changes. It
//! becomes one [`AgentOutcome`], written in one transaction.

use leadline_core::MessageId;
use leadline_core::agent::DecisionKind;
use leadline_core::channel::MessageProviderType;
use leadline_core::message::MessageType;
use leadline_store::agent::{AgentOutcome, AgentTask, NewDecision, TurnWrites};
use leadline_store::conversations::{Conversation, NewOutbound, OutboundSender};
use leadline_store::messages::MessageTemplate;

/// A reply before its sending number is chosen.
#[derive(Debug, Clone)]
pub struct Draft {
    pub body: String,
    pub template: Option<MessageTemplate>,
    /// Sent from the channel's own sender when no pool number can send it now (the
    /// opt-out confirmation), instead of holding the whole pass back.
    pub essential: bool,
}

/// The drafts, and everything else the pass writes (read with `plan.writes`).
#[derive(Debug, Default)]
pub struct Plan {
    pub drafts: Vec<Draft>,
    pub writes: TurnWrites,
}

impl Plan {
    /// A plan that has read everything up to `newest` and changes nothing yet.
    pub fn new(handled_through: Option<MessageId>) -> Self {
        Self {
            drafts: Vec::new(),
            writes: TurnWrites {
                handled_through,
                ..TurnWrites::default()
            },
        }
    }

    /// Queues a text reply; returns its index.
    pub fn reply(&mut self, body: impl Into<String>) -> usize {
        self.drafts.push(Draft {
            body: body.into(),
            template: None,
            essential: false,
        });
        self.drafts.len() - 1
    }

    pub fn decide(&mut self, decision: NewDecision) {
        self.writes.decisions.push(decision);
    }

    /// Whether the plan writes anything besides moving the read markers.
    pub fn is_quiet(&self) -> bool {
        self.drafts.is_empty() && self.writes.decisions.is_empty() && self.writes.opt_out.is_none()
    }

    /// The outcome, with each draft's sender.
    pub fn into_outcome(
        self,
        task: &AgentTask,
        conversation: Conversation,
        carries: MessageProviderType,
        senders: Vec<Option<OutboundSender>>,
    ) -> AgentOutcome {
        let message_type = MessageType::carried_by(carries);
        let replies = self
            .drafts
            .into_iter()
            .zip(senders)
            .map(|(draft, sender)| NewOutbound {
                message_type,
                body: draft.body,
                template: draft.template,
                author_user_id: None,
                sender,
            })
            .collect();
        AgentOutcome {
            task: task.reference,
            conversation,
            replies,
            writes: self.writes,
        }
    }
}

/// A decision of `kind` with its reason.
pub fn decision(kind: DecisionKind, reason: impl Into<String>) -> NewDecision {
    NewDecision::new(kind, reason)
}
