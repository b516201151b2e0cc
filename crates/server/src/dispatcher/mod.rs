//! The dispatcher: leases due jobs from the outbox, runs each under its own fenced
//! lease, and records each outcome as soon as its call returns.
//!
//! - **Once per message.** A job is leased with a fencing token; the lease is renewed
//!   while its call is in flight ([`held`]), the call ends before a lease it could not
//!   renew could run out, and its outcome is recorded only while the token still holds
//!   ([`recorder`]). Without a crash, no message is sent twice, however slow the
//!   provider.
//! - **After a crash.** A job whose lease ended without an outcome is taken over after
//!   a grace period and marked lapsed. Through `sandbox` and `http`, which honour the
//!   message id as idempotency key, it is sent again; through Twilio, WhatsApp Cloud
//!   and Kannel it is held as `uncertain` for a person (unless the channel's
//!   `uncertainSends` is `resend`). A call that times out after its request was
//!   written is treated the same way.
//! - **Fair and isolated.** Each worker leases only as many jobs as it can start at
//!   once, in turns across workspaces, within each lane's (channel's or webhook
//!   endpoint's) free concurrency, rate and circuit ([`lanes`]); a hanging provider or
//!   endpoint fills only its own lane.
//! - **Webhooks.** Event deliveries are jobs like sends, each endpoint a lane of its
//!   own ([`webhook`]): signed per Standard Webhooks, retried on the svix schedule,
//!   delivered at least once.
//! - **No poison batches.** A batch of outcomes that fails is recorded outcome by
//!   outcome; one that cannot be recorded is quarantined, not resent.
//! - **Steppable.** A server started without background workers has a [`Dispatcher`]
//!   whose [`Dispatcher::run_once`] leases what is due, sends it and records the
//!   outcomes, then returns: tests drain it instead of waiting for a loop ([`step`]).

mod calls;
mod held;
mod lanes;
mod options;
mod recorder;
mod send;
mod step;
mod webhook;

use std::sync::Arc;
use std::time::Duration;

use leadline_store::Store;
use leadline_store::outbox::{LeaseRequest, LeasedJob};

use lanes::Reservation;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::backoff::StoreBackoff;
use crate::channel_providers::ChannelProviders;
use crate::worker_step::Step;
pub use options::DispatcherOptions;
pub use send::sandbox_call_status;
pub use step::Dispatcher;

/// Calls to wait for between leases while some are in flight, so a lease takes a
/// batch rather than one job per returning call. With fewer in flight than twice this
/// (lanes of small concurrency, such as webhook endpoints), half of them: the next
/// lease overlaps the other half's calls instead of waiting for the last one.
const REFILL_BATCH: usize = 64;
/// The most jobs one lease statement takes.
const MAX_LEASE: usize = 256;

/// Starts the workers, the recorder and the lease renewal. Workers stop leasing once
/// `shutdown` fires and end when their calls have returned; the returned handles end
/// when every outcome is recorded.
pub fn spawn(
    store: Store,
    providers: ChannelProviders,
    options: DispatcherOptions,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) -> Vec<JoinHandle<()>> {
    let Parts {
        context,
        recording,
        renewal,
        renewal_stop,
    } = Parts::start(store, providers, &options);
    let workers: Vec<JoinHandle<()>> = (0..options.workers.max(1))
        .map(|n| {
            let worker = Worker {
                leaser: Leaser {
                    owner: format!("{}-{}-{n}", hostname(), std::process::id()),
                    context: context.clone(),
                    options: options.clone(),
                },
                wake: wake.clone(),
                shutdown: shutdown.clone(),
                // The sweep is process-wide: one worker runs it.
                sweeps: n == 0,
                said_empty: false,
            };
            tokio::spawn(worker.run())
        })
        .collect();
    drop(context);
    // Ends once the workers are done and every outcome is recorded; then the leases
    // need no more renewing.
    let finished = tokio::spawn(async move {
        for worker in workers {
            let _ = worker.await;
        }
        let _ = recording.await;
        renewal_stop.cancel();
        let _ = renewal.await;
    });
    vec![finished]
}

/// What a process's dispatcher shares between its workers (or its stepping handle):
/// the job context, the recorder's task and the lease renewal.
struct Parts {
    context: Arc<send::JobContext>,
    /// Ends once every recorder clone is dropped and what they queued is recorded.
    recording: JoinHandle<()>,
    renewal: JoinHandle<()>,
    renewal_stop: CancellationToken,
}

impl Parts {
    fn start(store: Store, providers: ChannelProviders, options: &DispatcherOptions) -> Self {
        let held = Arc::new(held::HeldLeases::default());
        let (recorder, recording) = recorder::Recorder::spawn(store.clone(), held.clone());
        let renewal_stop = CancellationToken::new();
        let renewal = tokio::spawn(held::renew_loop(
            store.clone(),
            held.clone(),
            options.lease,
            renewal_stop.clone(),
        ));
        // Deliveries call tenants' URLs under the same guard as the providers.
        let webhooks = webhook::Webhooks::new(
            providers.outbound().policy().clone(),
            options.webhook_timeout,
            options.webhook_concurrency,
        );
        let context = Arc::new(send::JobContext {
            store,
            providers,
            lanes: Arc::new(lanes::Lanes::new(
                options.circuit,
                options.webhook_concurrency,
            )),
            held,
            recorder,
            retry: options.retry,
            send_timeout: options.send_timeout,
            webhooks,
            takeover_grace: options.takeover_grace(),
            lease_lock: tokio::sync::Mutex::new(()),
        });
        Self {
            context,
            recording,
            renewal,
            renewal_stop,
        }
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "leadline".into())
}

/// Leases due jobs under one owner name and starts their calls: the step the
/// background workers and [`Dispatcher::run_once`] share.
struct Leaser {
    owner: String,
    context: Arc<send::JobContext>,
    options: DispatcherOptions,
}

impl Leaser {
    /// Leases up to `free` jobs due now within the lanes' capacity and starts their
    /// calls in `calls`; says how many it started.
    async fn start_due(
        &self,
        calls: &mut JoinSet<()>,
        free: usize,
    ) -> Result<Step, leadline_store::StoreError> {
        let jobs = self.lease(free.min(MAX_LEASE)).await?;
        let started = jobs.len();
        for (job, _) in &jobs {
            self.context.held.insert(job);
        }
        let mut targets =
            webhook::load_round(&self.context.store, jobs.iter().map(|(job, _)| job)).await;
        for (job, place) in jobs {
            let target = targets.remove(&job.id());
            calls.spawn(send::run(self.context.clone(), job, place, target));
        }
        Ok(Step::from_count(started))
    }

    /// Leases up to `free` jobs within the lanes' capacity, each with its place in its
    /// lane.
    async fn lease(
        &self,
        free: usize,
    ) -> Result<Vec<(LeasedJob, Reservation)>, leadline_store::StoreError> {
        let store = &self.context.store;
        let _exclusive = self.context.lease_lock.lock().await;
        let caps = self.context.lanes.caps(store.clock().now());
        let jobs = store
            .lease_jobs(&LeaseRequest {
                owner: &self.owner,
                limit: u32::try_from(free).unwrap_or(u32::MAX),
                lease_for: self.options.lease,
                takeover_grace: self.options.takeover_grace(),
                caps: &caps,
            })
            .await?;
        if !jobs.is_empty() {
            metrics::histogram!("leadline_dispatch_lease_size").record(jobs.len() as f64);
        }
        Ok(jobs
            .into_iter()
            .map(|job| {
                let place = self.context.lanes.reserve(&job.lane);
                (job, place)
            })
            .collect())
    }
}

/// A background worker: starts what is due whenever slots are free, and waits for
/// calls to return, new work or the next due time in between. It does not wait for a
/// whole batch before leasing again (as [`Dispatcher::run_once`] does): a hanging
/// provider must only fill its own lane, not hold up every other lane's sends.
///
/// When it goes idle and finds nothing left in the outbox (every job's outcome
/// recorded), it says so once at debug level ([`OUTBOX_EMPTY`]): the event an operator,
/// or a test of a real process, can wait for instead of polling the database.
struct Worker {
    leaser: Leaser,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
    sweeps: bool,
    /// Whether this worker said the outbox is empty since it last started a job.
    said_empty: bool,
}

/// What a worker logs (at debug level, target `leadline_server::dispatcher`) when it
/// goes idle and no job with attempts left remains in the outbox.
pub const OUTBOX_EMPTY: &str = "the outbox is empty";

impl Worker {
    async fn run(mut self) {
        tracing::debug!(owner = %self.leaser.owner, "dispatcher worker started");
        let slots = self.leaser.options.slots.max(1);
        // Lease again once this many slots are free (or nothing is in flight).
        let refill = (slots / 4).max(1);
        let mut calls = JoinSet::new();
        let mut store_health = StoreBackoff::new("dispatcher");
        let mut last_sweep = tokio::time::Instant::now();
        while !self.shutdown.is_cancelled() {
            // Forget calls that have returned (their outcomes are with the recorder).
            while calls.try_join_next().is_some() {}
            let free = slots - calls.len();
            // Outcomes still waiting to be recorded hold their leases: do not pile more on.
            let recording_behind = self.leaser.context.recorder.backlog() > MAX_LEASE;
            if (free >= refill || calls.is_empty()) && !recording_behind {
                match self.leaser.start_due(&mut calls, free).await {
                    Ok(step) => {
                        store_health.succeeded();
                        if !step.is_idle() {
                            self.said_empty = false;
                        }
                    }
                    Err(error) => {
                        let wait = store_health.failed(&error);
                        self.pause(&mut calls, wait, 1).await;
                        continue;
                    }
                }
            }
            if self.sweeps && last_sweep.elapsed() > Duration::from_secs(30) {
                last_sweep = tokio::time::Instant::now();
                self.sweep().await;
            }
            // Everything that could start has started: wait for a batch of calls to
            // return, new work, or the next due time.
            let (wait, returned) = if calls.is_empty() {
                (self.idle_wait().await, 1)
            } else {
                let now = self.leaser.context.store.clock().now();
                let wait = self
                    .leaser
                    .context
                    .lanes
                    .next_opening(now)
                    .and_then(|at| (at - now).to_std().ok())
                    .map_or(self.leaser.options.idle_poll, |until| {
                        until.min(self.leaser.options.idle_poll)
                    });
                (
                    wait.max(Duration::from_millis(1)),
                    (calls.len() / 2).clamp(1, REFILL_BATCH),
                )
            };
            self.pause(&mut calls, wait, returned).await;
        }
        while calls.join_next().await.is_some() {}
        tracing::debug!(owner = %self.leaser.owner, "dispatcher worker stopped");
    }

    /// Settles jobs that ran out of attempts without an outcome, and reports the depth.
    async fn sweep(&self) {
        let store = &self.leaser.context.store;
        match store
            .settle_exhausted_jobs(self.leaser.options.takeover_grace())
            .await
        {
            Ok(0) => {}
            Ok(settled) => tracing::warn!(
                settled,
                "jobs ran out of attempts without an outcome; their messages are held as uncertain"
            ),
            Err(error) => tracing::debug!(%error, "settling exhausted jobs failed"),
        }
        if let Ok(depth) = store.outbox_depth().await {
            metrics::gauge!("leadline_outbox_depth").set(depth as f64);
        }
    }

    /// How long to sleep when there is nothing to lease now.
    async fn idle_wait(&mut self) -> Duration {
        let store = &self.leaser.context.store;
        let now = store.clock().now();
        let mut wait = match store
            .next_job_due(self.leaser.options.takeover_grace())
            .await
        {
            Ok(Some(due)) => (due - now)
                .to_std()
                .unwrap_or_default()
                .min(self.leaser.options.idle_poll),
            Ok(None) => {
                if !self.said_empty {
                    self.said_empty = true;
                    tracing::debug!(owner = %self.leaser.owner, "{OUTBOX_EMPTY}");
                }
                self.leaser.options.idle_poll
            }
            Err(_) => self.leaser.options.idle_poll,
        };
        if let Some(opening) = self.leaser.context.lanes.next_opening(now) {
            wait = wait.min((opening - now).to_std().unwrap_or_default());
        }
        // Due now but held back (a full lane, another node's lease): look again soon.
        wait.max(Duration::from_millis(20))
    }

    /// Sleeps until `wait` passes, a call returns, new work is queued, or shutdown.
    /// Sleeps until `wait` passes, `returned` calls have returned, new work is
    /// queued, or shutdown. Waiting for several calls lets the next lease take a batch
    /// rather than one job per returning call.
    async fn pause(&self, calls: &mut JoinSet<()>, wait: Duration, returned: usize) {
        let deadline = tokio::time::sleep(wait);
        tokio::pin!(deadline);
        let mut seen = 0;
        loop {
            tokio::select! {
                Some(_) = calls.join_next(), if !calls.is_empty() => {
                    seen += 1;
                    if seen >= returned {
                        return;
                    }
                }
                _ = self.wake.notified() => return,
                _ = &mut deadline => return,
                _ = self.shutdown.cancelled() => return,
            }
        }
    }
}
