//! Which numbers are listed and which can send: capability and channel filtering, the
//! warnings of numbers that cannot send, the listing cap, and the setup messages.

use super::*;

#[test]
fn only_numbers_with_the_capability_and_channel_are_listed() {
    let (ours, theirs) = (
        ChannelId::from(Uuid::from_u128(80)),
        ChannelId::from(Uuid::from_u128(81)),
    );
    let mut call_only = number(1, "+14155550001");
    call_only.capabilities.sms = false;
    let mut on_ours = number(2, "+14155550002");
    on_ours.channel_id = Some(ours);
    let mut on_theirs = number(3, "+14155550003");
    on_theirs.channel_id = Some(theirs);
    on_theirs.sms_cap = 1000;
    let unbound = number(4, "+14155550004");
    let pool = NumberPool::new(vec![call_only, on_ours, on_theirs, unbound]);
    let ids = |request: &SelectionRequest| -> Vec<u128> {
        listed(&pool, &select(&pool, request))
            .iter()
            .map(|l| l.0)
            .collect()
    };
    assert_eq!(ids(&sms()), [3, 2, 4]);
    let request = SelectionRequest {
        channel_id: Some(ours),
        ..sms()
    };
    assert_eq!(ids(&request), [2, 4]);
    // A hint on another channel is not a candidate either.
    let request = SelectionRequest {
        channel_id: Some(ours),
        sticky: Some(id(3)),
        ..sms()
    };
    assert_eq!(ids(&request), [2, 4]);
    let calls = SelectionRequest {
        capability: Capability::Call,
        ..SelectionRequest::default()
    };
    assert_eq!(ids(&calls), [1, 2, 3, 4]);
}

#[test]
fn numbers_that_cannot_send_say_why_and_rank_last_in_their_tier() {
    let mut paused = number(1, "+14155550001");
    paused.health = health(HealthState::Paused, Some("Paused by a person: complaint"));
    paused.sms_cap = 900;
    let mut blocked = number(2, "+14155550002");
    blocked.health = health(HealthState::Blocked, Some("Blocked: released"));
    let mut calls_full = number(3, "+14155550003");
    calls_full.call_used = 10;
    let excluded = number(4, "+14155550004");
    let mut small = number(5, "+14155550005");
    small.sms_cap = 10;
    let pool = NumberPool::new(vec![paused, blocked, calls_full, excluded, small]);
    let request = SelectionRequest {
        exclude: vec![id(4)],
        ..to("+14155559999")
    };
    let selection = select(&pool, &request);
    let warnings: Vec<(u128, bool, Option<&str>)> = selection
        .candidates
        .iter()
        .map(|c| {
            let n = pool.numbers()[c.index].id.as_uuid().as_u128();
            (n, c.can_send, c.warning.as_deref())
        })
        .collect();
    let skipped = "Skipped: it filled up while this send was being reserved";
    assert_eq!(
        warnings,
        [
            (3, true, None),
            (5, true, None),
            (1, false, Some("Paused by a person: complaint")),
            (2, false, Some("Blocked: released")),
            (4, false, Some(skipped))
        ]
    );
    let calls = SelectionRequest {
        capability: Capability::Call,
        manual_override: Some(id(3)),
        ..SelectionRequest::default()
    };
    let selection = select(&pool, &calls);
    assert_eq!(
        selection.selected.unwrap().warning.as_deref(),
        Some("Daily call cap reached: 10 of 10 used today")
    );
}

#[test]
fn the_listing_is_capped_but_always_holds_the_selected_number() {
    let numbers: Vec<PoolNumber> = (1..=40)
        .map(|n| {
            let mut number = number(n, &format!("+1212555{n:04}"));
            number.sms_cap = 1000 - n as u32;
            if n <= 30 {
                number = full(number);
            }
            number
        })
        .collect();
    let pool = NumberPool::new(numbers);
    let selection = select(
        &pool,
        &SelectionRequest {
            max_listed: 3,
            ..sms()
        },
    );
    let order: Vec<(u128, bool)> = listed(&pool, &selection)
        .iter()
        .map(|l| (l.0, l.2))
        .collect();
    assert_eq!(order, [(31, true), (32, true), (33, true)]);
    // Sticky numbers that cannot send are listed before the selected one, which is
    // appended beyond the cap.
    let request = SelectionRequest {
        max_listed: 2,
        sticky: Some(id(1)),
        lead_assigned: Some(id(2)),
        ..sms()
    };
    let selection = select(&pool, &request);
    let order: Vec<(u128, bool)> = listed(&pool, &selection)
        .iter()
        .map(|l| (l.0, l.2))
        .collect();
    assert_eq!(order, [(1, false), (2, false), (31, true)]);
    assert_eq!(selection.selected.unwrap().index, 30);
    let default_cap = select(&pool, &sms());
    assert_eq!(default_cap.candidates.len(), DEFAULT_MAX_LISTED);
}

#[test]
fn setup_messages_say_how_to_fix_an_empty_or_exhausted_pool() {
    let empty = select(&NumberPool::default(), &sms());
    assert_eq!(
        empty.setup_message.as_deref(),
        Some(
            "No phone number can send SMS yet: add one with POST /api/v1/phone-numbers \
             (capabilities: sms)"
        )
    );
    assert!(empty.selected.is_none() && empty.candidates.is_empty());
    let mut sms_only = number(1, "+14155550001");
    sms_only.capabilities.call = false;
    let pool = NumberPool::new(vec![full(sms_only)]);
    let calls = SelectionRequest {
        capability: Capability::Call,
        ..SelectionRequest::default()
    };
    let message = select(&pool, &calls).setup_message.unwrap();
    assert!(
        message.starts_with("No phone number can place calls yet"),
        "{message}"
    );
    let exhausted = select(&pool, &sms());
    assert!(exhausted.selected.is_none());
    assert_eq!(exhausted.candidates.len(), 1);
    let message = exhausted.setup_message.unwrap();
    assert!(
        message.starts_with("No phone number can send SMS right now"),
        "{message}"
    );
    assert!(
        message.contains("POST /api/v1/phone-numbers/{id}/resume"),
        "{message}"
    );
}

#[test]
fn default_numbers_rotate_with_the_pool() {
    let mut default = number(1, "+14155550001");
    default.is_default = true;
    let default_attention = PoolNumber {
        is_default: true,
        ..attention(number(2, "+14155550002"))
    };
    let pool = NumberPool::new(vec![default, default_attention]);
    assert_eq!(
        listed(&pool, &select(&pool, &sms())),
        [
            (1, SelectionReason::HealthyPool, true),
            (2, SelectionReason::FallbackDefault, true)
        ]
    );
    assert_eq!(pool.get(id(2)).unwrap().id, id(2));
    assert_eq!(pool.index_of(id(2)), Some(1));
    assert_eq!(pool.get(id(3)).map(|n| n.id), None);
}
