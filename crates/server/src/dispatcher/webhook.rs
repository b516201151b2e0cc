//! Webhook deliveries: a leased `webhook.v1` job POSTs its event to its endpoint
//! ([`post`]), signed per the Standard Webhooks specification, through the outbound
//! guard, and its answer decides what becomes of the job.
//!
//! - **Loaded per round.** The events and endpoints of a round's leased jobs are read
//!   in one statement each ([`load_round`]), not cached: an endpoint disabled, deleted
//!   or given a new secret is seen by the next round on every node.
//! - **Retries.** 2xx ends the job. Any other answer, a timeout or no connection is
//!   tried again on the svix schedule with jitter (`event::schedule`), never sooner
//!   than the endpoint's `Retry-After` (up to a day) nor while its circuit is open;
//!   after the last attempt the job ends and the attempt log tells. 410 Gone ends the
//!   job and disables the endpoint. Every attempt is recorded with the job's outcome by
//!   the recorder, in batches.
//! - **Isolated.** Each endpoint is a lane of its own with its own concurrency, its
//!   rate limit and a circuit breaker, so a slow or dead endpoint fills only its lane:
//!   other endpoints and every send go on.
//! - **At least once.** A delivery cut off by a crash is made again once its lease is
//!   taken over, with the same `webhook-id`, which receivers use to drop repeats.

mod post;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use leadline_core::event::{AttemptStatus, schedule};
use leadline_core::{EventId, JobId, WebhookEndpointId};
use leadline_providers::outbound::{ClientOptions, OutboundClient, OutboundPolicy};
use leadline_store::Store;
use leadline_store::events::StoredEvent;
use leadline_store::outbox::{JobOutcome, LeasedJob, Task};
use leadline_store::webhook_endpoints::{NewWebhookAttempt, SigningSecrets, WebhookEndpoint};

use super::calls::{CallCut, LaneOwner, circuit_changed, within_lease};
use super::lanes::{CallHealth, LaneLimits, Reservation};
use super::send::JobContext;
use post::{Answer, AnswerKind, Delivery};

/// What webhook deliveries of a process share: one guarded HTTP client (its
/// connections kept alive between deliveries) and their time limit.
#[derive(Clone)]
pub struct Webhooks {
    client: OutboundClient,
    timeout: Duration,
    concurrency: u32,
}

impl Webhooks {
    /// Deliveries calling what `policy` allows, each cut off after `timeout`, at most
    /// `concurrency` at once per endpoint.
    pub fn new(policy: OutboundPolicy, timeout: Duration, concurrency: u32) -> Self {
        // Idle connections are kept without a cap per host: several endpoints often
        // share one host, and a connection closed after each delivery would cost a
        // handshake for the next. The lanes bound how many there are.
        let options = ClientOptions {
            timeout: Some(timeout),
            connect_timeout: Some(timeout.min(Duration::from_secs(5))),
            pool_max_idle_per_host: None,
        };
        let client = OutboundClient::new(policy, options)
            .expect("the HTTP client builds with static settings");
        Self {
            client,
            timeout,
            concurrency,
        }
    }
}

/// An endpoint with the secrets that sign its deliveries now.
type Endpoint = (WebhookEndpoint, SigningSecrets);

/// A delivery's event and endpoint, as its round found them.
#[derive(Clone)]
pub enum Target {
    Ready {
        event: Arc<StoredEvent>,
        endpoint: Arc<Endpoint>,
    },
    /// The event left the log (its retention passed): nothing to deliver.
    EventMissing,
    /// The endpoint was deleted.
    EndpointMissing,
    /// The store could not be read; the job goes back.
    Unloaded,
}

/// Loads the events and endpoints of the round's webhook jobs, one statement each,
/// and says what each job delivers where.
pub async fn load_round<'a>(
    store: &Store,
    jobs: impl Iterator<Item = &'a LeasedJob> + Clone,
) -> HashMap<JobId, Target> {
    let tasks = jobs.filter_map(|job| match job.task {
        Task::WebhookV1 {
            event_id,
            endpoint_id,
        } => Some((job.id(), event_id, endpoint_id)),
        _ => None,
    });
    let event_ids: HashSet<EventId> = tasks.clone().map(|(_, event, _)| event).collect();
    if event_ids.is_empty() {
        return HashMap::new();
    }
    let endpoint_ids: HashSet<WebhookEndpointId> =
        tasks.clone().map(|(_, _, endpoint)| endpoint).collect();
    let event_ids: Vec<EventId> = event_ids.into_iter().collect();
    let endpoint_ids: Vec<WebhookEndpointId> = endpoint_ids.into_iter().collect();
    let (events, endpoints) = tokio::join!(
        store.events_by_ids(&event_ids),
        store.webhook_delivery_targets(&endpoint_ids)
    );
    let (events, endpoints) = match (events, endpoints) {
        (Ok(events), Ok(endpoints)) => (events, endpoints),
        (Err(error), _) | (_, Err(error)) => {
            tracing::warn!(%error, "loading the events and endpoints of webhook deliveries failed; they wait");
            return tasks.map(|(job, _, _)| (job, Target::Unloaded)).collect();
        }
    };
    let events: HashMap<EventId, Arc<StoredEvent>> = events
        .into_iter()
        .map(|event| (event.id, Arc::new(event)))
        .collect();
    let endpoints: HashMap<WebhookEndpointId, Arc<Endpoint>> = endpoints
        .into_iter()
        .map(|(id, endpoint)| (id, Arc::new(endpoint)))
        .collect();
    tasks
        .map(|(job, event, endpoint)| {
            let target = match (events.get(&event), endpoints.get(&endpoint)) {
                (None, _) => Target::EventMissing,
                (_, None) => Target::EndpointMissing,
                (Some(event), Some(endpoint)) => Target::Ready {
                    event: event.clone(),
                    endpoint: endpoint.clone(),
                },
            };
            (job, target)
        })
        .collect()
}

/// Delivers `job`'s event, which holds `place` in its endpoint's lane: the job's
/// outcome, and the attempt to log when a call was made.
pub async fn deliver(
    context: &JobContext,
    job: &LeasedJob,
    place: Reservation,
    target: Option<Target>,
) -> (JobOutcome, Option<NewWebhookAttempt>) {
    let Task::WebhookV1 {
        event_id,
        endpoint_id,
    } = job.task
    else {
        unreachable!("only webhook jobs are delivered here");
    };
    let done = JobOutcome::Done {
        lease: job.lease.clone(),
    };
    let (event, endpoint) = match target.unwrap_or(Target::Unloaded) {
        Target::Ready { event, endpoint } => (event, endpoint),
        Target::Unloaded => {
            // Not at once: the store just failed to answer.
            let later = context.store.clock().now() + chrono::Duration::seconds(2);
            return (
                JobOutcome::Release {
                    lease: job.lease.clone(),
                    run_at: Some(later),
                },
                None,
            );
        }
        Target::EventMissing => {
            tracing::info!(event = %event_id, endpoint = %endpoint_id, "the event is no longer in the log (past its retention); its delivery is dropped");
            return (done, None);
        }
        Target::EndpointMissing => {
            tracing::debug!(event = %event_id, endpoint = %endpoint_id, "the endpoint was deleted; its delivery is dropped");
            return (done, None);
        }
    };
    let (endpoint, secrets) = &*endpoint;
    if !endpoint.enabled {
        tracing::info!(event = %event_id, endpoint = %endpoint_id, reason = ?endpoint.disabled_reason,
            "the endpoint is disabled; its delivery is dropped (replay the event once it is enabled)");
        return (done, None);
    }
    let store = &context.store;
    let limits = LaneLimits {
        concurrency: context.webhooks.concurrency,
        per_second: endpoint.rate_limit.map(f64::from),
    };
    if !place.admit_within(limits, store.clock().now()) {
        return (
            JobOutcome::Release {
                lease: job.lease.clone(),
                run_at: None,
            },
            None,
        );
    }
    if job.lapsed {
        tracing::debug!(event = %event_id, endpoint = %endpoint_id, "delivering again: the worker that held this delivery stopped mid-call");
    }
    let message_id = event_id.to_string();
    let delivery = Delivery {
        url: &endpoint.url,
        secrets,
        message_id: &message_id,
        payload: &event.payload,
        now: store.clock().now(),
    };
    let started = Instant::now();
    let call = post::post(&context.webhooks.client, delivery);
    let answer = within_lease(context, job, context.webhooks.timeout, call)
        .await
        .unwrap_or_else(|cut| Answer::unreachable(cut_reason(cut)));
    let duration = started.elapsed();
    count(endpoint_id, &answer, duration);

    let now = store.clock().now();
    let health = if answer.is_unwell() {
        CallHealth::Failing
    } else {
        CallHealth::Answered
    };
    let change = context.lanes.finished(&job.lane, health, now);
    let owner = LaneOwner::Endpoint(endpoint_id);
    circuit_changed(context, owner, &job.lane, change, || answer.summary()).await;
    let pause = context
        .lanes
        .paused_until(&job.lane, now)
        .and_then(|until| (until - now).to_std().ok());
    let attempt = NewWebhookAttempt {
        workspace_id: event.workspace_id,
        endpoint_id,
        event_id,
        status: if answer.kind == AnswerKind::Accepted {
            AttemptStatus::Succeeded
        } else {
            AttemptStatus::Failed
        },
        response_code: answer.status,
        duration,
        response_excerpt: answer.excerpt.clone(),
        gone: answer.kind == AnswerKind::Gone,
    };
    let outcome = next_step(job, &answer, pause, rand::random::<f64>());
    (outcome, Some(attempt))
}

/// What becomes of the job after an attempt answered `answer`, with the endpoint's
/// circuit paused for `pause` and `jitter` in [0, 1) spreading the next wait.
fn next_step(job: &LeasedJob, answer: &Answer, pause: Option<Duration>, jitter: f64) -> JobOutcome {
    let (event, endpoint) = match job.task {
        Task::WebhookV1 {
            event_id,
            endpoint_id,
        } => (event_id.to_string(), endpoint_id.to_string()),
        _ => (String::new(), job.lane.clone()),
    };
    let done = JobOutcome::Done {
        lease: job.lease.clone(),
    };
    match answer.kind {
        AnswerKind::Accepted => {
            tracing::debug!(%event, %endpoint, "webhook delivered");
            return done;
        }
        AnswerKind::Gone => {
            tracing::warn!(%event, %endpoint, "webhook endpoint {endpoint} answered 410 Gone: disabling it");
            return done;
        }
        AnswerKind::Refused | AnswerKind::Unreachable | AnswerKind::Forbidden => {}
    }
    let reason = answer.summary();
    let asked = answer.retry_after.max(pause);
    match schedule::next_delay(job.attempts.max(1), jitter, asked) {
        Some(delay) if job.attempts < job.max_attempts => {
            tracing::info!(%event, %endpoint, attempt = job.attempts, ?delay, retry_after = ?answer.retry_after, %reason,
                "webhook delivery failed; will retry");
            JobOutcome::Retry {
                lease: job.lease.clone(),
                delay,
                error: reason,
            }
        }
        _ => {
            tracing::warn!(%event, %endpoint, attempts = job.attempts, %reason,
                "webhook delivery failed with no attempts left; the event is not delivered there unless replayed");
            done
        }
    }
}

/// Why a delivery cut off before the endpoint answered failed, as the attempt log says.
fn cut_reason(cut: CallCut) -> String {
    match cut {
        CallCut::TimedOut(limit) => format!("no answer within {} s", limit.as_secs()),
        CallCut::TakenOver | CallCut::NotRenewed => {
            "cut off: the delivery's lease could not be kept".to_owned()
        }
    }
}

/// Per-endpoint counters of deliveries that succeeded and failed, and how long each
/// took.
fn count(endpoint: WebhookEndpointId, answer: &Answer, duration: Duration) {
    let endpoint = endpoint.to_string();
    let outcome = if answer.kind == AnswerKind::Accepted {
        "succeeded"
    } else {
        "failed"
    };
    metrics::counter!("leadline_webhook_deliveries_total", "endpoint" => endpoint.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("leadline_webhook_delivery_duration_seconds", "endpoint" => endpoint)
        .record(duration.as_secs_f64());
}

#[cfg(test)]
mod tests;
