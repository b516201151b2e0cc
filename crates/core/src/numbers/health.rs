//! A number's health, judged from its own recent outcomes against the workspace's
//! thresholds (see docs/NUMBERS.md for the states and the defaults).

use super::settings::HealthThresholds;
use super::warmup::Warmup;

wire_enum! {
    /// The health states of a number, as the Leadping API spells them.
    pub enum HealthState {
        NotStarted = "Not Started",
        Warming = "Warming",
        Ready = "Ready",
        Healthy = "Healthy",
        NeedsAttention = "Needs Attention",
        Paused = "Paused",
        Blocked = "Blocked",
    }
}

/// What a person (or an earlier automatic decision) has put on a number.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Hold {
    #[default]
    None,
    Paused {
        reason: String,
        automatic: bool,
    },
    Blocked {
        reason: String,
    },
}

/// A number's outcomes over the health window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NumberMetrics {
    /// Messages sent (accepted by the provider) and calls placed.
    pub sent: u64,
    pub delivered: u64,
    /// Failed after sending, filtered ones included.
    pub failed: u64,
    /// Failed with a carrier filtering code (Twilio 30007, Telnyx 40002).
    pub filtered: u64,
    /// Failed with a permanent carrier block (Telnyx 40003).
    pub carrier_blocks: u64,
    pub opt_outs: u64,
    pub replies: u64,
}

/// The verdict on one number.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub state: HealthState,
    /// A short human label: "Healthy", "Warming up: day 3 of 7", …
    pub label: String,
    /// Why the number needs attention or cannot send, in one sentence.
    pub warning: Option<String>,
    /// 0.0 (worst) to 1.0 (best), to order equally eligible numbers.
    pub score: f64,
    /// Set when the metrics are severe enough to pause the number automatically and it
    /// is not paused yet: the reason to store with the pause.
    pub pause: Option<String>,
    /// Set when the metrics block the number and it is not blocked yet.
    pub block: Option<String>,
}

/// Judges a number. A hold decides the state outright (Paused, Blocked); otherwise
/// blocking and pausing signals come first, then the attention thresholds (once the
/// window holds `min_sample` sends), then the warm-up: Not Started, Warming, and once
/// the ramp is over Healthy with enough recent sends, else Ready.
pub fn assess(
    metrics: &NumberMetrics,
    warmup: &Warmup,
    hold: &Hold,
    thresholds: &HealthThresholds,
) -> Health {
    let _ = (metrics, warmup, hold, thresholds);
    todo!("implemented with the selection engine")
}

/// Codes providers give a message filtered as spam (Twilio, Telnyx temporary block).
pub fn is_filtering_code(code: &str) -> bool {
    matches!(code, "30007" | "40002")
}

/// Codes providers give for a permanent block of the sending number (Telnyx).
pub fn is_carrier_block_code(code: &str) -> bool {
    code == "40003"
}
