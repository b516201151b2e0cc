//! The scheduler's loop: steps while there are due leads, then a pause until the next
//! one (a second, or sooner when a request wakes it). When a tick fails the pause grows instead (1 s doubling to
//! 30 s, back to a second after a tick that succeeds), and an unreachable database is
//! logged once when it goes and once when it returns.

use std::sync::Arc;
use std::time::Duration;

use leadline_store::Store;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::Scheduler;
use crate::backoff::StoreBackoff;
use crate::numbers::NumberPools;
use crate::worker_step::Step;

/// The longest a scheduler sleeps between ticks.
const TICK: Duration = Duration::from_secs(1);

/// Runs the scheduler's ticks until `shutdown` fires, returning after the tick in
/// progress. It is the future the supervisor restarts after a panic (see
/// [`crate::supervisor`]).
pub async fn run(
    store: Store,
    numbers: NumberPools,
    outbox_wake: Arc<Notify>,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let scheduler = Scheduler::new(store, numbers, outbox_wake);
    let mut health = StoreBackoff::new("scheduler");
    while !shutdown.is_cancelled() {
        match scheduler.run_once().await {
            Ok(Step::Worked(_)) => health.succeeded(),
            Ok(Step::Idle) => {
                health.succeeded();
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(TICK) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
            Err(error) => {
                // A wake-up does not cut the pause short: requests that change campaigns
                // would otherwise turn the back-off into a retry loop.
                let pause = health.failed(&error);
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
    }
}
