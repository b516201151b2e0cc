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
