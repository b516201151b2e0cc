//! The dispatcher: workers that lease due jobs from the outbox in batches, hand each
//! message to its channel's provider (many in flight at once), and record the
//! outcomes of the whole batch in one transaction.
//!
//! Nothing is lost or sent twice across crashes: a job is deleted only in the
//! transaction that records its outcome, so a process killed mid-batch leaves its jobs
//! leased, and they come due again when the lease runs out. The retried call carries
//! the same idempotency key (the message id), so providers that honour keys send once,
//! and recording is idempotent, so the message is recorded once.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use leadline_core::message::{CallStatus, MessageType};
use leadline_core::retry::RetryPolicy;
use leadline_providers::{OutboundContent, OutboundMessage, SendError};
use leadline_store::Store;
use leadline_store::outbox::{JobKind, JobOutcome, LeasedJob};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::channel_providers::{ChannelProviders, ProviderLookupError};

#[derive(Debug, Clone)]
pub struct DispatcherOptions {
    /// Workers in this process, each leasing its own batches.
    pub workers: usize,
    /// Jobs leased at once by one worker.
    pub batch: u32,
    /// Provider calls in flight per worker.
    pub concurrency: usize,
    /// How long a leased job stays owned before another worker may take it.
    pub lease: Duration,
    /// The longest an idle worker sleeps before looking again.
    pub idle_poll: Duration,
    pub retry: RetryPolicy,
}

impl Default for DispatcherOptions {
    fn default() -> Self {
        Self {
            workers: 2,
            batch: 256,
            concurrency: 64,
            lease: Duration::from_secs(30),
            idle_poll: Duration::from_millis(500),
            retry: RetryPolicy::default(),
        }
    }
}

/// Starts the workers; they stop after their current batch once `shutdown` fires.
pub fn spawn(
    store: Store,
    providers: ChannelProviders,
    options: DispatcherOptions,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) -> Vec<JoinHandle<()>> {
    (0..options.workers.max(1))
        .map(|n| {
            let worker = Worker {
                owner: format!("{}-{}-{n}", hostname(), std::process::id()),
                store: store.clone(),
                providers: providers.clone(),
                options: options.clone(),
                wake: wake.clone(),
                shutdown: shutdown.clone(),
            };
            tokio::spawn(worker.run())
        })
        .collect()
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "leadline".into())
}

struct Worker {
    owner: String,
    store: Store,
    providers: ChannelProviders,
    options: DispatcherOptions,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
}

impl Worker {
    async fn run(self) {
        tracing::debug!(owner = %self.owner, "dispatcher worker started");
        while !self.shutdown.is_cancelled() {
            let jobs = match self
                .store
                .lease_jobs(&self.owner, self.options.batch, self.options.lease)
                .await
            {
                Ok(jobs) => jobs,
                Err(error) => {
                    tracing::warn!(%error, "leasing jobs failed; trying again in a second");
                    self.pause(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if jobs.is_empty() {
                self.idle().await;
                continue;
            }
            metrics::histogram!("leadline_dispatch_batch_size").record(jobs.len() as f64);
            let outcomes: Vec<JobOutcome> = futures::stream::iter(jobs)
                .map(|job| self.run_job(job))
                .buffer_unordered(self.options.concurrency.max(1))
                .collect()
                .await;
            self.record(&outcomes).await;
        }
        tracing::debug!(owner = %self.owner, "dispatcher worker stopped");
    }

    /// Records a batch's outcomes, retrying a failed commit a few times. If it never
    /// commits, the leases run out and the jobs run again under the same keys.
    async fn record(&self, outcomes: &[JobOutcome]) {
        for attempt in 1..=3 {
            match self.store.finish_jobs(outcomes).await {
                Ok(()) => {
                    for outcome in outcomes {
                        let label = match outcome {
                            JobOutcome::Sent { .. } => "sent",
                            JobOutcome::Delivered { .. } => "delivered",
                            JobOutcome::Retry { .. } => "retry",
                            JobOutcome::Failed { .. } => "failed",
                        };
                        metrics::counter!("leadline_dispatch_outcomes_total", "outcome" => label)
                            .increment(1);
                    }
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, attempt, jobs = outcomes.len(), "recording dispatch outcomes failed");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
            }
        }
        tracing::error!(
            jobs = outcomes.len(),
            "dispatch outcomes not recorded; the jobs run again when their leases end"
        );
    }

    async fn idle(&self) {
        let wait = match self.store.next_job_due().await {
            Ok(Some(due)) => (due - self.store.clock().now())
                .to_std()
                .unwrap_or_default()
                .min(self.options.idle_poll),
            _ => self.options.idle_poll,
        };
        if let Ok(depth) = self.store.outbox_depth().await {
            metrics::gauge!("leadline_outbox_depth").set(depth as f64);
        }
        if wait.is_zero() {
            // Due now but leased by someone else, or just released: look again soon.
            self.pause(Duration::from_millis(20)).await;
        } else {
            self.pause(wait).await;
        }
    }

    async fn pause(&self, wait: Duration) {
        tokio::select! {
            _ = self.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = self.shutdown.cancelled() => {}
        }
    }

    async fn run_job(&self, job: LeasedJob) -> JobOutcome {
        match job.kind {
            JobKind::SandboxReceipt => {
                if job.message.message_type == MessageType::Call
                    && let Err(error) = self.finish_sandbox_call(&job).await
                {
                    return self.retry(
                        &job,
                        format!("recording the sandbox call failed: {error}"),
                        None,
                    );
                }
                JobOutcome::Delivered {
                    job: job.id,
                    message: job.message.id,
                    from_number: job.message.from_number_id,
                }
            }
            JobKind::Send => self.send(job).await,
        }
    }

    /// The sandbox's call outcome, reproducible for tests and demos: the lead's
    /// `sandboxCallOutcome` callData variable when it names a call status, else the
    /// number's last digit (0–5 answered and completed, 6–7 voicemail, 8 busy, 9 no
    /// answer).
    async fn finish_sandbox_call(&self, job: &LeasedJob) -> Result<(), leadline_store::StoreError> {
        let message = &job.message;
        let conversation = self
            .store
            .conversation(message.workspace_id, message.conversation_id)
            .await?;
        let lead = match &conversation {
            Some(conversation) => self.store.lead_waiting_on(conversation.id).await?,
            None => None,
        };
        let status = lead
            .as_ref()
            .and_then(|lead| lead.call_data.get("sandboxCallOutcome"))
            .and_then(|outcome| CallStatus::parse(outcome))
            .unwrap_or_else(|| sandbox_call_status(&job.to));
        let key = leadline_store::messages::MessageKey::Id(message.id);
        let duration = (status == CallStatus::Completed).then_some(60);
        self.store
            .apply_call_status(message.channel_id, &key, status, duration)
            .await?;
        if let Some(conversation) = conversation {
            crate::scheduler::record_call_outcome(&self.store, &conversation, status).await?;
        }
        Ok(())
    }

    async fn send(&self, job: LeasedJob) -> JobOutcome {
        let message = &job.message;
        let store = &self.store;
        let channel_id = message.channel_id;
        let found = self
            .providers
            .get(channel_id, || store.channel_by_id(channel_id))
            .await;
        let (channel, provider) = match found {
            Ok(Some(found)) => found,
            Ok(None) => {
                return failed(
                    &job,
                    "channel_missing",
                    "the message's channel no longer exists".into(),
                );
            }
            Err(ProviderLookupError::Misconfigured(errors)) => {
                let fields: Vec<String> = errors
                    .as_slice()
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                return failed(&job, "channel_misconfigured", fields.join("; "));
            }
            Err(ProviderLookupError::Store(error)) => {
                return self.retry(&job, format!("loading the channel failed: {error}"), None);
            }
        };
        let body = message.body.clone().unwrap_or_default();
        let content = match (&message.template, message.message_type) {
            (_, MessageType::Call) => OutboundContent::Call { script: body },
            (Some(template), _) => OutboundContent::Template {
                name: template.name.clone(),
                language: template.language.clone(),
                params: template.params.clone(),
                rendered: body,
            },
            (None, _) => OutboundContent::Text { body },
        };
        // A message queued with a pool number goes out from it; others from the
        // channel's configured sender.
        let from = match &message.from_number {
            Some(number) => number.as_str().to_owned(),
            None => channel.sender.clone(),
        };
        let outbound = OutboundMessage {
            message_id: message.id,
            to: job.to.clone(),
            from,
            content,
        };
        match provider.send(&outbound).await {
            Ok(receipt) => {
                tracing::debug!(message_id = %message.id, provider = %channel.provider, "sent");
                JobOutcome::Sent {
                    job: job.id,
                    message: message.id,
                    provider_message_id: receipt.provider_message_id,
                    receipt_after: provider.simulated_receipt_after(),
                }
            }
            Err(SendError::Retryable {
                reason,
                retry_after,
            }) => self.retry(&job, reason, retry_after),
            Err(SendError::Permanent { code, reason }) => {
                tracing::info!(message_id = %message.id, provider = %channel.provider, %reason, "provider refused the message for good");
                JobOutcome::Failed {
                    job: job.id,
                    message: message.id,
                    code,
                    reason,
                    from_number: message.from_number_id,
                }
            }
        }
    }

    fn retry(&self, job: &LeasedJob, reason: String, retry_after: Option<Duration>) -> JobOutcome {
        match self
            .options
            .retry
            .next_delay(job.attempts, rand::random::<f64>(), retry_after)
        {
            Some(delay) => {
                tracing::info!(message_id = %job.message.id, attempt = job.attempts, ?delay, %reason, "send failed; will retry");
                JobOutcome::Retry {
                    job: job.id,
                    delay,
                    error: reason,
                }
            }
            None => {
                tracing::warn!(message_id = %job.message.id, attempts = job.attempts, %reason, "send failed; no attempts left");
                failed(
                    job,
                    "retries_exhausted",
                    format!("gave up after {} attempts: {reason}", job.attempts),
                )
            }
        }
    }
}

/// The sandbox's deterministic call outcome for a number (see `finish_sandbox_call`).
pub fn sandbox_call_status(to: &leadline_core::E164) -> CallStatus {
    match to.as_str().bytes().last().map(|b| b.wrapping_sub(b'0')) {
        Some(0..=5) => CallStatus::Completed,
        Some(6 | 7) => CallStatus::Voicemail,
        Some(8) => CallStatus::Busy,
        _ => CallStatus::NoAnswer,
    }
}

fn failed(job: &LeasedJob, code: &str, reason: String) -> JobOutcome {
    JobOutcome::Failed {
        job: job.id,
        message: job.message.id,
        code: Some(code.to_owned()),
        reason,
        from_number: job.message.from_number_id,
    }
}
