//! What every handler shares. Handlers and middleware receive it by value (axum clones
//! the state for each extraction), so it is one `Arc`: a clone is one reference count,
//! not one per field, which on a busy node were a fifth of a request's CPU.

use std::sync::Arc;

use leadline_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::Notify;

use crate::auth::KeyCache;
use crate::channel_providers::ChannelProviders;
use crate::numbers::NumberPools;
use crate::rate_limit::RateLimits;

/// The shared services, behind one `Arc` (see the module doc).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Services {
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
    /// Fires when the server stops: answers that would otherwise never end (the event
    /// stream) end then, so a stop does not wait for their clients.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// The console's cookie settings and login throttle.
    pub console: crate::console::ConsoleSettings,
}

impl Services {
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
