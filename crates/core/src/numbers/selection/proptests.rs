//! Property tests of `select` against a reference written the slow, obvious way: for
//! every number of the pool, every tier (and part of a tier) it qualifies for, straight
//! from the rules — libphonenumber for calling codes, the area-code table for the NANP —
//! then one sort of all candidates. Over random pools with small caps (so full numbers
//! and ties are common), every health state, two channels, two teams, campaigns,
//! sources and recipients at home and abroad:
//! - the listing is exactly the reference's, and so is the selected number;
//! - the selected number has the capability and can send (never over its cap, never
//!   paused, blocked or excluded) unless it is the reported manual override;
//! - no number that can send qualifies for a tier above the selected one's reason, and
//!   none at all when nothing is selected;
//! - every listed number has the capability and is listed once.

use std::cmp::Reverse;

use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::nanp;
use crate::numbers::HealthState;

/// Area codes and countries to draw from: two CA (US) codes, two NY codes, Ontario,
/// Jamaica, toll-free, and three countries outside the NANP (two- and three-digit
/// calling codes).
const PREFIXES: [&str; 10] = [
    "+1415555", "+1510555", "+1212555", "+1718555", "+1416555", "+1876555", "+1800555", "+4479111",
    "+3361234", "+3538512",
];

fn uuid(n: usize) -> Uuid {
    // Ids out of step with the pool's order, so the id tie-breaker is exercised.
    Uuid::from_u128(((n as u128 * 7919) % 1000) + 1)
}

fn number_id(n: usize) -> PhoneNumberId {
    PhoneNumberId::from(uuid(n))
}

fn channel(n: usize) -> Option<ChannelId> {
    (n > 0).then(|| ChannelId::from(Uuid::from_u128(5000 + n as u128)))
}

fn team(n: usize) -> Option<TeamId> {
    (n > 0).then(|| TeamId::from(Uuid::from_u128(6000 + n as u128)))
}

fn campaign(n: usize) -> CampaignId {
    CampaignId::from(Uuid::from_u128(7000 + n as u128))
}

fn source(n: usize) -> SourceId {
    SourceId::from(Uuid::from_u128(8000 + n as u128))
}

fn phone(prefix: usize, suffix: usize) -> E164 {
    E164::from_trusted(format!("{}{suffix:04}", PREFIXES[prefix]))
}

fn pool_number() -> impl Strategy<Value = PoolNumber> {
    (
        (
            0..PREFIXES.len(),
            any::<(bool, bool)>(),
            0..3usize,
            0..3usize,
        ),
        (0..4u8, 0..4u8, any::<(bool, bool)>()),
        (0..HealthState::ALL.len(), 0..4u8),
        (0..4u32, 0..5u32, 0..3u32, 0..4u32),
        proptest::option::of(0..3i64),
    )
        .prop_map(|(place, hints, health, usage, last_used)| {
            let (prefix, (sms, call), channel_n, team_n) = place;
            let (campaigns, sources, (preferred, is_default)) = hints;
            let (state, score) = health;
            let (sms_cap, sms_used, call_cap, call_used) = usage;
            let state = HealthState::ALL[state];
            PoolNumber {
                id: number_id(0),
                number: phone(prefix, 0),
                display_number: String::new(),
                label: None,
                capabilities: Capabilities { sms, call },
                channel_id: channel(channel_n),
                team_id: team(team_n),
                campaign_ids: (0..2)
                    .filter(|k| campaigns & (1 << k) != 0)
                    .map(campaign)
                    .collect(),
                source_ids: (0..2)
                    .filter(|k| sources & (1 << k) != 0)
                    .map(source)
                    .collect(),
                preferred,
                is_default,
                health: Health {
                    state,
                    label: state.as_str().to_owned(),
                    warning: None,
                    score: f64::from(score) / 4.0,
                    pause: None,
                    block: None,
                },
                sms_cap,
                sms_used,
                call_cap,
                call_used,
                last_used_at: last_used.map(|h| DateTime::UNIX_EPOCH + chrono::TimeDelta::hours(h)),
            }
        })
}

/// Numbers get ids and suffixes by position, so both are unique.
fn pool() -> impl Strategy<Value = Vec<PoolNumber>> {
    proptest::collection::vec(pool_number(), 0..30).prop_map(|mut numbers| {
        for (n, number) in numbers.iter_mut().enumerate() {
            number.id = number_id(n);
            let prefix = PREFIXES
                .iter()
                .position(|p| number.number.as_str().starts_with(p));
            number.number = phone(prefix.unwrap(), n);
        }
        numbers
    })
}

/// Indices up to 35 name numbers of the pool or, past its end, numbers outside it.
fn request() -> impl Strategy<Value = SelectionRequest> {
    let hint = || proptest::option::of(0..35usize);
    (
        (
            any::<bool>(),
            0..3usize,
            proptest::option::of((0..PREFIXES.len(), 0..40usize)),
        ),
        (hint(), hint(), hint()),
        (
            proptest::option::of(0..3usize),
            proptest::option::of(0..3usize),
            0..3usize,
        ),
        (proptest::collection::vec(0..35usize, 0..4), 0..6usize),
    )
        .prop_map(|(what, hints, served, rest)| {
            let (call, channel_n, recipient) = what;
            let (manual_override, sticky, lead_assigned) = hints;
            let (campaign_n, source_n, team_n) = served;
            let (exclude, max_listed) = rest;
            SelectionRequest {
                capability: if call {
                    Capability::Call
                } else {
                    Capability::Sms
                },
                channel_id: channel(channel_n),
                recipient: recipient.map(|(prefix, suffix)| phone(prefix, 9000 + suffix)),
                manual_override: manual_override.map(number_id),
                sticky: sticky.map(number_id),
                lead_assigned: lead_assigned.map(number_id),
                campaign_id: campaign_n.map(campaign),
                source_id: source_n.map(source),
                team_id: team(team_n),
                exclude: exclude.into_iter().map(number_id).collect(),
                max_listed,
            }
        })
}

/// Area code, (country, state) and country of a number, the slow way.
fn whereabouts(number: &E164) -> (Option<u16>, Option<(String, String)>, Option<String>) {
    if number.as_str().starts_with("+1") {
        let info = nanp::area_code_info(number);
        let state = info.and_then(|i| i.state.map(|s| (i.country.to_owned(), s.to_owned())));
        return (
            nanp::area_code(number),
            state,
            info.map(|i| i.country.to_owned()),
        );
    }
    let code = number.parsed().country().code();
    (None, None, Some(format!("+{code}")))
}

fn is_candidate(number: &PoolNumber, request: &SelectionRequest) -> bool {
    number.capabilities.has(request.capability)
        && (request.channel_id.is_none()
            || number.channel_id.is_none()
            || number.channel_id == request.channel_id)
}

fn can_send(number: &PoolNumber, request: &SelectionRequest) -> bool {
    !matches!(
        number.health.state,
        HealthState::Paused | HealthState::Blocked
    ) && number.remaining(request.capability) > 0
        && !request.exclude.contains(&number.id)
}

fn tier_position(reason: SelectionReason) -> usize {
    SelectionReason::ALL
        .iter()
        .position(|r| *r == reason)
        .unwrap()
}

/// Every (tier, part of the tier) a candidate qualifies for.
fn qualifies(number: &PoolNumber, request: &SelectionRequest) -> Vec<(SelectionReason, u8)> {
    use SelectionReason::*;
    let mut tiers = Vec::new();
    let hinted = |hint: Option<PhoneNumberId>| hint == Some(number.id);
    if hinted(request.manual_override) {
        tiers.push((ManualOverride, 0));
    }
    if hinted(request.sticky) {
        tiers.push((StickyConversation, 0));
    }
    if hinted(request.lead_assigned) {
        tiers.push((LeadAssigned, 0));
    }
    let campaign = request
        .campaign_id
        .is_some_and(|c| number.campaign_ids.contains(&c));
    let source = request
        .source_id
        .is_some_and(|s| number.source_ids.contains(&s));
    if campaign || source {
        tiers.push((CampaignOrSource, 0));
    }
    let attention = number.health.state == HealthState::NeedsAttention;
    if !attention {
        if number.preferred && number.team_id.is_some() && number.team_id == request.team_id {
            tiers.push((Preferred, 0));
        }
        if number.preferred && number.team_id.is_none() {
            tiers.push((Preferred, 1));
        }
        if let Some(recipient) = &request.recipient {
            let (area, state, country) = whereabouts(&number.number);
            let (to_area, to_state, to_country) = whereabouts(recipient);
            if area.is_some() && area == to_area {
                tiers.push((LocalArea, 0));
            }
            if state.is_some() && state == to_state {
                tiers.push((LocalArea, 1));
            }
            if country.is_some() && country == to_country {
                tiers.push((LocalArea, 2));
            }
        }
        tiers.push((HealthyPool, 0));
    }
    if attention || number.is_default {
        tiers.push((FallbackDefault, 0));
    }
    tiers
}

/// (index, reason, can send) of the reference listing and selection.
type Listed = (usize, SelectionReason, bool);

fn reference(pool: &NumberPool, request: &SelectionRequest) -> (Vec<Listed>, Option<Listed>) {
    let numbers = pool.numbers();
    let mut ranked: Vec<(usize, (SelectionReason, u8), bool)> = (0..numbers.len())
        .filter(|&i| is_candidate(&numbers[i], request))
        .map(|i| {
            let best = qualifies(&numbers[i], request)
                .into_iter()
                .min_by_key(|(reason, part)| (tier_position(*reason), *part))
                .unwrap();
            (i, best, can_send(&numbers[i], request))
        })
        .collect();
    ranked.sort_by(|a, b| {
        let (x, y) = (&numbers[a.0], &numbers[b.0]);
        let attention = |n: &PoolNumber| n.health.state == HealthState::NeedsAttention;
        (tier_position(a.1.0), a.1.1, !a.2, attention(x))
            .cmp(&(tier_position(b.1.0), b.1.1, !b.2, attention(y)))
            .then(
                Reverse(x.remaining(request.capability))
                    .cmp(&Reverse(y.remaining(request.capability))),
            )
            .then(y.health.score.total_cmp(&x.health.score))
            .then(x.last_used_at.cmp(&y.last_used_at))
            .then(x.id.cmp(&y.id))
    });
    let ranked: Vec<Listed> = ranked
        .into_iter()
        .map(|(i, (reason, _), can)| (i, reason, can))
        .collect();
    let selected = ranked
        .iter()
        .find(|(_, reason, can)| *reason == SelectionReason::ManualOverride || *can)
        .copied();
    let max_listed = if request.max_listed == 0 {
        DEFAULT_MAX_LISTED
    } else {
        request.max_listed
    };
    let mut listed: Vec<Listed> = ranked.into_iter().take(max_listed).collect();
    if let Some(selected) = selected
        && !listed.contains(&selected)
    {
        listed.push(selected);
    }
    (listed, selected)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn selection_agrees_with_the_reference(numbers in pool(), request in request()) {
        let pool = NumberPool::new(numbers);
        let selection = select(&pool, &request);
        let listed: Vec<Listed> = selection
            .candidates
            .iter()
            .map(|c| (c.index, c.reason, c.can_send))
            .collect();
        let selected = selection.selected.as_ref().map(|c| (c.index, c.reason, c.can_send));
        let (expected_listed, expected_selected) = reference(&pool, &request);
        prop_assert_eq!(&listed, &expected_listed);
        prop_assert_eq!(selected, expected_selected);
        let overridden = selected.is_some_and(|s| s.1 == SelectionReason::ManualOverride);
        prop_assert_eq!(selection.manually_overridden, overridden);
        prop_assert_eq!(selection.setup_message.is_some(), selected.is_none());
    }

    #[test]
    fn the_chosen_number_can_send_and_no_higher_tier_could(
        numbers in pool(),
        request in request(),
    ) {
        let pool = NumberPool::new(numbers);
        let selection = select(&pool, &request);
        let numbers = pool.numbers();
        let mut seen = Vec::new();
        for candidate in &selection.candidates {
            prop_assert!(numbers[candidate.index].capabilities.has(request.capability));
            prop_assert!(!seen.contains(&candidate.index), "listed twice");
            seen.push(candidate.index);
            prop_assert_eq!(candidate.can_send, can_send(&numbers[candidate.index], &request));
            if !candidate.can_send {
                prop_assert!(candidate.warning.is_some());
            }
        }
        let sendable_tiers = (0..numbers.len())
            .filter(|&i| is_candidate(&numbers[i], &request) && can_send(&numbers[i], &request))
            .flat_map(|i| qualifies(&numbers[i], &request))
            .map(|(reason, _)| tier_position(reason));
        let best_sendable = sendable_tiers.min();
        match &selection.selected {
            None => prop_assert_eq!(best_sendable, None),
            Some(chosen) if chosen.reason == SelectionReason::ManualOverride => {
                prop_assert!(selection.manually_overridden);
                prop_assert_eq!(Some(numbers[chosen.index].id), request.manual_override);
            }
            Some(chosen) => {
                let number = &numbers[chosen.index];
                prop_assert!(chosen.can_send && selection.can_send());
                prop_assert!(number.capabilities.has(request.capability));
                prop_assert!(number.remaining(request.capability) > 0);
                prop_assert!(number.health.state.can_send());
                prop_assert!(!request.exclude.contains(&number.id));
                prop_assert_eq!(best_sendable, Some(tier_position(chosen.reason)));
            }
        }
    }
}
