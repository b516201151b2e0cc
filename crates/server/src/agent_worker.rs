//! The agent at work (DESIGN §6): the runner that leases each conversation with unread
//! inbound messages and runs a pass over it. A pass loads the conversation whole
//! ([`load`]), lets the pure rules of `leadline_agent` and the workspace's agent decide,
//! and stores the plan ([`pass`]); the runner ([`runner`]) leases, runs passes many at
//! once, and steps (`run_once`) or loops in the background.

mod load;
mod pass;
pub mod runner;

pub use runner::{AgentRunner, RunnerDeps, RunnerOptions};
