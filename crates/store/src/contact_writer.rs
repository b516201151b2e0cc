//! Group commit for contact upserts. Every upsert is sent to a writer task; the task
//! takes whatever has queued up while its previous transaction ran (up to
//! `max_batch`) and commits it as one batch. An idle server commits a lone request at
//! once, so batching adds no latency; a busy one pays one commit (and one fsync) per
//! batch instead of per request. Each caller still gets its answer only after its own
//! write is committed.
//!
//! Upserts are sharded over the writers by cellphone, so two upserts of one contact are
//! always merged by the same writer, in the order they arrived.

use std::hash::BuildHasher;
use std::sync::Arc;

use leadline_core::Clock;
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;
use crate::backend::{Backend, BackendKind, StoreOptions};
use crate::contact_upsert::{ContactUpsert, UpsertOutcome, upsert_batch};

/// Requests waiting per writer before callers feel back-pressure.
const QUEUE_DEPTH: usize = 8_192;

struct Job {
    upsert: ContactUpsert,
    reply: oneshot::Sender<Result<UpsertOutcome, StoreError>>,
}

#[derive(Clone)]
pub struct ContactWriter {
    shards: Arc<[mpsc::Sender<Job>]>,
    hasher: std::hash::RandomState,
}

impl ContactWriter {
    /// Spawns the writer tasks: one on SQLite (it has one writer anyway), several on
    /// PostgreSQL so batches commit in parallel.
    pub(crate) fn start(backend: Backend, clock: Arc<dyn Clock>, options: &StoreOptions) -> Self {
        let writers = match backend.kind() {
            BackendKind::Sqlite => 1,
            BackendKind::Postgres => options.postgres_writers.max(1),
        };
        let shards = (0..writers)
            .map(|_| {
                let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
                tokio::spawn(run_writer(
                    backend.clone(),
                    clock.clone(),
                    receiver,
                    options.max_batch.max(1),
                ));
                sender
            })
            .collect();
        Self {
            shards,
            hasher: std::hash::RandomState::new(),
        }
    }

    pub(crate) async fn submit(&self, upsert: ContactUpsert) -> Result<UpsertOutcome, StoreError> {
        let shard = &self.shards
            [(self.hasher.hash_one(&upsert.cellphone) % self.shards.len() as u64) as usize];
        let (reply, answer) = oneshot::channel();
        shard
            .send(Job { upsert, reply })
            .await
            .map_err(|_| StoreError::ShuttingDown)?;
        answer.await.map_err(|_| StoreError::ShuttingDown)?
    }
}

async fn run_writer(
    backend: Backend,
    clock: Arc<dyn Clock>,
    mut receiver: mpsc::Receiver<Job>,
    max_batch: usize,
) {
    let mut jobs = Vec::with_capacity(max_batch);
    while receiver.recv_many(&mut jobs, max_batch).await > 0 {
        let batch: Vec<ContactUpsert> = jobs.iter().map(|job| job.upsert.clone()).collect();
        metrics::histogram!("leadline_contact_upsert_batch_size").record(batch.len() as f64);
        match upsert_batch(&backend, clock.as_ref(), &batch).await {
            Ok(outcomes) => {
                for (job, outcome) in jobs.drain(..).zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(error) if error.is_unavailable() => {
                // Retrying one by one would only wait on the missing database once per
                // upsert: every caller of the batch gets the outage at once.
                tracing::warn!(%error, size = jobs.len(), "contact batch failed: the database is unreachable");
                for job in jobs.drain(..) {
                    let _ = job
                        .reply
                        .send(Err(StoreError::Unreachable(error.to_string())));
                }
            }
            Err(error) if jobs.len() > 1 => {
                // One bad row must not fail its neighbours: retry each alone.
                tracing::warn!(%error, size = jobs.len(), "contact batch failed; retrying its upserts one by one");
                for job in jobs.drain(..) {
                    let single =
                        upsert_batch(&backend, clock.as_ref(), std::slice::from_ref(&job.upsert))
                            .await;
                    let _ = job
                        .reply
                        .send(single.map(|mut outcomes| outcomes.remove(0)));
                }
            }
            Err(error) => {
                tracing::error!(%error, "contact upsert failed");
                for job in jobs.drain(..) {
                    let _ = job
                        .reply
                        .send(Err(StoreError::WriteFailed(error.to_string())));
                }
            }
        }
    }
}
