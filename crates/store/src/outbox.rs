//! The outbox: jobs written in the same transaction as the message they send, leased
//! by dispatchers in batches and finished in batches.
//!
//! A lease is `lease_owner` + `lease_until`: a job is free when `lease_until` has
//! passed, so the jobs of a process that died become free again by themselves.
//! PostgreSQL leases with `FOR UPDATE SKIP LOCKED`, so dispatchers on many nodes never
//! wait on each other; SQLite has one writer, which makes the same statement exclusive
//! without it. Leasing counts the attempt, so a job that crashes its worker every time
//! still runs out of attempts. Finishing a batch is a handful of statements whatever
//! its size: each takes its rows as one JSON parameter.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use leadline_core::{E164, JobId, MessageId, PhoneNumberId};

use crate::backend::{Backend, on_read, on_write};
use crate::messages::{Message, message_columns};
use crate::number_usage::{NumberEvent, NumberEventKind, add_outcomes, tally};
use crate::rows::{FromStoreRow, StoreRow, to_micros};
use crate::{Store, StoreError};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Hand the message to its channel's provider.
    Send,
    /// Report a sandbox message delivered (the sandbox's own delivery receipt).
    SandboxReceipt,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Send => "send",
            JobKind::SandboxReceipt => "sandbox_receipt",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "send" => Some(JobKind::Send),
            "sandbox_receipt" => Some(JobKind::SandboxReceipt),
            _ => None,
        }
    }
}

pub(crate) const INSERT_JOB: &str = "INSERT INTO jobs \
    (id, workspace_id, kind, message_id, run_at, attempts, lease_owner, lease_until, last_error, created_at) \
    VALUES ($1, $2, $3, $4, $5, 0, NULL, 0, NULL, $6)";

/// Writes the send job of a message, due at `$run_at` (now, or the slot reserved on its
/// pool number), with the given executor.
macro_rules! queue_send_job {
    ($executor:expr, $message:expr, $run_at:expr, $now:expr) => {{
        let message: &$crate::messages::Message = $message;
        sqlx::query($crate::outbox::INSERT_JOB)
            .bind(leadline_core::JobId::new().to_string())
            .bind(message.workspace_id.to_string())
            .bind($crate::outbox::JobKind::Send.as_str())
            .bind(message.id.to_string())
            .bind($crate::rows::to_micros($run_at))
            .bind($crate::rows::to_micros($now))
            .execute($executor)
            .await?;
    }};
}
pub(crate) use queue_send_job;

/// A job this dispatcher now owns, with what it needs to run.
#[derive(Debug, Clone)]
pub struct LeasedJob {
    pub id: JobId,
    pub kind: JobKind,
    /// Attempts so far, this one included.
    pub attempts: u32,
    pub message: Message,
    /// The contact's cellphone: where the message goes.
    pub to: E164,
}

/// How a leased job ended.
#[derive(Debug, Clone)]
pub enum JobOutcome {
    /// The provider accepted the message. With `receipt_after`, the job turns into a
    /// sandbox receipt due that much later.
    Sent {
        job: JobId,
        message: MessageId,
        provider_message_id: Option<String>,
        receipt_after: Option<Duration>,
    },
    /// A sandbox receipt came due: the message is delivered. `from_number` is the
    /// message's pool number, whose delivery count it raises.
    Delivered {
        job: JobId,
        message: MessageId,
        from_number: Option<PhoneNumberId>,
    },
    /// Try again after `delay`.
    Retry {
        job: JobId,
        delay: Duration,
        error: String,
    },
    /// Give up: the message failed for good. `from_number` is the message's pool
    /// number, whose failure counts it raises.
    Failed {
        job: JobId,
        message: MessageId,
        code: Option<String>,
        reason: String,
        from_number: Option<PhoneNumberId>,
    },
}

/// The batch statements that differ between the databases.
struct OutboxSql {
    lease: &'static str,
    leased_messages: &'static str,
    mark_sent: &'static str,
    to_receipt: &'static str,
    mark_delivered: &'static str,
    delete_jobs: &'static str,
}

const SQLITE: OutboxSql = OutboxSql {
    lease: "UPDATE jobs SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
        WHERE id IN (SELECT id FROM jobs WHERE run_at <= $3 AND lease_until <= $3 ORDER BY run_at LIMIT $4) \
        RETURNING id, kind, message_id, attempts",
    leased_messages: concat!(
        "SELECT ",
        message_columns!(),
        ", (SELECT cellphone FROM contacts WHERE contacts.id = messages.contact_id) AS contact_cellphone \
         FROM messages WHERE id IN (SELECT value FROM json_each($1))"
    ),
    mark_sent: "UPDATE messages SET \
        status = CASE WHEN status = 'queued' THEN 'sent' ELSE status END, \
        provider_message_id = COALESCE(j.value ->> 1, provider_message_id), \
        sent_at = $2, updated_at = $2 \
        FROM json_each($1) AS j WHERE messages.id = j.value ->> 0",
    to_receipt: "UPDATE jobs SET kind = 'sandbox_receipt', run_at = j.value ->> 1, attempts = 0, \
        lease_owner = NULL, lease_until = 0 \
        FROM json_each($1) AS j WHERE jobs.id = j.value ->> 0",
    mark_delivered: "UPDATE messages SET status = 'delivered', delivered_at = $2, updated_at = $2 \
        WHERE id IN (SELECT value FROM json_each($1)) AND status IN ('queued', 'sent', 'failed') RETURNING id",
    delete_jobs: "DELETE FROM jobs WHERE id IN (SELECT value FROM json_each($1))",
};

const POSTGRES: OutboxSql = OutboxSql {
    lease: "UPDATE jobs SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
        WHERE id IN (SELECT id FROM jobs WHERE run_at <= $3 AND lease_until <= $3 ORDER BY run_at LIMIT $4 \
                     FOR UPDATE SKIP LOCKED) \
        RETURNING id, kind, message_id, attempts",
    leased_messages: concat!(
        "SELECT ",
        message_columns!(),
        ", (SELECT cellphone FROM contacts WHERE contacts.id = messages.contact_id) AS contact_cellphone \
         FROM messages WHERE id = ANY(ARRAY(SELECT json_array_elements_text($1::json)))"
    ),
    mark_sent: "UPDATE messages AS m SET \
        status = CASE WHEN m.status = 'queued' THEN 'sent' ELSE m.status END, \
        provider_message_id = COALESCE(j ->> 1, m.provider_message_id), \
        sent_at = $2, updated_at = $2 \
        FROM json_array_elements($1::json) AS j WHERE m.id = j ->> 0",
    to_receipt: "UPDATE jobs SET kind = 'sandbox_receipt', run_at = (j ->> 1)::bigint, attempts = 0, \
        lease_owner = NULL, lease_until = 0 \
        FROM json_array_elements($1::json) AS j WHERE jobs.id = j ->> 0",
    mark_delivered: "UPDATE messages SET status = 'delivered', delivered_at = $2, updated_at = $2 \
        WHERE id = ANY(ARRAY(SELECT json_array_elements_text($1::json))) AND status IN ('queued', 'sent', 'failed') \
        RETURNING id",
    delete_jobs: "DELETE FROM jobs WHERE id = ANY(ARRAY(SELECT json_array_elements_text($1::json)))",
};

fn statements(backend: &Backend) -> &'static OutboxSql {
    match backend {
        Backend::Sqlite { .. } => &SQLITE,
        Backend::Postgres(_) => &POSTGRES,
    }
}

fn json(value: impl serde::Serialize) -> String {
    serde_json::to_string(&value).expect("outbox rows serialize")
}

impl Store {
    /// Leases up to `limit` due jobs for `lease_for` and loads their messages.
    pub async fn lease_jobs(
        &self,
        owner: &str,
        limit: u32,
        lease_for: Duration,
    ) -> Result<Vec<LeasedJob>, StoreError> {
        let now = self.clock.now();
        let until = now + chrono::Duration::from_std(lease_for).unwrap_or(chrono::Duration::MAX);
        let sql = statements(&self.backend);
        let leased: Vec<(JobId, JobKind, MessageId, u32)> = on_write!(&self.backend, pool => {
            sqlx::query(sql.lease)
                .bind(owner)
                .bind(to_micros(until))
                .bind(to_micros(now))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| {
                    Ok((
                        row.id("id")?,
                        row.parsed("kind", JobKind::parse)?,
                        row.id("message_id")?,
                        u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
                    ))
                })
                .collect::<Result<_, StoreError>>()?
        });
        if leased.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = leased.iter().map(|(_, _, m, _)| m.to_string()).collect();
        let mut messages: std::collections::HashMap<MessageId, (Message, E164)> = on_read!(&self.backend, pool => {
            sqlx::query(sql.leased_messages)
                .bind(json(&ids))
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| {
                    let message = Message::from_row(row)?;
                    let to = E164::from_trusted(row.text("contact_cellphone")?);
                    Ok((message.id, (message, to)))
                })
                .collect::<Result<_, StoreError>>()?
        });
        leased
            .into_iter()
            .map(|(id, kind, message_id, attempts)| {
                let (message, to) = messages.remove(&message_id).ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "job {id} names message {message_id}, which is missing"
                    ))
                })?;
                Ok(LeasedJob {
                    id,
                    kind,
                    attempts,
                    message,
                    to,
                })
            })
            .collect()
    }

    /// Records how a batch of leased jobs ended, in one transaction. Deliveries and
    /// failures of messages sent from pool numbers are counted for those numbers in the
    /// same transaction, added up per number: a batch without pool numbers costs nothing
    /// more.
    pub async fn finish_jobs(&self, outcomes: &[JobOutcome]) -> Result<(), StoreError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let micros = to_micros(now);
        let mut sent: Vec<(String, Option<&str>)> = Vec::new();
        let mut receipts: Vec<(String, i64)> = Vec::new();
        let mut delivered: Vec<String> = Vec::new();
        // The pool numbers of delivered messages, by message id, to count those the
        // update really moved to delivered.
        let mut delivered_from: HashMap<String, PhoneNumberId> = HashMap::new();
        let mut number_events: Vec<NumberEvent> = Vec::new();
        let mut done: Vec<String> = Vec::new();
        for outcome in outcomes {
            match outcome {
                JobOutcome::Sent {
                    job,
                    message,
                    provider_message_id,
                    receipt_after,
                } => {
                    sent.push((message.to_string(), provider_message_id.as_deref()));
                    match receipt_after {
                        Some(after) => receipts.push((
                            job.to_string(),
                            to_micros(now + chrono::Duration::from_std(*after).unwrap_or_default()),
                        )),
                        None => done.push(job.to_string()),
                    }
                }
                JobOutcome::Delivered {
                    job,
                    message,
                    from_number,
                } => {
                    if let Some(number) = from_number {
                        delivered_from.insert(message.to_string(), *number);
                    }
                    delivered.push(message.to_string());
                    done.push(job.to_string());
                }
                JobOutcome::Retry { .. } | JobOutcome::Failed { .. } => {}
            }
        }
        let sql = statements(&self.backend);
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            if !sent.is_empty() {
                sqlx::query(sql.mark_sent).bind(json(&sent)).bind(micros).execute(&mut *tx).await?;
            }
            if !receipts.is_empty() {
                sqlx::query(sql.to_receipt).bind(json(&receipts)).execute(&mut *tx).await?;
            }
            if !delivered.is_empty() {
                let rows = sqlx::query(sql.mark_delivered).bind(json(&delivered)).bind(micros).fetch_all(&mut *tx).await?;
                if !delivered_from.is_empty() {
                    for row in &rows {
                        if let Some(number) = delivered_from.get(&row.text("id")?) {
                            number_events.push(NumberEvent { phone_number_id: *number, at: now, kind: NumberEventKind::Delivered });
                        }
                    }
                }
            }
            for outcome in outcomes {
                match outcome {
                    JobOutcome::Retry { job, delay, error } => {
                        let run_at = now + chrono::Duration::from_std(*delay).unwrap_or_default();
                        sqlx::query("UPDATE jobs SET run_at = $1, lease_owner = NULL, lease_until = 0, last_error = $2 WHERE id = $3")
                            .bind(to_micros(run_at))
                            .bind(error.as_str())
                            .bind(job.to_string())
                            .execute(&mut *tx)
                            .await?;
                    }
                    JobOutcome::Failed { job, message, code, reason, from_number } => {
                        let failed = sqlx::query("UPDATE messages SET status = 'failed', error_code = $1, error_message = $2, updated_at = $3 \
                                     WHERE id = $4 AND status IN ('queued', 'sent')")
                            .bind(code.as_deref())
                            .bind(reason.as_str())
                            .bind(micros)
                            .bind(message.to_string())
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                        if let (1, Some(number)) = (failed, from_number) {
                            number_events.push(NumberEvent {
                                phone_number_id: *number,
                                at: now,
                                kind: NumberEventKind::Failed { code: code.clone() },
                            });
                        }
                        done.push(job.to_string());
                    }
                    _ => {}
                }
            }
            if !done.is_empty() {
                sqlx::query(sql.delete_jobs).bind(json(&done)).execute(&mut *tx).await?;
            }
            add_outcomes!(&mut *tx, &tally(&number_events));
            tx.commit().await?;
        });
        Ok(())
    }

    /// Jobs waiting in the outbox, leased or not.
    pub async fn outbox_depth(&self) -> Result<i64, StoreError> {
        on_read!(&self.backend, pool => {
            let row = sqlx::query("SELECT COUNT(*) AS depth FROM jobs").fetch_one(pool).await?;
            row.int("depth")
        })
    }

    /// When the next job comes due (it may be due already), or `None` when the outbox
    /// is empty.
    pub async fn next_job_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        on_read!(&self.backend, pool => {
            let row = sqlx::query("SELECT MIN(CASE WHEN lease_until > run_at THEN lease_until ELSE run_at END) AS due FROM jobs")
                .fetch_one(pool)
                .await?;
            row.optional_time("due")
        })
    }
}
