//! leadline's server: the HTTP API, the workers, and the `leadline` command line.
#![forbid(unsafe_code)]

pub mod agent_worker;
pub mod auth;
pub mod backoff;
pub mod batch_sweep;
pub mod channel_providers;
pub mod cli;
pub mod console;
pub mod dispatcher;
pub mod error;
pub mod event_retention;
pub mod event_stream;
pub mod extract;
pub mod idempotency;
pub mod import;
pub mod lead_intake;
pub mod numbers;
pub mod pagination;
pub mod rate_limit;
pub mod routes;
pub mod scheduler;
pub mod secrets_cli;
pub mod serve;
pub mod state;
pub mod supervisor;
pub mod telemetry;
pub mod usecases;
pub mod worker_step;

#[cfg(feature = "testing")]
pub mod testing;
