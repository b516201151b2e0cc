//! Key files: one key (base64 or hex of 32 bytes) per line, newest (the primary)
//! first, blank lines and `#` comments skipped. Read only when owner-only (no group or
//! other permission bit, on unix); created and replaced atomically, never half-written,
//! with mode 0600 from the start.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::secret_box::{KeyRing, MAKE_A_KEY, SecretError, SecretKey};
use crate::secret_keys::KEY_FILE_NAME;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error(transparent)]
    BadKey(#[from] SecretError),
    #[error("{path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error(
        "{path} has permissions {mode:04o}; a key file must be readable by its owner only: chmod 600 {path}"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("{path} holds no key; {MAKE_A_KEY} and write it as the file's first line")]
    Empty { path: PathBuf },
    #[error(
        "no secret key for PostgreSQL: nodes sharing a database must share its key, so none is made up. \
         Set LEADLINE_SECRET_KEY on every node, or write one into {path} (--secret-key-file): \
         openssl rand -base64 32 > {path} && chmod 600 {path}"
    )]
    MissingForPostgres { path: PathBuf },
}

pub(crate) fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn io(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> KeyFileError {
    let path = path.to_owned();
    move |source| KeyFileError::Io {
        path,
        action,
        source,
    }
}

/// Reads a key file: owner-only permissions, one key per line (blank lines and lines
/// starting with `#` are skipped), the first is the primary.
pub fn read_key_file(path: &Path) -> Result<KeyRing, KeyFileError> {
    check_permissions(path)?;
    let text = std::fs::read_to_string(path).map_err(io(path, "cannot read the key file"))?;
    let mut keys = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = format!("{} line {}", path.display(), number + 1);
        keys.push(SecretKey::parse(line, &name)?);
    }
    let mut keys = keys.into_iter();
    let primary = keys.next().ok_or_else(|| KeyFileError::Empty {
        path: path.to_owned(),
    })?;
    Ok(KeyRing::new(primary, keys.collect()))
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(io(path, "cannot read the key file"))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), KeyFileError> {
    Ok(())
}

/// Creates a key file holding a fresh key, unless one appeared meanwhile (then that
/// one is kept): the key is written and synced to a private temporary file, which is
/// then hard-linked to `path`. The link fails if `path` exists, so two processes
/// starting together agree on one key, and nobody ever reads a half-written file.
pub fn create_key_file(path: &Path) -> Result<(), KeyFileError> {
    let key = SecretKey::generate();
    let temporary = write_temporary(path, &format!("{}\n", key.to_base64()))?;
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => {
            sync_directory(path);
            tracing::warn!(file = %path.display(), key_id = key.id(), "created a secret key file: back it up, without it the stored secrets cannot be read");
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(io(path, "cannot create the key file")(error)),
    }
}

/// Replaces the key file with `ring`'s keys, primary first, atomically (a temporary
/// file renamed over it).
pub fn write_key_file(path: &Path, ring: &KeyRing) -> Result<(), KeyFileError> {
    let mut text =
        String::from("# leadline secret keys, newest (the primary) first. Back this file up.\n");
    text.push_str(&format!("{}\n", ring.primary().to_base64()));
    for key in ring.previous() {
        text.push_str(&format!("{}\n", key.to_base64()));
    }
    let temporary = write_temporary(path, &text)?;
    std::fs::rename(&temporary, path).map_err(io(path, "cannot replace the key file"))?;
    sync_directory(path);
    Ok(())
}

fn write_temporary(path: &Path, text: &str) -> Result<PathBuf, KeyFileError> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| KEY_FILE_NAME.to_owned());
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&temporary)
        .map_err(io(&temporary, "cannot create a key file"))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io(&temporary, "cannot write a key file"))?;
    Ok(temporary)
}

fn sync_directory(path: &Path) {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty())
        && let Ok(dir) = std::fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn an_open_or_malformed_key_file_refuses_the_start() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, format!("{}\n", SecretKey::generate().to_base64())).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = read_key_file(&path).unwrap_err().to_string();
        assert!(
            error.contains("0644") && error.contains("chmod 600"),
            "{error}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, "not a key\n").unwrap();
        let error = read_key_file(&path).unwrap_err().to_string();
        assert!(
            error.contains("line 1") && error.contains("openssl rand"),
            "{error}"
        );
        std::fs::write(&path, "# only a comment\n").unwrap();
        assert!(matches!(
            read_key_file(&path),
            Err(KeyFileError::Empty { .. })
        ));
    }
}
