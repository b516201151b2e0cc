//! Passwords: argon2id hashes in PHC form (the crate's defaults: 19 MiB, 2 passes, as
//! OWASP recommends), the rules a new password must meet, and one-time passwords for
//! first logins. Hashing takes tens of milliseconds on purpose, so it runs off the
//! async threads.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rand::Rng;

/// The shortest password accepted (NIST SP 800-63B asks for at least 8; a console
/// that reaches every lead deserves more).
pub const MIN_LENGTH: usize = 10;
/// The longest: argon2 would take more, but nobody types more.
pub const MAX_LENGTH: usize = 128;

/// Why a new password is refused, naming the field.
pub fn check_new(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(format!(
            "password: must be at least {MIN_LENGTH} characters (it has {length})"
        ));
    }
    if length > MAX_LENGTH {
        return Err(format!("password: must be at most {MAX_LENGTH} characters"));
    }
    Ok(())
}

/// A password could not be hashed (the system's random source failed).
#[derive(Debug, thiserror::Error)]
#[error("cannot hash a password: {0}")]
pub struct HashError(String);

/// Hashes a password (argon2id, random salt).
pub async fn hash(password: String) -> Result<String, HashError> {
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(|error| HashError(error.to_string()))?
}

/// [`hash`] on the calling thread.
pub fn hash_now(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| HashError(error.to_string()))
}

/// Whether `password` is the one `stored` was made from. With no stored hash (an
/// unknown email) it hashes anyway, so the answer takes as long either way.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match stored {
        Some(stored) => PasswordHash::new(&stored).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        }),
        None => {
            let _ = hash_now(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// A one-time password: 20 characters of letters and digits that cannot be misread
/// (no 0/O, 1/l/I), about 110 bits.
pub fn one_time() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify("correct horse battery".into(), Some(stored.clone())).await);
        assert!(!verify("correct horse battery!".into(), Some(stored)).await);
        assert!(!verify("anything".into(), None).await);
        assert!(!verify("anything".into(), Some("not a hash".into())).await);
    }

    #[test]
    fn short_and_long_passwords_are_refused_by_name() {
        assert!(check_new("short").unwrap_err().starts_with("password:"));
        assert!(check_new(&"x".repeat(129)).is_err());
        assert!(check_new("ten chars!").is_ok());
    }

    #[test]
    fn one_time_passwords_are_long_and_differ() {
        let (a, b) = (one_time(), one_time());
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert!(check_new(&a).is_ok());
    }
}
