//! One test per rule of the gate, with hand-checked instants; `zones` has the choice of
//! zone, half-hour offsets and the DST days.

mod zones;

use chrono::{DateTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;

use super::*;
use crate::calling_hours::DayWindow;
use crate::holidays::Holiday;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn phone(number: &str) -> E164 {
    E164::parse(number).unwrap()
}

/// Decides for `number` at `now` with no lead zone, no campaign hours, no attempts.
fn decide_at(number: &str, now: &str) -> GateDecision {
    Case::new(number, now).decide()
}

/// An input under construction; every test changes only what it is about.
struct Case {
    now: DateTime<Utc>,
    phone: E164,
    lead_zone: Option<Tz>,
    campaign_zone: Option<Tz>,
    workspace_zone: Option<Tz>,
    hours: CallingHours,
    attempts: Vec<DateTime<Utc>>,
    opted_out: bool,
    do_not_contact: bool,
}

impl Case {
    fn new(number: &str, now: &str) -> Self {
        Self {
            now: at(now),
            phone: phone(number),
            lead_zone: None,
            campaign_zone: None,
            workspace_zone: None,
            hours: CallingHours::unrestricted(),
            attempts: Vec::new(),
            opted_out: false,
            do_not_contact: false,
        }
    }

    fn decide(&self) -> GateDecision {
        decide(&GateInput {
            now: self.now,
            phone: &self.phone,
            lead_zone: self.lead_zone,
            campaign_zone: self.campaign_zone,
            workspace_zone: self.workspace_zone,
            calling_hours: &self.hours,
            opted_out: self.opted_out,
            do_not_contact: self.do_not_contact,
            recent_attempts: &self.attempts,
        })
    }
}

/// `(until, code)` of a deferral; panics on anything else.
fn deferred(decision: GateDecision) -> (String, &'static str) {
    match decision {
        GateDecision::Deferred { until, reason } => (
            until.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            reason.as_str(),
        ),
        other => panic!("expected a deferral, got {other:?}"),
    }
}

// 2026-11-23 is a Monday; New York is UTC−5 then, Chicago UTC−6.

#[test]
fn opt_out_and_do_not_contact_refuse_whatever_the_hour() {
    let mut case = Case::new("+12125550123", "2026-11-23T16:00:00Z");
    assert_eq!(case.decide(), GateDecision::Allowed);
    case.do_not_contact = true;
    assert_eq!(
        case.decide(),
        GateDecision::Refused {
            reason: GateReason::DoNotContact
        }
    );
    case.opted_out = true;
    assert_eq!(
        case.decide(),
        GateDecision::Refused {
            reason: GateReason::OptedOut
        }
    );
}

#[test]
fn federal_window_is_8_to_21_local() {
    assert_eq!(
        decide_at("+12125550123", "2026-11-23T13:00:00Z"),
        GateDecision::Allowed
    );
    assert_eq!(
        decide_at("+12125550123", "2026-11-24T01:59:59Z"),
        GateDecision::Allowed
    );
    assert_eq!(
        deferred(decide_at("+12125550123", "2026-11-23T12:59:59Z")),
        ("2026-11-23T13:00:00Z".into(), "federal_quiet_hours")
    );
    assert_eq!(
        deferred(decide_at("+12125550123", "2026-11-24T02:00:00Z")),
        ("2026-11-24T13:00:00Z".into(), "federal_quiet_hours")
    );
}

#[test]
fn florida_stops_at_20_and_says_so() {
    let decision = decide_at("+13055550123", "2026-11-24T02:14:00Z");
    assert_eq!(
        decision.to_string(),
        "outside 8:00–20:00 in FL (America/New_York) at 21:14 local; next opening 2026-11-24T13:00:00Z"
    );
    assert_eq!(decision.reason().unwrap().as_str(), "state_quiet_hours");
    assert_eq!(
        decide_at("+13055550123", "2026-11-24T00:59:00Z"),
        GateDecision::Allowed
    );
    assert_eq!(
        deferred(decide_at("+14055550123", "2026-11-24T02:30:00Z")).1,
        "state_quiet_hours"
    );
}

#[test]
fn kentucky_starts_at_10_and_connecticut_at_9() {
    // 606 is split between Eastern and Central time: 10:00 Central is the opening.
    let (until, code) = deferred(decide_at("+16065550123", "2026-11-23T15:30:00Z"));
    assert_eq!(
        (until.as_str(), code),
        ("2026-11-23T16:00:00Z", "state_quiet_hours")
    );
    assert_eq!(
        deferred(decide_at("+18605550123", "2026-11-23T13:30:00Z")),
        ("2026-11-23T14:00:00Z".into(), "state_quiet_hours")
    );
    assert_eq!(
        decide_at("+18605550123", "2026-11-24T00:59:00Z"),
        GateDecision::Allowed
    );
    assert_eq!(
        deferred(decide_at("+18605550123", "2026-11-24T01:00:00Z")).1,
        "state_quiet_hours"
    );
}

#[test]
fn split_area_codes_use_the_narrowest_window_of_their_zones() {
    // 270: 21:00 Eastern comes an hour before 21:00 Central, 10:00 Central an hour after
    // 10:00 Eastern. At 21:30 Eastern (20:30 Central) the Eastern clock says no, and the
    // next opening is 10:00 Central.
    let case = decide_at("+12705550123", "2026-11-24T02:30:00Z");
    let GateDecision::Deferred { until, reason } = case else {
        panic!("{case:?}")
    };
    assert_eq!(until, at("2026-11-24T16:00:00Z"));
    let GateReason::StateQuietHours { at: place, .. } = reason else {
        panic!("{reason:?}")
    };
    assert_eq!(
        (place.state, place.zone),
        (Some("KY"), Tz::America__New_York)
    );
}

#[test]
fn rhode_island_has_shorter_saturdays_and_no_sundays() {
    // Saturday 2026-11-28.
    assert_eq!(
        deferred(decide_at("+14015550123", "2026-11-28T14:30:00Z")),
        ("2026-11-28T15:00:00Z".into(), "state_quiet_hours")
    );
    assert_eq!(
        decide_at("+14015550123", "2026-11-28T21:59:00Z"),
        GateDecision::Allowed
    );
    assert_eq!(
        deferred(decide_at("+14015550123", "2026-11-28T22:00:00Z")),
        ("2026-11-30T14:00:00Z".into(), "state_quiet_hours")
    );
    assert_eq!(
        deferred(decide_at("+14015550123", "2026-11-29T17:00:00Z")),
        ("2026-11-30T14:00:00Z".into(), "state_no_sunday")
    );
    assert_eq!(
        decide_at("+14015550123", "2026-11-30T22:59:00Z"),
        GateDecision::Allowed
    );
    assert_eq!(
        deferred(decide_at("+14015550123", "2026-11-30T23:00:00Z")).1,
        "state_quiet_hours"
    );
}

#[test]
fn rhode_island_alabama_and_louisiana_skip_holidays() {
    // Thanksgiving, Thursday 2026-11-26.
    let decision = decide_at("+14015550123", "2026-11-26T17:00:00Z");
    assert_eq!(
        deferred(decision),
        ("2026-11-27T14:00:00Z".into(), "state_holiday")
    );
    assert!(decision.to_string().contains("(Thanksgiving Day)"));
    // July 4, 2026 is a Saturday observed on Friday the 3rd: both closed, then Sunday.
    let (until, code) = deferred(decide_at("+12055550123", "2026-07-03T15:00:00Z"));
    assert_eq!(
        (until.as_str(), code),
        ("2026-07-06T13:00:00Z", "state_holiday")
    );
    let (until, code) = deferred(decide_at("+15045550123", "2026-07-05T15:00:00Z"));
    assert_eq!(
        (until.as_str(), code),
        ("2026-07-06T13:00:00Z", "state_no_sunday")
    );
    // Other states call on holidays.
    assert_eq!(
        decide_at("+12125550123", "2026-11-26T17:00:00Z"),
        GateDecision::Allowed
    );
}

#[test]
fn florida_and_oklahoma_cap_attempts_per_rolling_day() {
    let mut case = Case::new("+14055550123", "2026-11-24T16:00:00Z"); // 10:00 in Oklahoma
    let hours_ago = |h: i64| case.now - TimeDelta::hours(h);
    case.attempts = vec![hours_ago(1), hours_ago(30), hours_ago(5)];
    assert_eq!(case.decide(), GateDecision::Allowed);
    case.attempts.push(hours_ago(23));
    let decision = case.decide();
    assert_eq!(
        deferred(decision),
        ("2026-11-24T17:00:00Z".into(), "frequency_cap")
    );
    assert_eq!(
        decision.reason().unwrap().to_string(),
        "3 attempts in the last 24 h reach OK's limit of 3"
    );
    // Freed at 00:00 local: the next opening is 8:00.
    case.attempts = vec![hours_ago(1), hours_ago(5), hours_ago(10)];
    assert_eq!(
        deferred(case.decide()),
        ("2026-11-25T14:00:00Z".into(), "frequency_cap")
    );
    // No cap in New York.
    case.phone = phone("+12125550123");
    assert_eq!(case.decide(), GateDecision::Allowed);
}

#[test]
fn campaign_hours_narrow_the_legal_window() {
    let weekdays = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    let mut windows: Vec<(Weekday, DayWindow)> = weekdays
        .map(|d| (d, DayWindow::new(9 * 60, 12 * 60)))
        .to_vec();
    windows.extend(weekdays.map(|d| (d, DayWindow::new(13 * 60, 17 * 60))));
    let mut case = Case::new("+12125550123", "2026-11-23T17:30:00Z"); // Monday 12:30
    case.hours = CallingHours::from_windows(windows);
    assert_eq!(
        deferred(case.decide()),
        ("2026-11-23T18:00:00Z".into(), "campaign_hours")
    );
    case.now = at("2026-11-27T22:30:00Z"); // Friday 17:30 → Monday 9:00
    assert_eq!(
        deferred(case.decide()),
        ("2026-11-30T14:00:00Z".into(), "campaign_hours")
    );
    case.now = at("2026-11-27T14:00:00Z");
    assert_eq!(case.decide(), GateDecision::Allowed);
}

#[test]
fn calling_hours_that_never_meet_the_legal_window_refuse() {
    let mut case = Case::new("+12125550123", "2026-11-23T17:30:00Z");
    case.hours =
        CallingHours::from_windows(vec![(Weekday::Mon, DayWindow::new(6 * 60, 7 * 60 + 59))]);
    let decision = case.decide();
    assert_eq!(
        decision,
        GateDecision::Refused {
            reason: GateReason::NoOpening { days: 14 }
        }
    );
    assert_eq!(decision.as_str(), "refused");
}

#[test]
fn reasons_have_stable_codes_and_readable_sentences() {
    assert_eq!(GateReason::OptedOut.as_str(), "opted_out");
    let decision = decide_at("+12125550123", "2026-11-24T02:14:00Z");
    assert_eq!(
        decision.to_string(),
        "outside 8:00–21:00 (federal calling hours) in NY (America/New_York) at 21:14 local; next opening 2026-11-24T13:00:00Z"
    );
    let sunday = decide_at("+12055550123", "2026-11-29T17:00:00Z").to_string();
    assert!(
        sunday.starts_with("no calls on Sundays in AL (America/Chicago) at 11:00 local"),
        "{sunday}"
    );
    let holiday = decide_at("+14015550123", "2026-12-25T17:00:00Z").to_string();
    assert!(
        holiday.contains("(Christmas Day) in RI (America/New_York) at 12:00 local on 2026-12-25"),
        "{holiday}"
    );
    let reason = GateReason::StateHoliday {
        at: RecipientTime {
            state: None,
            zone: Tz::UTC,
            local: at("2026-01-01T10:00:00Z").naive_utc(),
        },
        holiday: Holiday::NewYearsDay,
    };
    assert!(GateReason::CODES.contains(&reason.as_str()));
    assert_eq!(
        states_with_rules().collect::<Vec<_>>(),
        ["AL", "CT", "FL", "KY", "LA", "OK", "RI"]
    );
}
