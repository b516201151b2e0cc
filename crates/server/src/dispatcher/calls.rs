//! What every outbound call of the dispatcher shares, a provider's send or a webhook
//! delivery: it runs inside the lease of its job, and how it went moves its lane's
//! circuit breaker.

use std::fmt;
use std::time::Duration;

use leadline_core::channel::ProviderKind;
use leadline_core::{ChannelId, WebhookEndpointId};
use leadline_store::outbox::LeasedJob;

use super::lanes::CircuitChange;
use super::send::JobContext;

/// Why a call was cut off before it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallCut {
    /// Another worker took the job over (this one's lease was found lost).
    TakenOver,
    /// Renewals failed and the lease was about to end under the call.
    NotRenewed,
    /// The call's own time limit passed.
    TimedOut(Duration),
}

/// Runs `call` until it answers, `limit` passes, or the lease `job` holds could end
/// (renewals failing, or the job taken over): a call never outlives its lease, so no
/// other worker runs the same job while this one's call is still in flight.
pub async fn within_lease<T>(
    context: &JobContext,
    job: &LeasedJob,
    limit: Duration,
    call: impl Future<Output = T>,
) -> Result<T, CallCut> {
    let timeout = tokio::time::sleep(limit);
    tokio::pin!(call, timeout);
    // Stop this long before anyone else could take the job over.
    let margin = (context.takeover_grace / 2).min(Duration::from_secs(5));
    loop {
        let left = context.held.held_until(&job.lease).map(|until| {
            let end = until
                + chrono::Duration::from_std(context.takeover_grace.saturating_sub(margin))
                    .unwrap_or_default();
            (end - context.store.clock().now())
                .to_std()
                .unwrap_or_default()
        });
        let Some(left) = left else {
            return Err(CallCut::TakenOver);
        };
        if left.is_zero() {
            return Err(CallCut::NotRenewed);
        }
        tokio::select! {
            answer = &mut call => return Ok(answer),
            _ = &mut timeout => return Err(CallCut::TimedOut(limit)),
            _ = tokio::time::sleep(left.min(Duration::from_secs(1))) => {}
        }
    }
}

/// Whose lane a circuit belongs to, for its logs and metrics.
#[derive(Debug, Clone, Copy)]
pub enum LaneOwner {
    Channel {
        id: ChannelId,
        provider: ProviderKind,
    },
    Endpoint(WebhookEndpointId),
}

impl fmt::Display for LaneOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaneOwner::Channel { id, provider } => write!(f, "channel {id} ({provider})"),
            LaneOwner::Endpoint(id) => write!(f, "webhook endpoint {id}"),
        }
    }
}

impl LaneOwner {
    /// Sets the gauge saying whether this lane's circuit is open.
    fn set_open_gauge(&self, open: bool) {
        let value = if open { 1.0 } else { 0.0 };
        match self {
            LaneOwner::Channel { id, .. } => {
                metrics::gauge!("leadline_dispatch_circuit_open", "channel" => id.to_string())
                    .set(value)
            }
            LaneOwner::Endpoint(id) => {
                metrics::gauge!("leadline_webhook_circuit_open", "endpoint" => id.to_string())
                    .set(value)
            }
        }
    }
}

/// Applies a change of `lane`'s circuit: an open circuit moves the lane's queued jobs
/// past its pause (they wait without using attempts) and is recorded with `reason`
/// for the API and other nodes; a closed one is forgotten.
pub async fn circuit_changed(
    context: &JobContext,
    owner: LaneOwner,
    lane: &str,
    change: CircuitChange,
    reason: impl FnOnce() -> String,
) {
    match change {
        CircuitChange::None => return,
        CircuitChange::Opened(tripped) => {
            let reason = reason();
            tracing::warn!(%owner, pause = ?tripped.pause, %reason,
                "{owner} keeps failing: circuit open, its queued jobs wait without using attempts");
            metrics::counter!("leadline_dispatch_circuit_opened_total").increment(1);
            owner.set_open_gauge(true);
            if let Err(error) = context.store.defer_lane(lane, tripped.until).await {
                tracing::warn!(%error, %owner, "deferring the lane's jobs failed");
            }
            if let Err(error) = context
                .store
                .open_lane_circuit(lane, tripped.until, &reason)
                .await
            {
                tracing::warn!(%error, %owner, "recording the open circuit failed");
            }
        }
        CircuitChange::Closed => {
            tracing::info!(%owner, "{owner} answers again: circuit closed");
            owner.set_open_gauge(false);
            if let Err(error) = context.store.close_lane_circuit(lane).await {
                tracing::warn!(%error, %owner, "recording the closed circuit failed");
            }
        }
    }
    // Only when a circuit changed: counting them locks every lane.
    metrics::gauge!("leadline_dispatch_open_circuits")
        .set(context.lanes.open_circuits(context.store.clock().now()) as f64);
}
