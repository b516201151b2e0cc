//! The two databases and their pools. SQLite gets a pool of reader connections and a
//! single writer connection: SQLite allows one writer at a time, and funnelling every
//! write of this process through one connection turns lock contention (SQLITE_BUSY and
//! retries) into an orderly queue. Other processes on the same file (the CLI) wait on
//! `busy_timeout`. PostgreSQL gets one pool for both.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::StoreError;

/// Tuning knobs with defaults that suit one 2-core machine.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// PostgreSQL pool size; SQLite reader pool size.
    pub max_connections: u32,
    /// Concurrent contact-writer transactions on PostgreSQL (SQLite always uses one).
    /// Two measured best on a 2-core machine: one commits while the other fills its
    /// batch; more writers make smaller batches for the same CPU (docs/BENCHMARKS.md).
    pub postgres_writers: usize,
    /// Most upserts committed in one shared transaction.
    pub max_batch: usize,
    /// The longest a statement waits for a connection, opening one included. When the
    /// database is gone, a request fails (503) after this instead of hanging; it is well
    /// above any wait for a free connection a healthy, busy pool causes.
    pub acquire_timeout: Duration,
    /// The keys that seal secrets at rest (see [`crate::secret_keys`]). Without keys the
    /// store refuses to write or read any secret, and stores only empty ones.
    pub secret_keys: Option<crate::SecretKeys>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            postgres_writers: 2,
            max_batch: 512,
            acquire_timeout: Duration::from_secs(5),
            secret_keys: None,
        }
    }
}

/// How long a SQLite write waits for another process's write to finish.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub enum Backend {
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to a pool that may read. The body is compiled once
/// per backend, so one SQL text serves both without a dynamic driver.
macro_rules! on_read {
    ($backend:expr, $pool:ident => $body:expr) => {
        match $backend {
            $crate::backend::Backend::Sqlite { read: $pool, .. } => $body,
            $crate::backend::Backend::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$pool` bound to the pool that writes.
macro_rules! on_write {
    ($backend:expr, $pool:ident => $body:expr) => {
        match $backend {
            $crate::backend::Backend::Sqlite { write: $pool, .. } => $body,
            $crate::backend::Backend::Postgres($pool) => $body,
        }
    };
}

pub(crate) use on_read;
pub(crate) use on_write;

impl Backend {
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url)
                .map_err(|_| StoreError::UnsupportedUrl(url.to_owned()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a commit is on disk before a request is answered, so even a
                // power loss cannot drop an accepted write. Batching pays for the fsync.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                // A replaced value (a secret sealed again, a legacy clear one) is
                // zeroed inside its page, not left in free space for anyone who reads
                // the file; FAST costs no extra I/O.
                .pragma("secure_delete", "fast")
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            // The writer is one connection every write of this process queues for, so it
            // may wait as long as another process's writes would (`busy_timeout`).
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(options.acquire_timeout.max(SQLITE_BUSY_TIMEOUT))
                .connect_with(connect.clone())
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(options.max_connections.max(1))
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect)
                .await?;
            Ok(Backend::Sqlite { read, write })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let connect = PgConnectOptions::from_str(url)
                .map_err(|_| StoreError::UnsupportedUrl(url.to_owned()))?;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections.max(2))
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect)
                .await?;
            Ok(Backend::Postgres(pool))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    pub fn kind(&self) -> BackendKind {
        match self {
            Backend::Sqlite { .. } => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Applies the migrations of this backend. Safe to run from several processes at
    /// once: sqlx takes a lock around them.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Backend::Sqlite { write, .. } => {
                sqlx::migrate!("./migrations/sqlite").run(write).await?
            }
            Backend::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// On SQLite, copies the WAL into the database file and empties it, so the page
    /// images holding values just replaced leave the disk (best effort: a reader still
    /// on an old snapshot keeps the WAL until the next checkpoint). Nothing to do on
    /// PostgreSQL, whose old row versions `VACUUM` reclaims.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if let Backend::Sqlite { write, .. } = self {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(write)
                .await?;
        }
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        on_read!(self, pool => { sqlx::query("SELECT 1").execute(pool).await?; });
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Backend::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}
