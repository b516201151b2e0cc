//! What an agent reads and answers: the [`TurnContext`] of one turn (the transcript,
//! the lead's new messages and attributes, the flow script's position), the
//! [`TurnResult`] it returns, and the [`Agent`] trait the flow-script and LLM agents
//! implement. Agents never touch the store: [`before_turn`](crate::before_turn) builds
//! the context from the loaded conversation, and [`after_turn`](crate::after_turn)
//! turns the result into what the worker writes.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use leadline_core::ConversationId;
use leadline_core::agent::AgentTurn;
use leadline_core::agent::flow::FlowState;
use leadline_core::channel::MessageProviderType;
use leadline_core::contact::LanguageCode;
use leadline_core::custom_attribute::{AttributeDefinition, AttributeValues};

/// Who wrote a line of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    Lead,
    /// The agent, or a template the system sent (the opening).
    Agent,
    /// A human advisor.
    Advisor,
}

/// One message of the conversation as the agent sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLine {
    pub speaker: Speaker,
    pub text: String,
    pub at: DateTime<Utc>,
}

/// Everything an agent turn may read, built by [`before_turn`](crate::before_turn).
#[derive(Debug, Clone)]
pub struct TurnContext {
    pub conversation_id: ConversationId,
    pub channel_type: MessageProviderType,
    /// The conversation so far, oldest first (the new inbound messages included), at
    /// most the last 50 lines.
    pub transcript: Vec<TranscriptLine>,
    /// The texts of the inbound messages this turn answers, oldest first.
    pub new_messages: Vec<String>,
    pub first_name: Option<String>,
    pub language: Option<LanguageCode>,
    /// The workspace's custom attributes and the contact's values of them.
    pub definitions: Vec<AttributeDefinition>,
    pub values: AttributeValues,
    /// The LeadScout `agentContext`: free text from whoever opened the conversation.
    pub agent_context: Option<String>,
    /// Where the flow script stands in this conversation.
    pub flow_state: FlowState,
}

/// What a turn answered: the decisions, and the flow script's new position when the
/// agent keeps one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnResult {
    pub turn: AgentTurn,
    pub flow_state: Option<FlowState>,
}

/// An agent: reads a conversation, decides the next turn. A failing agent hands off
/// (an [`AgentTurn`] with a hand-off and the failure as its reason), never stays
/// silent and never errors.
pub trait Agent: Send + Sync {
    fn turn<'a>(&'a self, context: &'a TurnContext) -> BoxFuture<'a, TurnResult>;
}
