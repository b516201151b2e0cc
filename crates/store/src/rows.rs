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
    /// A boolean column: INTEGER 0/1 on SQLite, BOOLEAN on PostgreSQL; sqlx reads both.
    fn flag(&self, column: &str) -> Result<bool, StoreError>;

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
            fn flag(&self, column: &str) -> Result<bool, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
        }
    };
}
store_row!(sqlx::sqlite::SqliteRow);
store_row!(sqlx::postgres::PgRow);

/// A value bound to a statement by [`fetch_all`] and [`fetch_optional`].
pub enum Arg {
    Text(String),
    Int(i64),
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Text(value)
    }
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Text(value.to_owned())
    }
}

impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Arg::Int(value)
    }
}

/// A record read from a row of either database.
pub trait FromStoreRow: Sized {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError>;
}

macro_rules! bind_args {
    ($sql:expr, $args:expr) => {{
        let mut query = sqlx::query($sql);
        for arg in $args {
            query = match arg {
                $crate::rows::Arg::Text(value) => query.bind(value),
                $crate::rows::Arg::Int(value) => query.bind(value),
            };
        }
        query
    }};
}
pub(crate) use bind_args;

/// Every row `sql` selects with `args`, read on the read pool.
pub async fn fetch_all<T: FromStoreRow>(
    backend: &crate::Backend,
    sql: &'static str,
    args: Vec<Arg>,
) -> Result<Vec<T>, StoreError> {
    crate::backend::on_read!(backend, pool => {
        bind_args!(sql, args).fetch_all(pool).await?.iter().map(T::from_row).collect()
    })
}

/// Every row a writing statement (`UPDATE … RETURNING`) returns, on the write pool.
pub async fn fetch_all_on_writer<T: FromStoreRow>(
    backend: &crate::Backend,
    sql: &'static str,
    args: Vec<Arg>,
) -> Result<Vec<T>, StoreError> {
    crate::backend::on_write!(backend, pool => {
        bind_args!(sql, args).fetch_all(pool).await?.iter().map(T::from_row).collect()
    })
}

/// The row `sql` selects with `args`, if any, read on the read pool.
pub async fn fetch_optional<T: FromStoreRow>(
    backend: &crate::Backend,
    sql: &'static str,
    args: Vec<Arg>,
) -> Result<Option<T>, StoreError> {
    crate::backend::on_read!(backend, pool => {
        bind_args!(sql, args).fetch_optional(pool).await?.as_ref().map(T::from_row).transpose()
    })
}

/// The arguments of a page query `… WHERE workspace_id = $1 AND id > $2 … LIMIT $3`.
pub fn page_args(
    workspace_id: impl ToString,
    after: Option<impl ToString>,
    limit: u32,
) -> Vec<Arg> {
    vec![
        Arg::Text(workspace_id.to_string()),
        Arg::Text(after.map(|a| a.to_string()).unwrap_or_default()),
        Arg::Int(i64::from(limit)),
    ]
}

/// One optional text column named `value`.
pub(crate) struct OptionalText(pub(crate) Option<String>);

impl FromStoreRow for OptionalText {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        row.optional_text("value").map(OptionalText)
    }
}
