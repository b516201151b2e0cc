//! Storage errors. A unique-constraint violation is its own variant, so handlers can
//! answer 409 naming the field instead of a 500.

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
}
