//! Settling sends in doubt, on SQLite and PostgreSQL: each action moves an `uncertain`
//! or `quarantined` message to its status; a resend writes exactly one send job, due
//! now, that the dispatcher can lease; a message not in doubt (sent, or already
//! settled) is refused with its status and left alone; a contact who opted out is not
//! sent to again.

mod number_pool;

use std::time::Duration;

use leadline_core::channel::MessageProviderType;
use leadline_core::message::{MessageStatus, MessageType, SendResolution};
use leadline_core::{MessageId, WorkspaceId};
use leadline_store::message_resolution::{MARKED_FAILED, ResolveOutcome};
use leadline_store::messages::Message;
use leadline_store::outbox::{JobOutcome, LaneCaps, LeaseRequest, LeasedJob};
use number_pool::{Fixture, on_both};

const LONG: Duration = Duration::from_secs(60);

/// Leases every due job, as a dispatcher would.
async fn lease_all(f: &Fixture) -> Vec<LeasedJob> {
    f.store
        .lease_jobs(&LeaseRequest {
            owner: "test",
            limit: 100,
            lease_for: LONG,
            takeover_grace: LONG,
            caps: &LaneCaps {
                default: 100,
                lanes: Default::default(),
            },
        })
        .await
        .unwrap()
}

/// A message queued to a new contact, its send job leased and ended by `outcome`.
async fn sent_through(f: &Fixture, n: u32, outcome: impl Fn(&LeasedJob) -> JobOutcome) -> Message {
    let channel = f.channel(MessageProviderType::Sms).await;
    let contact = f.contact(&format!("+1415555{n:04}")).await;
    let (_, message) = f.open(&channel, &contact, MessageType::Sms, None).await;
    let jobs = lease_all(f).await;
    let job = jobs
        .iter()
        .find(|job| job.task.message_id() == Some(message.id))
        .expect("its send job is leased");
    let report = f.store.finish_jobs(&[outcome(job)]).await.unwrap();
    assert_eq!(report.recorded, vec![job.id()]);
    message
}

/// A message the dispatcher held as uncertain.
async fn uncertain(f: &Fixture, n: u32) -> Message {
    let message = sent_through(f, n, |job| JobOutcome::Uncertain {
        lease: job.lease.clone(),
        message: job.task.message_id().unwrap(),
        reason: "timed out after the request was written".into(),
    })
    .await;
    let stored = stored(f, message.id).await;
    assert_eq!(stored.status, MessageStatus::Uncertain);
    assert_eq!(stored.error_code.as_deref(), Some("outcome_unknown"));
    stored
}

async fn stored(f: &Fixture, id: MessageId) -> Message {
    f.store.message(f.workspace, id).await.unwrap().unwrap()
}

async fn resolve(
    f: &Fixture,
    workspace: WorkspaceId,
    message: &Message,
    resolution: SendResolution,
    note: Option<&str>,
) -> ResolveOutcome {
    f.store
        .resolve_message(workspace, message.id, resolution, note)
        .await
        .unwrap()
}

/// The resolved message, or a panic naming what happened instead.
fn resolved(outcome: ResolveOutcome) -> Message {
    match outcome {
        ResolveOutcome::Resolved(message) => *message,
        other => panic!("not resolved: {other:?}"),
    }
}

async fn jobs_of(f: &Fixture, message: &Message) -> i64 {
    f.raw
        .int(format!(
            "SELECT COUNT(*) FROM jobs WHERE message_id = '{}'",
            message.id
        ))
        .await
        .unwrap_or(0)
}

#[tokio::test]
async fn a_resend_queues_the_message_with_one_job_due_now() {
    on_both(async |f| {
        let message = uncertain(&f, 1).await;
        assert_eq!(jobs_of(&f, &message).await, 0, "held: no job");
        let before = f.store.clock().now();
        let resent =
            resolved(resolve(&f, f.workspace, &message, SendResolution::Resend, None).await);
        let after = f.store.clock().now();
        assert_eq!(resent.status, MessageStatus::Queued, "{:?}", f.kind);
        assert_eq!((resent.error_code, resent.error_message), (None, None));
        assert_eq!(stored(&f, message.id).await.status, MessageStatus::Queued);
        assert_eq!(jobs_of(&f, &message).await, 1, "exactly one new job");
        let due = f.job_run_at(&message).await.expect("a job");
        assert!(
            before - chrono::Duration::milliseconds(1) <= due && due <= after,
            "due now: {due} not in {before}..{after}"
        );
        let leased = lease_all(&f).await;
        assert_eq!(leased.len(), 1);
        assert_eq!(leased[0].task.message_id(), Some(message.id));
        assert_eq!(
            (leased[0].attempts, leased[0].lapsed),
            (1, false),
            "a fresh job: first attempt, nothing in doubt"
        );
        assert_eq!(
            resolve(&f, f.workspace, &message, SendResolution::Resend, None).await,
            ResolveOutcome::WrongStatus(MessageStatus::Queued),
            "resolved once only"
        );
        assert_eq!(jobs_of(&f, &message).await, 1, "the refusal wrote nothing");
    })
    .await;
}

#[tokio::test]
async fn marking_sent_records_the_send_and_queues_nothing() {
    on_both(async |f| {
        let message = uncertain(&f, 1).await;
        let before = f.store.clock().now();
        let sent =
            resolved(resolve(&f, f.workspace, &message, SendResolution::MarkSent, None).await);
        assert_eq!(sent.status, MessageStatus::Sent);
        assert_eq!((sent.error_code, sent.error_message), (None, None));
        assert!(
            sent.sent_at
                .is_some_and(|at| at >= before - chrono::Duration::milliseconds(1))
        );
        assert_eq!(jobs_of(&f, &message).await, 0);
        assert_eq!(
            resolve(&f, f.workspace, &message, SendResolution::MarkFailed, None).await,
            ResolveOutcome::WrongStatus(MessageStatus::Sent),
            "a second decision is refused"
        );
        assert_eq!(stored(&f, message.id).await.status, MessageStatus::Sent);
    })
    .await;
}

#[tokio::test]
async fn marking_failed_keeps_the_note_or_says_a_person_did_it() {
    on_both(async |f| {
        let noted = uncertain(&f, 1).await;
        let failed = resolved(
            resolve(
                &f,
                f.workspace,
                &noted,
                SendResolution::MarkFailed,
                Some("not in Twilio's log"),
            )
            .await,
        );
        assert_eq!(failed.status, MessageStatus::Failed);
        assert_eq!(failed.error_code.as_deref(), Some("resolved_failed"));
        assert_eq!(failed.error_message.as_deref(), Some("not in Twilio's log"));
        let bare = uncertain(&f, 2).await;
        let failed =
            resolved(resolve(&f, f.workspace, &bare, SendResolution::MarkFailed, None).await);
        assert_eq!(failed.error_message.as_deref(), Some(MARKED_FAILED));
        assert_eq!(jobs_of(&f, &noted).await + jobs_of(&f, &bare).await, 0);
    })
    .await;
}

#[tokio::test]
async fn only_outbound_messages_of_the_workspace_in_doubt_are_settled() {
    on_both(async |f| {
        let sent = sent_through(&f, 1, |job| JobOutcome::Sent {
            lease: job.lease.clone(),
            message: job.task.message_id().unwrap(),
            provider_message_id: Some("SM1".into()),
            receipt_after: None,
        })
        .await;
        for resolution in SendResolution::ALL {
            assert_eq!(
                resolve(&f, f.workspace, &sent, *resolution, None).await,
                ResolveOutcome::WrongStatus(MessageStatus::Sent),
                "{resolution}"
            );
        }
        assert_eq!(
            stored(&f, sent.id).await.provider_message_id.as_deref(),
            Some("SM1")
        );
        assert_eq!(jobs_of(&f, &sent).await, 0);

        let message = uncertain(&f, 2).await;
        let (other, _) = f.store.create_workspace("Other").await.unwrap();
        assert_eq!(
            resolve(&f, other.id, &message, SendResolution::Resend, None).await,
            ResolveOutcome::NotFound,
            "another workspace's message is not there"
        );
        let unknown = Message {
            id: MessageId::new(),
            ..message.clone()
        };
        assert_eq!(
            resolve(&f, f.workspace, &unknown, SendResolution::MarkSent, None).await,
            ResolveOutcome::NotFound
        );
        assert_eq!(
            stored(&f, message.id).await.status,
            MessageStatus::Uncertain
        );
    })
    .await;
}

#[tokio::test]
async fn a_quarantined_message_is_settled_too() {
    on_both(async |f| {
        let channel = f.channel(MessageProviderType::Sms).await;
        let contact = f.contact("+14155550001").await;
        let (_, message) = f.open(&channel, &contact, MessageType::Sms, None).await;
        let job = lease_all(&f).await.remove(0);
        assert!(
            f.store
                .quarantine_job(&job.lease, Some(message.id), "could not record")
                .await
                .unwrap()
        );
        assert_eq!(
            stored(&f, message.id).await.status,
            MessageStatus::Quarantined
        );
        let resent =
            resolved(resolve(&f, f.workspace, &message, SendResolution::Resend, None).await);
        assert_eq!(resent.status, MessageStatus::Queued);
        assert_eq!(jobs_of(&f, &message).await, 1);
    })
    .await;
}

#[tokio::test]
async fn a_contact_who_opted_out_is_not_sent_to_again() {
    on_both(async |f| {
        let message = uncertain(&f, 1).await;
        f.store
            .add_opt_out(
                f.workspace,
                message.contact_id,
                MessageProviderType::Sms,
                "api",
                None,
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            resolve(&f, f.workspace, &message, SendResolution::Resend, None).await,
            ResolveOutcome::OptedOut(MessageProviderType::Sms)
        );
        assert_eq!(jobs_of(&f, &message).await, 0);
        let failed =
            resolved(resolve(&f, f.workspace, &message, SendResolution::MarkFailed, None).await);
        assert_eq!(
            failed.status,
            MessageStatus::Failed,
            "it can still be settled"
        );
    })
    .await;
}
