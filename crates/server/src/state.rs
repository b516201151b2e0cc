//! What every handler shares.

use std::sync::Arc;

use leadline_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::Notify;

use crate::auth::KeyCache;
use crate::channel_providers::ChannelProviders;
use crate::numbers::NumberPools;
use crate::rate_limit::RateLimits;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub keys: KeyCache,
    /// The node's rate-limit buckets (per key, per client address, per channel).
    pub limits: RateLimits,
    pub metrics: PrometheusHandle,
    pub providers: ChannelProviders,
    /// Wakes an idle dispatcher worker when a handler queues a message.
    pub outbox_wake: Arc<Notify>,
    /// Wakes the campaign scheduler when leads are added or a campaign is activated.
    pub scheduler_wake: Arc<Notify>,
    /// Each workspace's number pool, as selection sees it.
    pub numbers: NumberPools,
    /// Wakes the agent's worker when an inbound message is filed.
    pub agent_wake: Arc<Notify>,
    /// How long a request holding an `Idempotency-Key` may run.
    pub idempotency: crate::idempotency::IdempotencyOptions,
}

impl AppState {
    /// Tells the dispatcher that new jobs are due.
    pub fn wake_dispatcher(&self) {
        self.outbox_wake.notify_one();
    }

    /// Chooses and reserves sending numbers over this state's pools.
    pub fn senders(&self) -> crate::numbers::SenderAssigner {
        crate::numbers::SenderAssigner {
            store: self.store.clone(),
            pools: self.numbers.clone(),
        }
    }

    /// Tells the agent's worker that a conversation has a message to read.
    pub fn wake_agent(&self) {
        self.agent_wake.notify_one();
    }

    /// Tells the scheduler that leads may have become due.
    pub fn wake_scheduler(&self) {
        self.scheduler_wake.notify_one();
    }
}
