//! The conversation as one pass reads it, fully loaded before any rule runs: its
//! state and memory of the agent, its latest messages, the contact, the channel type,
//! the workspace's agent settings and custom attributes, the contact's opt-out and,
//! on WhatsApp, the templates that may reopen the 24-hour window.
//!
//! The worker fills it from the store; the pass rules read nothing else, so they are
//! tested without a database.

use chrono::{DateTime, Utc};
use leadline_core::agent::settings::AgentSettings;
use leadline_core::channel::MessageProviderType;
use leadline_core::contact::ContactFields;
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::custom_attribute::AttributeDefinition;
use leadline_core::message::Direction;
use leadline_core::template::{TemplateBody, TemplateStatus};
use leadline_core::{ConversationId, E164, MessageId};

/// How many of the conversation's latest messages a pass loads: what the agent sees of
/// the conversation, and where the unread inbound messages are looked for.
pub const TRANSCRIPT_LINES: u32 = 50;

/// Everything the pass rules read.
#[derive(Debug, Clone)]
pub struct LoadedConversation {
    pub conversation: ConversationState,
    /// The latest messages, oldest first, at most [`TRANSCRIPT_LINES`].
    pub messages: Vec<LoadedMessage>,
    pub cellphone: E164,
    pub contact: ContactFields,
    /// The channel type the conversation's channel carries.
    pub channel_type: MessageProviderType,
    pub settings: AgentSettings,
    /// The contact's opt-out of `channel_type`, if it has one.
    pub opt_out: Option<PriorOptOut>,
    /// The workspace's custom attributes (what the agent may set).
    pub definitions: Vec<AttributeDefinition>,
    /// Every language version of the template `settings.whatsapp_reopen_template`
    /// names; empty when none is named or the channel is not WhatsApp.
    pub reopen_templates: Vec<ReopenCandidate>,
}

/// The conversation itself and what it remembers of its agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationState {
    pub id: ConversationId,
    pub status: ConversationStatus,
    pub controller: Controller,
    /// The LeadScout `agentContext`.
    pub agent_context: Option<String>,
    /// The LeadScout additional messages, sent after the lead's first reply.
    pub additional_messages: Vec<String>,
    pub additional_sent: bool,
    /// The flow script's position (JSON of `FlowState`).
    pub flow_state: Option<String>,
    /// Agent replies sent so far (the turn limit counts them).
    pub turns: u32,
    pub replied_at: Option<DateTime<Utc>>,
    /// The last inbound message the opt-out handling has read.
    pub handled_through: Option<MessageId>,
    /// The last inbound message an agent turn has answered.
    pub read_through: Option<MessageId>,
    /// When the lead last wrote (WhatsApp's 24-hour window runs from it).
    pub last_inbound_at: Option<DateTime<Utc>>,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedMessage {
    pub id: MessageId,
    pub direction: Direction,
    /// Written by a human advisor (an outbound message with an author).
    pub by_advisor: bool,
    pub body: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The contact's standing opt-out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorOptOut {
    /// The lead's message that opted out, when the lead's own words did.
    pub message_id: Option<MessageId>,
    pub opted_out_at: DateTime<Utc>,
}

/// A language version of the template that may reopen WhatsApp's window.
#[derive(Debug, Clone)]
pub struct ReopenCandidate {
    pub name: String,
    pub language: String,
    pub body: TemplateBody,
    pub channel_type: MessageProviderType,
    pub status: TemplateStatus,
}

impl LoadedConversation {
    /// Inbound messages after `marker` (all of them for `None`), oldest first.
    pub fn inbound_after(&self, marker: Option<MessageId>) -> impl Iterator<Item = &LoadedMessage> {
        self.messages.iter().filter(move |m| {
            m.direction == Direction::Inbound && marker.is_none_or(|seen| m.id > seen)
        })
    }

    /// The newest inbound message loaded.
    pub fn newest_inbound(&self) -> Option<MessageId> {
        self.inbound_after(None).last().map(|m| m.id)
    }

    /// Whether the conversation is the agent's: active and AI-controlled.
    pub fn is_the_agents(&self) -> bool {
        self.conversation.status == ConversationStatus::Active
            && self.conversation.controller == Controller::Ai
    }
}
