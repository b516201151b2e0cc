//! The recipient's zone: which one is used, half-hour offsets, split area codes across
//! half hours, and the DST changes of America/New_York (2026-03-08 and 2026-11-01) and
//! Australia/Adelaide in both directions.

use chrono_tz::Tz;

use super::{Case, at, decide_at, deferred};
use crate::gate::GateDecision;

#[test]
fn the_leads_zone_wins_then_area_code_then_campaign_then_workspace_then_utc() {
    // 12:30 UTC: 7:30 in New York, 4:30 in Los Angeles, 12:30 in London.
    let mut case = Case::new("+14155552671", "2026-11-23T12:30:00Z");
    case.lead_zone = Some(Tz::Europe__London);
    assert_eq!(case.decide(), GateDecision::Allowed);
    case.lead_zone = None;
    assert_eq!(deferred(case.decide()).0, "2026-11-23T16:00:00Z");
    let mut toll_free = Case::new("+18005550123", "2026-11-23T12:30:00Z");
    assert_eq!(toll_free.decide(), GateDecision::Allowed); // UTC
    toll_free.workspace_zone = Some(Tz::America__Los_Angeles);
    assert_eq!(deferred(toll_free.decide()).0, "2026-11-23T16:00:00Z");
    toll_free.campaign_zone = Some(Tz::America__New_York);
    assert_eq!(deferred(toll_free.decide()).0, "2026-11-23T13:00:00Z");
}

#[test]
fn state_rules_follow_the_number_even_with_a_lead_zone() {
    // A Florida number whose lead lives in Denver: FL's 20:00 on Denver's clock.
    let mut case = Case::new("+13055550123", "2026-11-24T03:30:00Z"); // 20:30 in Denver
    case.lead_zone = Some(Tz::America__Denver);
    let decision = case.decide();
    assert_eq!(
        deferred(decision),
        ("2026-11-24T15:00:00Z".into(), "state_quiet_hours")
    );
    assert!(
        decision
            .to_string()
            .contains("in FL (America/Denver) at 20:30 local")
    );
}

#[test]
fn half_hour_zones_open_on_their_own_half_hour() {
    let mut case = Case::new("+447911123456", "2026-01-05T02:00:00Z"); // 7:30 in Kolkata
    case.lead_zone = Some(Tz::Asia__Kolkata);
    assert_eq!(
        deferred(case.decide()),
        ("2026-01-05T02:30:00Z".into(), "federal_quiet_hours")
    );
    // 709 spans St. John's (UTC−3:30) and Halifax (UTC−4): 8:00 in Halifax opens.
    let (until, _) = deferred(decide_at("+17095550123", "2026-01-05T11:45:00Z"));
    assert_eq!(until, "2026-01-05T12:00:00Z");
}

#[test]
fn spring_forward_moves_the_opening_an_hour_earlier_in_utc() {
    // Saturday 2026-03-07 22:00 EST; clocks go from 2:00 to 3:00 on Sunday the 8th, so
    // 8:00 that morning is EDT (UTC−4).
    assert_eq!(
        deferred(decide_at("+12125550123", "2026-03-08T03:00:00Z")),
        ("2026-03-08T12:00:00Z".into(), "federal_quiet_hours")
    );
    assert_eq!(
        decide_at("+12125550123", "2026-03-08T12:00:00Z"),
        GateDecision::Allowed
    );
    assert_eq!(
        deferred(decide_at("+12125550123", "2026-03-08T11:59:59Z")).0,
        "2026-03-08T12:00:00Z"
    );
    // From inside the skipped hour (the instant clocks jump to 3:00).
    assert_eq!(
        deferred(decide_at("+12125550123", "2026-03-08T07:00:00Z")).0,
        "2026-03-08T12:00:00Z"
    );
}

#[test]
fn fall_back_moves_the_opening_an_hour_later_in_utc() {
    // Saturday 2026-10-31 21:30 EDT; clocks go from 2:00 back to 1:00 on Sunday, so
    // 8:00 that morning is EST (UTC−5).
    assert_eq!(
        deferred(decide_at("+12125550123", "2026-11-01T01:30:00Z")),
        ("2026-11-01T13:00:00Z".into(), "federal_quiet_hours")
    );
    // 1:30 local happens twice; both are before 8:00.
    assert_eq!(
        deferred(decide_at("+12125550123", "2026-11-01T05:30:00Z")).0,
        "2026-11-01T13:00:00Z"
    );
    assert_eq!(
        deferred(decide_at("+12125550123", "2026-11-01T06:30:00Z")).0,
        "2026-11-01T13:00:00Z"
    );
    assert_eq!(
        decide_at("+12125550123", "2026-11-01T13:00:00Z"),
        GateDecision::Allowed
    );
    // Evening: 21:00 EST is 02:00 UTC.
    assert_eq!(
        decide_at("+12125550123", "2026-11-02T01:59:00Z"),
        GateDecision::Allowed
    );
}

#[test]
fn southern_hemisphere_dst_in_adelaide() {
    // DST ends 2026-04-05 at 3:00 ACDT (UTC+10:30) → 2:00 ACST (UTC+9:30).
    let mut case = Case::new("+447911123456", "2026-04-04T12:00:00Z"); // 22:30 Saturday
    case.lead_zone = Some(Tz::Australia__Adelaide);
    assert_eq!(deferred(case.decide()).0, "2026-04-04T22:30:00Z"); // 8:00 ACST
    // DST starts 2026-10-04 at 2:00 ACST → 3:00 ACDT.
    case.now = at("2026-10-03T12:00:00Z");
    assert_eq!(deferred(case.decide()).0, "2026-10-03T21:30:00Z"); // 8:00 ACDT
}
