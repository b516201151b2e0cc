//! The agent's workers: they lease conversations with unread inbound messages, run a
//! pass over each (many at once), and sleep until an inbound message wakes them or a
//! deferred reply comes due.
//!
//! A pass that fails (the database, not the agent: agents never fail) puts its task
//! back to wait a little longer each time, and a worker that dies leaves its leases to
//! run out, so every inbound message is read, whatever happens to the process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadline_store::Store;
use leadline_store::agent::AgentTask;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::pass;
use crate::numbers::SenderAssigner;

/// What a pass needs besides its task.
#[derive(Clone)]
pub struct RunnerDeps {
    pub store: Store,
    pub senders: SenderAssigner,
    /// Shared by the LLM agent's calls.
    pub http: reqwest::Client,
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

/// Starts the agent's worker; it stops leasing once `shutdown` fires and returns when
/// the passes in flight are done.
///
/// Passes run as their own tasks, at most `concurrency` at once, and the worker leases
/// only as many tasks as there are free places: a slow LLM call holds one place, never
/// the conversations leased after it.
pub fn spawn(
    deps: RunnerDeps,
    options: RunnerOptions,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let owner = format!(
        "{}-{}-agent",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "leadline".into()),
        std::process::id()
    );
    let places = options.concurrency.max(1);
    tokio::spawn(async move {
        tracing::debug!(%owner, "agent worker started");
        let permits = Arc::new(Semaphore::new(places));
        while !shutdown.is_cancelled() {
            // Wait for a free place before leasing anything.
            let first = tokio::select! {
                permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
                _ = shutdown.cancelled() => break,
            };
            let free = permits.available_permits() + 1;
            let limit = options.batch.min(u32::try_from(free).unwrap_or(u32::MAX));
            let tasks = match deps
                .store
                .lease_agent_tasks(&owner, limit, options.lease)
                .await
            {
                Ok(tasks) => tasks,
                Err(error) => {
                    drop(first);
                    tracing::warn!(%error, "leasing agent tasks failed; trying again in a second");
                    pause(&shutdown, Duration::from_secs(1)).await;
                    continue;
                }
            };
            if tasks.is_empty() {
                drop(first);
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(options.idle_poll) => {}
                    _ = shutdown.cancelled() => {}
                }
                continue;
            }
            let mut first = Some(first);
            for task in tasks {
                // Never more tasks than free places were leased, so this does not wait.
                let permit = match first.take() {
                    Some(permit) => permit,
                    None => permits
                        .clone()
                        .acquire_owned()
                        .await
                        .expect("the semaphore is never closed"),
                };
                let deps = deps.clone();
                tokio::spawn(async move {
                    run_one(&deps, task).await;
                    drop(permit);
                });
            }
        }
        // Let the passes in flight finish their writes.
        let _ = permits
            .acquire_many(u32::try_from(places).unwrap_or(u32::MAX))
            .await;
        tracing::debug!(%owner, "agent worker stopped");
    })
}

async fn pause(shutdown: &CancellationToken, duration: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(duration) => {}
        _ = shutdown.cancelled() => {}
    }
}

async fn run_one(deps: &RunnerDeps, task: AgentTask) {
    let started = Instant::now();
    match pass::run(deps, &task).await {
        Ok((end, waited)) => {
            let own = started.elapsed().saturating_sub(waited);
            metrics::histogram!("leadline_agent_pass_seconds", "end" => end.as_str())
                .record(own.as_secs_f64());
            metrics::counter!("leadline_agent_passes_total", "end" => end.as_str()).increment(1);
            tracing::debug!(conversation = %task.conversation_id, end = end.as_str(),
                micros = own.as_micros() as u64, "agent pass done");
        }
        Err(error) => {
            let backoff = Duration::from_secs(2u64.saturating_pow(task.attempts.min(8)));
            tracing::warn!(conversation = %task.conversation_id, %error, attempts = task.attempts,
                retry_in_seconds = backoff.as_secs(), "agent pass failed; it will run again");
            let until = deps.store.clock().now()
                + chrono::Duration::from_std(backoff).unwrap_or(chrono::Duration::seconds(60));
            if let Err(error) = deps
                .store
                .defer_agent_task(
                    task.reference,
                    until,
                    &format!("retrying after an error: {error}"),
                )
                .await
            {
                tracing::warn!(%error, "could not put the agent task back; its lease will run out");
            }
        }
    }
}
