//! Time per outgoing-number selection over a pool of 10,000 numbers: US area codes of
//! every state, mixed capabilities and channels, campaigns, sources, teams, preferred
//! and default numbers, some paused, blocked, full or needing attention, varied usage
//! and last use. 100,000 prior conversations map a recipient to the number that last
//! reached them; each selection takes the next recipient of a varied list (some with a
//! prior conversation, so with a sticky hint, some new, some in Canada or abroad; some
//! with a campaign, a source, a team, a channel, an exclusion, or asking for a call),
//! resolves the sticky hint from that map, builds the request and selects with
//! `max_listed` 25.
//!
//! `cargo bench -p leadline-core --bench selection`; the `median` of `select_varied`
//! is the time of one selection, the rest included (hint lookup, request building).

use std::cell::Cell;
use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use leadline_core::ids::{CampaignId, ChannelId, PhoneNumberId, SourceId, TeamId};
use leadline_core::nanp;
use leadline_core::numbers::{
    Capabilities, Capability, Health, HealthState, NumberPool, PoolNumber, SelectionRequest, select,
};
use leadline_core::phone::E164;
use uuid::Uuid;

const POOL_SIZE: usize = 10_000;
const CONVERSATIONS: usize = 100_000;
const REQUESTS: usize = 4096;

/// Ids from a counter in a range of their own per kind, so runs are reproducible.
fn uuid(kind: u128, n: usize) -> Uuid {
    Uuid::from_u128((kind << 64) | n as u128)
}

/// Every US area code the numbering plan places in a state.
fn us_area_codes() -> Vec<u16> {
    (201..=989)
        .filter(|npa| {
            let probe = E164::from_trusted(format!("+1{npa}5550100"));
            nanp::area_code_info(&probe).is_some_and(|info| info.country == "US")
        })
        .collect()
}

/// A distinct +1 number for each `n`: the area code cycles fastest.
fn us_number(codes: &[u16], n: usize) -> E164 {
    let area = codes[n % codes.len()];
    let exchange = 200 + (n / codes.len()) % 700;
    let line = (n / codes.len() / 700) % 10_000;
    E164::from_trusted(format!("+1{area}{exchange:03}{line:04}"))
}

/// Every 37th number is paused, every 101st blocked, … the rest healthy.
const HEALTH_MIX: [(usize, HealthState, Option<&str>); 5] = [
    (
        37,
        HealthState::Paused,
        Some("Paused by a person: complaint"),
    ),
    (101, HealthState::Blocked, Some("Blocked: carrier block")),
    (23, HealthState::NeedsAttention, Some("Delivery at 85.0 %")),
    (13, HealthState::Warming, None),
    (19, HealthState::Ready, None),
];

fn health(i: usize) -> Health {
    let (state, warning) = HEALTH_MIX
        .iter()
        .find(|(every, ..)| i.is_multiple_of(*every))
        .map_or((HealthState::Healthy, None), |(_, state, warning)| {
            (*state, *warning)
        });
    Health {
        state,
        label: state.as_str().to_owned(),
        warning: warning.map(str::to_owned),
        score: 0.6 + (i % 41) as f64 / 100.0,
        pause: None,
        block: None,
    }
}

fn pool(codes: &[u16]) -> NumberPool {
    let epoch: DateTime<Utc> = "2026-11-20T00:00:00Z".parse().unwrap();
    let numbers = (0..POOL_SIZE)
        .map(|i| {
            let number = us_number(codes, i * 7);
            let sms_cap = if i % 13 == 0 { 250 } else { 3000 };
            PoolNumber {
                id: PhoneNumberId::from(uuid(1, i)),
                display_number: number.to_string(),
                number,
                label: None,
                capabilities: Capabilities {
                    sms: i % 10 != 0,
                    call: i % 10 != 1,
                },
                channel_id: match i % 4 {
                    0 | 1 => None,
                    channel => Some(ChannelId::from(uuid(2, channel))),
                },
                team_id: (i % 10 < 3).then(|| TeamId::from(uuid(3, i % 5))),
                campaign_ids: if i % 3 == 0 {
                    vec![CampaignId::from(uuid(4, (i / 3) % 50))]
                } else {
                    Vec::new()
                },
                source_ids: if i % 7 == 0 {
                    vec![SourceId::from(uuid(5, i % 20))]
                } else {
                    Vec::new()
                },
                // Preferred by their team (i % 10 < 3); none workspace-wide, which would
                // take every new recipient away from LocalArea.
                preferred: i % 50 == 1 || i % 50 == 12,
                is_default: i < 2,
                health: health(i),
                sms_cap,
                sms_used: if i % 17 == 0 {
                    sms_cap
                } else {
                    (i * 7919 % sms_cap as usize) as u32
                },
                call_cap: 250,
                call_used: if i % 29 == 0 { 250 } else { (i % 250) as u32 },
                last_used_at: (i % 11 != 0)
                    .then(|| epoch + TimeDelta::seconds((i * 31 % 86_400) as i64)),
            }
        })
        .collect();
    NumberPool::new(numbers)
}

/// Recipient → the number that last reached them.
fn conversations(codes: &[u16], pool: &NumberPool) -> HashMap<E164, PhoneNumberId> {
    (0..CONVERSATIONS)
        .map(|k| {
            let recipient = us_number(codes, 1_000_000 + k * 13);
            (recipient, pool.numbers()[k * 7 % POOL_SIZE].id)
        })
        .collect()
}

/// One recipient of the mix with what the caller knows about the send.
struct Send {
    recipient: E164,
    capability: Capability,
    channel_id: Option<ChannelId>,
    campaign_id: Option<CampaignId>,
    source_id: Option<SourceId>,
    team_id: Option<TeamId>,
    exclude: Vec<PhoneNumberId>,
}

fn sends(codes: &[u16]) -> Vec<Send> {
    (0..REQUESTS)
        .map(|i| {
            let recipient = match i % 10 {
                // Half have a prior conversation (sticky), the rest are new.
                0..=4 => us_number(codes, 1_000_000 + (i * 24_421 % CONVERSATIONS) * 13),
                5..=7 => us_number(codes, 5_000_000 + i * 13),
                8 => E164::from_trusted(format!("+1416555{:04}", i)),
                _ => E164::from_trusted(format!("+4479111{:05}", i)),
            };
            Send {
                recipient,
                capability: if i % 5 == 0 {
                    Capability::Call
                } else {
                    Capability::Sms
                },
                channel_id: (i % 3 == 0).then(|| ChannelId::from(uuid(2, 2 + i % 2))),
                campaign_id: (i % 3 == 1).then(|| CampaignId::from(uuid(4, i % 60))),
                source_id: (i % 8 == 0).then(|| SourceId::from(uuid(5, i % 20))),
                team_id: (i % 4 == 0).then(|| TeamId::from(uuid(3, i % 6))),
                exclude: if i % 16 == 0 {
                    vec![PhoneNumberId::from(uuid(1, i * 3 % POOL_SIZE))]
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

fn request(send: &Send, conversations: &HashMap<E164, PhoneNumberId>) -> SelectionRequest {
    SelectionRequest {
        capability: send.capability,
        channel_id: send.channel_id,
        recipient: Some(send.recipient.clone()),
        manual_override: None,
        sticky: conversations.get(&send.recipient).copied(),
        lead_assigned: None,
        campaign_id: send.campaign_id,
        source_id: send.source_id,
        team_id: send.team_id,
        exclude: send.exclude.clone(),
        max_listed: 25,
    }
}

fn main() {
    let codes = us_area_codes();
    let pool = pool(&codes);
    let conversations = conversations(&codes, &pool);
    let mut reasons: HashMap<&str, usize> = HashMap::new();
    for send in sends(&codes) {
        let selection = select(&pool, &request(&send, &conversations));
        let reason = selection.selected.map_or("none", |s| s.reason.as_str());
        *reasons.entry(reason).or_default() += 1;
    }
    let mut reasons: Vec<_> = reasons.into_iter().collect();
    reasons.sort();
    println!(
        "{POOL_SIZE} numbers in {} area codes, {CONVERSATIONS} conversations; \
         selected by tier over {REQUESTS} sends: {reasons:?}",
        codes.len()
    );
    divan::main();
}

/// One selection per sample, the next send of the mix each time: one sample per send
/// of the mix, so the median is over all of it.
#[divan::bench(sample_count = 4096, sample_size = 1)]
fn select_varied(bencher: divan::Bencher) {
    bench_selection(bencher, 25);
}

/// The same with `max_listed` 1: the cost of choosing alone, without the listing.
#[divan::bench(sample_count = 4096, sample_size = 1)]
fn select_first_only(bencher: divan::Bencher) {
    bench_selection(bencher, 1);
}

fn bench_selection(bencher: divan::Bencher, max_listed: usize) {
    let codes = us_area_codes();
    let pool = pool(&codes);
    let conversations = conversations(&codes, &pool);
    let sends = sends(&codes);
    let next = Cell::new(0);
    bencher.bench_local(|| {
        let i = next.get();
        next.set((i + 1) % sends.len());
        let mut request = request(&sends[i], &conversations);
        request.max_listed = max_listed;
        divan::black_box(select(divan::black_box(&pool), &request))
    });
}

/// Building the indexes of the whole pool, as a snapshot refresh does.
#[divan::bench(sample_count = 20)]
fn build_pool(bencher: divan::Bencher) {
    let codes = us_area_codes();
    let numbers = pool(&codes).numbers().to_vec();
    bencher
        .with_inputs(|| numbers.clone())
        .bench_local_values(NumberPool::new);
}
