//! The agent's runner: it leases conversations with unread inbound messages, runs a
//! pass over each (many at once), and, in the background, sleeps until an inbound
//! message wakes it or a deferred reply comes due. Tests step it with `run_once`.
//!
//! A pass that fails (the database, not the agent: agents never fail) puts its task
//! back to wait a little longer each time, and a worker that dies leaves its leases to
//! run out, so every inbound message is read, whatever happens to the process. While
//! the database is unreachable the worker backs off (1 s doubling to 30 s) and logs the
//! outage once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadline_store::agent::AgentTask;
use leadline_store::{Store, StoreError};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::pass;
use crate::backoff::{Backoff, StoreBackoff};
use crate::numbers::SenderAssigner;
use crate::worker_step::Step;

/// What a pass needs besides its task.
#[derive(Clone)]
pub struct RunnerDeps {
    pub store: Store,
    pub senders: SenderAssigner,
    /// Shared by the LLM agent's calls, under the outbound guard.
    pub http: leadline_providers::outbound::OutboundClient,
    /// Wakes the dispatcher when replies are queued.
    pub outbox_wake: Arc<Notify>,
}

#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Tasks leased at once, at most.
    pub batch: u32,
    /// Passes run at once (LLM calls wait on the network, so many may be in flight).
    pub concurrency: usize,
    /// How long a leased task stays owned: longer than the slowest pass (three LLM
    /// completions of at most 120 s each), so no pass is ever run twice at once.
    pub lease: Duration,
    /// The longest an idle worker sleeps before looking again.
    pub idle_poll: Duration,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            batch: 128,
            concurrency: 32,
            lease: Duration::from_secs(600),
            idle_poll: Duration::from_millis(500),
        }
    }
}

/// The agent's runner: leases conversations with unread inbound messages and runs a
/// pass over each. [`AgentRunner::run_once`] is one step (what tests drain);
/// [`AgentRunner::run`] is the background worker the server supervises.
///
/// Passes run as their own tasks, at most `concurrency` at once across every step and
/// the background loop (the places of one semaphore), and only as many tasks are
/// leased as there are free places: a slow LLM call holds one place, never the
/// conversations leased after it. A pass writes everything in one transaction at its
/// end, so an aborted pass leaves nothing half done, only a lease that runs out.
#[derive(Clone)]
pub struct AgentRunner {
    deps: RunnerDeps,
    options: RunnerOptions,
    /// Whose leases these are, in the task table.
    owner: Arc<str>,
    places: Arc<Semaphore>,
    /// The server's shutdown: the loop stops leasing, and a failed pass stops trying
    /// to put its task back.
    shutdown: CancellationToken,
}

/// A leased task and the place its pass runs in.
type Leased = (AgentTask, OwnedSemaphorePermit);

impl AgentRunner {
    pub fn new(deps: RunnerDeps, options: RunnerOptions, shutdown: CancellationToken) -> Self {
        let owner = format!(
            "{}-{}-agent",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "leadline".into()),
            std::process::id()
        );
        let places = Arc::new(Semaphore::new(options.concurrency.max(1)));
        Self {
            deps,
            options,
            owner: owner.into(),
            places,
            shutdown,
        }
    }

    /// One step: leases the tasks due now (at most `batch`, and no more than there are
    /// free places), runs their passes and returns when they are all done. A pass that
    /// fails puts its task back to run again later; `Err` when the database was
    /// unreachable (for leasing, or for a pass).
    pub async fn run_once(&self) -> Result<Step, StoreError> {
        let leased = self.lease().await?;
        let count = leased.len();
        let mut passes = JoinSet::new();
        self.start(leased, &mut passes);
        let mut unreachable = None;
        while let Some(done) = passes.join_next().await {
            if let Some(error) = pass_failure(done) {
                unreachable = Some(error);
            }
        }
        match unreachable {
            Some(error) => Err(error),
            None => Ok(Step::from_count(count)),
        }
    }

    /// The background worker, until the shutdown fires; then it stops leasing and
    /// returns when the passes in flight are done. It is the future the supervisor
    /// restarts after a panic (see [`crate::supervisor`]).
    ///
    /// It takes the steps of [`AgentRunner::run_once`] without waiting for a step's
    /// passes before leasing again (a slow LLM call must not hold back the others):
    /// it leases and starts passes until nothing is due, then sleeps until an inbound
    /// message wakes it or `idle_poll` passes. When the store fails, it waits longer
    /// each time (1 s doubling to 30 s) and logs the outage once, not on every attempt.
    pub async fn run(self, wake: Arc<Notify>) {
        let shutdown = self.shutdown.clone();
        tracing::debug!(owner = %self.owner, "agent worker started");
        let mut passes = JoinSet::new();
        let mut store = StoreBackoff::new("agent runner");
        while !shutdown.is_cancelled() {
            if let Some(wait) = reap(&mut passes, &mut store) {
                pause(&shutdown, wait).await;
                continue;
            }
            match self.lease().await {
                Ok(leased) if leased.is_empty() => {
                    store.succeeded();
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep(self.options.idle_poll) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
                Ok(leased) => {
                    store.succeeded();
                    self.start(leased, &mut passes);
                }
                Err(error) => {
                    let wait = store.failed(&error);
                    pause(&shutdown, wait).await;
                }
            }
        }
        // Let the passes in flight finish their writes.
        while let Some(done) = passes.join_next().await {
            if let Some(error) = pass_failure(done) {
                store.failed(&error);
            }
        }
        tracing::debug!(owner = %self.owner, "agent worker stopped");
    }

    /// Waits for a free place (none once the shutdown fires), then leases as many due
    /// tasks as there are free places, at most `batch`; each comes with its place.
    async fn lease(&self) -> Result<Vec<Leased>, StoreError> {
        let first = tokio::select! {
            permit = self.places.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            _ = self.shutdown.cancelled() => return Ok(Vec::new()),
        };
        let mut permits = vec![first];
        let batch = usize::try_from(self.options.batch.max(1)).unwrap_or(usize::MAX);
        while permits.len() < batch {
            match self.places.clone().try_acquire_owned() {
                Ok(permit) => permits.push(permit),
                Err(_) => break,
            }
        }
        let limit = u32::try_from(permits.len()).unwrap_or(u32::MAX);
        let tasks = self
            .deps
            .store
            .lease_agent_tasks(&self.owner, limit, self.options.lease)
            .await?;
        // The places of tasks not leased are given back here.
        Ok(tasks.into_iter().zip(permits).collect())
    }

    /// Starts a pass for each leased task in `passes`; its place is freed when it ends.
    fn start(&self, leased: Vec<Leased>, passes: &mut JoinSet<PassOutcome>) {
        for (task, permit) in leased {
            let deps = self.deps.clone();
            let shutdown = self.shutdown.clone();
            passes.spawn(async move {
                let outcome = run_one(&deps, task, &shutdown).await;
                drop(permit);
                outcome
            });
        }
    }
}

/// Collects the passes that have ended; returns how long to wait before leasing again
/// when one failed because the database is unreachable.
fn reap(passes: &mut JoinSet<PassOutcome>, store: &mut StoreBackoff) -> Option<Duration> {
    let mut wait = None;
    while let Some(done) = passes.try_join_next() {
        if let Some(error) = pass_failure(done) {
            wait = wait.max(Some(store.failed(&error)));
        }
    }
    wait
}

/// The database error a pass ended with, if the database was unreachable.
fn pass_failure(done: Result<PassOutcome, tokio::task::JoinError>) -> Option<StoreError> {
    match done {
        Ok(PassOutcome::Done) => None,
        Ok(PassOutcome::DatabaseUnreachable(error)) => Some(error),
        Err(join) if join.is_panic() => {
            // The pass's lease runs out and the conversation is read again then.
            tracing::error!(panic = ?join, "an agent pass panicked; its conversation is read again when its lease ends");
            None
        }
        Err(_) => None,
    }
}

/// How a pass ended, as far as the worker cares.
enum PassOutcome {
    Done,
    /// The pass failed because the database is unreachable: the worker backs off.
    DatabaseUnreachable(StoreError),
}

async fn pause(shutdown: &CancellationToken, duration: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(duration) => {}
        _ = shutdown.cancelled() => {}
    }
}

async fn run_one(deps: &RunnerDeps, task: AgentTask, shutdown: &CancellationToken) -> PassOutcome {
    let started = Instant::now();
    match pass::run(deps, &task).await {
        Ok((end, waited)) => {
            let own = started.elapsed().saturating_sub(waited);
            metrics::histogram!("leadline_agent_pass_seconds", "end" => end.as_str())
                .record(own.as_secs_f64());
            metrics::counter!("leadline_agent_passes_total", "end" => end.as_str()).increment(1);
            tracing::debug!(conversation = %task.conversation_id, end = end.as_str(),
                micros = own.as_micros() as u64, "agent pass done");
            PassOutcome::Done
        }
        Err(error) => {
            let backoff = Duration::from_secs(2u64.saturating_pow(task.attempts.min(8)));
            if error.is_unavailable() {
                // The worker logs the outage once; this pass is one of its casualties.
                tracing::debug!(conversation = %task.conversation_id, %error, "agent pass failed: the database is unreachable");
            } else {
                tracing::warn!(conversation = %task.conversation_id, %error, attempts = task.attempts,
                    retry_in_seconds = backoff.as_secs(), "agent pass failed; it will run again");
            }
            put_back(deps, &task, backoff, &error, shutdown).await;
            if error.is_unavailable() {
                PassOutcome::DatabaseUnreachable(error)
            } else {
                PassOutcome::Done
            }
        }
    }
}

/// Puts a failed pass's task back to run again after `backoff`. The lease is long
/// (the slowest LLM turn), so a task the store cannot take back now would wait minutes:
/// during an outage this tries again for about half a minute before leaving it to the
/// lease.
async fn put_back(
    deps: &RunnerDeps,
    task: &AgentTask,
    backoff: Duration,
    error: &StoreError,
    shutdown: &CancellationToken,
) {
    let mut retries = Backoff::new(Duration::from_secs(1), Duration::from_secs(16));
    for _ in 0..PUT_BACK_ATTEMPTS {
        let until = deps.store.clock().now()
            + chrono::Duration::from_std(backoff).unwrap_or(chrono::Duration::seconds(60));
        match deps
            .store
            .defer_agent_task(
                task.reference,
                until,
                &format!("retrying after an error: {error}"),
            )
            .await
        {
            Ok(_) => return,
            Err(failure) if failure.is_unavailable() && !shutdown.is_cancelled() => {
                pause(shutdown, retries.next_delay()).await;
            }
            Err(failure) => {
                tracing::warn!(error = %failure, "could not put the agent task back; its lease will run out");
                return;
            }
        }
    }
    tracing::warn!(conversation = %task.conversation_id,
        "the database stayed unreachable; the agent task is read again when its lease runs out");
}

/// Attempts at putting a failed task back (1 + 2 + 4 + 8 + 16 s of waiting).
const PUT_BACK_ATTEMPTS: usize = 6;
