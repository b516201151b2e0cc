//! The loop shared by the background sweeps that delete old rows in batches (expired
//! idempotency keys, events past their retention): at once and then every interval
//! until shutdown, delete a batch at a time until a batch comes back short, log what
//! was deleted, and count each finished sweep for whoever waits on the loop (a test)
//! instead of polling the table. A database outage ends the sweep quietly (`/readyz`
//! and the other workers report it); the next interval tries again.

use std::future::Future;
use std::time::Duration;

use leadline_store::StoreError;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// What a sweep is, for its logs.
pub struct SweepKind {
    /// Names the sweep in its logs, e.g. "idempotency".
    pub name: &'static str,
    /// Rows one batch deletes at most: a shorter batch means none is left.
    pub batch: u32,
}

/// Runs `delete_batch` (rows deleted by one batch) as sweeps at once and every
/// `interval` until `shutdown`, calling `deleted` with the rows each sweep deleted
/// when there were any, and adding one to `sweeps` after each sweep.
pub async fn run<B, BF, D>(
    kind: SweepKind,
    interval: Duration,
    shutdown: CancellationToken,
    sweeps: &watch::Sender<u64>,
    mut delete_batch: B,
    deleted: D,
) where
    B: FnMut() -> BF,
    BF: Future<Output = Result<u64, StoreError>>,
    D: Fn(u64),
{
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let mut total = 0;
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            match delete_batch().await {
                Ok(n) => {
                    total += n;
                    if n < u64::from(kind.batch) {
                        break;
                    }
                }
                Err(error) if error.is_unavailable() => {
                    tracing::debug!(%error, sweep = kind.name, "sweep: the database is unreachable");
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, sweep = kind.name, "sweep failed; trying again at the next interval");
                    break;
                }
            }
        }
        if total > 0 {
            deleted(total);
        }
        sweeps.send_modify(|sweeps| *sweeps += 1);
    }
}
