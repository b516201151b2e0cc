//! The send gate (DESIGN §4): one pure function that says whether a lead may be
//! contacted now, and if not, why and from when.
//!
//! In order:
//! 1. Opted out on the channel, or on the workspace's do-not-contact list → `Refused`.
//! 2. The recipient's wall clock: the lead's zone, else every zone of the number's area
//!    code (a split area code must be inside the windows in all of them, which is the
//!    narrowest window), else the campaign's zone, else the workspace's, else UTC.
//! 3. Windows on that clock, all intersected: federal 8:00–21:00 (applied to every
//!    recipient), the area code's state rules (FL and OK 8:00–20:00; KY 10:00–21:00;
//!    CT 9:00–20:00; RI 9:00–18:00 weekdays and 10:00–17:00 Saturdays; no calls on
//!    Sundays or US federal holidays in RI, AL and LA), and the campaign's calling hours.
//! 4. FL and OK allow 3 attempts per rolling 24 hours: the statutes count attempts "on
//!    the same subject", so the caller passes the attempts that count (this lead's, in
//!    this campaign); an attempt stops counting exactly 24 hours after it was made.
//!
//! Holidays are the US federal ones (see `holidays`), for all three states: their own
//! lists differ a little, and the federal one is what a sender can be expected to know.
//!
//! Outside a window or over the cap the answer is `Deferred` until the earliest instant
//! at which everything allows a send, searched at most 14 days ahead (`Refused` with
//! `no_opening` when there is none). The state always comes from the area code, even
//! when the lead has a zone of its own: the number is what the state statutes key on.
//!
//! The function allocates nothing and needs no precomputed state from the caller; a
//! decision inside the windows is a few zone-offset lookups (see benches/gate.rs).

mod reason;
mod rules;
mod search;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::calling_hours::CallingHours;
use crate::nanp;
use crate::phone::E164;
use rules::{Broken, FEDERAL, MAX_CAP, Rules, StateRule};
use search::HORIZON_DAYS;

pub use reason::{GateReason, RecipientTime};

/// Everything one decision depends on; the caller reads it from the lead, the campaign
/// and the workspace, and passes the clock in.
#[derive(Debug, Clone, Copy)]
pub struct GateInput<'a> {
    pub now: DateTime<Utc>,
    pub phone: &'a E164,
    pub lead_zone: Option<Tz>,
    pub campaign_zone: Option<Tz>,
    pub workspace_zone: Option<Tz>,
    pub calling_hours: &'a CallingHours,
    /// Opted out on the channel being sent on.
    pub opted_out: bool,
    /// On the workspace's do-not-contact list.
    pub do_not_contact: bool,
    /// This lead's earlier attempts, in any order; only the last 24 hours count.
    pub recent_attempts: &'a [DateTime<Utc>],
}

/// The gate's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateDecision {
    Allowed,
    /// Not now; `until` is the earliest instant at which the gate allows the send,
    /// given the same input.
    Deferred {
        until: DateTime<Utc>,
        reason: GateReason,
    },
    /// Never, until the input changes (the lead opts back in, the campaign's hours
    /// change).
    Refused {
        reason: GateReason,
    },
}

impl GateDecision {
    /// `allowed`, `deferred` or `refused`, for storage.
    pub fn as_str(&self) -> &'static str {
        match self {
            GateDecision::Allowed => "allowed",
            GateDecision::Deferred { .. } => "deferred",
            GateDecision::Refused { .. } => "refused",
        }
    }

    pub fn reason(&self) -> Option<&GateReason> {
        match self {
            GateDecision::Allowed => None,
            GateDecision::Deferred { reason, .. } | GateDecision::Refused { reason } => {
                Some(reason)
            }
        }
    }
}

/// `outside 8:00–20:00 in FL (America/New_York) at 21:14 local; next opening
/// 2026-11-23T13:00:00Z`.
impl fmt::Display for GateDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GateDecision::Allowed => f.write_str("allowed"),
            GateDecision::Deferred { until, reason } => {
                write!(
                    f,
                    "{reason}; next opening {}",
                    until.format("%Y-%m-%dT%H:%M:%SZ")
                )
            }
            GateDecision::Refused { reason } => write!(f, "{reason}"),
        }
    }
}

/// Decides whether the send described by `input` may go now.
pub fn decide(input: &GateInput<'_>) -> GateDecision {
    if input.opted_out {
        return GateDecision::Refused {
            reason: GateReason::OptedOut,
        };
    }
    if input.do_not_contact {
        return GateDecision::Refused {
            reason: GateReason::DoNotContact,
        };
    }
    let area = nanp::area_code_info(input.phone);
    let state_name = area.and_then(|area| area.state);
    let rules = Rules {
        state: state_name.and_then(rules::state_rule),
        campaign: input.calling_hours,
    };
    let fallback = [fallback_zone(input)];
    let zones = match (input.lead_zone, area) {
        (None, Some(area)) if !area.zones.is_empty() => area.zones,
        _ => &fallback[..],
    };
    let now = input.now.timestamp();
    let cap = rules
        .state
        .and_then(|rule| cap_release(rule, input.recent_attempts, input.now));
    let from = cap.map_or(now, |cap| cap.release.max(now));
    let limit = now + HORIZON_DAYS * 86_400;
    match search::next_opening(&rules, zones, from, limit) {
        None => GateDecision::Refused { reason: NO_OPENING },
        Some(open) if open == now => GateDecision::Allowed,
        Some(open) => GateDecision::Deferred {
            until: DateTime::from_timestamp(open, 0).unwrap_or(input.now),
            reason: match cap {
                Some(cap) => cap.reason,
                None => window_reason(&rules, zones, state_name, now),
            },
        },
    }
}

const NO_OPENING: GateReason = GateReason::NoOpening {
    days: HORIZON_DAYS as u32,
};

/// The zone when the area code gives none (or the lead's own, which wins over it): the
/// lead's, else the campaign's, else the workspace's, else UTC.
fn fallback_zone(input: &GateInput<'_>) -> Tz {
    input
        .lead_zone
        .or(input.campaign_zone)
        .or(input.workspace_zone)
        .unwrap_or(Tz::UTC)
}

/// When a state's attempt cap is reached: the instant it frees up again.
#[derive(Debug, Clone, Copy)]
struct CapReached {
    release: i64,
    reason: GateReason,
}

/// With the attempts after `t − 24 h` counting at `t`, the count drops below the limit
/// once the limit-th most recent attempt is 24 hours old. Keeps the `limit` most recent
/// attempts in a fixed buffer: no sorting, no allocation.
fn cap_release(
    rule: &StateRule,
    attempts: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> Option<CapReached> {
    let limit = usize::from(rule.max_attempts_per_day?).min(MAX_CAP);
    let window_start = now - TimeDelta::hours(24);
    let mut latest = [window_start; MAX_CAP];
    let mut count = 0u32;
    for &attempt in attempts.iter().filter(|attempt| **attempt > window_start) {
        count += 1;
        // Insert into the descending `latest[..limit]`, dropping the oldest.
        if let Some(slot) = latest[..limit].iter().position(|kept| attempt > *kept) {
            latest.copy_within(slot..limit - 1, slot + 1);
            latest[slot] = attempt;
        }
    }
    if (count as usize) < limit {
        return None;
    }
    let freed = latest[limit - 1] + TimeDelta::hours(24);
    // Round up to a whole second: the search works in seconds and must not open early.
    let release = freed.timestamp() + i64::from(freed.timestamp_subsec_nanos() > 0);
    Some(CapReached {
        release,
        reason: GateReason::FrequencyCap {
            state: rule.state,
            attempts: count,
            limit: limit as u32,
        },
    })
}

/// The rule the first closed zone breaks at `now`.
fn window_reason(
    rules: &Rules<'_>,
    zones: &[Tz],
    state: Option<&'static str>,
    now: i64,
) -> GateReason {
    zones
        .iter()
        .find_map(|&zone| {
            let clock = search::wall_clock(zone, now);
            let broken = rules.broken_at(clock)?;
            let at = RecipientTime {
                state,
                zone,
                local: clock.naive(),
            };
            Some(match broken {
                Broken::StateSunday => GateReason::StateNoSunday { at },
                Broken::StateHoliday(holiday) => GateReason::StateHoliday { at, holiday },
                Broken::Federal => GateReason::FederalQuietHours {
                    at,
                    window: FEDERAL,
                },
                Broken::State(window) => GateReason::StateQuietHours { at, window },
                Broken::Campaign => GateReason::CampaignHours { at },
            })
        })
        .unwrap_or(NO_OPENING)
}

/// The states whose own rules the gate applies.
pub fn states_with_rules() -> impl Iterator<Item = &'static str> {
    rules::states_with_rules()
}
