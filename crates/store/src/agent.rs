//! The agent's storage: the queue of conversations with unread inbound messages
//! (`tasks`), the one transaction that applies a turn's outcome (`outcome`), the
//! decision log (`decisions`), and hand-offs and releases by advisors (`handoff`).
//!
//! An inbound message and its conversation's task are written in one transaction, so a
//! message the provider handed us is never left unread by a crash; a turn's replies,
//! decisions, attribute changes and the task's end are written in another, so a turn
//! either happened whole or runs again.

mod decisions;
mod handoff;
mod outcome;
mod tasks;

pub use decisions::Decision;
pub use handoff::ControlChange;
pub use outcome::{
    AgentOutcome, Applied, ConversationChange, NewDecision, OptOutChange, TaskNext, TurnWrites,
};
pub(crate) use tasks::enqueue_agent_task;
pub use tasks::{AgentTask, TaskRef};
