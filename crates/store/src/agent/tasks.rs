//! The agent's work queue: one row per conversation with inbound messages nobody has
//! read yet. Filing an inbound message upserts its conversation's row in the same
//! transaction and counts a wake; a worker leases due rows, and finishing deletes a row
//! only when no wake came in meanwhile, so a message filed during a turn gets a turn of
//! its own. A lease runs out by itself, so the rows of a process that died come due
//! again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use leadline_core::{ConversationId, WorkspaceId};

use crate::backend::{Backend, on_write};
use crate::rows::{StoreRow, to_micros};
use crate::{Store, StoreError};

/// A conversation a worker now owns, until its lease runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentTask {
    pub conversation_id: ConversationId,
    pub workspace_id: WorkspaceId,
    /// Leases so far, this one included.
    pub attempts: u32,
    pub reference: TaskRef,
}

/// What finishing a task needs to know: the wakes it was leased with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskRef {
    pub conversation_id: ConversationId,
    pub wakes: i64,
}

/// Upserts the conversation's task, due at `$run_at`, inside a transaction: a new task,
/// or one more wake on the waiting one (due no later than now).
macro_rules! enqueue_agent_task {
    ($executor:expr, $conversation:expr, $now:expr) => {{
        let conversation: &$crate::conversations::Conversation = $conversation;
        sqlx::query(
            "INSERT INTO agent_tasks (conversation_id, workspace_id, run_at, wakes, attempts, lease_owner, lease_until, waiting_for) \
             VALUES ($1, $2, $3, 1, 0, NULL, 0, NULL) \
             ON CONFLICT (conversation_id) DO UPDATE SET wakes = agent_tasks.wakes + 1, waiting_for = NULL, \
             run_at = CASE WHEN excluded.run_at < agent_tasks.run_at THEN excluded.run_at ELSE agent_tasks.run_at END",
        )
        .bind(conversation.id.to_string())
        .bind(conversation.workspace_id.to_string())
        .bind($crate::rows::to_micros($now))
        .execute($executor)
        .await?;
    }};
}
pub(crate) use enqueue_agent_task;

/// Ends a leased task inside a transaction: deleted when no wake came in since it was
/// leased, else released to run again at once.
macro_rules! finish_task {
    ($tx:expr, $task:expr) => {{
        let task: $crate::agent::TaskRef = $task;
        let deleted = sqlx::query("DELETE FROM agent_tasks WHERE conversation_id = $1 AND wakes = $2")
            .bind(task.conversation_id.to_string())
            .bind(task.wakes)
            .execute(&mut **$tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            sqlx::query(
                "UPDATE agent_tasks SET lease_owner = NULL, lease_until = 0, waiting_for = NULL WHERE conversation_id = $1",
            )
            .bind(task.conversation_id.to_string())
            .execute(&mut **$tx)
            .await?;
        }
    }};
}
pub(crate) use finish_task;

/// Puts a task back to wait until `$1`, saying why (`$2`); its lease ends.
pub(crate) const DEFER_TASK: &str = "UPDATE agent_tasks SET run_at = $1, waiting_for = $2, \
    lease_owner = NULL, lease_until = 0 WHERE conversation_id = $3";

const LEASE_SQLITE: &str = "UPDATE agent_tasks SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
    WHERE conversation_id IN (SELECT conversation_id FROM agent_tasks WHERE run_at <= $3 AND lease_until <= $3 \
                              ORDER BY run_at LIMIT $4) \
    RETURNING conversation_id, workspace_id, wakes, attempts";

const LEASE_POSTGRES: &str = "UPDATE agent_tasks SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
    WHERE conversation_id IN (SELECT conversation_id FROM agent_tasks WHERE run_at <= $3 AND lease_until <= $3 \
                              ORDER BY run_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
    RETURNING conversation_id, workspace_id, wakes, attempts";

impl Store {
    /// Leases up to `limit` due tasks for `lease_for`.
    pub async fn lease_agent_tasks(
        &self,
        owner: &str,
        limit: u32,
        lease_for: Duration,
    ) -> Result<Vec<AgentTask>, StoreError> {
        let now = self.clock.now();
        let until = now + chrono::Duration::from_std(lease_for).unwrap_or(chrono::Duration::MAX);
        let sql = match &self.backend {
            Backend::Sqlite { .. } => LEASE_SQLITE,
            Backend::Postgres(_) => LEASE_POSTGRES,
        };
        on_write!(&self.backend, pool => {
            sqlx::query(sql)
                .bind(owner)
                .bind(to_micros(until))
                .bind(to_micros(now))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| {
                    let conversation_id = row.id("conversation_id")?;
                    Ok(AgentTask {
                        conversation_id,
                        workspace_id: row.id("workspace_id")?,
                        attempts: u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
                        reference: TaskRef { conversation_id, wakes: row.int("wakes")? },
                    })
                })
                .collect()
        })
    }

    /// Puts a task back to wait until `until`, with the reason it waits; the lease ends.
    pub async fn defer_agent_task(
        &self,
        task: TaskRef,
        until: DateTime<Utc>,
        waiting_for: &str,
    ) -> Result<(), StoreError> {
        on_write!(&self.backend, pool => {
            sqlx::query(DEFER_TASK)
            .bind(to_micros(until))
            .bind(waiting_for)
            .bind(task.conversation_id.to_string())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Ends a task that needed no writes (nothing new to read, a human in control).
    pub async fn finish_agent_task(&self, task: TaskRef) -> Result<(), StoreError> {
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            finish_task!(&mut tx, task);
            tx.commit().await?;
        });
        Ok(())
    }

    /// When the conversation's task is due and why it waits, if it has one.
    pub async fn agent_task_due(
        &self,
        conversation_id: ConversationId,
    ) -> Result<Option<(DateTime<Utc>, Option<String>)>, StoreError> {
        crate::backend::on_read!(&self.backend, pool => {
            sqlx::query("SELECT run_at, waiting_for FROM agent_tasks WHERE conversation_id = $1")
                .bind(conversation_id.to_string())
                .fetch_optional(pool)
                .await?
                .map(|row| Ok((row.time("run_at")?, row.optional_text("waiting_for")?)))
                .transpose()
        })
    }
}
