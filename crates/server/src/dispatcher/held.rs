//! The leases this process holds, from the lease until their outcome is recorded, and
//! the loop that renews them every third of the lease so a slow provider call never
//! outlives its lease. A job the renewal finds taken over (or settled elsewhere) is
//! marked lost: its outcome is dropped and it is not sent again from here. Leases are
//! known by job *and* token: the same job may be settled and leased again here before
//! the old lease's bookkeeping is done.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use leadline_core::JobId;
use leadline_store::Store;
use leadline_store::outbox::{JobLease, LeasedJob};
use tokio_util::sync::CancellationToken;

struct Held {
    until: DateTime<Utc>,
    lost: bool,
}

#[derive(Default)]
pub struct HeldLeases {
    leases: Mutex<HashMap<JobLease, Held>>,
}

impl HeldLeases {
    pub fn insert(&self, job: &LeasedJob) {
        let held = Held {
            until: job.until,
            lost: false,
        };
        self.lock().insert(job.lease.clone(), held);
    }

    pub fn remove(&self, lease: &JobLease) {
        self.lock().remove(lease);
    }

    /// Until when `lease` is known to be held; `None` once it is lost.
    pub fn held_until(&self, lease: &JobLease) -> Option<DateTime<Utc>> {
        let leases = self.lock();
        leases
            .get(lease)
            .filter(|held| !held.lost)
            .map(|held| held.until)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<JobLease, Held>> {
        self.leases.lock().expect("held lock")
    }

    fn snapshot(&self) -> Vec<JobLease> {
        let leases = self.lock();
        leases
            .iter()
            .filter(|(_, held)| !held.lost)
            .map(|(lease, _)| lease.clone())
            .collect()
    }

    /// Applies a renewal of `asked`: the leases in `kept` hold until `until`, the
    /// others are lost. Returns how many were lost.
    fn renewed(&self, asked: &[JobLease], until: DateTime<Utc>, kept: &HashSet<JobId>) -> usize {
        let mut leases = self.lock();
        let mut lost = 0;
        for lease in asked {
            if let Some(held) = leases.get_mut(lease) {
                if kept.contains(&lease.job) {
                    held.until = held.until.max(until);
                } else if !held.lost {
                    held.lost = true;
                    lost += 1;
                }
            }
        }
        lost
    }
}

/// Renews every held lease each `lease / 3` until `stop` fires.
pub async fn renew_loop(
    store: Store,
    held: std::sync::Arc<HeldLeases>,
    lease: Duration,
    stop: CancellationToken,
) {
    let every = (lease / 3).max(Duration::from_millis(100));
    let mut failing = false;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let asked = held.snapshot();
        metrics::gauge!("leadline_dispatch_leases_held").set(held.len() as f64);
        if asked.is_empty() {
            continue;
        }
        match store.renew_leases(&asked, lease).await {
            Ok((until, kept)) => {
                if failing {
                    tracing::info!("lease renewal works again");
                    failing = false;
                }
                let lost = held.renewed(&asked, until, &kept);
                if lost > 0 {
                    metrics::counter!("leadline_dispatch_leases_lost_total").increment(lost as u64);
                    tracing::warn!(
                        lost,
                        "leases taken over by another worker; their outcomes will not be recorded here"
                    );
                }
            }
            Err(error) => {
                if !failing {
                    tracing::warn!(%error, held = asked.len(), "renewing leases failed; calls stop before their leases can end");
                    failing = true;
                }
            }
        }
    }
}
