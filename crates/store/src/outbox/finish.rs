//! Settling leased jobs: each outcome is applied only while its lease is still held
//! (the job id with the token it was leased with), so a worker that lost a lease — its
//! job taken over after a lapse — changes nothing. A batch of outcomes costs a fixed
//! handful of statements whatever its size; a batch that fails as a whole is the
//! caller's to retry outcome by outcome, and an outcome that cannot be recorded at all
//! is quarantined with [`Store::quarantine_job`] instead of being sent again.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use leadline_core::event::{EventType, NewEvent};
use leadline_core::message::MessageStatus;
use leadline_core::{JobId, MessageId, PhoneNumberId, WebhookEndpointId};

use super::{JobLease, Task, json};
use crate::backend::{Backend, on_write};
use crate::events::{record_events, resources};
use crate::messages::{Message, message_columns};
use crate::number_usage::{NumberEvent, NumberEventKind, add_outcomes, tally};
use crate::rows::{FromStoreRow, StoreRow, to_micros};
use crate::webhook_endpoints::{NewWebhookAttempt, write_webhook_attempts};
use crate::{Store, StoreError};

/// How a leased job ended.
#[derive(Debug, Clone)]
pub enum JobOutcome {
    /// The provider accepted the message. With `receipt_after`, the job turns into a
    /// sandbox receipt due that much later.
    Sent {
        lease: JobLease,
        message: MessageId,
        provider_message_id: Option<String>,
        receipt_after: Option<Duration>,
    },
    /// A sandbox receipt came due: the message is delivered. `from_number` is the
    /// message's pool number, whose delivery count it raises.
    Delivered {
        lease: JobLease,
        message: MessageId,
        from_number: Option<PhoneNumberId>,
    },
    /// Try again after `delay`; the attempt counts.
    Retry {
        lease: JobLease,
        delay: Duration,
        error: String,
    },
    /// Give up: the message failed for good. `from_number` is the message's pool
    /// number, whose failure counts it raises.
    Failed {
        lease: JobLease,
        message: MessageId,
        code: Option<String>,
        reason: String,
        from_number: Option<PhoneNumberId>,
    },
    /// The send may or may not have reached the provider, which takes no idempotency
    /// key: the message is held as `uncertain` for a person, never sent again by itself.
    Uncertain {
        lease: JobLease,
        message: MessageId,
        reason: String,
    },
    /// The job is over and touches no message: a webhook delivery that succeeded, ran
    /// out of attempts, or has nowhere left to go. The job just leaves the outbox.
    Done { lease: JobLease },
    /// Not started (its lane was full or paused, or the process is stopping): the job
    /// goes back, at `run_at` when given, and the attempt is not counted.
    Release {
        lease: JobLease,
        run_at: Option<DateTime<Utc>>,
    },
}

impl JobOutcome {
    pub fn lease(&self) -> &JobLease {
        match self {
            JobOutcome::Sent { lease, .. }
            | JobOutcome::Delivered { lease, .. }
            | JobOutcome::Retry { lease, .. }
            | JobOutcome::Failed { lease, .. }
            | JobOutcome::Uncertain { lease, .. }
            | JobOutcome::Done { lease }
            | JobOutcome::Release { lease, .. } => lease,
        }
    }

    /// A short name for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            JobOutcome::Sent { .. } => "sent",
            JobOutcome::Delivered { .. } => "delivered",
            JobOutcome::Retry { .. } => "retry",
            JobOutcome::Failed { .. } => "failed",
            JobOutcome::Uncertain { .. } => "uncertain",
            JobOutcome::Done { .. } => "done",
            JobOutcome::Release { .. } => "released",
        }
    }
}

/// Which outcomes were applied, and which found their lease gone.
#[derive(Debug, Default)]
pub struct FinishReport {
    pub recorded: Vec<JobId>,
    pub lease_lost: Vec<JobId>,
}

struct FinishSql {
    /// Locks the batch's jobs in id order before anything else touches them, so that a
    /// batch and a renewal of leases (which locks in the same order) never wait for
    /// each other in a circle. None where there is a single writer.
    lock: Option<&'static str>,
    settle: &'static str,
    reschedule: &'static str,
    mark_sent: &'static str,
    mark_delivered: &'static str,
}

/// Marks sent messages from rows `(id, pid)` and returns them as they are now. A provider id that another message of the
/// channel already carries (`taken`, worked out once per row) is not stored again.
/// `$fence` keeps the rows a subquery of their own, so the check runs once per row
/// rather than once per column that reads it.
macro_rules! mark_sent {
    ($rows:literal, $fence:literal) => {
        concat!(
            "UPDATE messages SET \
                status = CASE WHEN status = 'queued' THEN 'sent' ELSE status END, \
                provider_message_id = CASE WHEN s.taken THEN provider_message_id \
                    ELSE COALESCE(s.pid, provider_message_id) END, \
                error_code = CASE WHEN s.taken THEN 'provider_id_reused' ELSE error_code END, \
                error_message = CASE WHEN s.taken \
                    THEN 'the provider answered with id ' || s.pid || ', which it had already given \
                    another message of this channel; its delivery reports cannot be matched to this one' \
                    ELSE error_message END, \
                sent_at = $2, updated_at = $2 \
            FROM (SELECT r.id AS sent_id, r.pid, r.pid IS NOT NULL AND EXISTS (\
                    SELECT 1 FROM messages AS m JOIN messages AS o ON o.channel_id = m.channel_id \
                    AND o.provider_message_id = r.pid AND o.id <> m.id WHERE m.id = r.id) AS taken \
                FROM (", $rows, ") AS r", $fence, ") AS s \
            WHERE messages.id = s.sent_id RETURNING ", message_columns!()
        )
    };
}

const SQLITE: FinishSql = FinishSql {
    lock: None,
    settle: "DELETE FROM jobs WHERE (id, lease_token) IN \
        (SELECT value ->> 0, value ->> 1 FROM json_each($1)) RETURNING id",
    reschedule: "UPDATE jobs SET run_at = COALESCE(j.value ->> 2, jobs.run_at), \
        last_error = COALESCE(j.value ->> 3, jobs.last_error), \
        task = COALESCE(j.value ->> 5, jobs.task), \
        attempts = CASE WHEN j.value ->> 5 IS NOT NULL THEN 0 ELSE jobs.attempts - (j.value ->> 4) END, \
        lease_owner = NULL, lease_token = NULL, lease_until = 0, lease_lapsed = 0 \
        FROM json_each($1) AS j WHERE jobs.id = j.value ->> 0 AND jobs.lease_token = j.value ->> 1 \
        RETURNING jobs.id",
    mark_sent: mark_sent!(
        "SELECT value ->> 0 AS id, value ->> 1 AS pid FROM json_each($1)",
        " LIMIT -1 OFFSET 0"
    ),
    mark_delivered: concat!(
        "UPDATE messages SET status = 'delivered', delivered_at = $2, updated_at = $2 \
        WHERE id IN (SELECT value FROM json_each($1)) AND status IN ('queued', 'sent', 'failed') RETURNING ",
        message_columns!()
    ),
};

const POSTGRES: FinishSql = FinishSql {
    lock: Some(
        "SELECT id FROM jobs WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY id FOR UPDATE",
    ),
    settle: "DELETE FROM jobs WHERE (id, lease_token) IN \
        (SELECT j ->> 0, j ->> 1 FROM jsonb_array_elements($1::jsonb) AS j) RETURNING id",
    reschedule: "UPDATE jobs SET run_at = COALESCE((j ->> 2)::bigint, jobs.run_at), \
        last_error = COALESCE(j ->> 3, jobs.last_error), \
        task = COALESCE(j ->> 5, jobs.task), \
        attempts = CASE WHEN j ->> 5 IS NOT NULL THEN 0 ELSE jobs.attempts - (j ->> 4)::bigint END, \
        lease_owner = NULL, lease_token = NULL, lease_until = 0, lease_lapsed = 0 \
        FROM jsonb_array_elements($1::jsonb) AS j WHERE jobs.id = j ->> 0 AND jobs.lease_token = j ->> 1 \
        RETURNING jobs.id",
    mark_sent: mark_sent!(
        "SELECT j ->> 0 AS id, j ->> 1 AS pid FROM jsonb_array_elements($1::jsonb) AS j",
        " OFFSET 0"
    ),
    mark_delivered: concat!(
        "UPDATE messages SET status = 'delivered', delivered_at = $2, updated_at = $2 \
        WHERE id = ANY(ARRAY(SELECT json_array_elements_text($1::json))) AND status IN ('queued', 'sent', 'failed') \
        RETURNING ",
        message_columns!()
    ),
};

fn statements(backend: &Backend) -> &'static FinishSql {
    match backend {
        Backend::Sqlite { .. } => &SQLITE,
        Backend::Postgres(_) => &POSTGRES,
    }
}

/// A job going back to wait: `(id, token, run_at, last_error, refund, new task)`.
type Reschedule = (
    String,
    String,
    Option<i64>,
    Option<String>,
    i64,
    Option<String>,
);

impl Store {
    /// Records how leased jobs ended, in one transaction, each only while its lease is
    /// held. Deliveries and failures of messages sent from pool numbers are counted for
    /// those numbers in the same transaction.
    pub async fn finish_jobs(&self, outcomes: &[JobOutcome]) -> Result<FinishReport, StoreError> {
        Ok(self.finish_deliveries(outcomes, &[]).await?.0)
    }

    /// [`Store::finish_jobs`], with the webhook delivery attempts the jobs made written
    /// in the same transaction whatever became of their leases (they happened), and
    /// what the attempts say of their endpoints. Returns the report and the endpoints
    /// the attempts disabled.
    pub async fn finish_deliveries(
        &self,
        outcomes: &[JobOutcome],
        attempts: &[NewWebhookAttempt],
    ) -> Result<(FinishReport, Vec<WebhookEndpointId>), StoreError> {
        if outcomes.is_empty() && attempts.is_empty() {
            return Ok((FinishReport::default(), Vec::new()));
        }
        let now = self.clock.now();
        let micros = to_micros(now);
        let at = |delay: &Duration| {
            to_micros(now + chrono::Duration::from_std(*delay).unwrap_or_default())
        };
        let pair = |lease: &JobLease| (lease.job.to_string(), lease.token.0.clone());
        let mut settle: Vec<(String, String)> = Vec::new();
        let mut reschedule: Vec<Reschedule> = Vec::new();
        for outcome in outcomes {
            let (id, token) = pair(outcome.lease());
            match outcome {
                JobOutcome::Sent {
                    message,
                    receipt_after: Some(after),
                    ..
                } => {
                    let task = Task::SandboxReceiptV1 {
                        message_id: *message,
                    }
                    .to_json();
                    reschedule.push((id, token, Some(at(after)), None, 0, Some(task)));
                }
                JobOutcome::Retry { delay, error, .. } => {
                    reschedule.push((id, token, Some(at(delay)), Some(error.clone()), 0, None));
                }
                JobOutcome::Release { run_at, .. } => {
                    reschedule.push((id, token, run_at.map(to_micros), None, 1, None));
                }
                _ => settle.push((id, token)),
            }
        }
        let sql = statements(&self.backend);
        let report = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let mut held: HashSet<JobId> = HashSet::new();
            if let Some(lock) = sql.lock.filter(|_| !outcomes.is_empty()) {
                let jobs: Vec<&str> = settle.iter().map(|(id, _)| id.as_str())
                    .chain(reschedule.iter().map(|row| row.0.as_str()))
                    .collect();
                sqlx::query(lock).bind(json(&jobs)).execute(&mut *tx).await?;
            }
            if !settle.is_empty() {
                for row in sqlx::query(sql.settle).bind(json(&settle)).fetch_all(&mut *tx).await? {
                    held.insert(row.id("id")?);
                }
            }
            if !reschedule.is_empty() {
                for row in sqlx::query(sql.reschedule).bind(json(&reschedule)).fetch_all(&mut *tx).await? {
                    held.insert(row.id("id")?);
                }
            }
            let mine = |outcome: &JobOutcome| held.contains(&outcome.lease().job);
            let mut sent: Vec<(String, Option<&str>)> = Vec::new();
            let mut delivered: Vec<String> = Vec::new();
            let mut delivered_from: HashMap<String, PhoneNumberId> = HashMap::new();
            let mut number_events: Vec<NumberEvent> = Vec::new();
            let mut events: Vec<NewEvent> = Vec::new();
            for outcome in outcomes.iter().filter(|outcome| mine(outcome)) {
                match outcome {
                    JobOutcome::Sent { message, provider_message_id, .. } => {
                        sent.push((message.to_string(), provider_message_id.as_deref()));
                    }
                    JobOutcome::Delivered { message, from_number, .. } => {
                        if let Some(number) = from_number {
                            delivered_from.insert(message.to_string(), *number);
                        }
                        delivered.push(message.to_string());
                    }
                    JobOutcome::Failed { message, code, reason, from_number, .. } => {
                        let failed = sqlx::query(concat!(
                                "UPDATE messages SET status = 'failed', error_code = $1, error_message = $2, updated_at = $3 \
                                 WHERE id = $4 AND status IN ('queued', 'sent') RETURNING ", message_columns!()))
                            .bind(code.as_deref())
                            .bind(reason.as_str())
                            .bind(micros)
                            .bind(message.to_string())
                            .fetch_optional(&mut *tx)
                            .await?;
                        let Some(failed) = failed else { continue };
                        events.push(resources::message(EventType::MessageFailed, &Message::from_row(&failed)?, now));
                        if let Some(number) = from_number {
                            number_events.push(NumberEvent {
                                phone_number_id: *number,
                                at: now,
                                kind: NumberEventKind::Failed { code: code.clone() },
                            });
                        }
                    }
                    JobOutcome::Uncertain { message, reason, .. } => {
                        sqlx::query("UPDATE messages SET status = 'uncertain', error_code = 'outcome_unknown', error_message = $1, updated_at = $2 \
                                     WHERE id = $3 AND status = 'queued'")
                            .bind(reason.as_str())
                            .bind(micros)
                            .bind(message.to_string())
                            .execute(&mut *tx)
                            .await?;
                    }
                    JobOutcome::Retry { .. } | JobOutcome::Release { .. } | JobOutcome::Done { .. } => {}
                }
            }
            if !sent.is_empty() {
                for row in sqlx::query(sql.mark_sent).bind(json(&sent)).bind(micros).fetch_all(&mut *tx).await? {
                    // A report that overtook the outcome (delivered, failed) already told
                    // of the message: only a message this batch made `sent` is told so.
                    let message = Message::from_row(&row)?;
                    if message.status == MessageStatus::Sent {
                        events.push(resources::message(EventType::MessageSent, &message, now));
                    }
                }
            }
            if !delivered.is_empty() {
                let rows = sqlx::query(sql.mark_delivered).bind(json(&delivered)).bind(micros).fetch_all(&mut *tx).await?;
                for row in &rows {
                    if let Some(number) = delivered_from.get(&row.text("id")?) {
                        number_events.push(NumberEvent { phone_number_id: *number, at: now, kind: NumberEventKind::Delivered });
                    }
                    events.push(resources::message(EventType::MessageDelivered, &Message::from_row(row)?, now));
                }
            }
            add_outcomes!(&mut *tx, &tally(&number_events));
            record_events!(tx, &events, now);
            let disabled = write_webhook_attempts!(tx, &self.backend, attempts, now);
            tx.commit().await?;
            let (recorded, lease_lost) = outcomes.iter().map(|o| o.lease().job).partition(|job| held.contains(job));
            (FinishReport { recorded, lease_lost }, disabled)
        });
        Ok(report)
    }

    /// Takes a job whose outcome could not be recorded out of the outbox, for good: its
    /// message is marked `quarantined` with `reason` and is never sent again by itself.
    /// Returns false when the lease was no longer held.
    pub async fn quarantine_job(
        &self,
        lease: &JobLease,
        message: Option<MessageId>,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let micros = to_micros(self.clock.now());
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let held = sqlx::query("DELETE FROM jobs WHERE id = $1 AND lease_token = $2")
                .bind(lease.job.to_string())
                .bind(lease.token.0.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if held && let Some(message) = message {
                sqlx::query("UPDATE messages SET status = 'quarantined', error_code = 'not_recorded', error_message = $1, updated_at = $2 \
                             WHERE id = $3 AND status IN ('queued', 'sent')")
                    .bind(reason)
                    .bind(micros)
                    .bind(message.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(held)
        })
    }

    /// Settles jobs that reached their attempt cap without an outcome (each lease ended
    /// with its worker gone): their messages may have been sent, so they are held as
    /// `uncertain` rather than failed. Returns how many were settled.
    pub async fn settle_exhausted_jobs(&self, takeover_grace: Duration) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let takeover =
            to_micros(now - chrono::Duration::from_std(takeover_grace).unwrap_or_default());
        let micros = to_micros(now);
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE messages SET status = 'uncertain', error_code = 'attempts_exhausted', \
                         error_message = 'every attempt ended without an outcome (its worker stopped mid-send)', updated_at = $1 \
                         WHERE status = 'queued' AND id IN \
                         (SELECT message_id FROM jobs WHERE attempts >= max_attempts AND lease_until <= $2)")
                .bind(micros)
                .bind(takeover)
                .execute(&mut *tx)
                .await?;
            let settled = sqlx::query("DELETE FROM jobs WHERE attempts >= max_attempts AND lease_until <= $1")
                .bind(takeover)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(settled)
        })
    }
}
