//! What number selection loads: every number of a workspace with the day's usage and
//! the outcomes of the health window.
//!
//! [`Store::pool_numbers`] costs four set-based statements whatever the pool's size
//! (numbers with the day's usage, campaigns, sources, outcome sums), run concurrently
//! on the read pool. They are not one snapshot: a number added while they run may come
//! without its assignments or counters for this load, which the next load corrects.
//!
//! Each statement answers a single row holding a JSON array of its rows. SQLite's
//! driver hands every row from its worker thread to the caller through a channel, and
//! at ten thousand numbers that hand-over cost more than the queries themselves: the
//! numbers alone took 73 ms as rows and 33 ms as one JSON array, the outcome sums 116
//! ms and 45 ms (release build, loaded 2-core machine). PostgreSQL aggregates the same
//! way, so both stores share the decoding; only the aggregate functions differ.

use std::collections::HashMap;

use chrono::NaiveDate;
use leadline_core::numbers::NumberMetrics;
use leadline_core::{PhoneNumberId, WorkspaceId};
use serde_json::Value;

use super::assignments::{Assignment, attach, group};
use super::lookups::{Usage, outcome_sums};
use super::{PhoneNumber, day_text, phone_number_columns};
use crate::rows::{Arg, FromStoreRow, StoreRow, fetch_optional, id};
use crate::{BackendKind, Store, StoreError};

/// One number as selection needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolEntry {
    pub number: PhoneNumber,
    /// SMS reserved on the usage day.
    pub sms_used: u32,
    /// Calls reserved on the usage day.
    pub calls_used: u32,
    /// Outcomes summed since the start of the health window.
    pub metrics: NumberMetrics,
}

/// The pool's statements for one backend; each answers one row with a `value` column
/// holding the JSON array of its rows, each row an array in the order given.
struct PoolSql {
    /// `phone_number_columns!()`, then `sms`, `calls`; `$1` day, `$2` workspace.
    numbers: &'static str,
    /// `[phone_number_id, campaign_id]`; `$1` workspace.
    campaigns: &'static str,
    /// `[phone_number_id, source_id]`; `$1` workspace.
    sources: &'static str,
    /// `[phone_number_id, sent, delivered, failed, filtered, carrier_blocks, opt_outs,
    /// replies]`; `$1` workspace, `$2` first day.
    outcomes: &'static str,
}

macro_rules! pool_sql {
    ($open:literal, $close:literal) => {
        PoolSql {
            numbers: concat!(
                "SELECT ",
                $open,
                phone_number_columns!(),
                ", sms, calls",
                $close,
                " AS value FROM (SELECT p.*, COALESCE(u.sms, 0) AS sms, COALESCE(u.calls, 0) AS calls \
                 FROM phone_numbers p LEFT JOIN number_usage u ON u.phone_number_id = p.id AND u.day = $1 \
                 WHERE p.workspace_id = $2) AS n"
            ),
            campaigns: concat!(
                "SELECT ",
                $open,
                "a.phone_number_id, a.campaign_id",
                $close,
                " AS value FROM phone_numbers p JOIN phone_number_campaigns a \
                 ON a.phone_number_id = p.id WHERE p.workspace_id = $1"
            ),
            sources: concat!(
                "SELECT ",
                $open,
                "a.phone_number_id, a.source_id",
                $close,
                " AS value FROM phone_numbers p JOIN phone_number_sources a \
                 ON a.phone_number_id = p.id WHERE p.workspace_id = $1"
            ),
            // Grouped by the number's own id: SQLite walks the numbers in id order
            // through the workspace index and needs no temporary tree to group them.
            outcomes: concat!(
                "SELECT ",
                $open,
                "phone_number_id, sent, delivered, failed, filtered, carrier_blocks, opt_outs, replies",
                $close,
                " AS value FROM (SELECT p.id AS phone_number_id, ",
                outcome_sums!(),
                " FROM phone_numbers p JOIN number_outcomes o ON o.phone_number_id = p.id \
                 WHERE p.workspace_id = $1 AND o.day >= $2 GROUP BY p.id) AS s"
            ),
        }
    };
}

const SQLITE_POOL: PoolSql = pool_sql!("json_group_array(json_array(", "))");
/// `json_agg` of no rows is NULL, hence the `COALESCE`.
const POSTGRES_POOL: PoolSql = pool_sql!("COALESCE(json_agg(json_build_array(", ")), '[]')::text");

/// The `value` column of a pool statement.
struct JsonArray(Option<String>);

impl FromStoreRow for JsonArray {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        row.optional_text("value").map(JsonArray)
    }
}

impl JsonArray {
    /// The rows, each as a JSON array.
    fn rows<T: serde::de::DeserializeOwned>(self, what: &str) -> Result<Vec<T>, StoreError> {
        match self.0 {
            None => Ok(Vec::new()),
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("{what} as JSON: {e}"))),
        }
    }
}

/// One row of a JSON array read through [`StoreRow`], so numbers decode exactly as
/// they do from a database row. Booleans arrive as `true`/`false` from PostgreSQL and
/// as 0/1 from SQLite.
struct JsonRow<'a> {
    columns: &'a HashMap<&'static str, usize>,
    values: &'a [Value],
}

impl JsonRow<'_> {
    fn value(&self, column: &str) -> Result<&Value, StoreError> {
        self.columns
            .get(column)
            .and_then(|&index| self.values.get(index))
            .ok_or_else(|| StoreError::Corrupt(format!("pool row without {column}")))
    }

    fn wrong(column: &str, value: &Value) -> StoreError {
        StoreError::Corrupt(format!("pool row {column} = {value}"))
    }
}

impl StoreRow for JsonRow<'_> {
    fn text(&self, column: &str) -> Result<String, StoreError> {
        self.optional_text(column)?
            .ok_or_else(|| Self::wrong(column, &Value::Null))
    }

    fn optional_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::String(text) => Ok(Some(text.clone())),
            other => Err(Self::wrong(column, other)),
        }
    }

    fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.optional_int(column)?
            .ok_or_else(|| Self::wrong(column, &Value::Null))
    }

    fn optional_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            value @ Value::Number(number) => number
                .as_i64()
                .map(Some)
                .ok_or_else(|| Self::wrong(column, value)),
            other => Err(Self::wrong(column, other)),
        }
    }

    fn flag(&self, column: &str) -> Result<bool, StoreError> {
        match self.value(column)? {
            Value::Bool(flag) => Ok(*flag),
            Value::Number(number) => Ok(number.as_i64() != Some(0)),
            other => Err(Self::wrong(column, other)),
        }
    }
}

/// `[phone_number_id, sent, delivered, failed, filtered, carrier_blocks, opt_outs,
/// replies]`.
type OutcomeRow = (String, u64, u64, u64, u64, u64, u64, u64);

impl Store {
    /// Every number of the workspace in id order, with the usage of `usage_day` (0
    /// without a row) and the outcomes of the days from `outcomes_since` on.
    pub async fn pool_numbers(
        &self,
        workspace_id: WorkspaceId,
        usage_day: NaiveDate,
        outcomes_since: NaiveDate,
    ) -> Result<Vec<PoolEntry>, StoreError> {
        let sql = match self.kind() {
            BackendKind::Sqlite => &SQLITE_POOL,
            BackendKind::Postgres => &POSTGRES_POOL,
        };
        let workspace = workspace_id.to_string();
        let load = |statement: &'static str, args: Vec<Arg>| async move {
            Ok::<_, StoreError>(
                fetch_optional::<JsonArray>(&self.backend, statement, args)
                    .await?
                    .unwrap_or(JsonArray(None)),
            )
        };
        let (numbers, campaigns, sources, outcomes) = tokio::try_join!(
            load(
                sql.numbers,
                vec![day_text(usage_day).into(), workspace.clone().into()]
            ),
            load(sql.campaigns, vec![workspace.clone().into()]),
            load(sql.sources, vec![workspace.clone().into()]),
            load(
                sql.outcomes,
                vec![workspace.into(), day_text(outcomes_since).into()]
            ),
        )?;
        let columns: HashMap<&'static str, usize> = phone_number_columns!()
            .split(',')
            .map(str::trim)
            .chain(["sms", "calls"])
            .enumerate()
            .map(|(index, name)| (name, index))
            .collect();
        let mut numbers_with_usage = Vec::new();
        for values in numbers.rows::<Vec<Value>>("phone_numbers")? {
            let row = JsonRow {
                columns: &columns,
                values: &values,
            };
            numbers_with_usage.push((PhoneNumber::from_row(&row)?, Usage::from_row(&row)?));
        }
        // json_group_array keeps no promised order; ids are creation order.
        numbers_with_usage.sort_unstable_by_key(|(number, _)| number.id);
        let (mut numbers, usage): (Vec<PhoneNumber>, Vec<Usage>) =
            numbers_with_usage.into_iter().unzip();
        attach(
            &mut numbers,
            group(campaigns.rows::<Assignment>("phone_number_campaigns")?)?,
            group(sources.rows::<Assignment>("phone_number_sources")?)?,
        );
        let mut metrics: HashMap<PhoneNumberId, NumberMetrics> = HashMap::new();
        for (number, sent, delivered, failed, filtered, carrier_blocks, opt_outs, replies) in
            outcomes.rows::<OutcomeRow>("number_outcomes")?
        {
            let sums = NumberMetrics {
                sent,
                delivered,
                failed,
                filtered,
                carrier_blocks,
                opt_outs,
                replies,
            };
            metrics.insert(id("number_outcomes.phone_number_id", &number)?, sums);
        }
        Ok(numbers
            .into_iter()
            .zip(usage)
            .map(|(number, usage)| PoolEntry {
                sms_used: usage.sms,
                calls_used: usage.calls,
                metrics: metrics.remove(&number.id).unwrap_or_default(),
                number,
            })
            .collect())
    }
}
