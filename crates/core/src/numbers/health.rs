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

impl HealthState {
    /// Whether a number in this state may send at all: every state but Paused and
    /// Blocked. (Caps and exclusions are selection's business, not health's.)
    pub fn can_send(self) -> bool {
        !matches!(self, HealthState::Paused | HealthState::Blocked)
    }
}

impl Health {
    /// Whether the number may send at all (see [`HealthState::can_send`]).
    pub fn can_send(&self) -> bool {
        self.state.can_send()
    }
}

/// How much each point of filtering or opt-out rate costs the score. Those rates are a
/// few percent at most on a good number, so a weight of 1 would barely separate a clean
/// number from one at the pause threshold; at 5, a 5 % filtered rate costs a quarter.
const PENALTY_WEIGHT: f64 = 5.0;
/// How much the reply rate adds to the score: enough to break ties between equally
/// delivering numbers, never enough to hide a delivery problem.
const REPLY_BONUS_WEIGHT: f64 = 0.1;

/// Judges a number. In this order, the first rule that applies decides:
///
/// 1. A hold decides the state outright: Paused ("Paused by a person: …" or "Paused
///    automatically: …") or Blocked ("Blocked: …").
/// 2. `carrier_blocks >= block_after_carrier_blocks`: Blocked, with `block` set to the
///    reason to store.
/// 3. Once the window holds `min_sample` sends, the rates are judged — delivery
///    (delivered / (delivered + failed), skipped while nothing has finished), filtered
///    / sent, opt-outs / sent, replies / sent. A severe one (delivery below
///    `pause_below_delivery_rate`, filtering above `pause_above_filtered_rate`, opt-outs
///    above `pause_above_opt_out_rate`) gives Paused with `pause` set; otherwise one past
///    an attention threshold (delivery below `min_delivery_rate`, filtering above
///    `max_filtered_rate`, opt-outs above `max_opt_out_rate`, replies below
///    `min_reply_rate` when that is above 0) gives Needs Attention. The warning names
///    the first failing figure, in that order, and its threshold.
/// 4. The warm-up: Not Started before the first send, Warming during the ramp, and once
///    the ramp is over Healthy with at least `min_sample` recent sends, else Ready.
///
/// The score is the delivery rate (1.0 while unknown) minus 5 × the filtered and
/// opt-out rates plus 0.1 × the reply rate, clamped to 0..=1; rates count only from
/// `min_sample` sends on, like the judgments, so a number's first few sends do not
/// swing it. Paused and Blocked numbers score 0.
pub fn assess(
    metrics: &NumberMetrics,
    warmup: &Warmup,
    hold: &Hold,
    thresholds: &HealthThresholds,
) -> Health {
    match hold {
        Hold::Paused { reason, automatic } => {
            let by = if *automatic {
                "Paused automatically"
            } else {
                "Paused by a person"
            };
            return stopped(HealthState::Paused, format!("{by}: {reason}"), None, None);
        }
        Hold::Blocked { reason } => {
            return stopped(
                HealthState::Blocked,
                format!("Blocked: {reason}"),
                None,
                None,
            );
        }
        Hold::None => {}
    }
    let window = Window::new(metrics, thresholds);
    // A threshold of 0 (refused by validation) would block every number; read it as 1.
    let block_at = u64::from(thresholds.block_after_carrier_blocks.max(1));
    if metrics.carrier_blocks >= block_at {
        let reason = format!(
            "Carrier blocked the number {} times (Telnyx 40003) {}; blocked at {block_at}",
            metrics.carrier_blocks, window.period
        );
        return stopped(
            HealthState::Blocked,
            format!("Blocked: {reason}"),
            None,
            Some(reason),
        );
    }
    let score = window.score();
    if let Some(reason) = window.severe() {
        return stopped(
            HealthState::Paused,
            format!("Paused automatically: {reason}"),
            Some(reason),
            None,
        );
    }
    if let Some(warning) = window.attention() {
        return Health {
            state: HealthState::NeedsAttention,
            label: "Needs attention".into(),
            warning: Some(warning),
            score,
            pause: None,
            block: None,
        };
    }
    let (state, label) = if !warmup.started() {
        (HealthState::NotStarted, "Not started".to_owned())
    } else if !warmup.complete() {
        (
            HealthState::Warming,
            format!("Warming up: day {} of {}", warmup.day, warmup.stages),
        )
    } else if window.judged {
        (HealthState::Healthy, "Healthy".to_owned())
    } else {
        (HealthState::Ready, "Ready".to_owned())
    };
    Health {
        state,
        label,
        warning: None,
        score,
        pause: None,
        block: None,
    }
}

/// A verdict of a number that cannot send: it orders last, so it scores 0.
fn stopped(
    state: HealthState,
    warning: String,
    pause: Option<String>,
    block: Option<String>,
) -> Health {
    Health {
        state,
        label: state.as_str().to_owned(),
        warning: Some(warning),
        score: 0.0,
        pause,
        block,
    }
}

/// The rates of one window, computed once, with the words to report them.
struct Window<'a> {
    metrics: &'a NumberMetrics,
    thresholds: &'a HealthThresholds,
    /// Enough sends to judge the rates (and never zero sends).
    judged: bool,
    /// "over the last 7 days"
    period: String,
}

/// One rate judged against one threshold.
struct Finding {
    rate: f64,
    /// What was measured, before the figure: "Carrier filtering at".
    what: &'static str,
    /// The counts behind the rate: "(24 of 200 sends filtered, codes 30007/40002)".
    counts: String,
    /// "paused above", "needs attention below", …
    verdict: &'static str,
    threshold: f64,
}

impl Finding {
    fn sentence(&self, period: &str) -> String {
        format!(
            "{} {} {} {period}; {} {}",
            self.what,
            percent(self.rate),
            self.counts,
            self.verdict,
            percent(self.threshold)
        )
    }
}

fn percent(rate: f64) -> String {
    format!("{:.1} %", rate * 100.0)
}

impl<'a> Window<'a> {
    fn new(metrics: &'a NumberMetrics, thresholds: &'a HealthThresholds) -> Self {
        let days = thresholds.window_days;
        let period = if days == 1 {
            "over the last day".to_owned()
        } else {
            format!("over the last {days} days")
        };
        Self {
            metrics,
            thresholds,
            judged: metrics.sent > 0 && metrics.sent >= u64::from(thresholds.min_sample),
            period,
        }
    }

    fn per_send(&self, count: u64) -> f64 {
        count as f64 / self.metrics.sent as f64
    }

    /// Delivered / finished, when anything has finished.
    fn delivery(&self) -> Option<f64> {
        let finished = self.metrics.delivered + self.metrics.failed;
        (finished > 0).then(|| self.metrics.delivered as f64 / finished as f64)
    }

    fn delivery_finding(&self, verdict: &'static str, threshold: f64) -> Option<Finding> {
        let rate = self.delivery()?;
        (rate < threshold).then(|| Finding {
            rate,
            what: "Delivery at",
            counts: format!(
                "({} delivered, {} failed)",
                self.metrics.delivered, self.metrics.failed
            ),
            verdict,
            threshold,
        })
    }

    fn filtered_finding(&self, verdict: &'static str, threshold: f64) -> Option<Finding> {
        let rate = self.per_send(self.metrics.filtered);
        (rate > threshold).then(|| Finding {
            rate,
            what: "Carrier filtering at",
            counts: format!(
                "of sends ({} of {}, codes 30007/40002)",
                self.metrics.filtered, self.metrics.sent
            ),
            verdict,
            threshold,
        })
    }

    fn opt_out_finding(&self, verdict: &'static str, threshold: f64) -> Option<Finding> {
        let rate = self.per_send(self.metrics.opt_outs);
        (rate > threshold).then(|| Finding {
            rate,
            what: "Opt-outs at",
            counts: format!(
                "of sends ({} of {})",
                self.metrics.opt_outs, self.metrics.sent
            ),
            verdict,
            threshold,
        })
    }

    fn reply_finding(&self, threshold: f64) -> Option<Finding> {
        let rate = self.per_send(self.metrics.replies);
        (threshold > 0.0 && rate < threshold).then(|| Finding {
            rate,
            what: "Replies at",
            counts: format!(
                "of sends ({} of {})",
                self.metrics.replies, self.metrics.sent
            ),
            verdict: "needs attention below",
            threshold,
        })
    }

    /// The first rate bad enough to pause the number, as the reason to store.
    fn severe(&self) -> Option<String> {
        if !self.judged {
            return None;
        }
        let t = self.thresholds;
        let verdict = "paused below";
        self.delivery_finding(verdict, t.pause_below_delivery_rate)
            .or_else(|| self.filtered_finding("paused above", t.pause_above_filtered_rate))
            .or_else(|| self.opt_out_finding("paused above", t.pause_above_opt_out_rate))
            .map(|finding| finding.sentence(&self.period))
    }

    /// The first rate past an attention threshold.
    fn attention(&self) -> Option<String> {
        if !self.judged {
            return None;
        }
        let t = self.thresholds;
        self.delivery_finding("needs attention below", t.min_delivery_rate)
            .or_else(|| self.filtered_finding("needs attention above", t.max_filtered_rate))
            .or_else(|| self.opt_out_finding("needs attention above", t.max_opt_out_rate))
            .or_else(|| self.reply_finding(t.min_reply_rate))
            .map(|finding| finding.sentence(&self.period))
    }

    fn score(&self) -> f64 {
        if !self.judged {
            return 1.0;
        }
        let score = self.delivery().unwrap_or(1.0)
            - PENALTY_WEIGHT * self.per_send(self.metrics.filtered)
            - PENALTY_WEIGHT * self.per_send(self.metrics.opt_outs)
            + REPLY_BONUS_WEIGHT * self.per_send(self.metrics.replies).min(1.0);
        if score.is_nan() {
            0.0
        } else {
            score.clamp(0.0, 1.0)
        }
    }
}

/// Codes providers give a message filtered as spam (Twilio, Telnyx temporary block).
pub fn is_filtering_code(code: &str) -> bool {
    matches!(code, "30007" | "40002")
}

/// Codes providers give for a permanent block of the sending number (Telnyx).
pub fn is_carrier_block_code(code: &str) -> bool {
    code == "40003"
}

#[cfg(test)]
mod tests;
