//! A pass's writes, gathered before they are made: the replies (drafts until their
//! sending numbers are reserved), the decisions, and the conversation's changes. It
//! becomes one [`AgentOutcome`], written in one transaction.

use leadline_core::agent::DecisionKind;
use leadline_core::channel::MessageProviderType;
use leadline_core::custom_attribute::AttributeValue;
use leadline_core::message::MessageType;
use leadline_core::{CustomAttributeId, MessageId};
use leadline_store::agent::{
    AgentOutcome, AgentTask, ConversationChange, NewDecision, OptOutChange, TaskNext,
};
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

#[derive(Debug)]
pub struct Plan {
    pub requires_agent_control: bool,
    pub handled_through: Option<MessageId>,
    pub read_through: Option<MessageId>,
    pub opt_out: Option<OptOutChange>,
    pub opt_in: Option<MessageProviderType>,
    pub attributes: Vec<(CustomAttributeId, AttributeValue)>,
    pub drafts: Vec<Draft>,
    pub change: ConversationChange,
    pub decisions: Vec<NewDecision>,
    pub next: TaskNext,
}

impl Plan {
    /// A plan that has read everything up to `newest` and changes nothing yet.
    pub fn new(handled_through: Option<MessageId>) -> Self {
        Self {
            requires_agent_control: false,
            handled_through,
            read_through: None,
            opt_out: None,
            opt_in: None,
            attributes: Vec::new(),
            drafts: Vec::new(),
            change: ConversationChange::default(),
            decisions: Vec::new(),
            next: TaskNext::Done,
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
        self.decisions.push(decision);
    }

    /// Whether the plan writes anything besides moving the read markers.
    pub fn is_quiet(&self) -> bool {
        self.drafts.is_empty() && self.decisions.is_empty() && self.opt_out.is_none()
    }

    /// The outcome, with each draft's sender.
    pub fn into_outcome(
        self,
        task: &AgentTask,
        conversation: Conversation,
        carries: MessageProviderType,
        senders: Vec<Option<OutboundSender>>,
    ) -> AgentOutcome {
        let message_type = match carries {
            MessageProviderType::Sms => MessageType::Sms,
            MessageProviderType::Whatsapp => MessageType::Whatsapp,
            MessageProviderType::Voice => MessageType::Call,
        };
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
            requires_agent_control: self.requires_agent_control,
            handled_through: self.handled_through,
            read_through: self.read_through,
            opt_out: self.opt_out,
            opt_in: self.opt_in,
            attributes: self.attributes,
            replies,
            change: self.change,
            decisions: self.decisions,
            next: self.next,
        }
    }
}

/// A decision of `kind` with its reason.
pub fn decision(kind: DecisionKind, reason: impl Into<String>) -> NewDecision {
    NewDecision::new(kind, reason)
}
