//! What every handler shares.

use std::sync::Arc;

use leadline_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::Notify;

use crate::auth::KeyCache;
use crate::channel_providers::ChannelProviders;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub keys: KeyCache,
    pub metrics: PrometheusHandle,
    pub providers: ChannelProviders,
    /// Wakes an idle dispatcher worker when a handler queues a message.
    pub outbox_wake: Arc<Notify>,
}

impl AppState {
    /// Tells the dispatcher that new jobs are due.
    pub fn wake_dispatcher(&self) {
        self.outbox_wake.notify_one();
    }
}
