//! The outbox's promises, on SQLite and PostgreSQL: an outcome counts only under the
//! lease it was leased with; a lease that lapsed is taken over after its grace and
//! marked lapsed; the attempt cap is enforced by the lease itself; one outcome that
//! cannot be recorded does not sink its batch-mates; leasing takes turns across
//! workspaces and respects each lane's cap.

mod number_pool;

use std::time::Duration;

use leadline_core::ManualClock;
use leadline_core::channel::MessageProviderType;
use leadline_core::message::{MessageStatus, MessageType};
use leadline_store::messages::Message;
use leadline_store::outbox::{JobOutcome, LaneCaps, LeaseRequest, LeasedJob};
use number_pool::{Fixture, on_both, on_both_with_clock};

fn caps(default: u32, lanes: &[(&str, u32)]) -> LaneCaps {
    LaneCaps {
        default,
        lanes: lanes
            .iter()
            .map(|(lane, cap)| (lane.to_string(), *cap))
            .collect(),
    }
}

async fn lease(
    f: &Fixture,
    owner: &str,
    limit: u32,
    lease_for: Duration,
    grace: Duration,
    caps: &LaneCaps,
) -> Vec<LeasedJob> {
    f.store
        .lease_jobs(&LeaseRequest {
            owner,
            limit,
            lease_for,
            takeover_grace: grace,
            caps,
        })
        .await
        .unwrap()
}

/// The message as stored now.
async fn stored(f: &Fixture, message: &Message) -> Message {
    f.store
        .message(f.workspace, message.id)
        .await
        .unwrap()
        .expect("the message exists")
}

async fn status(f: &Fixture, message: &Message) -> MessageStatus {
    stored(f, message).await.status
}

fn sent(job: &LeasedJob, provider_id: &str) -> JobOutcome {
    JobOutcome::Sent {
        lease: job.lease.clone(),
        message: job.task.message_id().unwrap(),
        provider_message_id: Some(provider_id.to_owned()),
        receipt_after: None,
    }
}

/// A message queued to a new contact on `channel`.
async fn queued(f: &Fixture, channel: &leadline_store::channels::Channel, n: u32) -> Message {
    let contact = f.contact(&format!("+1415555{n:04}")).await;
    f.open(channel, &contact, MessageType::Sms, None).await.1
}

/// A clock the tests move past a lease instead of waiting for it.
fn manual_clock() -> std::sync::Arc<ManualClock> {
    std::sync::Arc::new(ManualClock::new(chrono::Utc::now()))
}

const LONG: Duration = Duration::from_secs(60);
const NONE: Duration = Duration::ZERO;

#[tokio::test]
async fn an_outcome_counts_only_under_its_own_lease() {
    let clock = manual_clock();
    on_both_with_clock(clock.clone(), async |f| {
        let channel = f.channel(MessageProviderType::Sms).await;
        let message = queued(&f, &channel, 1).await;
        let all = caps(10, &[]);
        let first = lease(&f, "a", 10, Duration::from_millis(1), NONE, &all).await;
        assert_eq!(first.len(), 1);
        assert!(!first[0].lapsed);
        clock.advance(chrono::TimeDelta::milliseconds(20));
        // The lease lapsed without an outcome: another worker takes it over, marked.
        let second = lease(&f, "b", 10, LONG, NONE, &all).await;
        assert_eq!(second.len(), 1, "{:?}", f.kind);
        assert!(
            second[0].lapsed,
            "the takeover knows a call may have been made"
        );
        assert_eq!(second[0].attempts, 2);
        let stale = f
            .store
            .finish_jobs(&[sent(&first[0], "stale")])
            .await
            .unwrap();
        assert_eq!(stale.lease_lost, vec![first[0].id()]);
        assert_eq!(
            status(&f, &message).await,
            MessageStatus::Queued,
            "the stale holder changed nothing"
        );
        let (_, renewed) = f
            .store
            .renew_leases(&[first[0].lease.clone(), second[0].lease.clone()], LONG)
            .await
            .unwrap();
        assert_eq!(
            renewed.into_iter().collect::<Vec<_>>(),
            vec![second[0].id()],
            "only the holder renews"
        );
        let report = f
            .store
            .finish_jobs(&[sent(&second[0], "fresh")])
            .await
            .unwrap();
        assert_eq!(report.recorded, vec![second[0].id()]);
        let stored = stored(&f, &message).await;
        assert_eq!(
            (stored.status, stored.provider_message_id.as_deref()),
            (MessageStatus::Sent, Some("fresh"))
        );
        assert_eq!(f.store.outbox_depth().await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_lapsed_lease_waits_out_its_grace_and_renewal_keeps_it() {
    let clock = manual_clock();
    on_both_with_clock(clock.clone(), async |f| {
        let channel = f.channel(MessageProviderType::Sms).await;
        queued(&f, &channel, 1).await;
        let all = caps(10, &[]);
        let held = lease(&f, "a", 10, Duration::from_millis(1), NONE, &all).await;
        clock.advance(chrono::TimeDelta::milliseconds(20));
        assert!(
            lease(&f, "b", 10, LONG, LONG, &all).await.is_empty(),
            "within the grace nobody takes it over"
        );
        let (_, kept) = f
            .store
            .renew_leases(&[held[0].lease.clone()], LONG)
            .await
            .unwrap();
        assert!(
            kept.contains(&held[0].id()),
            "a lapsed lease nobody took is renewed"
        );
        assert!(
            lease(&f, "b", 10, LONG, NONE, &all).await.is_empty(),
            "renewed: not free even without grace"
        );
    })
    .await;
}

#[tokio::test]
async fn the_attempt_cap_is_kept_by_the_lease_and_exhausted_sends_are_held() {
    let clock = manual_clock();
    on_both_with_clock(clock.clone(), async |f| {
        let channel = f.channel(MessageProviderType::Sms).await;
        let message = queued(&f, &channel, 1).await;
        f.raw
            .execute("UPDATE jobs SET max_attempts = 2".into())
            .await;
        let all = caps(10, &[]);
        for _ in 0..2 {
            assert_eq!(
                lease(&f, "crashing", 10, Duration::from_millis(1), NONE, &all)
                    .await
                    .len(),
                1
            );
            clock.advance(chrono::TimeDelta::milliseconds(20));
        }
        assert!(
            lease(&f, "next", 10, LONG, NONE, &all).await.is_empty(),
            "no lease past the cap"
        );
        assert_eq!(f.store.settle_exhausted_jobs(NONE).await.unwrap(), 1);
        let stored = stored(&f, &message).await;
        assert_eq!(stored.status, MessageStatus::Uncertain);
        assert_eq!(stored.error_code.as_deref(), Some("attempts_exhausted"));
        assert_eq!(f.store.outbox_depth().await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_reused_provider_id_fails_its_batch_but_each_send_records_alone() {
    on_both(async |f| {
        let channel = f.channel(MessageProviderType::Sms).await;
        let one = queued(&f, &channel, 1).await;
        let two = queued(&f, &channel, 2).await;
        let jobs = lease(&f, "a", 10, LONG, LONG, &caps(10, &[])).await;
        let outcomes: Vec<JobOutcome> = jobs.iter().map(|job| sent(job, "same-id")).collect();
        assert!(
            f.store.finish_jobs(&outcomes).await.is_err(),
            "the batch breaks the unique id"
        );
        for outcome in &outcomes {
            let report = f
                .store
                .finish_jobs(std::slice::from_ref(outcome))
                .await
                .unwrap();
            assert_eq!(report.recorded.len(), 1);
        }
        let one = stored(&f, &one).await;
        let two = stored(&f, &two).await;
        assert_eq!(
            (one.status, two.status),
            (MessageStatus::Sent, MessageStatus::Sent)
        );
        let (first, second) = if one.provider_message_id.is_some() {
            (one, two)
        } else {
            (two, one)
        };
        assert_eq!(first.provider_message_id.as_deref(), Some("same-id"));
        assert_eq!(second.provider_message_id, None);
        assert_eq!(second.error_code.as_deref(), Some("provider_id_reused"));
        assert_eq!(f.store.outbox_depth().await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn leasing_takes_turns_across_workspaces_within_lane_caps() {
    on_both(async |f| {
        let busy = f.channel(MessageProviderType::Sms).await;
        for n in 0..30 {
            queued(&f, &busy, n).await;
        }
        // A second workspace queues three sends after the first one's thirty.
        let (other, _) = f.store.create_workspace("Other").await.unwrap();
        let other_fixture = Fixture {
            kind: f.kind,
            store: f.store.clone(),
            raw: f.raw.clone(),
            workspace: other.id,
        };
        let quiet = other_fixture.channel(MessageProviderType::Sms).await;
        for n in 100..103 {
            queued(&other_fixture, &quiet, n).await;
        }
        let lane_of = |jobs: &[LeasedJob], channel: &leadline_store::channels::Channel| {
            jobs.iter()
                .filter(|job| job.lane == channel.id.to_string())
                .count()
        };
        let round = lease(&f, "a", 6, LONG, LONG, &caps(100, &[])).await;
        assert_eq!(
            (lane_of(&round, &busy), lane_of(&round, &quiet)),
            (3, 3),
            "turns across workspaces"
        );
        let round = lease(
            &f,
            "a",
            20,
            LONG,
            LONG,
            &caps(100, &[(&busy.id.to_string(), 2)]),
        )
        .await;
        assert_eq!(lane_of(&round, &busy), 2, "a lane's cap holds");
        let round = lease(
            &f,
            "a",
            20,
            LONG,
            LONG,
            &caps(100, &[(&busy.id.to_string(), 0)]),
        )
        .await;
        assert!(round.is_empty(), "a closed lane gives nothing");
        // Within a workspace, its lanes take turns too.
        let late = other_fixture.channel(MessageProviderType::Sms).await;
        for n in 200..202 {
            queued(&other_fixture, &late, n).await;
        }
        let second = other_fixture.channel(MessageProviderType::Sms).await;
        queued(&other_fixture, &second, 300).await;
        let round = lease(
            &f,
            "a",
            2,
            LONG,
            LONG,
            &caps(100, &[(&busy.id.to_string(), 0)]),
        )
        .await;
        assert_eq!(
            (lane_of(&round, &late), lane_of(&round, &second)),
            (1, 1),
            "turns across lanes"
        );
        // Released jobs come back with their attempt refunded; a deferred lane waits.
        let round = lease(&f, "a", 1, LONG, LONG, &caps(100, &[])).await;
        let release = JobOutcome::Release {
            lease: round[0].lease.clone(),
            run_at: None,
        };
        f.store.finish_jobs(&[release]).await.unwrap();
        let until = f.store.clock().now() + chrono::Duration::hours(1);
        assert_eq!(
            f.store
                .defer_lane(&busy.id.to_string(), until)
                .await
                .unwrap(),
            25
        );
        let round = lease(&f, "a", 50, LONG, LONG, &caps(100, &[])).await;
        assert_eq!(
            (round.len(), lane_of(&round, &late)),
            (1, 1),
            "only the other workspace's last job is left"
        );
    })
    .await;
}

#[tokio::test]
async fn a_quarantined_job_leaves_the_outbox_and_marks_its_message() {
    on_both(async |f| {
        let channel = f.channel(MessageProviderType::Sms).await;
        let message = queued(&f, &channel, 1).await;
        let jobs = lease(&f, "a", 10, LONG, LONG, &caps(10, &[])).await;
        let mut stale = jobs[0].lease.clone();
        stale.token = leadline_store::outbox::LeaseToken::new();
        assert!(
            !f.store
                .quarantine_job(&stale, Some(message.id), "bad row")
                .await
                .unwrap(),
            "only the holder quarantines"
        );
        assert!(
            f.store
                .quarantine_job(&jobs[0].lease, Some(message.id), "bad row")
                .await
                .unwrap()
        );
        let stored = stored(&f, &message).await;
        assert_eq!(stored.status, MessageStatus::Quarantined);
        assert_eq!(stored.error_code.as_deref(), Some("not_recorded"));
        assert_eq!(stored.error_message.as_deref(), Some("bad row"));
        assert_eq!(f.store.outbox_depth().await.unwrap(), 0);
    })
    .await;
}
