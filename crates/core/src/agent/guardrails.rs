//! The guardrails checked before an agent reply goes out: whether the agent may speak
//! in this conversation at all, now, or only later.
//!
//! In order, the first that applies decides:
//!
//! 1. **The turn limit**: `turns_taken >= maxTurns` hands off. A conversation that
//!    long is going nowhere with a machine; a `maxTurns` of 0 therefore hands every
//!    conversation off at the first reply, which is how a workspace says "no agent".
//! 2. **Quiet hours** (when `respectQuietHours`): the send gate ([`gate::decide`]) with
//!    the agent's `replyHours` as the calling hours, for the lead's number and zone.
//!    Opt-outs and the do-not-contact list are not asked here — the server handles them
//!    before any agent runs — and neither is the FL/OK attempt cap: a reply to a lead
//!    who just wrote is not a new attempt. A deferral holds the reply until the gate's
//!    next opening; hours that never open (reply hours outside the legal windows) hand
//!    off, since waiting would be forever.
//! 3. **The minimum delay**: at most one reply every `minReplyDelaySeconds`, so a lead
//!    who sends three messages in a burst gets one answer to all three, and a loop
//!    between two bots is slowed to a crawl.
//!
//! Limit before hours: a conversation over its limit goes to a person now, not at
//! 8:00 tomorrow. Hours before the delay: a deferral to the morning already satisfies
//! any delay of a few seconds.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::settings::AgentSettings;
use crate::calling_hours::CallingHours;
use crate::gate::{self, GateDecision, GateInput};
use crate::phone::E164;

/// What the check depends on; the caller reads it from the conversation and the lead,
/// and passes the clock in.
#[derive(Debug, Clone, Copy)]
pub struct GuardrailInput<'a> {
    pub now: DateTime<Utc>,
    /// Agent replies already sent in this conversation.
    pub turns_taken: u32,
    /// When the agent last replied in this conversation.
    pub last_reply_at: Option<DateTime<Utc>>,
    /// The lead's cellphone.
    pub phone: &'a E164,
    pub lead_zone: Option<Tz>,
    pub workspace_zone: Option<Tz>,
}

/// The guardrails' answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardrailDecision {
    /// Reply now.
    Proceed,
    /// Reply at `until`, not before.
    Defer {
        until: DateTime<Utc>,
        reason: String,
    },
    /// Do not reply; give the conversation to a person.
    HandOff { reason: String },
}

/// Decides whether an agent reply may go now; `reply_hours` is usually
/// `settings.reply_hours()`, parsed once by the caller.
pub fn check(
    settings: &AgentSettings,
    reply_hours: &CallingHours,
    input: &GuardrailInput<'_>,
) -> GuardrailDecision {
    if input.turns_taken >= settings.max_turns {
        return GuardrailDecision::HandOff {
            reason: format!(
                "the agent reached its limit of {} replies",
                settings.max_turns
            ),
        };
    }
    if settings.respect_quiet_hours {
        let decision = gate::decide(&GateInput {
            now: input.now,
            phone: input.phone,
            lead_zone: input.lead_zone,
            campaign_zone: None,
            workspace_zone: input.workspace_zone,
            calling_hours: reply_hours,
            opted_out: false,
            do_not_contact: false,
            recent_attempts: &[],
        });
        match decision {
            GateDecision::Allowed => {}
            GateDecision::Deferred { until, reason } => {
                return GuardrailDecision::Defer {
                    until,
                    reason: format!("quiet hours: {reason}"),
                };
            }
            GateDecision::Refused { reason } => {
                return GuardrailDecision::HandOff {
                    reason: format!("quiet hours: {reason}"),
                };
            }
        }
    }
    let delay = TimeDelta::seconds(i64::from(settings.min_reply_delay_seconds));
    if let Some(last) = input.last_reply_at
        && last + delay > input.now
    {
        return GuardrailDecision::Defer {
            until: last + delay,
            reason: format!(
                "at most one reply every {} s",
                settings.min_reply_delay_seconds
            ),
        };
    }
    GuardrailDecision::Proceed
}

#[cfg(test)]
mod tests;
