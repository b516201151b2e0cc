//! What an attempt's answer does to its job.

use std::time::Duration;

use leadline_core::event::schedule;
use leadline_core::{EventId, JobId, WebhookEndpointId, WorkspaceId};
use leadline_store::outbox::{JobLease, JobOutcome, LeaseToken, LeasedJob, Task};

use super::next_step;
use super::post::{Answer, AnswerKind};

fn job(attempts: u32) -> LeasedJob {
    let endpoint_id = WebhookEndpointId::new();
    LeasedJob {
        lease: JobLease {
            job: JobId::new(),
            token: LeaseToken::new(),
        },
        workspace_id: WorkspaceId::new(),
        lane: Task::webhook_lane(endpoint_id),
        task: Task::WebhookV1 {
            event_id: EventId::new(),
            endpoint_id,
        },
        attempts,
        max_attempts: schedule::ATTEMPTS,
        lapsed: false,
        until: chrono::Utc::now(),
        message: None,
    }
}

fn answered(kind: AnswerKind, status: Option<u16>, retry_after: Option<u64>) -> Answer {
    Answer {
        kind,
        status,
        retry_after: retry_after.map(Duration::from_secs),
        excerpt: None,
    }
}

fn delay(outcome: JobOutcome) -> Duration {
    match outcome {
        JobOutcome::Retry { delay, .. } => delay,
        other => panic!("expected a retry, got {}", other.label()),
    }
}

#[test]
fn a_2xx_or_a_410_ends_the_job() {
    for kind in [AnswerKind::Accepted, AnswerKind::Gone] {
        let outcome = next_step(&job(1), &answered(kind, Some(200), None), None, 0.5);
        assert!(matches!(outcome, JobOutcome::Done { .. }), "{kind:?}");
    }
}

#[test]
fn failures_follow_the_schedule_until_the_last_attempt() {
    let refused = answered(AnswerKind::Refused, Some(500), None);
    assert_eq!(
        delay(next_step(&job(1), &refused, None, 0.5)),
        Duration::from_secs(5)
    );
    let unreachable = Answer::unreachable("could not connect".into());
    assert_eq!(
        delay(next_step(&job(2), &unreachable, None, 0.5)),
        Duration::from_secs(300)
    );
    let last = next_step(&job(schedule::ATTEMPTS), &refused, None, 0.5);
    assert!(matches!(last, JobOutcome::Done { .. }));
}

#[test]
fn retry_after_and_an_open_circuit_push_the_next_attempt_back() {
    let busy = answered(AnswerKind::Refused, Some(429), Some(120));
    assert_eq!(
        delay(next_step(&job(1), &busy, None, 0.5)),
        Duration::from_secs(120)
    );
    let failing = answered(AnswerKind::Refused, Some(503), None);
    let pause = Some(Duration::from_secs(40));
    assert_eq!(
        delay(next_step(&job(1), &failing, pause, 0.5)),
        Duration::from_secs(40)
    );
}

#[test]
fn only_an_unwell_endpoint_counts_against_its_circuit() {
    assert!(answered(AnswerKind::Refused, Some(503), None).is_unwell());
    assert!(answered(AnswerKind::Refused, Some(429), None).is_unwell());
    assert!(Answer::unreachable("no answer in time".into()).is_unwell());
    assert!(!answered(AnswerKind::Refused, Some(400), None).is_unwell());
    assert!(!answered(AnswerKind::Gone, Some(410), None).is_unwell());
    assert!(!answered(AnswerKind::Forbidden, None, None).is_unwell());
}

#[test]
fn an_endpoint_lane_starts_at_its_own_concurrency_and_keeps_its_rate() {
    use super::super::lanes::{LaneLimits, Lanes};
    use leadline_core::delivery::CircuitPolicy;

    let lanes = std::sync::Arc::new(Lanes::new(CircuitPolicy::default(), 2));
    let now = chrono::Utc::now();
    let lane = Task::webhook_lane(WebhookEndpointId::new());
    let limits = LaneLimits {
        concurrency: 2,
        per_second: Some(1.0),
    };
    let held: Vec<_> = (0..2).map(|_| lanes.reserve(&lane)).collect();
    assert_eq!(
        lanes.caps(now).lanes[&lane],
        0,
        "a new endpoint lane is as wide as an endpoint's concurrency"
    );
    drop(held);
    assert!(lanes.reserve(&lane).admit_within(limits, now));
    assert!(
        !lanes.reserve(&lane).admit_within(limits, now),
        "one delivery per second"
    );
    assert!(
        lanes.caps(now).lanes.contains_key(&lane),
        "an endpoint lane is remembered while idle, so a lease never takes more than it can start"
    );
}
