//! Bounded waits on events, for what another task or process does. A test awaits the
//! event that says it happened (a line a child process logs, a send the sink counts, an
//! answer a client got) under a deadline, and never sleeps: [`within`] bounds one
//! awaited event, and [`Wakes::until`] re-checks a condition only when something it
//! depends on changed. A wait that runs out fails naming what it waited for.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Awaits `event` for at most `limit`; panics naming `what` when it has not come by then.
pub async fn within<T>(limit: Duration, what: impl Display, event: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, event).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {limit:?} waiting until {what}"),
    }
}

/// Changes that may make a condition true — sends arriving at a sink, lines the
/// nodes log — merged into one event, for conditions no single event announces (a
/// state in the database that several processes work towards).
pub struct Wakes {
    changes: watch::Receiver<u64>,
    /// Kept so `changes` never reports its sender gone.
    sender: watch::Sender<u64>,
    forwarders: Vec<JoinHandle<()>>,
}

impl Default for Wakes {
    fn default() -> Self {
        let (sender, changes) = watch::channel(0);
        Self {
            changes,
            sender,
            forwarders: Vec::new(),
        }
    }
}

impl Wakes {
    /// Also wakes whenever `source` changes.
    pub fn on<T: Send + Sync + 'static>(mut self, mut source: watch::Receiver<T>) -> Self {
        let sender = self.sender.clone();
        self.forwarders.push(tokio::spawn(async move {
            while source.changed().await.is_ok() {
                sender.send_modify(|changes| *changes += 1);
            }
        }));
        self
    }

    /// Runs `probe` now and again after each change, until it answers `Ok` (returned);
    /// after `limit`, panics naming `what` and the probe's last `Err` (what it saw).
    pub async fn until<T>(
        &mut self,
        what: &str,
        limit: Duration,
        mut probe: impl AsyncFnMut() -> Result<T, String>,
    ) -> T {
        let mut last = String::from("no answer from the probe yet");
        let changes = &mut self.changes;
        let found = tokio::time::timeout(limit, async {
            loop {
                // Changes from here on wake the next look, even those during the probe.
                changes.mark_unchanged();
                match probe().await {
                    Ok(value) => return value,
                    Err(seen) => last = seen,
                }
                changes
                    .changed()
                    .await
                    .expect("the wakes keep their sender");
            }
        })
        .await;
        found.unwrap_or_else(|_| {
            panic!("timed out after {limit:?} waiting until {what}; last seen: {last}")
        })
    }
}

impl Drop for Wakes {
    fn drop(&mut self) {
        for forwarder in &self.forwarders {
            forwarder.abort();
        }
    }
}
