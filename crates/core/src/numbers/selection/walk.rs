//! One selection's walk through the pool's lists: the steps (tiers, with Preferred and
//! LocalArea split into their ordered parts), which step a number belongs to, each
//! step's numbers in order, and the listed form of a number.

use crate::numbers::Capability;
use crate::numbers::health::HealthState;

use super::pool::{Lists, NumberPool, Place, Ranking, Slot};
use super::{Candidate, SelectionReason, SelectionRequest};

/// The parts of the tiers, in the order they are tried. Preferred lists the team's
/// numbers before the workspace's; LocalArea the same area code, then the same state,
/// then the same country. Each part lists its numbers that can send first, so the
/// order of parts comes before "can send" within a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    ManualOverride,
    Sticky,
    LeadAssigned,
    CampaignOrSource,
    PreferredByTeam,
    PreferredForWorkspace,
    SameAreaCode,
    SameState,
    SameCountry,
    HealthyPool,
    Fallback,
}

impl Step {
    pub const ALL: [Step; 11] = [
        Step::ManualOverride,
        Step::Sticky,
        Step::LeadAssigned,
        Step::CampaignOrSource,
        Step::PreferredByTeam,
        Step::PreferredForWorkspace,
        Step::SameAreaCode,
        Step::SameState,
        Step::SameCountry,
        Step::HealthyPool,
        Step::Fallback,
    ];

    pub fn reason(self) -> SelectionReason {
        match self {
            Step::ManualOverride => SelectionReason::ManualOverride,
            Step::Sticky => SelectionReason::StickyConversation,
            Step::LeadAssigned => SelectionReason::LeadAssigned,
            Step::CampaignOrSource => SelectionReason::CampaignOrSource,
            Step::PreferredByTeam | Step::PreferredForWorkspace => SelectionReason::Preferred,
            Step::SameAreaCode | Step::SameState | Step::SameCountry => SelectionReason::LocalArea,
            Step::HealthyPool => SelectionReason::HealthyPool,
            Step::Fallback => SelectionReason::FallbackDefault,
        }
    }
}

/// A request resolved against a pool: the ranking of its capability, the hints as
/// slots (dropped when they are not candidates), and where the recipient is.
pub(super) struct Walk<'a> {
    pool: &'a NumberPool,
    request: &'a SelectionRequest,
    ranking: &'a Ranking,
    recipient: Place,
    pub manual_override: Option<Slot>,
    sticky: Option<Slot>,
    lead_assigned: Option<Slot>,
}

impl<'a> Walk<'a> {
    pub fn new(pool: &'a NumberPool, request: &'a SelectionRequest) -> Self {
        let mut walk = Walk {
            pool,
            request,
            ranking: pool.ranking(request.capability),
            recipient: request
                .recipient
                .as_ref()
                .map(Place::of)
                .unwrap_or_default(),
            manual_override: None,
            sticky: None,
            lead_assigned: None,
        };
        let resolve = |id| pool.slot_of(id).filter(|&slot| walk.is_candidate(slot));
        let hints = (
            request.manual_override.and_then(resolve),
            request.sticky.and_then(resolve),
            request.lead_assigned.and_then(resolve),
        );
        (walk.manual_override, walk.sticky, walk.lead_assigned) = hints;
        walk
    }

    /// Has the capability and serves the request's channel.
    fn is_candidate(&self, slot: Slot) -> bool {
        let number = self.pool.number(slot);
        number.capabilities.has(self.request.capability)
            && match (self.request.channel_id, number.channel_id) {
                (Some(wanted), Some(channel)) => wanted == channel,
                _ => true,
            }
    }

    /// Can send now: health and today's capacity allow it and it is not excluded.
    pub fn can_send(&self, slot: Slot) -> bool {
        self.ranking.sendable[slot as usize]
            && !self.request.exclude.contains(&self.pool.number(slot).id)
    }

    /// The first step a candidate qualifies for: where it is listed.
    pub fn first_step(&self, slot: Slot) -> Step {
        let request = self.request;
        let number = self.pool.number(slot);
        if self.manual_override == Some(slot) {
            return Step::ManualOverride;
        }
        if self.sticky == Some(slot) {
            return Step::Sticky;
        }
        if self.lead_assigned == Some(slot) {
            return Step::LeadAssigned;
        }
        let serves_campaign = request
            .campaign_id
            .is_some_and(|campaign| number.campaign_ids.contains(&campaign));
        let serves_source = request
            .source_id
            .is_some_and(|source| number.source_ids.contains(&source));
        if serves_campaign || serves_source {
            return Step::CampaignOrSource;
        }
        if number.health.state == HealthState::NeedsAttention {
            return Step::Fallback;
        }
        if number.preferred {
            match number.team_id {
                None => return Step::PreferredForWorkspace,
                Some(team) if request.team_id == Some(team) => return Step::PreferredByTeam,
                Some(_) => {}
            }
        }
        let place = self.pool.place(slot);
        let recipient = &self.recipient;
        if recipient.area.is_some() && place.area == recipient.area {
            Step::SameAreaCode
        } else if recipient.state.is_some() && place.state == recipient.state {
            Step::SameState
        } else if recipient.country.is_some() && place.country == recipient.country {
            Step::SameCountry
        } else {
            Step::HealthyPool
        }
    }

    /// The numbers of one step, in ranking order (numbers of earlier steps included:
    /// the caller skips them), adjusted for the request's exclusions.
    pub fn step(&self, step: Step) -> StepWalk<'_> {
        let single = match step {
            Step::ManualOverride => Some(self.manual_override.as_slice()),
            Step::Sticky => Some(self.sticky.as_slice()),
            Step::LeadAssigned => Some(self.lead_assigned.as_slice()),
            _ => None,
        };
        let mut merged = Merged {
            heads: [&[]; 4],
            len: 0,
            rank: &self.ranking.rank,
        };
        if let Some(single) = single {
            merged.push(Some(single));
        } else {
            let (first, second) = match self.request.channel_id {
                None => (&self.ranking.all, None),
                Some(channel) => (&self.ranking.unbound, self.ranking.by_channel.get(&channel)),
            };
            for lists in std::iter::once(first).chain(second) {
                self.push_lists(&mut merged, lists, step);
            }
        }
        StepWalk {
            merged,
            peeked: None,
            deferred: Vec::new(),
            next_deferred: 0,
        }
    }

    fn push_lists<'b>(&'b self, merged: &mut Merged<'b>, lists: &'b Lists, step: Step) {
        let request = self.request;
        let recipient = &self.recipient;
        match step {
            Step::CampaignOrSource => {
                merged.push(request.campaign_id.and_then(|id| lists.campaign.get(&id)));
                merged.push(request.source_id.and_then(|id| lists.source.get(&id)));
            }
            Step::PreferredByTeam => {
                merged.push(
                    request
                        .team_id
                        .and_then(|team| lists.preferred_by_team.get(&team)),
                );
            }
            Step::PreferredForWorkspace => merged.push(Some(&lists.preferred_workspace)),
            Step::SameAreaCode => merged.push(recipient.area.and_then(|a| lists.area.get(&a))),
            Step::SameState => merged.push(recipient.state.and_then(|s| lists.state.get(&s))),
            Step::SameCountry => {
                merged.push(recipient.country.and_then(|c| lists.country.get(&c)));
            }
            Step::HealthyPool => merged.push(Some(&lists.rotation)),
            Step::Fallback => merged.push(Some(&lists.fallback)),
            Step::ManualOverride | Step::Sticky | Step::LeadAssigned => {}
        }
    }

    /// The listed form of a candidate of `step`.
    pub fn candidate(&self, slot: Slot, step: Step, can_send: bool) -> Candidate {
        Candidate {
            index: slot as usize,
            reason: step.reason(),
            reason_label: self.reason_label(slot, step),
            can_send,
            warning: self.warning(slot, can_send),
        }
    }

    fn reason_label(&self, slot: Slot, step: Step) -> String {
        let number = self.pool.number(slot);
        let place = self.pool.place(slot);
        match step {
            Step::ManualOverride => "Chosen by hand for this conversation".into(),
            Step::Sticky => "Last used with this recipient".into(),
            Step::LeadAssigned => "Assigned to this lead".into(),
            Step::CampaignOrSource => {
                let campaign = self.request.campaign_id;
                if campaign.is_some_and(|c| number.campaign_ids.contains(&c)) {
                    "Serves this campaign".into()
                } else {
                    "Serves this source".into()
                }
            }
            Step::PreferredByTeam => "Preferred by the team".into(),
            Step::PreferredForWorkspace => "Preferred for the workspace".into(),
            Step::SameAreaCode => format!("Same area code ({})", place.area.unwrap_or_default()),
            Step::SameState => {
                let state = place.state.map_or("", |key| key.state);
                format!("Same state ({state})")
            }
            Step::SameCountry => {
                let country = place.country.map(|key| key.label()).unwrap_or_default();
                format!("Same country ({country})")
            }
            Step::HealthyPool => "Most capacity left in the pool".into(),
            Step::Fallback if number.health.state == HealthState::NeedsAttention => {
                "Needs attention: used only when no healthy number can send".into()
            }
            Step::Fallback => "Workspace default number".into(),
        }
    }

    /// Why the number cannot send, in the order a person would fix it: a hold, then
    /// today's cap, then a reservation that found it full. A number that can send
    /// carries its health warning (Needs Attention).
    fn warning(&self, slot: Slot, can_send: bool) -> Option<String> {
        let number = self.pool.number(slot);
        let health = &number.health;
        if can_send {
            return health.warning.clone();
        }
        if !health.can_send() {
            return Some(
                health
                    .warning
                    .clone()
                    .unwrap_or_else(|| health.label.clone()),
            );
        }
        let capability = self.request.capability;
        if number.remaining(capability) == 0 {
            let (what, cap, used) = match capability {
                Capability::Sms => ("SMS", number.sms_cap, number.sms_used),
                Capability::Call => ("call", number.call_cap, number.call_used),
            };
            return Some(format!(
                "Daily {what} cap reached: {used} of {cap} used today"
            ));
        }
        Some("Skipped: it filled up while this send was being reserved".into())
    }
}

/// Up to four lists sorted by rank, read as one sorted list without repeats (a number
/// can serve both the campaign and the source).
pub(super) struct Merged<'a> {
    heads: [&'a [Slot]; 4],
    len: usize,
    rank: &'a [u32],
}

impl<'a> Merged<'a> {
    fn push<L: AsRef<[Slot]> + ?Sized>(&mut self, list: Option<&'a L>) {
        let list = list.map_or(&[][..], AsRef::as_ref);
        if !list.is_empty() {
            self.heads[self.len] = list;
            self.len += 1;
        }
    }
}

impl Iterator for Merged<'_> {
    type Item = Slot;

    fn next(&mut self) -> Option<Slot> {
        let heads = &mut self.heads[..self.len];
        if let [only] = heads {
            let (&first, rest) = only.split_first()?;
            *only = rest;
            return Some(first);
        }
        let best = heads
            .iter()
            .filter_map(|head| head.first())
            .min_by_key(|&&slot| self.rank[slot as usize])
            .copied()?;
        for head in heads.iter_mut() {
            if head.first() == Some(&best) {
                *head = &head[1..];
            }
        }
        Some(best)
    }
}

/// One step's numbers in the order they are listed, with whether each can send. The
/// lists hold the numbers that can send first; a request's excluded numbers are among
/// them, so they are held back and merged into the rest by the ranking that ignores
/// sendability. There are only ever a handful of them.
pub(super) struct StepWalk<'a> {
    merged: Merged<'a>,
    peeked: Option<Slot>,
    deferred: Vec<Slot>,
    next_deferred: usize,
}

impl StepWalk<'_> {
    pub fn next(&mut self, walk: &Walk<'_>) -> Option<(Slot, bool)> {
        loop {
            let Some(slot) = self.peeked.take().or_else(|| self.merged.next()) else {
                return self.take_deferred().map(|slot| (slot, false));
            };
            if walk.ranking.sendable[slot as usize] {
                if walk.can_send(slot) {
                    return Some((slot, true));
                }
                self.deferred.push(slot);
                continue;
            }
            let tail_rank = &walk.ranking.tail_rank;
            if let Some(&held) = self.deferred.get(self.next_deferred)
                && tail_rank[held as usize] < tail_rank[slot as usize]
            {
                self.peeked = Some(slot);
                self.next_deferred += 1;
                return Some((held, false));
            }
            return Some((slot, false));
        }
    }

    fn take_deferred(&mut self) -> Option<Slot> {
        let held = self.deferred.get(self.next_deferred).copied()?;
        self.next_deferred += 1;
        Some(held)
    }
}
