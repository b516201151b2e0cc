//! Deletes expired idempotency keys. Keys presented again after they expire are freed
//! on the spot, but most keys are never presented again; without a sweep their rows,
//! answers included, would stay forever. The sweeper runs under the server's
//! supervisor: every [`SWEEP_INTERVAL`] it deletes expired keys, [`SWEEP_BATCH`] per
//! statement, oldest first, until none is left. Each batch is its own short statement
//! through the `created_at` index, so a sweep never holds locks for long, and several
//! nodes sweeping at once only share the work. [`run_reporting`] also counts the sweeps
//! it finished, for whoever waits on the loop (a test) instead of polling the keys.

use std::time::Duration;

use leadline_store::{Store, StoreError};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::batch_sweep::SweepKind;

/// Keys deleted per statement.
pub const SWEEP_BATCH: u32 = 1_000;

/// How often expired keys are swept. Keys live 24 hours; ten minutes more costs
/// nothing, and an idle server does one indexed lookup per interval.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swept {
    /// Deleted this many keys; more may be left.
    Worked(u64),
    /// Nothing was left to delete.
    Idle,
}

/// Deletes one batch of expired keys.
pub async fn sweep_once(store: &Store, batch: u32) -> Result<Swept, StoreError> {
    match store.delete_expired_idempotency_keys(batch).await? {
        0 => Ok(Swept::Idle),
        deleted => Ok(Swept::Worked(deleted)),
    }
}

/// Sweeps at once and then every `interval` until `shutdown` fires.
pub async fn run(store: Store, interval: Duration, shutdown: CancellationToken) {
    run_reporting(store, interval, shutdown, &watch::Sender::new(0)).await;
}

/// [`run`], adding one to `sweeps` after each sweep ends (its keys deleted, or the
/// database found unreachable), so a watcher learns the loop swept without polling.
pub async fn run_reporting(
    store: Store,
    interval: Duration,
    shutdown: CancellationToken,
    sweeps: &watch::Sender<u64>,
) {
    let kind = SweepKind {
        name: "idempotency",
        batch: SWEEP_BATCH,
    };
    let delete_batch = || store.delete_expired_idempotency_keys(SWEEP_BATCH);
    let deleted = |deleted: u64| tracing::info!(deleted, "deleted expired idempotency keys");
    crate::batch_sweep::run(kind, interval, shutdown, sweeps, delete_batch, deleted).await;
}
