//! What every handler shares.

use std::sync::Arc;

use leadline_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::Notify;

use crate::auth::KeyCache;
use crate::channel_providers::ChannelProviders;
use crate::numbers::NumberPools;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub keys: KeyCache,
    pub metrics: PrometheusHandle,
    pub providers: ChannelProviders,
    /// Wakes an idle dispatcher worker when a handler queues a message.
    pub outbox_wake: Arc<Notify>,
    /// Wakes the campaign scheduler when leads are added or a campaign is activated.
    pub scheduler_wake: Arc<Notify>,
    /// Each workspace's number pool, as selection sees it.
    pub numbers: NumberPools,
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

    /// Tells the scheduler that leads may have become due.
    pub fn wake_scheduler(&self) {
        self.scheduler_wake.notify_one();
    }
}
