//! What every handler shares.

use leadline_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::KeyCache;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub keys: KeyCache,
    pub metrics: PrometheusHandle,
}
