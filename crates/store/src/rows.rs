//! Conversions between stored columns and domain values.

use chrono::{DateTime, Utc};

use crate::StoreError;

/// Microseconds since the epoch: the one timestamp form both stores keep.
pub fn to_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub fn from_micros(micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {micros}")))
}

/// Parses a stored id column.
pub fn id<T: std::str::FromStr>(column: &str, value: &str) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("{column} '{value}' is not a UUID")))
}

/// `$first, $first+1, …` for `count` values: numbered in order so the same text binds
/// positionally on SQLite and PostgreSQL.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Typed column reads shared by both databases' rows, with errors that name the column.
/// Readers of the messaging tables take `&impl StoreRow` instead of repeating sqlx's
/// decoding bounds.
pub trait StoreRow {
    fn text(&self, column: &str) -> Result<String, StoreError>;
    fn optional_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, column: &str) -> Result<i64, StoreError>;
    fn optional_int(&self, column: &str) -> Result<Option<i64>, StoreError>;

    /// A stored UUID.
    fn id<T: std::str::FromStr>(&self, column: &str) -> Result<T, StoreError> {
        id(column, &self.text(column)?)
    }

    fn optional_id<T: std::str::FromStr>(&self, column: &str) -> Result<Option<T>, StoreError> {
        self.optional_text(column)?
            .map(|value| id(column, &value))
            .transpose()
    }

    fn time(&self, column: &str) -> Result<DateTime<Utc>, StoreError> {
        from_micros(self.int(column)?)
    }

    fn optional_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.optional_int(column)?.map(from_micros).transpose()
    }

    /// A stored wire name, read back with `parse`.
    fn parsed<T>(&self, column: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
        let value = self.text(column)?;
        parse(&value).ok_or_else(|| StoreError::Corrupt(format!("{column} '{value}'")))
    }

    fn optional_parsed<T>(
        &self,
        column: &str,
        parse: fn(&str) -> Option<T>,
    ) -> Result<Option<T>, StoreError> {
        self.optional_text(column)?
            .map(|value| {
                parse(&value).ok_or_else(|| StoreError::Corrupt(format!("{column} '{value}'")))
            })
            .transpose()
    }

    /// A JSON document stored as text.
    fn json<T: serde::de::DeserializeOwned>(&self, column: &str) -> Result<T, StoreError> {
        let value = self.text(column)?;
        serde_json::from_str(&value).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
    }
}

macro_rules! store_row {
    ($row:ty) => {
        impl StoreRow for $row {
            fn text(&self, column: &str) -> Result<String, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn optional_text(&self, column: &str) -> Result<Option<String>, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn int(&self, column: &str) -> Result<i64, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn optional_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
        }
    };
}
store_row!(sqlx::sqlite::SqliteRow);
store_row!(sqlx::postgres::PgRow);
