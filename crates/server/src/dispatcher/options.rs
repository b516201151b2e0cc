//! How a process's dispatcher runs: its workers and their slots, leases, time limits
//! of provider calls and webhook deliveries, retries and circuit breakers.

use std::time::Duration;

use leadline_core::delivery::CircuitPolicy;
use leadline_core::retry::RetryPolicy;

#[derive(Debug, Clone)]
pub struct DispatcherOptions {
    /// Leasing loops in this process.
    pub workers: usize,
    /// Jobs in flight per worker.
    pub slots: usize,
    /// How long a lease lasts between renewals (renewed every third of it).
    pub lease: Duration,
    /// The longest a provider call may take; it ends uncertain after that.
    pub send_timeout: Duration,
    /// The longest an idle worker sleeps before looking again.
    pub idle_poll: Duration,
    pub retry: RetryPolicy,
    pub circuit: CircuitPolicy,
    /// The longest a webhook endpoint may take to answer a delivery.
    pub webhook_timeout: Duration,
    /// Deliveries in flight at once per webhook endpoint (per process).
    pub webhook_concurrency: u32,
}

impl Default for DispatcherOptions {
    fn default() -> Self {
        Self {
            workers: 2,
            slots: 1024,
            lease: Duration::from_secs(30),
            send_timeout: Duration::from_secs(20),
            idle_poll: Duration::from_millis(500),
            retry: RetryPolicy::default(),
            circuit: CircuitPolicy::default(),
            webhook_timeout: Duration::from_secs(15),
            webhook_concurrency: 16,
        }
    }
}

impl DispatcherOptions {
    /// A lease that ended without an outcome is taken over only this long after it
    /// ended (a lease's length, at least 10 s): a holder whose renewals failed — a
    /// stalled process, a database that went away — still has that long to finish its
    /// call and record it.
    pub fn takeover_grace(&self) -> Duration {
        self.lease.max(Duration::from_secs(10))
    }
}
