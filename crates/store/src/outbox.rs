//! The outbox: jobs written in the same transaction as the change that needs them,
//! leased by dispatchers, and settled one outcome at a time under a fenced lease.
//!
//! A job is a typed, versioned [`Task`] in a fairness *lane* (a send's lane is its
//! channel). Leasing ([`lease`]) takes due jobs in turns across workspaces and lanes,
//! at most as many per lane as the caller can start at once, and stamps each with a
//! fresh fencing token. Renewals and outcomes ([`finish`]) name the token: a worker
//! whose lease was taken over changes nothing. A lease that ends without an outcome
//! (its process died, or it could not renew) is taken over only after a grace period,
//! and the new lease is marked *lapsed*: its provider call may already have been made.
//! The attempt cap lives in the row, so no job is leased past it.

mod finish;
mod lease;

pub use finish::{FinishReport, JobOutcome};
pub use lease::{LaneCaps, LeaseRequest};

use chrono::{DateTime, Utc};
use leadline_core::{E164, JobId, WorkspaceId};
use serde::Serialize;

use crate::messages::Message;

pub use leadline_core::job::Task;

/// Attempts a send job gets: the first and seven retries.
pub const SEND_ATTEMPTS: u32 = 8;

pub(crate) const INSERT_JOB: &str = "INSERT INTO jobs \
    (id, workspace_id, lane, task, message_id, run_at, attempts, max_attempts, lease_owner, lease_token, \
     lease_until, lease_lapsed, last_error, created_at) \
    VALUES ($1, $2, $3, $4, $5, $6, 0, $7, NULL, NULL, 0, 0, NULL, $8)";

/// Writes the send job of a message, due at `$run_at` (now, or the slot reserved on its
/// pool number), with the given executor.
macro_rules! queue_send_job {
    ($executor:expr, $message:expr, $run_at:expr, $now:expr) => {{
        let message: &$crate::messages::Message = $message;
        let task = $crate::outbox::Task::SendV1 {
            message_id: message.id,
        };
        sqlx::query($crate::outbox::INSERT_JOB)
            .bind(leadline_core::JobId::new().to_string())
            .bind(message.workspace_id.to_string())
            .bind(message.channel_id.to_string())
            .bind(task.to_json())
            .bind(message.id.to_string())
            .bind($crate::rows::to_micros($run_at))
            .bind(i64::from($crate::outbox::SEND_ATTEMPTS))
            .bind($crate::rows::to_micros($now))
            .execute($executor)
            .await?;
    }};
}
pub(crate) use queue_send_job;

/// The fencing token of one lease.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaseToken(pub String);

impl LeaseToken {
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }
}

impl Default for LeaseToken {
    fn default() -> Self {
        Self::new()
    }
}

/// A job and the lease it is held under: what renewals and outcomes name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobLease {
    pub job: JobId,
    pub token: LeaseToken,
}

/// A job this dispatcher now holds, with what it needs to run.
#[derive(Debug, Clone)]
pub struct LeasedJob {
    pub lease: JobLease,
    pub workspace_id: WorkspaceId,
    pub lane: String,
    pub task: Task,
    /// Attempts so far, this one included.
    pub attempts: u32,
    pub max_attempts: u32,
    /// The previous lease ended without an outcome: a provider call may have been made.
    pub lapsed: bool,
    /// The lease is held until then, unless renewed.
    pub until: DateTime<Utc>,
    /// The task's message and where it goes (the contact's cellphone).
    pub message: Option<(Message, E164)>,
}

impl LeasedJob {
    pub fn id(&self) -> JobId {
        self.lease.job
    }
}

pub(crate) fn json(value: impl Serialize) -> String {
    serde_json::to_string(&value).expect("outbox rows serialize")
}
