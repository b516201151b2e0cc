//! Which number a send goes out from: tiers tried in order, the first number that can
//! send wins. A [`NumberPool`] is built once from the stored numbers (with indexes by
//! id, area code, state, country, campaign, source and team) so that one selection
//! over ten thousand numbers touches only the few it lists.
//!
//! The tiers, their order and their labels are written up for operators in
//! docs/NUMBERS.md; [`select`] says the rules precisely. `pool` holds the indexes,
//! `walk` one selection's way through them.

mod pool;
mod walk;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};

use super::Capabilities;
use super::health::Health;
use crate::ids::{CampaignId, ChannelId, PhoneNumberId, SourceId, TeamId};
use crate::phone::E164;

use super::Capability;
use walk::{Step, Walk};

pub use pool::NumberPool;

/// How many candidates a request with `max_listed: 0` lists.
pub const DEFAULT_MAX_LISTED: usize = 25;

wire_enum! {
    /// Why a number qualifies, in tier order: the first tier with a number that can
    /// send wins.
    pub enum SelectionReason {
        ManualOverride = "ManualOverride",
        StickyConversation = "StickyConversation",
        LeadAssigned = "LeadAssigned",
        CampaignOrSource = "CampaignOrSource",
        Preferred = "Preferred",
        LocalArea = "LocalArea",
        HealthyPool = "HealthyPool",
        FallbackDefault = "FallbackDefault",
    }
}

/// One number as selection sees it: what it is, what it serves, and where it stands
/// today.
#[derive(Debug, Clone)]
pub struct PoolNumber {
    pub id: PhoneNumberId,
    pub number: E164,
    pub display_number: String,
    pub label: Option<String>,
    pub capabilities: Capabilities,
    /// The channel the number sends through; `None`: any channel of a matching type.
    pub channel_id: Option<ChannelId>,
    pub team_id: Option<TeamId>,
    pub campaign_ids: Vec<CampaignId>,
    pub source_ids: Vec<SourceId>,
    pub preferred: bool,
    pub is_default: bool,
    pub health: Health,
    /// Today's SMS cap and usage.
    pub sms_cap: u32,
    pub sms_used: u32,
    /// Today's call cap and usage.
    pub call_cap: u32,
    pub call_used: u32,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl PoolNumber {
    /// Sends of `capability` left today.
    pub fn remaining(&self, capability: Capability) -> u32 {
        match capability {
            Capability::Sms => self.sms_cap.saturating_sub(self.sms_used),
            Capability::Call => self.call_cap.saturating_sub(self.call_used),
        }
    }
}

/// What is known about the send a number is chosen for. The caller resolves the
/// hints: `sticky` is the conversation's last number, else the number that reached
/// this recipient within the workspace's sticky window; `lead_assigned` is the number
/// assigned to the lead's contact.
#[derive(Debug, Clone, Default)]
pub struct SelectionRequest {
    pub capability: Capability,
    /// Only numbers of this channel (or bound to no channel) are candidates.
    pub channel_id: Option<ChannelId>,
    pub recipient: Option<E164>,
    pub manual_override: Option<PhoneNumberId>,
    pub sticky: Option<PhoneNumberId>,
    pub lead_assigned: Option<PhoneNumberId>,
    pub campaign_id: Option<CampaignId>,
    pub source_id: Option<SourceId>,
    pub team_id: Option<TeamId>,
    /// Numbers to treat as unable to send (found full while reserving).
    pub exclude: Vec<PhoneNumberId>,
    /// How many candidates to list at most (the selected one is always listed).
    pub max_listed: usize,
}

/// One listed candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Index of the number in [`NumberPool::numbers`].
    pub index: usize,
    pub reason: SelectionReason,
    /// A human label of the reason: "Same area code (415)", …
    pub reason_label: String,
    pub can_send: bool,
    /// Why the number cannot send, or what is wrong with it.
    pub warning: Option<String>,
}

/// The answer: the chosen number (if any) and every listed candidate, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// The chosen candidate. With a manual override that cannot send, the override is
    /// reported here with `can_send: false` rather than replaced.
    pub selected: Option<Candidate>,
    pub candidates: Vec<Candidate>,
    pub manually_overridden: bool,
    /// Set when no number can send at all: how to fix it.
    pub setup_message: Option<String>,
}

impl Selection {
    pub fn can_send(&self) -> bool {
        self.selected
            .as_ref()
            .is_some_and(|selected| selected.can_send)
    }
}

/// Chooses the number for one send.
///
/// A candidate has the requested capability and serves the request's channel (or is
/// bound to none); no other number is ever listed. It can send when its health allows
/// (not Paused or Blocked), it has capacity left today for the capability, and the
/// request does not exclude it. The tiers, first to last:
///
/// 1. ManualOverride, StickyConversation, LeadAssigned: the request's hints.
/// 2. CampaignOrSource: numbers serving the request's campaign or source.
/// 3. Preferred: preferred numbers of the request's team, then preferred numbers of no
///    team (the workspace's).
/// 4. LocalArea: the recipient's area code, then its state, then its country.
/// 5. HealthyPool: every candidate.
/// 6. FallbackDefault: default numbers, and Needs Attention numbers — which the
///    explicit tiers (1, 2) keep, but the rotation tiers (3–5) leave to this one.
///
/// Each number is listed once, under its first tier (and first part of it: the team
/// before the workspace, the area code before the state before the country). Within
/// one, numbers that can send come first, then healthy before Needs Attention, then
/// most capacity left for the capability, best health score, least recently used
/// (never used first) and id. The first listed number that can send is selected —
/// except a manual override, which is selected even when it cannot send, so that the
/// person who chose it sees why instead of getting another number. At most
/// `max_listed` candidates are listed (0: [`DEFAULT_MAX_LISTED`]), plus the selected
/// one when it ranks further down.
///
/// The walk reads the pool's per-tier lists in their precomputed order and stops once
/// the listing is full and a number is selected: its cost grows with `max_listed`,
/// the request's exclusions and the number of tiers, not with the pool.
pub fn select(pool: &NumberPool, request: &SelectionRequest) -> Selection {
    let walk = Walk::new(pool, request);
    let max_listed = match request.max_listed {
        0 => DEFAULT_MAX_LISTED,
        max => max,
    };
    let mut candidates: Vec<Candidate> = Vec::with_capacity(max_listed.min(64) + 1);
    let mut selected: Option<Candidate> = None;
    // Two modes. While the listing has room, every number a step yields that belongs to
    // it is listed. Once it is full and nothing is selected yet, only the search goes
    // on: each step yields the numbers that can send first, so its first one that can
    // send is the answer and its first one that cannot ends the step. Numbers of earlier
    // steps met again are skipped; while listing they are all listed already, and while
    // searching they are ones that cannot send, so either way there are few of them.
    'steps: for step in Step::ALL {
        if candidates.len() >= max_listed && selected.is_some() {
            break;
        }
        let mut numbers = walk.step(step);
        while let Some((slot, can_send)) = numbers.next(&walk) {
            if candidates.len() < max_listed {
                if walk.first_step(slot) != step {
                    continue;
                }
                let candidate = walk.candidate(slot, step, can_send);
                if selected.is_none() && (can_send || step == Step::ManualOverride) {
                    selected = Some(candidate.clone());
                }
                candidates.push(candidate);
            } else if selected.is_some() {
                break 'steps;
            } else if !can_send {
                // The listing is full and this step has no number left that can send.
                continue 'steps;
            } else if walk.first_step(slot) == step {
                let candidate = walk.candidate(slot, step, true);
                selected = Some(candidate.clone());
                candidates.push(candidate);
                break 'steps;
            }
        }
    }
    let setup_message = match (&selected, candidates.is_empty()) {
        (Some(_), _) => None,
        (None, true) => Some(no_candidate_message(request)),
        (None, false) => Some(nothing_can_send_message(request.capability)),
    };
    Selection {
        selected,
        candidates,
        manually_overridden: walk.manual_override.is_some(),
        setup_message,
    }
}

/// What a number of the capability does: "can send SMS", "can place calls".
fn can_do(capability: Capability) -> &'static str {
    match capability {
        Capability::Sms => "send SMS",
        Capability::Call => "place calls",
    }
}

fn no_candidate_message(request: &SelectionRequest) -> String {
    let capability = request.capability;
    let can = can_do(capability);
    let wire = capability.as_str();
    match request.channel_id {
        None => format!(
            "No phone number can {can} yet: add one with POST /api/v1/phone-numbers \
             (capabilities: {wire})"
        ),
        Some(channel) => format!(
            "No phone number of channel {channel} can {can} yet: add one with \
             POST /api/v1/phone-numbers (capabilities: {wire}, channelId: {channel}), \
             or one bound to no channel"
        ),
    }
}

fn nothing_can_send_message(capability: Capability) -> String {
    let can = can_do(capability);
    format!(
        "No phone number can {can} right now: every candidate is paused, blocked or at its \
         daily cap (see each candidate's warning). Daily caps reset at midnight in the \
         workspace's time zone; resume a paused number with \
         POST /api/v1/phone-numbers/{{id}}/resume, or add one with POST /api/v1/phone-numbers"
    )
}
