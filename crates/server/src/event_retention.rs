//! Deletes events older than the retention (`leadline serve --event-retention-days`,
//! default 30): the log serves pollers, the console and replays, and would otherwise
//! grow with every change forever. A delivery reads its event at every retry, and its
//! retries end about 28 hours after the event, so the retention is at least
//! [`MIN_RETENTION_DAYS`].
//!
//! The sweep runs under the server's supervisor: every [`SWEEP_INTERVAL`] it deletes
//! the events that happened before now less the retention, [`SWEEP_BATCH`] per
//! statement, oldest first, until none is left. "Before" is read on the store's clock
//! and applied to the events' UUIDv7 ids, a range of the primary key: each batch is a
//! short statement, and several nodes sweeping at once only share the work.
//! [`run_reporting`] also counts the sweeps it finished, for whoever waits
//! on the loop (a test) instead of polling the log.

use std::time::Duration;

use leadline_store::{Store, StoreError};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::batch_sweep::SweepKind;
use crate::worker_step::Step;

/// Days events are kept by default.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

/// The shortest retention accepted: longer than a delivery's retries last.
pub const MIN_RETENTION_DAYS: u32 = 2;

/// Events deleted per statement.
pub const SWEEP_BATCH: u32 = 1_000;

/// How often old events are swept: an idle server does one indexed lookup per interval,
/// and an event outlives its retention by at most this much.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

/// How long events are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRetention {
    pub days: u32,
}

impl Default for EventRetention {
    fn default() -> Self {
        Self {
            days: DEFAULT_RETENTION_DAYS,
        }
    }
}

impl EventRetention {
    pub fn duration(self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.days))
    }
}

/// Deletes one batch of events older than the retention.
pub async fn sweep_once(
    store: &Store,
    retention: EventRetention,
    batch: u32,
) -> Result<Step, StoreError> {
    let cutoff = store.clock().now() - retention.duration();
    let deleted = store.delete_events_before(cutoff, batch).await?;
    Ok(Step::from_count(
        usize::try_from(deleted).unwrap_or(usize::MAX),
    ))
}

/// Sweeps at once and then every `interval` until `shutdown` fires.
pub async fn run(
    store: Store,
    retention: EventRetention,
    interval: Duration,
    shutdown: CancellationToken,
) {
    run_reporting(store, retention, interval, shutdown, &watch::Sender::new(0)).await;
}

/// [`run`], adding one to `sweeps` after each sweep ends (its events deleted, or the
/// database found unreachable), so a watcher learns the loop swept without polling.
pub async fn run_reporting(
    store: Store,
    retention: EventRetention,
    interval: Duration,
    shutdown: CancellationToken,
    sweeps: &watch::Sender<u64>,
) {
    let kind = SweepKind {
        name: "event retention",
        batch: SWEEP_BATCH,
    };
    let delete_batch = || async {
        let cutoff = store.clock().now() - retention.duration();
        store.delete_events_before(cutoff, SWEEP_BATCH).await
    };
    let deleted = |deleted: u64| {
        tracing::info!(
            deleted,
            retention_days = retention.days,
            "deleted events past their retention"
        );
    };
    crate::batch_sweep::run(kind, interval, shutdown, sweeps, delete_batch, deleted).await;
}
