//! One test per guardrail and for their order, at hand-checked instants. 2026-11-23 is
//! a Monday; Los Angeles is UTC−8 then, New York UTC−5.

use chrono::Weekday;

use super::*;
use crate::calling_hours::DayWindow;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn phone(number: &str) -> E164 {
    E164::parse(number).unwrap()
}

/// Checks a reply to `number` at `now` with the default settings and no reply hours.
fn check_at(
    settings: &AgentSettings,
    number: &str,
    now: &str,
    last_reply_at: Option<&str>,
) -> GuardrailDecision {
    check_with(
        settings,
        &CallingHours::unrestricted(),
        number,
        now,
        last_reply_at,
        0,
    )
}

fn check_with(
    settings: &AgentSettings,
    hours: &CallingHours,
    number: &str,
    now: &str,
    last_reply_at: Option<&str>,
    turns_taken: u32,
) -> GuardrailDecision {
    let phone = phone(number);
    check(
        settings,
        hours,
        &GuardrailInput {
            now: at(now),
            turns_taken,
            last_reply_at: last_reply_at.map(at),
            phone: &phone,
            lead_zone: None,
            workspace_zone: None,
        },
    )
}

#[test]
fn inside_the_hours_with_no_recent_reply_the_agent_proceeds() {
    let settings = AgentSettings::default();
    // 10:00 in Los Angeles.
    assert_eq!(
        check_at(&settings, "+14155550100", "2026-11-23T18:00:00Z", None),
        GuardrailDecision::Proceed
    );
    // The last reply was 2 s ago, the default delay: exactly on time.
    assert_eq!(
        check_at(
            &settings,
            "+14155550100",
            "2026-11-23T18:00:02Z",
            Some("2026-11-23T18:00:00Z")
        ),
        GuardrailDecision::Proceed
    );
}

#[test]
fn a_california_number_at_3_am_pacific_waits_for_8_am_pacific() {
    let decision = check_at(
        &AgentSettings::default(),
        "+14155550100",
        "2026-11-23T11:00:00Z",
        None,
    );
    let GuardrailDecision::Defer { until, reason } = decision else {
        panic!("expected a deferral, got {decision:?}");
    };
    assert_eq!(until, at("2026-11-23T16:00:00Z"));
    assert_eq!(
        reason,
        "quiet hours: outside 8:00–21:00 (federal calling hours) in CA (America/Los_Angeles) at 03:00 local"
    );
}

#[test]
fn a_florida_number_at_8_30_pm_eastern_waits_for_the_morning() {
    // 20:30 in Miami on Monday; Florida allows 8:00–20:00.
    let decision = check_at(
        &AgentSettings::default(),
        "+13055550100",
        "2026-11-24T01:30:00Z",
        None,
    );
    let GuardrailDecision::Defer { until, reason } = decision else {
        panic!("expected a deferral, got {decision:?}");
    };
    assert_eq!(until, at("2026-11-24T13:00:00Z"));
    assert!(
        reason.starts_with("quiet hours: outside 8:00–20:00 in FL"),
        "{reason}"
    );
}

#[test]
fn reply_hours_narrow_the_window() {
    // Weekdays 12:00–13:00 only; at 10:00 in Los Angeles the reply waits for noon.
    let hours = CallingHours::from_windows(vec![(Weekday::Mon, DayWindow::new(12 * 60, 13 * 60))]);
    let decision = check_with(
        &AgentSettings::default(),
        &hours,
        "+14155550100",
        "2026-11-23T18:00:00Z",
        None,
        0,
    );
    let GuardrailDecision::Defer { until, reason } = decision else {
        panic!("expected a deferral, got {decision:?}");
    };
    assert_eq!(until, at("2026-11-23T20:00:00Z"));
    assert!(
        reason.starts_with("quiet hours: outside the campaign's calling hours"),
        "{reason}"
    );
}

#[test]
fn reply_hours_that_never_open_hand_off() {
    // 22:00–23:00 is never inside the federal 8:00–21:00.
    let hours = CallingHours::from_windows(vec![(Weekday::Mon, DayWindow::new(22 * 60, 23 * 60))]);
    let decision = check_with(
        &AgentSettings::default(),
        &hours,
        "+14155550100",
        "2026-11-23T18:00:00Z",
        None,
        0,
    );
    let GuardrailDecision::HandOff { reason } = decision else {
        panic!("expected a hand-off, got {decision:?}");
    };
    assert!(
        reason.starts_with("quiet hours: no time in the next 14 days"),
        "{reason}"
    );
}

#[test]
fn without_respect_for_quiet_hours_only_the_delay_holds_a_reply() {
    let settings = AgentSettings {
        respect_quiet_hours: false,
        ..AgentSettings::default()
    };
    assert_eq!(
        check_at(&settings, "+14155550100", "2026-11-23T11:00:00Z", None),
        GuardrailDecision::Proceed
    );
}

#[test]
fn replies_are_spaced_by_the_minimum_delay() {
    let settings = AgentSettings {
        min_reply_delay_seconds: 30,
        ..AgentSettings::default()
    };
    assert_eq!(
        check_at(
            &settings,
            "+14155550100",
            "2026-11-23T18:00:10Z",
            Some("2026-11-23T18:00:00Z")
        ),
        GuardrailDecision::Defer {
            until: at("2026-11-23T18:00:30Z"),
            reason: "at most one reply every 30 s".into(),
        }
    );
    assert_eq!(
        check_at(
            &settings,
            "+14155550100",
            "2026-11-23T18:00:30Z",
            Some("2026-11-23T18:00:00Z")
        ),
        GuardrailDecision::Proceed
    );
}

#[test]
fn the_turn_limit_hands_off_before_anything_else() {
    let settings = AgentSettings {
        max_turns: 5,
        min_reply_delay_seconds: 30,
        ..AgentSettings::default()
    };
    // At 3:00 in Los Angeles and 1 s after the last reply: still the limit decides.
    let decision = check_with(
        &settings,
        &CallingHours::unrestricted(),
        "+14155550100",
        "2026-11-23T11:00:01Z",
        Some("2026-11-23T11:00:00Z"),
        5,
    );
    assert_eq!(
        decision,
        GuardrailDecision::HandOff {
            reason: "the agent reached its limit of 5 replies".into()
        }
    );
    let below = check_with(
        &settings,
        &CallingHours::unrestricted(),
        "+14155550100",
        "2026-11-23T18:00:00Z",
        None,
        4,
    );
    assert_eq!(below, GuardrailDecision::Proceed);
}

#[test]
fn quiet_hours_come_before_the_delay() {
    let settings = AgentSettings {
        min_reply_delay_seconds: 30,
        ..AgentSettings::default()
    };
    let decision = check_at(
        &settings,
        "+14155550100",
        "2026-11-23T11:00:01Z",
        Some("2026-11-23T11:00:00Z"),
    );
    assert!(
        matches!(decision, GuardrailDecision::Defer { until, .. } if until == at("2026-11-23T16:00:00Z"))
    );
}

#[test]
fn the_lead_zone_wins_for_a_number_without_a_zone() {
    // A UK mobile: no area code to read, so the lead's zone is the clock.
    let phone = phone("+447911123456");
    let input = GuardrailInput {
        now: at("2026-11-23T06:00:00Z"),
        turns_taken: 0,
        last_reply_at: None,
        phone: &phone,
        lead_zone: Some(chrono_tz::Europe::London),
        workspace_zone: Some(chrono_tz::America::New_York),
    };
    let decision = check(
        &AgentSettings::default(),
        &CallingHours::unrestricted(),
        &input,
    );
    assert!(
        matches!(decision, GuardrailDecision::Defer { until, .. } if until == at("2026-11-23T08:00:00Z")),
        "{decision:?}"
    );
}
