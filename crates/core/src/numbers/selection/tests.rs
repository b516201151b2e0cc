//! One test per tier and per rule of `select`, on small hand-built pools whose expected
//! order can be read off the test; `eligibility` has who may be listed and who may send.

mod eligibility;

use chrono::TimeZone;
use uuid::Uuid;

use super::*;
use crate::numbers::HealthState;

/// An id whose order follows `n`, so that the last tie-breaker is predictable.
fn id(n: u128) -> PhoneNumberId {
    PhoneNumberId::from(Uuid::from_u128(n))
}

fn health(state: HealthState, warning: Option<&str>) -> Health {
    Health {
        state,
        label: state.as_str().to_owned(),
        warning: warning.map(str::to_owned),
        score: 1.0,
        pause: None,
        block: None,
    }
}

/// A healthy SMS-and-call number `n` with 100 of 100 SMS and 10 calls left.
fn number(n: u128, e164: &str) -> PoolNumber {
    PoolNumber {
        id: id(n),
        number: E164::from_trusted(e164.to_owned()),
        display_number: e164.to_owned(),
        label: None,
        capabilities: Capabilities {
            sms: true,
            call: true,
        },
        channel_id: None,
        team_id: None,
        campaign_ids: Vec::new(),
        source_ids: Vec::new(),
        preferred: false,
        is_default: false,
        health: health(HealthState::Healthy, None),
        sms_cap: 100,
        sms_used: 0,
        call_cap: 10,
        call_used: 0,
        last_used_at: None,
    }
}

fn attention(mut n: PoolNumber) -> PoolNumber {
    n.health = health(HealthState::NeedsAttention, Some("Delivery at 85.0 %"));
    n
}

fn full(mut n: PoolNumber) -> PoolNumber {
    n.sms_used = n.sms_cap;
    n
}

fn sms() -> SelectionRequest {
    SelectionRequest {
        capability: Capability::Sms,
        ..SelectionRequest::default()
    }
}

fn to(recipient: &str) -> SelectionRequest {
    SelectionRequest {
        recipient: Some(E164::from_trusted(recipient.to_owned())),
        ..sms()
    }
}

/// The listed numbers as (id number, reason, can send).
fn listed(pool: &NumberPool, selection: &Selection) -> Vec<(u128, SelectionReason, bool)> {
    selection
        .candidates
        .iter()
        .map(|c| {
            let n = pool.numbers()[c.index].id.as_uuid().as_u128();
            (n, c.reason, c.can_send)
        })
        .collect()
}

fn selected_id(pool: &NumberPool, selection: &Selection) -> Option<u128> {
    let selected = selection.selected.as_ref()?;
    Some(pool.numbers()[selected.index].id.as_uuid().as_u128())
}

#[test]
fn a_manual_override_that_can_send_wins() {
    let mut sticky = number(1, "+14155550001");
    sticky
        .campaign_ids
        .push(CampaignId::from(Uuid::from_u128(9)));
    let pool = NumberPool::new(vec![sticky, number(2, "+14155550002")]);
    let request = SelectionRequest {
        manual_override: Some(id(2)),
        sticky: Some(id(1)),
        ..sms()
    };
    let selection = select(&pool, &request);
    assert!(selection.manually_overridden && selection.can_send());
    assert_eq!(selected_id(&pool, &selection), Some(2));
    let selected = selection.selected.as_ref().unwrap();
    assert_eq!(
        selected.reason_label,
        "Chosen by hand for this conversation"
    );
    assert_eq!(
        listed(&pool, &selection),
        [
            (2, SelectionReason::ManualOverride, true),
            (1, SelectionReason::StickyConversation, true)
        ]
    );
}

#[test]
fn an_override_that_cannot_send_is_reported_not_replaced() {
    let pool = NumberPool::new(vec![
        full(number(1, "+14155550001")),
        number(2, "+14155550002"),
    ]);
    let request = SelectionRequest {
        manual_override: Some(id(1)),
        ..sms()
    };
    let selection = select(&pool, &request);
    let selected = selection.selected.clone().unwrap();
    assert!(selection.manually_overridden && !selected.can_send && !selection.can_send());
    assert_eq!(selected.index, 0);
    assert_eq!(
        selected.warning.as_deref(),
        Some("Daily SMS cap reached: 100 of 100 used today")
    );
    assert_eq!(selection.setup_message, None);
    // The other number is listed so the person can pick it, but it is not chosen.
    assert_eq!(
        listed(&pool, &selection)[1],
        (2, SelectionReason::HealthyPool, true)
    );
}

#[test]
fn an_override_outside_the_pool_or_without_the_capability_is_ignored() {
    let mut call_only = number(1, "+14155550001");
    call_only.capabilities.sms = false;
    let pool = NumberPool::new(vec![call_only, number(2, "+14155550002")]);
    for unknown in [id(1), id(77)] {
        let request = SelectionRequest {
            manual_override: Some(unknown),
            ..sms()
        };
        let selection = select(&pool, &request);
        assert!(!selection.manually_overridden);
        assert_eq!(selected_id(&pool, &selection), Some(2));
        assert_eq!(
            listed(&pool, &selection),
            [(2, SelectionReason::HealthyPool, true)]
        );
    }
}

#[test]
fn hints_rank_sticky_then_lead_then_campaign_then_source() {
    let campaign = CampaignId::from(Uuid::from_u128(50));
    let source = SourceId::from(Uuid::from_u128(60));
    let mut by_campaign = number(3, "+14155550003");
    by_campaign.campaign_ids.push(campaign);
    let mut by_source = number(4, "+14155550004");
    by_source.source_ids.push(source);
    by_source.sms_used = 0;
    let pool = NumberPool::new(vec![
        number(1, "+14155550001"),
        number(2, "+14155550002"),
        by_campaign,
        by_source,
        number(5, "+14155550005"),
    ]);
    let request = SelectionRequest {
        sticky: Some(id(1)),
        lead_assigned: Some(id(2)),
        campaign_id: Some(campaign),
        source_id: Some(source),
        ..sms()
    };
    let selection = select(&pool, &request);
    let labels: Vec<&str> = selection
        .candidates
        .iter()
        .map(|c| c.reason_label.as_str())
        .collect();
    assert_eq!(
        labels,
        [
            "Last used with this recipient",
            "Assigned to this lead",
            "Serves this campaign",
            "Serves this source",
            "Most capacity left in the pool"
        ]
    );
    assert_eq!(selected_id(&pool, &selection), Some(1));
    // A full sticky number gives way to the lead's number, and is still listed first.
    let pool = NumberPool::new(
        pool.numbers()
            .iter()
            .cloned()
            .map(|n| if n.id == id(1) { full(n) } else { n })
            .collect(),
    );
    let selection = select(&pool, &request);
    assert_eq!(selected_id(&pool, &selection), Some(2));
    assert_eq!(
        listed(&pool, &selection)[0],
        (1, SelectionReason::StickyConversation, false)
    );
}

#[test]
fn preferred_numbers_of_the_team_come_before_the_workspaces() {
    let team = TeamId::from(Uuid::from_u128(70));
    let other_team = TeamId::from(Uuid::from_u128(71));
    let preferred = |n, team_id| PoolNumber {
        preferred: true,
        team_id,
        ..number(n, "+14155550000")
    };
    let pool = NumberPool::new(vec![
        preferred(1, None),
        preferred(2, Some(other_team)),
        preferred(3, Some(team)),
        number(4, "+14155550004"),
    ]);
    let for_team = SelectionRequest {
        team_id: Some(team),
        ..sms()
    };
    let selection = select(&pool, &for_team);
    let labels: Vec<(u128, &str)> = selection
        .candidates
        .iter()
        .map(|c| {
            (
                pool.numbers()[c.index].id.as_uuid().as_u128(),
                c.reason_label.as_str(),
            )
        })
        .collect();
    assert_eq!(
        labels,
        [
            (3, "Preferred by the team"),
            (1, "Preferred for the workspace"),
            (2, "Most capacity left in the pool"),
            (4, "Most capacity left in the pool")
        ]
    );
    // Without a team only the workspace's preferred numbers are preferred.
    let selection = select(&pool, &sms());
    assert_eq!(
        listed(&pool, &selection)[0],
        (1, SelectionReason::Preferred, true)
    );
    assert_eq!(listed(&pool, &selection)[1].1, SelectionReason::HealthyPool);
}

#[test]
fn local_area_ranks_area_code_then_state_then_country() {
    let pool = NumberPool::new(vec![
        number(1, "+12125550001"),  // NY
        number(2, "+15105550002"),  // CA, overlay-free neighbour of 415
        number(3, "+14165550003"),  // ON, Canada
        number(4, "+14155550004"),  // CA, 415
        number(5, "+447911123456"), // GB
    ]);
    let selection = select(&pool, &to("+14155559999"));
    let labels: Vec<(u128, &str)> = selection
        .candidates
        .iter()
        .map(|c| {
            (
                pool.numbers()[c.index].id.as_uuid().as_u128(),
                c.reason_label.as_str(),
            )
        })
        .collect();
    assert_eq!(
        labels,
        [
            (4, "Same area code (415)"),
            (2, "Same state (CA)"),
            (1, "Same country (US)"),
            (3, "Most capacity left in the pool"),
            (5, "Most capacity left in the pool")
        ]
    );
    let abroad = select(&pool, &to("+447700900123"));
    assert_eq!(abroad.candidates[0].reason_label, "Same country (+44)");
    assert_eq!(selected_id(&pool, &abroad), Some(5));
    let canada = select(&pool, &to("+16475550123"));
    assert_eq!(canada.candidates[0].reason_label, "Same state (ON)");
}

#[test]
fn the_pool_ranks_by_capacity_score_last_use_and_id() {
    let at = |hour| Some(Utc.with_ymd_and_hms(2026, 11, 2, hour, 0, 0).unwrap());
    let mut roomy = number(1, "+12125550001");
    roomy.sms_cap = 500;
    roomy.call_used = 5;
    let mut lower_score = number(2, "+12125550002");
    lower_score.health.score = 0.5;
    let mut used_late = number(3, "+12125550003");
    used_late.last_used_at = at(10);
    let mut used_early = number(4, "+12125550004");
    used_early.last_used_at = at(9);
    let never_used = number(5, "+12125550005");
    let never_used_later_id = number(6, "+12125550006");
    let mut busier = number(7, "+12125550007");
    busier.sms_used = 60;
    let pool = NumberPool::new(vec![
        busier,
        never_used_later_id,
        used_late,
        lower_score,
        used_early,
        never_used,
        roomy,
    ]);
    let order: Vec<u128> = listed(&pool, &select(&pool, &sms()))
        .iter()
        .map(|l| l.0)
        .collect();
    assert_eq!(order, [1, 5, 6, 4, 3, 2, 7]);
    // Calls rank by calls left: the SMS-heavy 7 has all its calls, 1 only half.
    let calls = SelectionRequest {
        capability: Capability::Call,
        ..SelectionRequest::default()
    };
    let order: Vec<u128> = listed(&pool, &select(&pool, &calls))
        .iter()
        .map(|l| l.0)
        .collect();
    assert_eq!(order, [5, 6, 7, 4, 3, 2, 1]);
}

#[test]
fn needs_attention_numbers_are_a_fallback_outside_the_explicit_tiers() {
    let campaign = CampaignId::from(Uuid::from_u128(50));
    let mut serving = attention(number(1, "+14155550001"));
    serving.campaign_ids.push(campaign);
    serving.sms_cap = 1000;
    let mut local = attention(number(2, "+14155550002"));
    local.preferred = true;
    local.sms_cap = 1000;
    let pool = NumberPool::new(vec![serving, local, number(3, "+12125550003")]);
    let request = SelectionRequest {
        campaign_id: Some(campaign),
        ..to("+14155559999")
    };
    let selection = select(&pool, &request);
    assert_eq!(
        listed(&pool, &selection),
        [
            (1, SelectionReason::CampaignOrSource, true),
            (3, SelectionReason::LocalArea, true),
            (2, SelectionReason::FallbackDefault, true)
        ]
    );
    assert_eq!(selected_id(&pool, &selection), Some(1));
    assert_eq!(
        selection.candidates[0].warning.as_deref(),
        Some("Delivery at 85.0 %")
    );
    let fallback = &selection.candidates[2];
    assert_eq!(
        fallback.reason_label,
        "Needs attention: used only when no healthy number can send"
    );
    // With the healthy number full, the Needs Attention one is used.
    let numbers = pool.numbers().to_vec();
    let pool = NumberPool::new(vec![numbers[1].clone(), full(numbers[2].clone())]);
    let selection = select(&pool, &to("+14155559999"));
    assert_eq!(selected_id(&pool, &selection), Some(2));
    assert_eq!(
        selection.selected.unwrap().reason,
        SelectionReason::FallbackDefault
    );
}
