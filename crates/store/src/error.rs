//! Storage errors. A unique-constraint violation is its own variant, so handlers can
//! answer 409 naming the field instead of a 500; a database that cannot be reached is
//! recognised by [`StoreError::is_unavailable`], so callers answer 503 or back off
//! instead of treating an outage as a bug.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database, or cannot be parsed.
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// A row with the same unique key exists; `constraint` says which key.
    #[error("already exists ({constraint})")]
    Duplicate { constraint: String },
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back (a bug or a hand-edited database).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The contact writer stopped (the process is shutting down).
    #[error("the store is shutting down")]
    ShuttingDown,
    /// A batched write failed; the cause was logged where it happened.
    #[error("write failed: {0}")]
    WriteFailed(String),
    /// A write shared by several callers (a group commit) failed because the database
    /// could not be reached; each caller gets this copy of the cause.
    #[error("the database is unreachable: {0}")]
    Unreachable(String),
    /// A secret could not be sealed or opened: no key, an unknown key, or a value
    /// altered or moved from another row. The message names the row, never a secret.
    #[error(transparent)]
    Secret(#[from] crate::secret_box::SecretError),
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error
            && db.is_unique_violation()
        {
            return StoreError::Duplicate {
                constraint: db
                    .constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| db.message().to_owned()),
            };
        }
        StoreError::Database(error)
    }
}

impl StoreError {
    /// Whether this is a duplicate on a key whose name or message mentions `column`.
    pub fn is_duplicate_of(&self, column: &str) -> bool {
        matches!(self, StoreError::Duplicate { constraint } if constraint.contains(column))
    }

    /// Whether the database could not be reached, as opposed to refusing or failing
    /// this statement: the connection broke or could not be opened, the pool gave up
    /// waiting for one, or PostgreSQL said it is shutting down or not accepting
    /// connections. Such a failure says nothing about the request, so it is answered
    /// with 503 and retried later, never reported as a bug.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unreachable(_) => true,
            StoreError::Database(error) => is_connection_failure(error),
            _ => false,
        }
    }
}

fn is_connection_failure(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some_and(|pg| is_connection_sqlstate(pg.code())),
        _ => false,
    }
}

/// PostgreSQL SQLSTATEs that mean "no usable connection": class 08 (connection
/// exception) and 57P01–57P05 (administrator or crash shutdown, cannot connect now,
/// database dropped, idle session timeout).
fn is_connection_sqlstate(code: &str) -> bool {
    code.starts_with("08") || (code.len() == 5 && code.starts_with("57P0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_unavailable() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        for error in [
            sqlx::Error::Io(io),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Protocol("unexpected end of stream".into()),
            sqlx::Error::WorkerCrashed,
        ] {
            assert!(StoreError::from(error).is_unavailable());
        }
        assert!(StoreError::Unreachable("gone".into()).is_unavailable());
    }

    #[test]
    fn other_failures_are_not_unavailable() {
        assert!(!StoreError::from(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!StoreError::Corrupt("bad".into()).is_unavailable());
        assert!(!StoreError::WriteFailed("bad".into()).is_unavailable());
        assert!(!StoreError::ShuttingDown.is_unavailable());
    }

    #[test]
    fn connection_sqlstates() {
        for code in [
            "08000", "08003", "08006", "08001", "08004", "57P01", "57P02", "57P03",
        ] {
            assert!(is_connection_sqlstate(code), "{code}");
        }
        for code in ["23505", "40001", "57014", "42P01", "53300"] {
            assert!(!is_connection_sqlstate(code), "{code}");
        }
    }
}
