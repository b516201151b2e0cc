//! Keeps the background workers running. A worker is a future made by a factory; the
//! supervisor runs it as its own task, and when that task panics, logs the panic
//! message, waits (1 s, doubling up to 30 s; back to 1 s once a run lasted a minute),
//! counts the restart in `leadline_worker_restarts_total{worker="NAME"}` and runs a
//! fresh one. A worker that returns, or a shutdown, ends the supervision.
//!
//! A panicking worker loses only what it held: its leases run out and the work is
//! taken up again, by the restarted worker or another node. Without supervision one bad
//! row that makes a worker panic would silently stop, say, every campaign of the node.
//!
//! Aborting the supervisor's task (the shutdown deadline) aborts the worker's task
//! with it, so nothing keeps running unsupervised.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::task::{JoinError, JoinHandle};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;

/// When a panicked worker is started again.
#[derive(Debug, Clone)]
pub struct RestartPolicy {
    /// The wait before the first restart.
    pub first_delay: Duration,
    /// The longest wait between restarts; each restart doubles the wait up to this.
    pub max_delay: Duration,
    /// A run that lasted this long was healthy: the next restart waits `first_delay`.
    pub healthy_after: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            healthy_after: Duration::from_secs(60),
        }
    }
}

/// Runs the worker `factory` makes, and a fresh one after each panic, until it returns
/// or `shutdown` fires. The worker should itself return soon after `shutdown` fires.
pub fn supervise<F, Fut>(
    name: impl Into<String>,
    shutdown: CancellationToken,
    factory: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    supervise_with(name, shutdown, RestartPolicy::default(), factory)
}

/// [`supervise`] with another restart policy.
pub fn supervise_with<F, Fut>(
    name: impl Into<String>,
    shutdown: CancellationToken,
    policy: RestartPolicy,
    mut factory: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let name = name.into();
    tokio::spawn(async move {
        let mut delays = Backoff::new(policy.first_delay, policy.max_delay);
        loop {
            let started = Instant::now();
            let panic = match AbortOnDrop(tokio::spawn(factory())).await {
                Ok(()) => return,
                Err(join) if join.is_panic() => join.into_panic(),
                // Cancelled from outside the supervisor: nothing to restart.
                Err(_) => return,
            };
            if started.elapsed() >= policy.healthy_after {
                delays.reset();
            }
            let delay = delays.next_delay();
            tracing::error!(worker = %name, panic = %panic_message(panic.as_ref()),
                restart_in_seconds = delay.as_secs_f64(), "worker panicked; restarting it");
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.cancelled() => return,
            }
            if shutdown.is_cancelled() {
                return;
            }
            metrics::counter!("leadline_worker_restarts_total", "worker" => name.clone())
                .increment(1);
        }
    })
}

/// Waits for a group of tasks started together (such as the dispatcher's workers) and
/// makes them one supervised worker: when one panics, `stop` (the token the group was
/// started with) is cancelled so the others finish their current work, and once all
/// have returned the panic is raised again for the supervisor to restart the group.
/// Dropping this future aborts the tasks still running.
pub async fn join_group(handles: Vec<JoinHandle<()>>, stop: CancellationToken) {
    let mut running: FuturesUnordered<AbortOnDrop> = handles.into_iter().map(AbortOnDrop).collect();
    let mut first_panic = None;
    while let Some(result) = running.next().await {
        if let Err(join) = result
            && join.is_panic()
        {
            stop.cancel();
            first_panic.get_or_insert(join.into_panic());
        }
    }
    if let Some(panic) = first_panic {
        std::panic::resume_unwind(panic);
    }
}

/// The text a panic was raised with.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(a panic without a message)"
    }
}

/// A task that is aborted when its handle is dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Future for AbortOnDrop {
    type Output = Result<(), JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests;
