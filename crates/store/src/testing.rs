//! Fresh databases for tests, on both backends. Every test gets its own: a SQLite file
//! in a temporary directory, or a new PostgreSQL database that is dropped afterwards.
//!
//! Each database comes with its own secret key, written to `key_file` (for SQLite,
//! `leadline.key` beside the database, where `leadline serve` looks by default): a test
//! opens its store with [`TestDatabase::store_options`], and a `leadline` process it
//! starts finds the same key through `LEADLINE_SECRET_KEY_FILE={key_file}`.
//!
//! PostgreSQL is found at `LEADLINE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it cannot be reached, PostgreSQL
//! tests are skipped with a message, unless `LEADLINE_REQUIRE_POSTGRES=1` (as CI sets),
//! in which case they fail.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::secret_keys::{KEY_FILE_NAME, write_key_file};
use crate::{BackendKind, KeyRing, SecretKey, SecretKeys, StoreOptions};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database that exists for one test.
pub struct TestDatabase {
    pub kind: BackendKind,
    pub url: String,
    /// The key file holding this database's secret key.
    pub key_file: std::path::PathBuf,
    secret_key: SecretKey,
    _dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// Store options with this database's secret key.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            secret_keys: Some(self.secret_keys()),
            ..StoreOptions::default()
        }
    }

    /// This database's secret key as the store holds it.
    pub fn secret_keys(&self) -> SecretKeys {
        SecretKeys::fixed(KeyRing::new(self.secret_key.clone(), Vec::new()))
    }

    pub fn secret_key(&self) -> &SecretKey {
        &self.secret_key
    }

    fn with_key(
        kind: BackendKind,
        url: String,
        dir: tempfile::TempDir,
        postgres: Option<(String, String)>,
    ) -> Self {
        let secret_key = SecretKey::generate();
        let key_file = dir.path().join(KEY_FILE_NAME);
        write_key_file(&key_file, &KeyRing::new(secret_key.clone(), Vec::new()))
            .expect("the test key file is written");
        Self {
            kind,
            url,
            key_file,
            secret_key,
            _dir: dir,
            postgres,
        }
    }
}

impl TestDatabase {
    /// A fresh database of `kind`, or `None` when PostgreSQL is not available and not
    /// required.
    pub async fn create(kind: BackendKind) -> Option<Self> {
        match kind {
            BackendKind::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("leadline.db").display());
                Some(Self::with_key(kind, url, dir, None))
            }
            BackendKind::Postgres => {
                let admin_url = std::env::var("LEADLINE_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
                let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
                    Ok(connection) => connection,
                    Err(error)
                        if std::env::var("LEADLINE_REQUIRE_POSTGRES").as_deref() == Ok("1") =>
                    {
                        panic!(
                            "PostgreSQL is required (LEADLINE_REQUIRE_POSTGRES=1) but {admin_url} fails: {error}"
                        )
                    }
                    Err(error) => {
                        eprintln!(
                            "skipping the PostgreSQL run: cannot connect to {admin_url} ({error}); set LEADLINE_TEST_POSTGRES_URL"
                        );
                        return None;
                    }
                };
                let name = format!("leadline_test_{}", uuid::Uuid::new_v4().simple());
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .expect("CREATE DATABASE");
                let _ = admin.close().await;
                let options = PgConnectOptions::from_str(&admin_url)
                    .expect("a valid PostgreSQL URL")
                    .database(&name);
                let url = options.to_url_lossy().to_string();
                let dir = tempfile::tempdir().expect("a temporary directory");
                Some(Self::with_key(kind, url, dir, Some((admin_url, name))))
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async code; a thread with its own runtime drops the database.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .ok()
            })
        })
        .join();
    }
}

/// Events in transactions of this many at most when seeded.
const SEED_EVENTS_PER_TRANSACTION: usize = 5_000;

impl crate::Store {
    /// Writes `events` and queues their deliveries, through the same `record_events!`
    /// every write path calls inside its transaction, in transactions of up to 5,000
    /// events: a source of many events for delivery tests and benchmarks.
    pub async fn seed_events(
        &self,
        events: &[leadline_core::event::NewEvent],
    ) -> Result<(), crate::StoreError> {
        let now = self.clock.now();
        for chunk in events.chunks(SEED_EVENTS_PER_TRANSACTION) {
            crate::backend::on_write!(&self.backend, pool => {
                let mut tx = pool.begin().await?;
                crate::events::record_events!(tx, chunk, now);
                tx.commit().await?;
            });
        }
        Ok(())
    }
}
