//! Leasing, renewing and looking after the lanes of the outbox.
//!
//! One statement leases a round: it reads a window of the earliest due jobs (skipping
//! lanes the caller cannot serve now), keeps at most each lane's free capacity, and leases the rest in turns — across
//! workspaces, and within a workspace across its lanes — so one workspace's or one
//! channel's backlog never fills a round while another's first message waits. Only
//! the chosen rows are locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL, re-checked
//! against their newest version), so a wide window costs reads, not row locks, and
//! nodes leasing at once skip each other's rows.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use leadline_core::{E164, JobId, MessageId, WorkspaceId};

use super::{JobLease, LeaseToken, LeasedJob, Task, json};
use crate::backend::{Backend, on_read, on_write};
use crate::messages::{Message, message_columns};
use crate::rows::{FromStoreRow, StoreRow, from_micros, to_micros};
use crate::{Store, StoreError};

/// How many jobs each lane may start now. Lanes not named get `default`; a lane at 0 is
/// skipped entirely.
#[derive(Debug, Clone, Default)]
pub struct LaneCaps {
    pub default: u32,
    pub lanes: HashMap<String, u32>,
}

/// One leasing round.
#[derive(Debug, Clone)]
pub struct LeaseRequest<'a> {
    pub owner: &'a str,
    pub limit: u32,
    pub lease_for: Duration,
    /// A lease that ended without an outcome is taken over only this long after it
    /// ended, so a holder that was cut off from the database can still record.
    pub takeover_grace: Duration,
    pub caps: &'a LaneCaps,
}

struct LeaseSql {
    lease: &'static str,
    leased_messages: &'static str,
    renew: &'static str,
}

macro_rules! lease_statement {
    ($blocked:literal, $cap:literal, $lock:literal) => {
        concat!(
            "WITH candidates AS (\
                SELECT id, lane, workspace_id, run_at FROM jobs \
                WHERE run_at <= $1 AND lease_until <= $2 AND attempts < max_attempts AND ",
            $blocked,
            " ORDER BY run_at LIMIT $4\
            ), ranked AS (\
                SELECT c.id, c.run_at, c.workspace_id, \
                    ROW_NUMBER() OVER (PARTITION BY c.lane ORDER BY c.run_at, c.id) AS in_lane, \
                    COALESCE(",
            $cap,
            ", $6) AS cap \
                FROM candidates AS c\
            ), turns AS (\
                SELECT id, run_at, \
                    ROW_NUMBER() OVER (PARTITION BY workspace_id ORDER BY in_lane, run_at, id) AS turn \
                FROM ranked WHERE in_lane <= cap\
            ), chosen AS (\
                SELECT id FROM turns ORDER BY turn, run_at LIMIT $7\
            ), locked AS (\
                SELECT id FROM jobs WHERE id IN (SELECT id FROM chosen) AND run_at <= $1 AND lease_until <= $2",
            $lock,
            ") \
            UPDATE jobs SET lease_owner = $8, lease_token = $9, lease_until = $10, attempts = attempts + 1, \
                lease_lapsed = CASE WHEN lease_token IS NULL THEN 0 ELSE 1 END \
            WHERE id IN (SELECT id FROM locked) \
            RETURNING id, workspace_id, lane, task, attempts, max_attempts, lease_lapsed"
        )
    };
}

const SQLITE: LeaseSql = LeaseSql {
    lease: lease_statement!(
        "lane NOT IN (SELECT value FROM json_each($3))",
        "CAST($5 ->> c.lane AS INTEGER)",
        ""
    ),
    leased_messages: concat!(
        "SELECT ",
        message_columns!(),
        ", (SELECT cellphone FROM contacts WHERE contacts.id = messages.contact_id) AS contact_cellphone \
         FROM messages WHERE id IN (SELECT value FROM json_each($1))"
    ),
    renew: "UPDATE jobs SET lease_until = $1 \
        WHERE (id, lease_token) IN (SELECT value ->> 0, value ->> 1 FROM json_each($2)) RETURNING id",
};

const POSTGRES: LeaseSql = LeaseSql {
    lease: lease_statement!(
        "lane <> ALL(ARRAY(SELECT json_array_elements_text($3::json)))",
        "($5::jsonb ->> c.lane)::bigint",
        " FOR UPDATE SKIP LOCKED"
    ),
    leased_messages: concat!(
        "SELECT ",
        message_columns!(),
        ", (SELECT cellphone FROM contacts WHERE contacts.id = messages.contact_id) AS contact_cellphone \
         FROM messages WHERE id = ANY(ARRAY(SELECT json_array_elements_text($1::json)))"
    ),
    // Locks in id order, as recording outcomes does, so the two never deadlock.
    renew: "UPDATE jobs SET lease_until = $1 WHERE id IN (SELECT id FROM jobs \
        WHERE (id, lease_token) IN (SELECT j ->> 0, j ->> 1 FROM jsonb_array_elements($2::jsonb) AS j) \
        ORDER BY id FOR UPDATE) RETURNING id",
};

fn statements(backend: &Backend) -> &'static LeaseSql {
    match backend {
        Backend::Sqlite { .. } => &SQLITE,
        Backend::Postgres(_) => &POSTGRES,
    }
}

fn later(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    at + chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX)
}

fn earlier(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    at - chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX)
}

/// A job row as leased, before its message is loaded.
struct LeasedRow {
    id: JobId,
    workspace_id: WorkspaceId,
    lane: String,
    task: Task,
    attempts: u32,
    max_attempts: u32,
    lapsed: bool,
}

impl FromStoreRow for LeasedRow {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        let count = |column: &str| -> Result<u32, StoreError> {
            Ok(u32::try_from(row.int(column)?).unwrap_or(u32::MAX))
        };
        Ok(Self {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            lane: row.text("lane")?,
            task: row.json("task")?,
            attempts: count("attempts")?,
            max_attempts: count("max_attempts")?,
            lapsed: row.int("lease_lapsed")? != 0,
        })
    }
}

impl Store {
    /// Leases up to `request.limit` due jobs, within each lane's cap, and loads their
    /// messages.
    pub async fn lease_jobs(
        &self,
        request: &LeaseRequest<'_>,
    ) -> Result<Vec<LeasedJob>, StoreError> {
        if request.limit == 0 {
            return Ok(Vec::new());
        }
        let now = self.clock.now();
        let until = later(now, request.lease_for);
        let token = LeaseToken::new();
        let blocked: Vec<&str> = request
            .caps
            .lanes
            .iter()
            .filter(|(_, cap)| **cap == 0)
            .map(|(lane, _)| lane.as_str())
            .collect();
        let caps: HashMap<&str, u32> = request
            .caps
            .lanes
            .iter()
            .filter(|(_, cap)| **cap > 0)
            .map(|(lane, cap)| (lane.as_str(), *cap))
            .collect();
        // Read further than the round needs, so lanes at their cap leave room for others.
        let window = i64::from(request.limit).saturating_mul(4).max(64);
        let sql = statements(&self.backend);
        let rows: Vec<LeasedRow> = on_write!(&self.backend, pool => {
            sqlx::query(sql.lease)
                .bind(to_micros(now))
                .bind(to_micros(earlier(now, request.takeover_grace)))
                .bind(json(&blocked))
                .bind(window)
                .bind(json(&caps))
                .bind(i64::from(request.caps.default))
                .bind(i64::from(request.limit))
                .bind(request.owner)
                .bind(token.0.as_str())
                .bind(to_micros(until))
                .fetch_all(pool)
                .await?
                .iter()
                .map(LeasedRow::from_row)
                .collect::<Result<_, StoreError>>()?
        });
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let message_ids: Vec<String> = rows
            .iter()
            .filter_map(|row| row.task.message_id())
            .map(|id| id.to_string())
            .collect();
        let mut messages: HashMap<MessageId, (Message, E164)> = if message_ids.is_empty() {
            HashMap::new()
        } else {
            on_read!(&self.backend, pool => {
                sqlx::query(sql.leased_messages)
                    .bind(json(&message_ids))
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|row| {
                        let message = Message::from_row(row)?;
                        let to = E164::from_trusted(row.text("contact_cellphone")?);
                        Ok((message.id, (message, to)))
                    })
                    .collect::<Result<_, StoreError>>()?
            })
        };
        Ok(rows
            .into_iter()
            .map(|row| LeasedJob {
                lease: JobLease {
                    job: row.id,
                    token: token.clone(),
                },
                message: row.task.message_id().and_then(|id| messages.remove(&id)),
                workspace_id: row.workspace_id,
                lane: row.lane,
                task: row.task,
                attempts: row.attempts,
                max_attempts: row.max_attempts,
                lapsed: row.lapsed,
                until,
            })
            .collect())
    }

    /// Extends the leases still held by their tokens until `lease_for` from now, and
    /// returns the jobs whose lease was extended; the others were taken over or settled.
    pub async fn renew_leases(
        &self,
        leases: &[JobLease],
        lease_for: Duration,
    ) -> Result<(DateTime<Utc>, HashSet<JobId>), StoreError> {
        let until = later(self.clock.now(), lease_for);
        if leases.is_empty() {
            return Ok((until, HashSet::new()));
        }
        let pairs: Vec<(String, &str)> = leases
            .iter()
            .map(|lease| (lease.job.to_string(), lease.token.0.as_str()))
            .collect();
        let sql = statements(&self.backend);
        let held = on_write!(&self.backend, pool => {
            sqlx::query(sql.renew)
                .bind(to_micros(until))
                .bind(json(&pairs))
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| row.id("id"))
                .collect::<Result<HashSet<JobId>, StoreError>>()?
        });
        Ok((until, held))
    }

    /// Moves a lane's due jobs that nobody holds to `until`, without using an attempt:
    /// its circuit is open. Returns how many moved.
    pub async fn defer_lane(&self, lane: &str, until: DateTime<Utc>) -> Result<u64, StoreError> {
        on_write!(&self.backend, pool => {
            Ok(sqlx::query("UPDATE jobs SET run_at = $1 WHERE lane = $2 AND run_at < $1 AND lease_token IS NULL")
                .bind(to_micros(until))
                .bind(lane)
                .execute(pool)
                .await?
                .rows_affected())
        })
    }

    /// Jobs waiting in the outbox, leased or not.
    pub async fn outbox_depth(&self) -> Result<i64, StoreError> {
        on_read!(&self.backend, pool => {
            let row = sqlx::query("SELECT COUNT(*) AS depth FROM jobs").fetch_one(pool).await?;
            row.int("depth")
        })
    }

    /// When the next job can be leased (it may be already), or `None` when the outbox
    /// is empty: a free job at its due time, a held one when its lease and the grace
    /// after it have passed.
    pub async fn next_job_due(
        &self,
        takeover_grace: Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let grace = i64::try_from(takeover_grace.as_micros()).unwrap_or(i64::MAX);
        on_read!(&self.backend, pool => {
            let row = sqlx::query(
                "SELECT MIN(CASE WHEN lease_token IS NOT NULL AND lease_until + $1 > run_at \
                 THEN lease_until + $1 ELSE run_at END) AS due FROM jobs WHERE attempts < max_attempts",
            )
            .bind(grace)
            .fetch_one(pool)
            .await?;
            row.optional_int("due")?.map(from_micros).transpose()
        })
    }
}
