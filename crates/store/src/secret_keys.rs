//! Where the secret keys come from, and the handle the store seals with.
//!
//! In order: `LEADLINE_SECRET_KEY` (base64 or hex of 32 bytes) with
//! `LEADLINE_PREVIOUS_SECRET_KEYS` (comma-separated, newest first); else a key file
//! holding one key per line, newest (the primary) first. The key file defaults to
//! `leadline.key` beside a SQLite database, created on first start (mode 0600, written
//! to a temporary file and linked into place, so a half-written key is never seen and
//! two processes starting together end up with the same key). With PostgreSQL it
//! defaults to `./leadline.key` and is never created: several nodes must share one key,
//! and a key one node made up would leave the others unable to read what it sealed.
//!
//! A key file that others may read (any group or other permission bit) or that holds a
//! line that is not a key refuses the start ([`crate::key_file`]). Keys from a file are re-read when the
//! store meets a value sealed under a key it does not have (at most once a second), so
//! `leadline secrets rotate` can put a new key into the file while servers run.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use crate::key_file::modified;
pub use crate::key_file::{KeyFileError, create_key_file, read_key_file, write_key_file};
use crate::secret_box::{KeyRing, SecretError, SecretKey};

/// The file name of a key file beside a SQLite database.
pub const KEY_FILE_NAME: &str = "leadline.key";
/// The least time between two re-reads of a key file.
const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// What the operator configured.
#[derive(Clone, Default)]
pub struct KeyConfig {
    /// `LEADLINE_SECRET_KEY`.
    pub key: Option<String>,
    /// `LEADLINE_PREVIOUS_SECRET_KEYS`: comma or whitespace separated, newest first.
    pub previous: Option<String>,
    /// `--secret-key-file`; the default depends on the database.
    pub file: Option<PathBuf>,
}

impl std::fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyConfig")
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("previous", &self.previous.as_ref().map(|_| "<redacted>"))
            .field("file", &self.file)
            .finish()
    }
}

/// Where the keys of a store opened at `database_url` are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLocation {
    /// The environment (or an explicit key): fixed for the process's life.
    Given,
    /// A key file, created when missing if `create` is set.
    File { path: PathBuf, create: bool },
}

impl KeyConfig {
    /// Where the keys come from for a database at `database_url`.
    pub fn location(&self, database_url: &str) -> KeyLocation {
        if self.key.is_some() {
            return KeyLocation::Given;
        }
        let sqlite = sqlite_path(database_url);
        let is_sqlite = database_url.starts_with("sqlite:");
        let path = self.file.clone().unwrap_or_else(|| match &sqlite {
            Some(db) => db
                .parent()
                .map(|dir| dir.join(KEY_FILE_NAME))
                .unwrap_or_else(|| PathBuf::from(KEY_FILE_NAME)),
            None => PathBuf::from(KEY_FILE_NAME),
        });
        KeyLocation::File {
            path,
            create: is_sqlite,
        }
    }

    /// Loads the keys for a database at `database_url`, creating a SQLite key file.
    pub fn load(&self, database_url: &str) -> Result<SecretKeys, KeyFileError> {
        match self.location(database_url) {
            KeyLocation::Given => {
                let primary = SecretKey::parse(
                    self.key.as_deref().unwrap_or_default(),
                    "LEADLINE_SECRET_KEY",
                )?;
                let previous = parse_previous(self.previous.as_deref().unwrap_or_default())?;
                Ok(SecretKeys::fixed(KeyRing::new(primary, previous)))
            }
            KeyLocation::File { path, create } => {
                if !path.exists() {
                    if !create {
                        return Err(KeyFileError::MissingForPostgres { path });
                    }
                    create_key_file(&path)?;
                }
                SecretKeys::from_file(path)
            }
        }
    }
}

/// The database file of a `sqlite:` URL; `None` for an in-memory database.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn parse_previous(text: &str) -> Result<Vec<SecretKey>, SecretError> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .enumerate()
        .map(|(i, part)| {
            SecretKey::parse(
                part,
                &format!("LEADLINE_PREVIOUS_SECRET_KEYS (key {})", i + 1),
            )
        })
        .collect()
}

/// The keys a store seals and opens with; cheap to clone, shared by the store's clones.
#[derive(Clone)]
pub struct SecretKeys {
    inner: Arc<Inner>,
}

struct Inner {
    ring: RwLock<Arc<KeyRing>>,
    file: Option<PathBuf>,
    last_reload: Mutex<Option<Instant>>,
    /// When the file was last looked at, and its modification time then.
    last_check: Mutex<(Option<Instant>, Option<SystemTime>)>,
}

impl std::fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKeys")
            .field("key_ids", &self.ring().key_ids())
            .field("file", &self.inner.file)
            .finish()
    }
}

impl SecretKeys {
    /// Keys fixed for the process's life.
    pub fn fixed(ring: KeyRing) -> Self {
        Self::with(ring, None)
    }

    /// Keys read from `path` (one per line, newest first), re-read on demand.
    pub fn from_file(path: PathBuf) -> Result<Self, KeyFileError> {
        let modified = modified(&path);
        let ring = read_key_file(&path)?;
        let keys = Self::with(ring, Some(path));
        *keys.lock_check() = (Some(Instant::now()), modified);
        Ok(keys)
    }

    fn with(ring: KeyRing, file: Option<PathBuf>) -> Self {
        Self {
            inner: Arc::new(Inner {
                ring: RwLock::new(Arc::new(ring)),
                file,
                last_reload: Mutex::new(None),
                last_check: Mutex::new((None, None)),
            }),
        }
    }

    fn lock_check(&self) -> std::sync::MutexGuard<'_, (Option<Instant>, Option<SystemTime>)> {
        self.inner
            .last_check
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The keys to seal with: the key file is read again when it changed (looked at
    /// most once a second), so a server seals under the key `secrets rotate` made
    /// primary, not under the one it started with.
    pub fn ring_for_sealing(&self) -> Arc<KeyRing> {
        if let Some(path) = &self.inner.file {
            let changed = {
                let mut check = self.lock_check();
                if check.0.is_some_and(|at| at.elapsed() < RELOAD_INTERVAL) {
                    false
                } else {
                    let now = modified(path);
                    let changed = now != check.1;
                    *check = (Some(Instant::now()), now);
                    changed
                }
            };
            if changed {
                match read_key_file(path) {
                    Ok(ring) => self.replace(ring),
                    Err(error) => {
                        tracing::error!(%error, "the secret key file changed but cannot be read; keeping the keys in memory")
                    }
                }
            }
        }
        self.ring()
    }

    fn replace(&self, ring: KeyRing) {
        tracing::info!(keys = ?ring.key_ids(), "secret keys read again from the key file");
        *self
            .inner
            .ring
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(ring);
    }

    /// The keys as they are now.
    pub fn ring(&self) -> Arc<KeyRing> {
        self.inner
            .ring
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The key file these keys come from, if any.
    pub fn file(&self) -> Option<&Path> {
        self.inner.file.as_deref()
    }

    /// Re-reads the key file after a value sealed under an unknown key was met;
    /// `true` when the ring now has `kid`. At most once per [`RELOAD_INTERVAL`], so a
    /// value sealed under a key that is truly gone costs no file read per request.
    pub fn reload_for(&self, kid: &str) -> bool {
        let Some(path) = &self.inner.file else {
            return false;
        };
        {
            let mut last = self
                .inner
                .last_reload
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.is_some_and(|at| at.elapsed() < RELOAD_INTERVAL) {
                return self.ring().has_key(kid);
            }
            *last = Some(Instant::now());
        }
        match read_key_file(path) {
            Ok(ring) => {
                let found = ring.has_key(kid);
                self.replace(ring);
                found
            }
            Err(error) => {
                tracing::error!(%error, "the secret key file cannot be read again; keeping the keys in memory");
                false
            }
        }
    }

    /// Makes `key` the primary, keeping every current key as a previous one; writes
    /// the key file when the keys come from one.
    pub fn promote(&self, key: SecretKey) -> Result<(), KeyFileError> {
        let current = self.ring();
        let mut previous = vec![current.primary().clone()];
        previous.extend(current.previous().iter().cloned());
        let ring = KeyRing::new(key, previous);
        self.install(ring)
    }

    /// Keeps only the primary key, in memory and in the key file: once nothing is
    /// sealed under a previous key any more.
    pub fn drop_previous(&self) -> Result<(), KeyFileError> {
        let primary = self.ring().primary().clone();
        self.install(KeyRing::new(primary, Vec::new()))
    }

    fn install(&self, ring: KeyRing) -> Result<(), KeyFileError> {
        if let Some(path) = &self.inner.file {
            write_key_file(path, &ring)?;
            *self.lock_check() = (Some(Instant::now()), modified(path));
        }
        self.replace(ring);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_key_file_is_created_beside_the_database_once() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("leadline.db").display());
        let config = KeyConfig::default();
        let first = config.load(&url).unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        assert_eq!(first.file(), Some(path.as_path()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let again = config.load(&url).unwrap();
        assert_eq!(again.ring().key_ids(), first.ring().key_ids());
    }

    #[test]
    fn postgres_never_makes_up_a_key_and_the_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let config = KeyConfig {
            file: Some(dir.path().join("absent.key")),
            ..KeyConfig::default()
        };
        let error = config.load("postgres://u@h/db").unwrap_err().to_string();
        assert!(error.contains("LEADLINE_SECRET_KEY"), "{error}");
        assert!(!dir.path().join("absent.key").exists());

        let (primary, old) = (SecretKey::generate(), SecretKey::generate());
        let config = KeyConfig {
            key: Some(primary.to_base64()),
            previous: Some(format!("{}, ", old.to_base64())),
            file: None,
        };
        let keys = config.load("postgres://u@h/db").unwrap();
        assert_eq!(keys.ring().key_ids(), [primary.id(), old.id()]);
        assert!(format!("{config:?}").contains("<redacted>"));
    }

    #[test]
    fn promoting_a_key_rewrites_the_file_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        create_key_file(&path).unwrap();
        let keys = SecretKeys::from_file(path.clone()).unwrap();
        let old = keys.ring().primary().id().to_owned();
        let new = SecretKey::generate();
        keys.promote(new.clone()).unwrap();
        let read = read_key_file(&path).unwrap();
        assert_eq!(read.key_ids(), [new.id(), old.as_str()]);
    }
}
