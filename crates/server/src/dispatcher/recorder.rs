//! Records outcomes (with the attempts of webhook deliveries, [`attempts`]) as soon as
//! their calls return: a writer task (two on PostgreSQL) takes every outcome that
//! queued up while its previous transaction ran and records them together (an idle
//! dispatcher records a lone outcome at once; a busy one pays one transaction per
//! batch). Each outcome is fenced by its lease in the store.
//!
//! One outcome never holds up another: a batch that fails is recorded again outcome by
//! outcome. An outcome that still fails while the database answers is quarantined —
//! its job taken out of the outbox and its message marked — rather than sent again.
//! While the database does not answer, outcomes wait here (their leases are renewed,
//! or protected by the takeover grace) and are recorded when it is back.

mod attempts;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use leadline_core::MessageId;
use leadline_store::outbox::{FinishReport, JobOutcome};
use leadline_store::webhook_endpoints::NewWebhookAttempt;
use leadline_store::{BackendKind, Store};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use super::held::HeldLeases;

/// Outcomes recorded in one transaction at most.
const MAX_BATCH: usize = 512;
/// Tries of one outcome on its own before it is judged unrecordable.
const SINGLE_TRIES: u32 = 3;

struct Pending {
    outcome: JobOutcome,
    message: Option<MessageId>,
    /// The webhook delivery attempt the job made, to log with its outcome.
    attempt: Option<NewWebhookAttempt>,
}

#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::UnboundedSender<Pending>,
    backlog: Arc<AtomicUsize>,
    /// Notified after each batch is written, for [`Recorder::recorded`].
    written: Arc<Notify>,
}

impl Recorder {
    /// Starts the recording task; it ends once every `Recorder` clone is dropped and
    /// what they queued is recorded.
    pub fn spawn(store: Store, held: Arc<HeldLeases>) -> (Self, JoinHandle<()>) {
        let (queue, receiver) = mpsc::unbounded_channel();
        let backlog = Arc::new(AtomicUsize::new(0));
        let written = Arc::new(Notify::new());
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        // PostgreSQL commits two transactions at once as cheaply as one; SQLite has a
        // single writer.
        let writers = match store.kind() {
            BackendKind::Postgres => 2,
            BackendKind::Sqlite => 1,
        };
        let tasks: Vec<JoinHandle<()>> = (0..writers)
            .map(|_| {
                tokio::spawn(run(
                    store.clone(),
                    held.clone(),
                    receiver.clone(),
                    backlog.clone(),
                    written.clone(),
                ))
            })
            .collect();
        let task = tokio::spawn(async move {
            for task in tasks {
                let _ = task.await;
            }
        });
        (
            Self {
                queue,
                backlog,
                written,
            },
            task,
        )
    }

    /// Queues an outcome of a job about `message`.
    pub fn record(&self, outcome: JobOutcome, message: Option<MessageId>) {
        self.queue(Pending {
            outcome,
            message,
            attempt: None,
        });
    }

    /// Queues the outcome of a webhook delivery job with the attempt it made, if any.
    pub fn record_delivery(&self, outcome: JobOutcome, attempt: Option<NewWebhookAttempt>) {
        self.queue(Pending {
            outcome,
            message: None,
            attempt,
        });
    }

    fn queue(&self, pending: Pending) {
        self.backlog.fetch_add(1, Ordering::Relaxed);
        if self.queue.send(pending).is_err() {
            self.backlog.fetch_sub(1, Ordering::Relaxed);
            tracing::error!(
                "the recorder stopped; the outcome is lost and its job runs again after its lease"
            );
        }
    }

    /// Outcomes queued and not yet recorded.
    pub fn backlog(&self) -> usize {
        self.backlog.load(Ordering::Relaxed)
    }

    /// Returns once every outcome queued so far is recorded (or judged unrecordable).
    pub async fn recorded(&self) {
        loop {
            // Registered before the backlog is read, so a batch written in between
            // still wakes this.
            let written = self.written.notified();
            tokio::pin!(written);
            written.as_mut().enable();
            if self.backlog() == 0 {
                return;
            }
            written.await;
        }
    }
}

/// One writer: takes whatever queued while it (or the other writer) was committing.
async fn run(
    store: Store,
    held: Arc<HeldLeases>,
    receiver: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>>,
    backlog: Arc<AtomicUsize>,
    written: Arc<Notify>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.lock().await.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let size = batch.len();
        write_batch(&store, &held, &mut batch).await;
        backlog.fetch_sub(size, Ordering::Relaxed);
        written.notify_waiters();
    }
}

async fn write_batch(store: &Store, held: &HeldLeases, batch: &mut Vec<Pending>) {
    let outcomes: Vec<JobOutcome> = batch.iter().map(|p| p.outcome.clone()).collect();
    let attempts: Vec<NewWebhookAttempt> = batch.iter().filter_map(|p| p.attempt.clone()).collect();
    match store.finish_deliveries(&outcomes, &attempts).await {
        Ok((report, disabled)) => {
            settled(held, &outcomes, &report);
            attempts::report_disabled(&attempts, &disabled);
            batch.clear();
        }
        Err(error) => {
            if batch.len() > 1 {
                tracing::warn!(%error, outcomes = batch.len(), "recording a batch of outcomes failed; recording them one by one");
            }
            for pending in batch.drain(..) {
                write_one(store, held, pending).await;
            }
        }
    }
}

async fn write_one(store: &Store, held: &HeldLeases, pending: Pending) {
    let outcome = std::slice::from_ref(&pending.outcome);
    let attempt = pending.attempt.as_slice();
    let mut unreachable_wait = Duration::from_secs(1);
    let mut tries = 0;
    loop {
        let error = match store.finish_deliveries(outcome, attempt).await {
            Ok((report, disabled)) => {
                attempts::report_disabled(attempt, &disabled);
                return settled(held, outcome, &report);
            }
            Err(error) => error,
        };
        if error.is_unavailable() || store.ping().await.is_err() {
            // The database is away: not this outcome's fault. Wait for it.
            tracing::warn!(%error, wait = ?unreachable_wait, "the database does not answer; the outcome waits to be recorded");
            tokio::time::sleep(unreachable_wait).await;
            unreachable_wait = (unreachable_wait * 2).min(Duration::from_secs(30));
            continue;
        }
        tries += 1;
        if tries < SINGLE_TRIES {
            tokio::time::sleep(Duration::from_millis(100 * u64::from(tries))).await;
            continue;
        }
        let lease = pending.outcome.lease();
        let reason = format!(
            "its {} outcome could not be recorded: {error}",
            pending.outcome.label()
        );
        tracing::error!(job = %lease.job, message = ?pending.message, %reason, "quarantining the job: it will not be sent again by itself");
        match store.quarantine_job(lease, pending.message, &reason).await {
            Ok(true) => metrics::counter!("leadline_dispatch_quarantined_total").increment(1),
            Ok(false) => metrics::counter!("leadline_dispatch_leases_lost_total").increment(1),
            Err(error) => {
                tracing::error!(%error, job = %lease.job, "quarantining failed too; the job's lease will lapse and it is judged again")
            }
        }
        if let Some(attempt) = &pending.attempt {
            attempts::record_alone(store, attempt).await;
        }
        held.remove(lease);
        return;
    }
}

fn settled(held: &HeldLeases, outcomes: &[JobOutcome], report: &FinishReport) {
    let recorded: std::collections::HashSet<_> = report.recorded.iter().collect();
    for outcome in outcomes {
        held.remove(outcome.lease());
        if recorded.contains(&outcome.lease().job) {
            metrics::counter!("leadline_dispatch_outcomes_total", "outcome" => outcome.label())
                .increment(1);
        }
    }
    if !report.lease_lost.is_empty() {
        metrics::counter!("leadline_dispatch_leases_lost_total")
            .increment(report.lease_lost.len() as u64);
        tracing::warn!(
            jobs = report.lease_lost.len(),
            "outcomes dropped: their leases were taken over"
        );
    }
}
