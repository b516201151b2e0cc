//! The dispatcher as a step: [`Dispatcher::run_once`] leases the jobs due now (within
//! the lanes' capacity, in turns across workspaces, under fenced leases that are
//! renewed while calls run), sends them, waits until their outcomes are recorded, and
//! says how many it handled. A server started without background workers holds one,
//! so a test drains the outbox at the moment it chooses instead of sleeping while a
//! loop gets there.

use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use leadline_store::{Store, StoreError};

use super::{DispatcherOptions, Leaser, Parts, hostname, send::JobContext};
use crate::channel_providers::ChannelProviders;
use crate::worker_step::Step;

/// A dispatcher that runs when it is stepped.
pub struct Dispatcher {
    leaser: Leaser,
    /// Stops the lease renewal when the dispatcher is dropped.
    renewal_stop: CancellationToken,
    _recording: JoinHandle<()>,
    _renewal: JoinHandle<()>,
}

impl Dispatcher {
    /// A dispatcher over `store` with the same lanes, leases, retries and recording as
    /// the background workers; nothing runs until [`Dispatcher::run_once`].
    pub fn new(store: Store, providers: ChannelProviders, options: DispatcherOptions) -> Self {
        let Parts {
            context,
            recording,
            renewal,
            renewal_stop,
        } = Parts::start(store, providers, &options);
        Self {
            leaser: Leaser {
                owner: format!("{}-{}-stepped", hostname(), std::process::id()),
                context,
                options,
            },
            renewal_stop,
            _recording: recording,
            _renewal: renewal,
        }
    }

    /// Leases the jobs due now, sends them, records their outcomes and returns:
    /// `Worked(n)` for `n` jobs handled, `Idle` when none was due (or every due job's
    /// lane is full, open-circuited or at its rate).
    pub async fn run_once(&self) -> Result<Step, StoreError> {
        let mut calls = JoinSet::new();
        let step = self
            .leaser
            .start_due(&mut calls, self.leaser.options.slots.max(1))
            .await?;
        while calls.join_next().await.is_some() {}
        self.context().recorder.recorded().await;
        Ok(step)
    }

    /// Steps until nothing is due; returns how many jobs were handled.
    pub async fn drain(&self) -> Result<usize, StoreError> {
        let mut handled = 0;
        while let Step::Worked(n) = self.run_once().await? {
            handled += n;
        }
        Ok(handled)
    }

    fn context(&self) -> &JobContext {
        &self.leaser.context
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.renewal_stop.cancel();
    }
}
