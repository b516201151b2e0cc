//! leadline's AI agent (DESIGN §6), without IO of its own besides the LLM endpoint:
//!
//! - [`turn`]: the [`Agent`] trait, the [`TurnContext`] an agent reads and the
//!   [`TurnResult`] it answers.
//! - [`flow`] and [`llm`]: the two agents, the flow script (over the pure
//!   `leadline_core::agent::flow`) and the LLM client of an OpenAI-compatible
//!   endpoint; [`workspace_agent`] picks one from the workspace's settings.
//! - The rules of a pass over a conversation with unread inbound messages, as pure
//!   functions over a [`LoadedConversation`] and the time: [`before_turn`] (opt-out,
//!   HELP and START, whether the agent may answer, the guardrails, WhatsApp's 24-hour
//!   window, the LeadScout additional messages) and [`after_turn`] (the agent's
//!   actions as writes). Both return a [`PassPlan`]: the replies to queue and the
//!   [`TurnWrites`](leadline_core::agent::writes::TurnWrites) to store in one
//!   transaction, with a hand-off for the server to give an advisor.
//!
//! The server's worker loads the conversation, calls `before_turn`, the agent and
//! `after_turn`, reserves the replies' sending numbers and stores the plan. Domain
//! types and the flow script, guardrails and settings stay in `leadline-core`; this
//! crate depends on it (and on `leadline-providers` for the LLM's guarded HTTP
//! client), never on the store or the server.
#![forbid(unsafe_code)]

mod after_turn;
mod before_turn;
#[cfg(test)]
mod fixtures;
pub mod flow;
pub mod llm;
mod loaded;
mod plan;
pub mod turn;
pub mod workspace_agent;

pub use after_turn::after_turn;
pub use before_turn::{BeforeTurn, PendingTurn, before_turn};
pub use loaded::{
    ConversationState, LoadedConversation, LoadedMessage, PriorOptOut, ReopenCandidate,
    TRANSCRIPT_LINES,
};
pub use plan::{Draft, HandOffRequest, PassEnd, PassPlan, TemplateRef};
pub use turn::{Agent, Speaker, TranscriptLine, TurnContext, TurnResult};
pub use workspace_agent::WorkspaceAgent;
