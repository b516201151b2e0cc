//! Decisions per second of the send gate over a varied set of inputs: numbers from
//! states with and without rules (and a split area code, a Canadian, a Caribbean, a
//! toll-free and a foreign one), with and without a lead zone, instants spread over two
//! years (so inside and outside windows, weekends, holidays, DST changes), campaigns
//! with and without calling hours, and leads with 0–4 recent attempts.
//!
//! `cargo bench -p leadline-core --bench gate`; the `items/s` column of `varied_mix` is
//! decisions per second on one core.

use chrono::{DateTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use divan::counter::ItemsCount;
use leadline_core::calling_hours::{CallingHours, DayWindow};
use leadline_core::gate::{GateDecision, GateInput, decide};
use leadline_core::phone::E164;

const NUMBERS: [&str; 14] = [
    "+13055550123", // FL, cap
    "+14055550123", // OK, cap
    "+14015550123", // RI, Sundays and holidays
    "+12055550123", // AL
    "+12705550123", // KY, two zones
    "+18605550123", // CT
    "+15045550123", // LA
    "+14155552671", // CA
    "+12125550123", // NY
    "+17135550123", // TX
    "+14165550123", // ON
    "+18765550123", // JM
    "+18005550123", // toll-free: no area code data
    "+447911123456",
];

const LEAD_ZONES: [Option<Tz>; 4] = [
    None,
    None,
    Some(Tz::America__Denver),
    Some(Tz::Asia__Kolkata),
];

/// The owned data the inputs borrow: one entry per input for `now` and `attempts`.
struct Corpus {
    phones: Vec<E164>,
    hours: Vec<CallingHours>,
    now: Vec<DateTime<Utc>>,
    attempts: Vec<Vec<DateTime<Utc>>>,
}

fn campaign_hours() -> Vec<CallingHours> {
    let weekdays = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    let office = weekdays
        .map(|day| (day, DayWindow::new(9 * 60, 17 * 60)))
        .to_vec();
    let mut split = Vec::new();
    for day in weekdays.into_iter().chain([Weekday::Sat]) {
        split.push((day, DayWindow::new(8 * 60 + 30, 12 * 60)));
        split.push((day, DayWindow::new(13 * 60, 19 * 60 + 30)));
    }
    vec![
        CallingHours::unrestricted(),
        CallingHours::from_windows(office),
        CallingHours::from_windows(split),
    ]
}

fn corpus() -> Corpus {
    let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    // 4096 instants 257 minutes apart: about two years, every time of day and weekday.
    let now: Vec<DateTime<Utc>> = (0..4096)
        .map(|i| start + TimeDelta::minutes(i * 257))
        .collect();
    // 0–4 attempts, 30 minutes to 20 hours before `now`.
    let attempts = now
        .iter()
        .enumerate()
        .map(|(i, now)| {
            (0..(i % 5) as i64)
                .map(|k| *now - TimeDelta::minutes(30 + k * 300))
                .collect()
        })
        .collect();
    Corpus {
        phones: NUMBERS.iter().map(|n| E164::parse(n).unwrap()).collect(),
        hours: campaign_hours(),
        now,
        attempts,
    }
}

fn inputs(corpus: &Corpus) -> Vec<GateInput<'_>> {
    (0..corpus.now.len())
        .map(|i| GateInput {
            now: corpus.now[i],
            phone: &corpus.phones[i % corpus.phones.len()],
            lead_zone: LEAD_ZONES[i % LEAD_ZONES.len()],
            campaign_zone: Some(Tz::America__New_York),
            workspace_zone: None,
            calling_hours: &corpus.hours[i % corpus.hours.len()],
            opted_out: i % 97 == 0,
            do_not_contact: false,
            recent_attempts: &corpus.attempts[i],
        })
        .collect()
}

fn main() {
    let corpus = corpus();
    let inputs = inputs(&corpus);
    let (mut allowed, mut deferred, mut refused) = (0, 0, 0);
    for input in &inputs {
        match decide(input) {
            GateDecision::Allowed => allowed += 1,
            GateDecision::Deferred { .. } => deferred += 1,
            GateDecision::Refused { .. } => refused += 1,
        }
    }
    println!(
        "mix of {} inputs: {allowed} allowed, {deferred} deferred, {refused} refused",
        inputs.len()
    );
    divan::main();
}

/// Decides every input of the mix that `keep` selects, once per iteration.
fn bench_subset(bencher: divan::Bencher, keep: fn(&GateDecision) -> bool) {
    let corpus = corpus();
    let inputs: Vec<GateInput<'_>> = inputs(&corpus)
        .into_iter()
        .filter(|input| keep(&decide(input)))
        .collect();
    bencher
        .counter(ItemsCount::new(inputs.len()))
        .bench_local(|| {
            for input in &inputs {
                divan::black_box(decide(divan::black_box(input)));
            }
        });
}

#[divan::bench]
fn varied_mix(bencher: divan::Bencher) {
    bench_subset(bencher, |_| true);
}

#[divan::bench]
fn allowed_only(bencher: divan::Bencher) {
    bench_subset(bencher, |decision| *decision == GateDecision::Allowed);
}

#[divan::bench]
fn deferred_only(bencher: divan::Bencher) {
    bench_subset(bencher, |decision| {
        matches!(decision, GateDecision::Deferred { .. })
    });
}
