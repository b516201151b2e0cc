//! `assess`: one test per state and per threshold, with hand-checked figures.

use chrono::NaiveDate;

use super::*;
use crate::numbers::settings::NumberPoolSettings;
use crate::numbers::warmup::warmup;

fn day(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
}

/// A number that started on the 1st, as of `today`, on the default 7-day ramp.
fn started(today: u32) -> Warmup {
    warmup(Some(day(1)), day(today), &NumberPoolSettings::default())
}

/// 200 sends, all delivered, nothing else.
fn clean() -> NumberMetrics {
    NumberMetrics {
        sent: 200,
        delivered: 200,
        ..NumberMetrics::default()
    }
}

fn judge(metrics: NumberMetrics) -> Health {
    assess(
        &metrics,
        &started(20),
        &Hold::None,
        &HealthThresholds::default(),
    )
}

#[test]
fn warm_up_decides_a_clean_number() {
    let thresholds = HealthThresholds::default();
    let fresh = warmup(None, day(5), &NumberPoolSettings::default());
    let not_started = assess(&NumberMetrics::default(), &fresh, &Hold::None, &thresholds);
    assert_eq!(not_started.state, HealthState::NotStarted);
    assert_eq!(not_started.label, "Not started");
    let warming = assess(&clean(), &started(3), &Hold::None, &thresholds);
    assert_eq!(warming.state, HealthState::Warming);
    assert_eq!(warming.label, "Warming up: day 3 of 7");
    assert_eq!(warming.warning, None);
    let quiet = NumberMetrics {
        sent: 19,
        delivered: 19,
        ..NumberMetrics::default()
    };
    let ready = assess(&quiet, &started(8), &Hold::None, &thresholds);
    assert_eq!(
        (ready.state, ready.label.as_str()),
        (HealthState::Ready, "Ready")
    );
    let healthy = judge(clean());
    assert_eq!(
        (healthy.state, healthy.label.as_str()),
        (HealthState::Healthy, "Healthy")
    );
    assert_eq!(healthy.score, 1.0);
    assert!(healthy.can_send());
}

#[test]
fn holds_decide_outright() {
    let thresholds = HealthThresholds::default();
    let by_hand = Hold::Paused {
        reason: "complaint from a lead".into(),
        automatic: false,
    };
    let paused = assess(&clean(), &started(20), &by_hand, &thresholds);
    assert_eq!(paused.state, HealthState::Paused);
    assert_eq!(
        paused.warning.as_deref(),
        Some("Paused by a person: complaint from a lead")
    );
    assert_eq!((paused.pause.as_deref(), paused.score), (None, 0.0));
    assert!(!paused.can_send());
    let automatic = Hold::Paused {
        reason: "filtering".into(),
        automatic: true,
    };
    let paused = assess(&clean(), &started(20), &automatic, &thresholds);
    assert_eq!(
        paused.warning.as_deref(),
        Some("Paused automatically: filtering")
    );
    let blocked_hold = Hold::Blocked {
        reason: "released by the carrier".into(),
    };
    let blocked = assess(&clean(), &started(20), &blocked_hold, &thresholds);
    assert_eq!(blocked.state, HealthState::Blocked);
    assert_eq!(
        blocked.warning.as_deref(),
        Some("Blocked: released by the carrier")
    );
    assert_eq!(blocked.block, None);
    assert!(!blocked.can_send());
}

#[test]
fn carrier_blocks_block_from_the_threshold_on() {
    let two = judge(NumberMetrics {
        carrier_blocks: 2,
        ..clean()
    });
    assert_eq!(two.state, HealthState::Healthy);
    let three = judge(NumberMetrics {
        carrier_blocks: 3,
        ..clean()
    });
    assert_eq!(three.state, HealthState::Blocked);
    assert_eq!(
        three.block.as_deref(),
        Some(
            "Carrier blocked the number 3 times (Telnyx 40003) over the last 7 days; blocked at 3"
        )
    );
    // Blocks need no sample: one permanent block per send is already conclusive.
    let early = assess(
        &NumberMetrics {
            sent: 3,
            carrier_blocks: 3,
            ..NumberMetrics::default()
        },
        &started(2),
        &Hold::None,
        &HealthThresholds::default(),
    );
    assert_eq!(early.state, HealthState::Blocked);
}

#[test]
fn severe_rates_pause_with_a_reason_to_store() {
    let filtered = judge(NumberMetrics {
        filtered: 24,
        failed: 24,
        delivered: 176,
        ..clean()
    });
    assert_eq!(filtered.state, HealthState::Paused);
    let reason = "Carrier filtering at 12.0 % of sends (24 of 200, codes 30007/40002) \
                  over the last 7 days; paused above 5.0 %";
    assert_eq!(filtered.pause.as_deref(), Some(reason));
    assert_eq!(
        filtered.warning,
        Some(format!("Paused automatically: {reason}"))
    );
    let undelivered = judge(NumberMetrics {
        delivered: 140,
        failed: 60,
        ..clean()
    });
    assert_eq!(
        undelivered.pause.as_deref(),
        Some(
            "Delivery at 70.0 % (140 delivered, 60 failed) over the last 7 days; paused below 75.0 %"
        )
    );
    let opt_outs = judge(NumberMetrics {
        opt_outs: 11,
        ..clean()
    });
    assert_eq!(
        opt_outs.pause.as_deref(),
        Some("Opt-outs at 5.5 % of sends (11 of 200) over the last 7 days; paused above 5.0 %")
    );
}

#[test]
fn attention_thresholds_warn_but_keep_sending() {
    let cases = [
        (
            NumberMetrics {
                delivered: 170,
                failed: 30,
                ..clean()
            },
            "Delivery at 85.0 % (170 delivered, 30 failed) over the last 7 days; \
             needs attention below 90.0 %",
        ),
        (
            NumberMetrics {
                filtered: 6,
                ..clean()
            },
            "Carrier filtering at 3.0 % of sends (6 of 200, codes 30007/40002) \
             over the last 7 days; needs attention above 2.0 %",
        ),
        (
            NumberMetrics {
                opt_outs: 5,
                ..clean()
            },
            "Opt-outs at 2.5 % of sends (5 of 200) over the last 7 days; \
             needs attention above 2.0 %",
        ),
    ];
    for (metrics, warning) in cases {
        let health = judge(metrics);
        assert_eq!(health.state, HealthState::NeedsAttention, "{warning}");
        assert_eq!(health.label, "Needs attention");
        assert_eq!(health.warning.as_deref(), Some(warning));
        assert_eq!(health.pause, None);
        assert!(health.can_send());
    }
}

#[test]
fn reply_rate_is_judged_only_when_asked_for() {
    let silent = NumberMetrics {
        replies: 2,
        ..clean()
    };
    assert_eq!(judge(silent).state, HealthState::Healthy);
    let thresholds = HealthThresholds {
        min_reply_rate: 0.03,
        window_days: 1,
        ..HealthThresholds::default()
    };
    let health = assess(&silent, &started(20), &Hold::None, &thresholds);
    assert_eq!(health.state, HealthState::NeedsAttention);
    assert_eq!(
        health.warning.as_deref(),
        Some("Replies at 1.0 % of sends (2 of 200) over the last day; needs attention below 3.0 %")
    );
}

#[test]
fn rates_wait_for_the_sample_and_for_finished_sends() {
    // 19 sends, all filtered: too few to judge, so the warm-up decides.
    let few = NumberMetrics {
        sent: 19,
        failed: 19,
        filtered: 19,
        ..NumberMetrics::default()
    };
    let health = judge(few);
    assert_eq!((health.state, health.score), (HealthState::Ready, 1.0));
    // Nothing finished yet: the delivery rate is unknown, not zero.
    let in_flight = NumberMetrics {
        sent: 200,
        ..NumberMetrics::default()
    };
    assert_eq!(judge(in_flight).state, HealthState::Healthy);
    // A sample of 0 still never divides by zero sends.
    let thresholds = HealthThresholds {
        min_sample: 0,
        ..HealthThresholds::default()
    };
    let idle = assess(
        &NumberMetrics::default(),
        &started(20),
        &Hold::None,
        &thresholds,
    );
    assert_eq!(idle.state, HealthState::Ready);
}

#[test]
fn score_orders_by_delivery_filtering_and_replies() {
    let filtered = judge(NumberMetrics {
        delivered: 196,
        failed: 4,
        filtered: 2,
        ..clean()
    });
    // 0.98 delivered − 5 × 1 % filtered
    assert!((filtered.score - 0.93).abs() < 1e-9, "{}", filtered.score);
    let replying = judge(NumberMetrics {
        delivered: 180,
        failed: 20,
        replies: 100,
        opt_outs: 2,
        ..clean()
    });
    // 0.90 − 5 × 1 % + 0.1 × 50 %; a delivery rate at the threshold is not below it
    assert!((replying.score - 0.90).abs() < 1e-9, "{}", replying.score);
    assert!(filtered.score > replying.score);
    let terrible = judge(NumberMetrics {
        delivered: 0,
        failed: 200,
        ..clean()
    });
    assert_eq!(terrible.score, 0.0);
}
