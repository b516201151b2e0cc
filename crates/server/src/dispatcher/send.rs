//! Running one leased job: a send through its channel's provider, a sandbox receipt,
//! or a webhook delivery ([`super::webhook`]). The call runs inside its lease: it ends
//! at the send timeout, or earlier if the lease could not be renewed and would
//! otherwise run out under it. What the call says becomes the job's outcome and tells
//! the lane's circuit breaker how the provider is doing.

use std::sync::Arc;
use std::time::Duration;

use leadline_core::message::{CallStatus, MessageType};
use leadline_core::retry::RetryPolicy;
use leadline_providers::{OutboundContent, OutboundMessage, SendError, SendReceipt};
use leadline_store::Store;
use leadline_store::channels::Channel;
use leadline_store::messages::Message;
use leadline_store::outbox::{JobOutcome, LeasedJob, Task};

use super::calls::{CallCut, LaneOwner, circuit_changed, within_lease};
use super::held::HeldLeases;
use super::lanes::{CallHealth, Lanes, Reservation};
use super::recorder::Recorder;
use super::webhook::{self, Webhooks};
use crate::channel_providers::{ChannelProviders, ProviderLookupError};
use crate::usecases::call_outcome::{CallOutcomeError, CallReport, record_call_outcome};

/// What every job of the process shares.
pub struct JobContext {
    pub store: Store,
    pub providers: ChannelProviders,
    pub lanes: Arc<Lanes>,
    pub held: Arc<HeldLeases>,
    pub recorder: Recorder,
    pub retry: RetryPolicy,
    pub send_timeout: Duration,
    /// What webhook deliveries share: their HTTP client and time limit.
    pub webhooks: Webhooks,
    pub takeover_grace: Duration,
    /// Held from reading the lanes' capacity until the leased jobs are reserved, so
    /// two workers never lease the same free capacity.
    pub lease_lock: tokio::sync::Mutex<()>,
}

/// Runs `job`, which holds `place` in its lane, and queues its outcome for recording.
/// A webhook delivery comes with its event and endpoint, loaded for its whole round.
pub async fn run(
    context: Arc<JobContext>,
    job: LeasedJob,
    place: Reservation,
    target: Option<webhook::Target>,
) {
    let outcome = match &job.task {
        Task::SandboxReceiptV1 { .. } => {
            drop(place);
            sandbox_receipt(&context, &job).await
        }
        Task::SendV1 { .. } => send(&context, &job, place).await,
        Task::WebhookV1 { .. } => {
            let (outcome, attempt) = webhook::deliver(&context, &job, place, target).await;
            context.recorder.record_delivery(outcome, attempt);
            return;
        }
    };
    context.recorder.record(outcome, job.task.message_id());
}

async fn sandbox_receipt(context: &JobContext, job: &LeasedJob) -> JobOutcome {
    let Some((message, to)) = &job.message else {
        return missing_message(job);
    };
    if message.message_type == MessageType::Call
        && let Err(error) = finish_sandbox_call(&context.store, message, to).await
    {
        return retry(
            context,
            job,
            format!("recording the sandbox call failed: {error}"),
            None,
        );
    }
    JobOutcome::Delivered {
        lease: job.lease.clone(),
        message: message.id,
        from_number: message.from_number_id,
    }
}

/// The sandbox's call outcome, reproducible for tests and demos: the lead's
/// `sandboxCallOutcome` callData variable when it names a call status, else the
/// number's last digit (0–5 answered and completed, 6–7 voicemail, 8 busy, 9 no
/// answer).
async fn finish_sandbox_call(
    store: &Store,
    message: &Message,
    to: &leadline_core::E164,
) -> Result<(), CallOutcomeError> {
    let conversation = store
        .conversation(message.workspace_id, message.conversation_id)
        .await?;
    let lead = match &conversation {
        Some(conversation) => store.lead_waiting_on(conversation.id).await?,
        None => None,
    };
    let status = lead
        .as_ref()
        .and_then(|lead| lead.call_data.get("sandboxCallOutcome"))
        .and_then(|outcome| CallStatus::parse(outcome))
        .unwrap_or_else(|| sandbox_call_status(to));
    let report = CallReport {
        channel_id: message.channel_id,
        call: leadline_store::messages::MessageKey::Id(message.id),
        status,
        duration_seconds: (status == CallStatus::Completed).then_some(60),
    };
    record_call_outcome(store, report).await?;
    Ok(())
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

async fn send(context: &JobContext, job: &LeasedJob, place: Reservation) -> JobOutcome {
    let Some((message, to)) = &job.message else {
        return missing_message(job);
    };
    let store = &context.store;
    let channel_id = message.channel_id;
    let (channel, provider) = match context
        .providers
        .get(channel_id, || store.channel_by_id(channel_id))
        .await
    {
        Ok(Some(found)) => found,
        Ok(None) => {
            return failed(
                job,
                message,
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
            return failed(job, message, "channel_misconfigured", fields.join("; "));
        }
        Err(ProviderLookupError::Store(error)) => {
            tracing::warn!(%error, message_id = %message.id, "loading the channel failed; the send waits");
            return JobOutcome::Release {
                lease: job.lease.clone(),
                run_at: None,
            };
        }
    };
    let resends = channel.delivery.resends_uncertain(channel.provider);
    if job.lapsed && !resends {
        tracing::warn!(message_id = %message.id, provider = %channel.provider, "a worker stopped while holding this send; holding it as uncertain");
        return uncertain(
            job,
            message,
            &channel,
            "the worker sending it stopped mid-send",
        );
    }
    let now = store.clock().now();
    if !place.admit(&channel.delivery, channel.provider, now) {
        return JobOutcome::Release {
            lease: job.lease.clone(),
            run_at: None,
        };
    }
    let outbound = outbound(message, to, &channel);
    let result = within_lease(context, job, context.send_timeout, provider.send(&outbound))
        .await
        .unwrap_or_else(|cut| {
            Err(SendError::Uncertain {
                reason: cut_reason(cut),
            })
        });
    let health = match &result {
        Ok(_) | Err(SendError::Permanent { .. }) => CallHealth::Answered,
        Err(SendError::Retryable { .. } | SendError::Uncertain { .. }) => CallHealth::Failing,
    };
    let now = store.clock().now();
    let change = context.lanes.finished(&job.lane, health, now);
    let owner = LaneOwner::Channel {
        id: channel.id,
        provider: channel.provider,
    };
    circuit_changed(context, owner, &job.lane, change, || match &result {
        Err(error) => error.to_string(),
        Ok(_) => "failing".to_owned(),
    })
    .await;
    // A retry waits at least until the lane's circuit lets sends through again.
    let pause = context
        .lanes
        .paused_until(&job.lane, now)
        .and_then(|until| (until - now).to_std().ok());
    match result {
        Ok(receipt) => sent(job, message, receipt, provider.simulated_receipt_after()),
        Err(SendError::Retryable {
            reason,
            retry_after,
        }) => retry(context, job, reason, retry_after.max(pause)),
        Err(SendError::Uncertain { reason }) if resends => retry(context, job, reason, pause),
        Err(SendError::Uncertain { reason }) => {
            tracing::warn!(message_id = %message.id, provider = %channel.provider, %reason, "send outcome unknown; holding it as uncertain");
            uncertain(job, message, &channel, &reason)
        }
        Err(SendError::Permanent { code, reason }) => {
            tracing::info!(message_id = %message.id, provider = %channel.provider, %reason, "provider refused the message for good");
            JobOutcome::Failed {
                lease: job.lease.clone(),
                message: message.id,
                code,
                reason,
                from_number: message.from_number_id,
            }
        }
    }
}

fn outbound(message: &Message, to: &leadline_core::E164, channel: &Channel) -> OutboundMessage {
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
    OutboundMessage {
        message_id: message.id,
        to: to.clone(),
        from,
        content,
    }
}

/// Why a send cut off before the provider answered is uncertain, in the message's words.
fn cut_reason(cut: CallCut) -> String {
    match cut {
        CallCut::TakenOver => "the lease was taken over mid-call".into(),
        CallCut::NotRenewed => {
            "the lease could not be renewed while the provider was still answering".into()
        }
        CallCut::TimedOut(limit) => {
            format!("the provider did not answer within {} s", limit.as_secs())
        }
    }
}

fn sent(
    job: &LeasedJob,
    message: &Message,
    receipt: SendReceipt,
    receipt_after: Option<Duration>,
) -> JobOutcome {
    tracing::debug!(message_id = %message.id, "sent");
    JobOutcome::Sent {
        lease: job.lease.clone(),
        message: message.id,
        provider_message_id: receipt.provider_message_id,
        receipt_after,
    }
}

fn retry(
    context: &JobContext,
    job: &LeasedJob,
    reason: String,
    retry_after: Option<Duration>,
) -> JobOutcome {
    let message_id = job.task.message_id();
    match context
        .retry
        .next_delay(job.attempts.max(1), rand::random::<f64>(), retry_after)
    {
        Some(delay) if job.attempts < job.max_attempts => {
            tracing::info!(?message_id, attempt = job.attempts, ?delay, %reason, "send failed; will retry");
            JobOutcome::Retry {
                lease: job.lease.clone(),
                delay,
                error: reason,
            }
        }
        _ => {
            tracing::warn!(?message_id, attempts = job.attempts, %reason, "send failed; no attempts left");
            match &job.message {
                Some((message, _)) => failed(
                    job,
                    message,
                    "retries_exhausted",
                    format!("gave up after {} attempts: {reason}", job.attempts),
                ),
                None => missing_message(job),
            }
        }
    }
}

fn uncertain(job: &LeasedJob, message: &Message, channel: &Channel, what: &str) -> JobOutcome {
    JobOutcome::Uncertain {
        lease: job.lease.clone(),
        message: message.id,
        reason: format!(
            "{what}: {} may or may not have accepted it, and takes no idempotency key, so it is not sent \
             again by itself; resend it or settle it with POST /api/v1/messages/{}/resolve",
            channel.provider, message.id
        ),
    }
}

fn failed(job: &LeasedJob, message: &Message, code: &str, reason: String) -> JobOutcome {
    JobOutcome::Failed {
        lease: job.lease.clone(),
        message: message.id,
        code: Some(code.to_owned()),
        reason,
        from_number: message.from_number_id,
    }
}

fn missing_message(job: &LeasedJob) -> JobOutcome {
    tracing::error!(job = %job.id(), task = job.task.name(), "the job's message is missing; dropping the job");
    JobOutcome::Failed {
        lease: job.lease.clone(),
        message: job.task.message_id().unwrap_or_default(),
        code: Some("message_missing".into()),
        reason: "the message no longer exists".into(),
        from_number: None,
    }
}
