//! The sending pool: phone numbers a workspace sends from, how a new number warms up,
//! how healthy each one is, and which one a given send goes out from.
//!
//! Everything here is pure. The store keeps the numbers and their counters; the server
//! loads them into a [`selection::NumberPool`] and asks [`selection::select`] for a
//! number; the store then reserves the capacity atomically, so a stale pool can pick a
//! number that has just filled up but can never push one over its cap.

mod display;
pub mod health;
pub mod selection;
pub mod settings;
pub mod warmup;

pub use display::display_number;
pub use health::{Health, HealthState, Hold, NumberMetrics, assess};
pub use selection::{
    Candidate, NumberPool, PoolNumber, Selection, SelectionReason, SelectionRequest, select,
};
pub use settings::{HealthThresholds, NumberPoolSettings};
pub use warmup::{Warmup, warmup};

wire_enum! {
    /// What a number can do; also the channel of a selection request.
    pub enum Capability {
        Sms = "sms",
        Call = "call",
    }
}

impl Default for Capability {
    /// A selection request without a channel asks for SMS.
    fn default() -> Self {
        Capability::Sms
    }
}

/// The capabilities of one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    pub sms: bool,
    pub call: bool,
}

impl Capabilities {
    pub fn has(self, capability: Capability) -> bool {
        match capability {
            Capability::Sms => self.sms,
            Capability::Call => self.call,
        }
    }
}
