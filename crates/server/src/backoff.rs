//! Waiting after failures: a delay that doubles up to a cap ([`Backoff`]), and how a
//! background worker uses it when the store fails ([`StoreBackoff`]).
//!
//! A worker that retried a missing database at a fixed interval would log a warning on
//! every attempt and keep a connection attempt going all the time. Instead it waits
//! 1 s, 2 s, 4 s … up to 30 s between attempts, starts again from 1 s after the first
//! success, and logs only when the state changes: once when the database becomes
//! unreachable, once when it answers again.

use std::time::Duration;

use leadline_store::StoreError;

/// A delay that doubles after each use, up to a cap, until it is reset.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max: max.max(first),
            next: first,
        }
    }

    /// The delay to wait now; the next one is twice as long, up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// Starts again from the first delay.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

/// The first wait of a worker after a failed store call.
pub const STORE_RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest wait of a worker between store attempts.
pub const STORE_RETRY_MAX: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreHealth {
    Answering,
    /// The database cannot be reached (see [`StoreError::is_unavailable`]).
    Unreachable,
    /// The database answers, but with errors.
    Failing,
}

/// One worker's view of the store: how long to wait after a failure, and a log line
/// per change of state rather than per attempt.
#[derive(Debug)]
pub struct StoreBackoff {
    worker: &'static str,
    delays: Backoff,
    health: StoreHealth,
}

impl StoreBackoff {
    /// For the worker called `worker` in logs.
    pub fn new(worker: &'static str) -> Self {
        Self {
            worker,
            delays: Backoff::new(STORE_RETRY_FIRST, STORE_RETRY_MAX),
            health: StoreHealth::Answering,
        }
    }

    /// After a store call that succeeded: back to the shortest wait, and a log line if
    /// this ends an outage.
    pub fn succeeded(&mut self) {
        let worker = self.worker;
        match self.health {
            StoreHealth::Answering => return,
            StoreHealth::Unreachable => {
                tracing::info!(worker, "database reachable again; {worker} resumed");
            }
            StoreHealth::Failing => {
                tracing::info!(worker, "store calls succeed again; {worker} resumed");
            }
        }
        self.health = StoreHealth::Answering;
        self.delays.reset();
    }

    /// After a store call that failed: how long to wait before trying again. An
    /// unreachable database is logged when the outage starts, not on every attempt; any
    /// other error is logged each time, since each may say something new.
    pub fn failed(&mut self, error: &StoreError) -> Duration {
        let worker = self.worker;
        let delay = self.delays.next_delay();
        if error.is_unavailable() {
            if self.health != StoreHealth::Unreachable {
                tracing::warn!(worker, %error, "database unreachable; {worker} backing off");
            }
            self.health = StoreHealth::Unreachable;
        } else {
            tracing::warn!(worker, %error, retry_in_seconds = delay.as_secs_f64(),
                "store call failed; {worker} backing off");
            self.health = StoreHealth::Failing;
        }
        delay
    }

    /// Whether the last store call failed.
    pub fn is_backing_off(&self) -> bool {
        self.health != StoreHealth::Answering
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_reset() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        let delays: Vec<u64> = (0..7).map(|_| backoff.next_delay().as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_secs(1));
    }

    #[test]
    fn the_store_backoff_grows_while_failing_and_resets_on_success() {
        let mut store = StoreBackoff::new("test worker");
        let unreachable = StoreError::Unreachable("connection refused".into());
        assert!(!store.is_backing_off());
        assert_eq!(store.failed(&unreachable), Duration::from_secs(1));
        assert_eq!(store.failed(&unreachable), Duration::from_secs(2));
        assert_eq!(store.failed(&unreachable), Duration::from_secs(4));
        assert!(store.is_backing_off());
        store.succeeded();
        assert!(!store.is_backing_off());
        assert_eq!(
            store.failed(&StoreError::Corrupt("x".into())),
            Duration::from_secs(1)
        );
    }
}
