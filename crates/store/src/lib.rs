//! leadline's storage: one API over SQLite and PostgreSQL, chosen once from the database
//! URL's scheme. SQL lives here and nowhere else. One SQL text serves both databases
//! wherever it can (`$n` placeholders numbered in order of appearance, `ON CONFLICT …
//! RETURNING`); per-backend SQL is kept for migrations and for what truly differs
//! (row locks on PostgreSQL).
//!
//! Ids are stored as UUID text and timestamps as microseconds since the epoch, so both
//! databases keep the same values at the same precision.
#![forbid(unsafe_code)]

pub mod agent;
pub mod agent_settings;
pub mod api_keys;
mod backend;
pub mod bulk_reads;
pub mod campaign_batch;
pub mod campaigns;
pub mod channels;
pub mod console_sessions;
mod contact_upsert;
pub mod contact_writer;
pub mod contacts;
pub mod conversations;
pub mod custom_attributes;
pub mod dnc;
mod error;
pub mod events;
pub mod external_calls;
pub mod idempotency;
pub mod inbox;
pub mod key_file;
pub mod lane_circuits;
pub mod leads;
pub mod logins;
pub mod message_resolution;
pub mod messages;
pub mod number_usage;
pub mod opt_outs;
pub mod outbox;
pub mod phone_numbers;
mod rows;
pub mod secret_box;
pub mod secret_keys;
mod secret_store;
pub mod secrets_rotation;
pub mod sources;
pub mod teams;
pub mod templates;
pub mod users;
pub mod views;
pub mod webhook_endpoints;
pub mod workspaces;

use std::sync::Arc;

use leadline_core::Clock;

pub use backend::{Backend, BackendKind, StoreOptions};
pub use contact_writer::ContactWriter;
pub use error::StoreError;
pub use secret_box::{KeyRing, SecretError, SecretKey};
pub use secret_keys::{KeyConfig, SecretKeys};

/// A handle to the database, cheap to clone. It owns the pools and the contact writer
/// that batches concurrent upserts into shared transactions.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    clock: Arc<dyn Clock>,
    contact_writer: ContactWriter,
    /// The keys that seal channel secrets and LLM keys; `None` stores and reads no
    /// secret (a store opened by a tool that never touches them).
    secret_keys: Option<SecretKeys>,
}

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://…`), creating a missing SQLite
    /// file, and applies pending migrations.
    pub async fn open(
        url: &str,
        options: StoreOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let backend = Backend::connect(url, &options).await?;
        backend.migrate().await?;
        let contact_writer = ContactWriter::start(backend.clone(), clock.clone(), &options);
        Ok(Self {
            backend,
            clock,
            contact_writer,
            secret_keys: options.secret_keys,
        })
    }

    pub fn kind(&self) -> BackendKind {
        self.backend.kind()
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Checks that the database answers, for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.backend.ping().await
    }

    /// Closes the pools once in-flight work is done.
    pub async fn close(&self) {
        self.backend.close().await;
    }
}

#[cfg(feature = "testing")]
pub mod testing;
