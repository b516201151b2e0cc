//! The pool's indexes, built once per snapshot of the stored numbers so that a
//! selection reads only the short lists its tiers name.
//!
//! For each capability there is a ranking of every number that has it — the within-tier
//! order of [`select`](super::select): numbers that can send first, then healthy before
//! Needs Attention, most capacity left, best score, least recently used, id — and lists
//! per key (campaign, source, preferred team, area code, state, country, the rotation,
//! the fallback) holding slots in that ranking's order. A tier is then read off its
//! list front to back, and only a request's exclusions (a handful of numbers found full
//! while reserving) move anything at selection time.
//!
//! The lists exist three times per capability: over every number (requests without a
//! channel), over numbers bound to no channel, and per channel. A request for channel
//! C merges "no channel" with "C", two already sorted lists, instead of skipping the
//! other channels' numbers one by one: a channel with ten numbers in a pool of ten
//! thousand then costs what a pool of ten would.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::ids::{CampaignId, ChannelId, PhoneNumberId, SourceId, TeamId};
use crate::nanp;
use crate::numbers::Capability;
use crate::numbers::health::HealthState;
use crate::phone::E164;

use super::PoolNumber;

/// A number's position in [`NumberPool::numbers`]; `u32` halves the lists' size, and a
/// workspace never holds four billion numbers.
pub(super) type Slot = u32;

/// A state or province, qualified by its country so that codes can never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct StateKey {
    pub country: &'static str,
    pub state: &'static str,
}

/// A country as LocalArea compares it: the ISO region of a NANP area code ("US", "CA",
/// "JM": the +1 countries share a calling code), elsewhere the E.164 calling code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum CountryKey {
    Region(&'static str),
    CallingCode(u16),
}

impl CountryKey {
    /// "US", or "+44" outside the NANP.
    pub fn label(self) -> String {
        match self {
            CountryKey::Region(region) => region.to_owned(),
            CountryKey::CallingCode(code) => format!("+{code}"),
        }
    }
}

/// Where a number is, as far as LocalArea cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Place {
    pub area: Option<u16>,
    pub state: Option<StateKey>,
    pub country: Option<CountryKey>,
}

impl Place {
    /// Read from the canonical digits and the generated area-code table: no
    /// libphonenumber parse, which would cost microseconds per recipient.
    pub fn of(number: &E164) -> Place {
        if let Some(area) = nanp::area_code(number) {
            let info = nanp::area_code_info(number);
            return Place {
                area: Some(area),
                state: info.and_then(|info| {
                    info.state.map(|state| StateKey {
                        country: info.country,
                        state,
                    })
                }),
                country: info.map(|info| CountryKey::Region(info.country)),
            };
        }
        Place {
            area: None,
            state: None,
            country: calling_code(number).map(CountryKey::CallingCode),
        }
    }
}

/// The two-digit country calling codes (ITU-T E.164 assignments). Calling codes are
/// prefix-free: a number starting with 1 or 7 has a one-digit code, one starting with
/// one of these has a two-digit code, and every other number a three-digit code.
const TWO_DIGIT_CODES: [u16; 44] = [
    20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56,
    57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
];

/// The country calling code of an E.164 number, from its leading digits.
pub(super) fn calling_code(number: &E164) -> Option<u16> {
    let digits = number.as_str().strip_prefix('+')?.as_bytes();
    let digit = |at: usize| digits.get(at).map(|d| u16::from(d.wrapping_sub(b'0')));
    let first = digit(0)?;
    if first == 1 || first == 7 {
        return Some(first);
    }
    let two = first * 10 + digit(1)?;
    if TWO_DIGIT_CODES.contains(&two) {
        return Some(two);
    }
    Some(two * 10 + digit(2)?)
}

/// The lists of one set of numbers (all, unbound, or one channel's), each in ranking
/// order. Needs Attention numbers are only in the explicit lists (campaign, source) and
/// the fallback: the rotation tiers leave them out.
#[derive(Debug, Clone, Default)]
pub(super) struct Lists {
    pub campaign: HashMap<CampaignId, Vec<Slot>>,
    pub source: HashMap<SourceId, Vec<Slot>>,
    pub preferred_by_team: HashMap<TeamId, Vec<Slot>>,
    pub preferred_workspace: Vec<Slot>,
    pub area: HashMap<u16, Vec<Slot>>,
    pub state: HashMap<StateKey, Vec<Slot>>,
    pub country: HashMap<CountryKey, Vec<Slot>>,
    /// Every number but the Needs Attention ones: the HealthyPool tier.
    pub rotation: Vec<Slot>,
    /// Default and Needs Attention numbers: the FallbackDefault tier.
    pub fallback: Vec<Slot>,
}

/// Appends unless the slot is already last: a number that names a campaign twice is
/// still listed once.
fn push(list: &mut Vec<Slot>, slot: Slot) {
    if list.last() != Some(&slot) {
        list.push(slot);
    }
}

impl Lists {
    /// Adds one number; called in ranking order, so every list stays sorted.
    fn add(&mut self, slot: Slot, number: &PoolNumber, place: &Place) {
        for campaign in &number.campaign_ids {
            push(self.campaign.entry(*campaign).or_default(), slot);
        }
        for source in &number.source_ids {
            push(self.source.entry(*source).or_default(), slot);
        }
        let needs_attention = number.health.state == HealthState::NeedsAttention;
        if needs_attention || number.is_default {
            self.fallback.push(slot);
        }
        if needs_attention {
            return;
        }
        if number.preferred {
            match number.team_id {
                Some(team) => self.preferred_by_team.entry(team).or_default().push(slot),
                None => self.preferred_workspace.push(slot),
            }
        }
        if let Some(area) = place.area {
            self.area.entry(area).or_default().push(slot);
        }
        if let Some(state) = place.state {
            self.state.entry(state).or_default().push(slot);
        }
        if let Some(country) = place.country {
            self.country.entry(country).or_default().push(slot);
        }
        self.rotation.push(slot);
    }
}

/// Everything selection needs for one capability.
#[derive(Debug, Clone, Default)]
pub(super) struct Ranking {
    /// Each number's position in the ranking; `Slot::MAX` without the capability.
    pub rank: Vec<u32>,
    /// Each number's position in the ranking that ignores whether it can send: how
    /// numbers that cannot send order among themselves, excluded ones included.
    pub tail_rank: Vec<u32>,
    /// Health lets the number send and it has capacity left today (exclusions aside).
    pub sendable: Vec<bool>,
    pub all: Lists,
    pub unbound: Lists,
    pub by_channel: HashMap<ChannelId, Lists>,
}

/// The within-tier order after "can send": healthy before Needs Attention, most
/// capacity left, best score, least recently used (never used first), id.
fn tail_order(a: &PoolNumber, b: &PoolNumber, capability: Capability) -> Ordering {
    let attention = |n: &PoolNumber| n.health.state == HealthState::NeedsAttention;
    attention(a)
        .cmp(&attention(b))
        .then_with(|| b.remaining(capability).cmp(&a.remaining(capability)))
        .then_with(|| b.health.score.total_cmp(&a.health.score))
        .then_with(|| a.last_used_at.cmp(&b.last_used_at))
        .then_with(|| a.id.cmp(&b.id))
}

impl Ranking {
    fn build(numbers: &[PoolNumber], places: &[Place], capability: Capability) -> Self {
        let mut order: Vec<Slot> = (0..numbers.len() as Slot)
            .filter(|&slot| numbers[slot as usize].capabilities.has(capability))
            .collect();
        order.sort_by(|&a, &b| tail_order(&numbers[a as usize], &numbers[b as usize], capability));
        let mut ranking = Ranking {
            rank: vec![Slot::MAX; numbers.len()],
            tail_rank: vec![Slot::MAX; numbers.len()],
            sendable: numbers
                .iter()
                .map(|n| n.health.can_send() && n.remaining(capability) > 0)
                .collect(),
            ..Ranking::default()
        };
        for (position, &slot) in order.iter().enumerate() {
            ranking.tail_rank[slot as usize] = position as u32;
        }
        // A stable partition of the tail order: the numbers that can send, then the rest.
        let sendable = &ranking.sendable;
        order.sort_by_key(|&slot| !sendable[slot as usize]);
        for (position, &slot) in order.iter().enumerate() {
            let number = &numbers[slot as usize];
            let place = &places[slot as usize];
            ranking.rank[slot as usize] = position as u32;
            ranking.all.add(slot, number, place);
            let bucket = match number.channel_id {
                Some(channel) => ranking.by_channel.entry(channel).or_default(),
                None => &mut ranking.unbound,
            };
            bucket.add(slot, number, place);
        }
        ranking
    }
}

/// The numbers of one workspace, indexed for selection.
#[derive(Debug, Clone, Default)]
pub struct NumberPool {
    numbers: Vec<PoolNumber>,
    by_id: HashMap<PhoneNumberId, Slot>,
    places: Vec<Place>,
    sms: Ranking,
    call: Ranking,
}

impl NumberPool {
    /// Builds every index: O(n log n) once per snapshot, so that each selection reads
    /// only what it lists.
    pub fn new(numbers: Vec<PoolNumber>) -> Self {
        let by_id = numbers
            .iter()
            .enumerate()
            .map(|(slot, number)| (number.id, slot as Slot))
            .collect();
        let places: Vec<Place> = numbers.iter().map(|n| Place::of(&n.number)).collect();
        let sms = Ranking::build(&numbers, &places, Capability::Sms);
        let call = Ranking::build(&numbers, &places, Capability::Call);
        Self {
            numbers,
            by_id,
            places,
            sms,
            call,
        }
    }

    pub fn numbers(&self) -> &[PoolNumber] {
        &self.numbers
    }

    pub fn get(&self, id: PhoneNumberId) -> Option<&PoolNumber> {
        self.index_of(id).map(|index| &self.numbers[index])
    }

    /// The position of a number in [`numbers`](Self::numbers), as in
    /// [`Candidate::index`](super::Candidate::index).
    pub fn index_of(&self, id: PhoneNumberId) -> Option<usize> {
        self.by_id.get(&id).map(|slot| *slot as usize)
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    pub(super) fn slot_of(&self, id: PhoneNumberId) -> Option<Slot> {
        self.by_id.get(&id).copied()
    }

    pub(super) fn number(&self, slot: Slot) -> &PoolNumber {
        &self.numbers[slot as usize]
    }

    pub(super) fn place(&self, slot: Slot) -> &Place {
        &self.places[slot as usize]
    }

    pub(super) fn ranking(&self, capability: Capability) -> &Ranking {
        match capability {
            Capability::Sms => &self.sms,
            Capability::Call => &self.call,
        }
    }
}
