//! Property tests of the gate against an oracle written the slow, obvious way: chrono's
//! own UTC → local conversion, the rule table spelled out again, and the campaign's
//! windows as given. Over random instants of 2000–2100, zones with half-hour offsets
//! and both hemispheres' DST, numbers of every state with rules, random calling hours
//! and random recent attempts:
//! - `Allowed` exactly when the oracle allows `now`;
//! - a deferral's `until` is after `now`, allowed by the oracle and by the gate itself,
//!   and the oracle allows no minute between `now` and `until`, nor the second before it;
//! - a refusal for want of an opening means the oracle allows no minute in 14 days.

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;
use crate::calling_hours::CallingWindowInput;
use crate::holidays;

const ZONES: [Tz; 12] = [
    Tz::America__New_York,
    Tz::America__Chicago,
    Tz::America__Denver,
    Tz::America__Phoenix,
    Tz::America__Los_Angeles,
    Tz::America__Anchorage,
    Tz::America__St_Johns,
    Tz::Asia__Kolkata,
    Tz::Australia__Adelaide,
    Tz::Australia__Lord_Howe,
    Tz::Asia__Kathmandu,
    Tz::Europe__London,
];

/// FL, OK, KY (split), RI, AL, LA, CT, CA, NY, a split KY code, 709 (two zones with
/// different half hours), ON, toll-free, foreign.
const NUMBERS: [&str; 14] = [
    "+13055550123",
    "+14055550123",
    "+15025550123",
    "+14015550123",
    "+12055550123",
    "+15045550123",
    "+18605550123",
    "+14155552671",
    "+12125550123",
    "+12705550123",
    "+17095550123",
    "+14165550123",
    "+18005550123",
    "+447911123456",
];

const DAYS: [&str; 7] = [
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
];

/// Everything random about one case.
#[derive(Debug, Clone)]
struct Scenario {
    now: DateTime<Utc>,
    number: &'static str,
    lead_zone: Option<Tz>,
    campaign_zone: Option<Tz>,
    windows: Vec<CallingWindowInput>,
    attempts: Vec<DateTime<Utc>>,
}

fn zone() -> impl Strategy<Value = Tz> {
    (0..ZONES.len()).prop_map(|i| ZONES[i])
}

fn window() -> impl Strategy<Value = CallingWindowInput> {
    (0..7usize, 0u16..24 * 60, 1u16..12 * 60).prop_map(|(day, start, length)| {
        let end = (start + length).min(24 * 60);
        let time = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        CallingWindowInput {
            day: DAYS[day].into(),
            start: time(start),
            end: time(end),
        }
    })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let start = "2000-01-01T00:00:00Z"
        .parse::<DateTime<Utc>>()
        .unwrap()
        .timestamp();
    let end = "2100-12-31T23:59:59Z"
        .parse::<DateTime<Utc>>()
        .unwrap()
        .timestamp();
    (
        start..end,
        0..NUMBERS.len(),
        prop::option::of(zone()),
        prop::option::of(zone()),
        prop_oneof![Just(Vec::new()), prop::collection::vec(window(), 1..6)],
        prop::collection::vec(0i64..30 * 3600, 0..5),
    )
        .prop_map(|(now, number, lead_zone, campaign_zone, windows, ages)| {
            let now = DateTime::from_timestamp(now, 0).unwrap();
            Scenario {
                now,
                number: NUMBERS[number],
                lead_zone,
                campaign_zone,
                windows,
                attempts: ages
                    .into_iter()
                    .map(|age| now - TimeDelta::seconds(age))
                    .collect(),
            }
        })
}

/// The rules restated: `(weekday window or None for closed, closed on holidays, cap)`.
fn oracle_state(state: &str, weekday: Weekday) -> (Option<(u32, u32)>, bool, Option<usize>) {
    let all = Some((0, 24 * 60));
    let sunday = weekday == Weekday::Sun;
    match state {
        "FL" | "OK" => (Some((8 * 60, 20 * 60)), false, Some(3)),
        "KY" => (Some((10 * 60, 21 * 60)), false, None),
        "CT" => (Some((9 * 60, 20 * 60)), false, None),
        "RI" if sunday => (None, true, None),
        "RI" if weekday == Weekday::Sat => (Some((10 * 60, 17 * 60)), true, None),
        "RI" => (Some((9 * 60, 18 * 60)), true, None),
        "AL" | "LA" if sunday => (None, true, None),
        "AL" | "LA" => (all, true, None),
        _ => (all, false, None),
    }
}

struct Oracle<'a> {
    scenario: &'a Scenario,
    zones: Vec<Tz>,
    state: &'static str,
}

impl<'a> Oracle<'a> {
    fn new(scenario: &'a Scenario) -> Self {
        let area = nanp::area_code_info(&E164::parse(scenario.number).unwrap());
        let zones = match (scenario.lead_zone, area) {
            (Some(zone), _) => vec![zone],
            (None, Some(area)) if !area.zones.is_empty() => area.zones.to_vec(),
            _ => vec![scenario.campaign_zone.unwrap_or(Tz::UTC)],
        };
        let state = area.and_then(|area| area.state).unwrap_or("");
        Self {
            scenario,
            zones,
            state,
        }
    }

    fn allows(&self, t: DateTime<Utc>) -> bool {
        let state = self.state;
        let attempts = self
            .scenario
            .attempts
            .iter()
            .filter(|a| **a > t - TimeDelta::hours(24))
            .count();
        if oracle_state(state, Weekday::Mon)
            .2
            .is_some_and(|cap| attempts >= cap)
        {
            return false;
        }
        self.zones
            .iter()
            .all(|zone| self.allows_local(state, t.with_timezone(zone)))
    }

    fn allows_local(&self, state: &str, local: DateTime<Tz>) -> bool {
        let minute = local.hour() * 60 + local.minute();
        let inside = |(start, end): (u32, u32)| start <= minute && minute < end;
        let (state_window, closed_on_holidays, _) = oracle_state(state, local.weekday());
        let holiday =
            closed_on_holidays && holidays::federal_holiday_on(local.date_naive()).is_some();
        let campaign_ok = self.scenario.windows.is_empty()
            || self.scenario.windows.iter().any(|w| {
                let parse =
                    |s: &str| s[..2].parse::<u32>().unwrap() * 60 + s[3..].parse::<u32>().unwrap();
                w.day == DAYS[local.weekday().num_days_from_monday() as usize]
                    && inside((parse(&w.start), parse(&w.end)))
            });
        !holiday && inside((8 * 60, 21 * 60)) && state_window.is_some_and(inside) && campaign_ok
    }
}

fn decide_scenario(scenario: &Scenario, hours: &CallingHours, now: DateTime<Utc>) -> GateDecision {
    let phone = E164::parse(scenario.number).unwrap();
    decide(&GateInput {
        now,
        phone: &phone,
        lead_zone: scenario.lead_zone,
        campaign_zone: scenario.campaign_zone,
        workspace_zone: None,
        calling_hours: hours,
        opted_out: false,
        do_not_contact: false,
        recent_attempts: &scenario.attempts,
    })
}

/// Minute boundaries in `(from, to)`, every one for the first two days, then every
/// seventh (a prime stride, so every minute of the day is still visited over a week).
fn sample_minutes(from: DateTime<Utc>, to: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> {
    let first = from.timestamp() / 60 + 1;
    let last = (to.timestamp() - 1) / 60;
    (first..=last)
        .filter(move |minute| minute - first < 2 * 1440 || (minute - first) % 7 == 0)
        .map(|minute| DateTime::from_timestamp(minute * 60, 0).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn decisions_agree_with_the_oracle(scenario in scenario()) {
        let hours = CallingHours::parse("callingHours", &scenario.windows).unwrap();
        let oracle = Oracle::new(&scenario);
        let decision = decide_scenario(&scenario, &hours, scenario.now);
        let now = scenario.now;
        match decision {
            GateDecision::Allowed => prop_assert!(oracle.allows(now)),
            GateDecision::Deferred { until, .. } => {
                prop_assert!(!oracle.allows(now));
                prop_assert!(until > now);
                prop_assert!(until <= now + TimeDelta::days(14));
                prop_assert!(oracle.allows(until), "until {until} not allowed");
                prop_assert_eq!(decide_scenario(&scenario, &hours, until), GateDecision::Allowed);
                prop_assert!(!oracle.allows(until - TimeDelta::seconds(1)));
                for minute in sample_minutes(now, until) {
                    prop_assert!(!oracle.allows(minute), "{minute} allowed before {until}");
                }
            }
            GateDecision::Refused { reason } => {
                prop_assert_eq!(reason, GateReason::NoOpening { days: 14 });
                for minute in sample_minutes(now, now + TimeDelta::days(14)) {
                    prop_assert!(!oracle.allows(minute), "{minute} allowed but refused");
                }
            }
        }
    }
}
