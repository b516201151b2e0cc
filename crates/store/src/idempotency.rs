//! Idempotency keys: what a POST sent with an `Idempotency-Key` header answered, so a
//! retry of the same request gets that answer again instead of running twice.
//!
//! A key belongs to a workspace. Its row goes through two states: claimed (`status` 0,
//! the first request is still running) and completed (the answer's status, content
//! type and body). Claiming is one `INSERT … ON CONFLICT DO NOTHING`, so of any number
//! of concurrent requests, on any number of nodes, exactly one owns a key. A claim that
//! should not be kept (the request failed with a 5xx and may be retried) is released by
//! deleting the row.
//!
//! Keys expire [`IDEMPOTENCY_KEY_TTL`] after they were claimed. Expired rows are
//! deleted lazily, one primary-key lookup at a time, when their key is presented
//! again: no background sweep, and no statement ever scans the table.

use chrono::TimeDelta;
use leadline_core::WorkspaceId;
use sqlx::Row;

use crate::backend::{on_read, on_write};
use crate::rows::to_micros;
use crate::{Store, StoreError};

/// How long a key's answer is kept and replayed: 24 hours, as Stripe does. A client
/// retrying later than that is sending a new request.
pub const IDEMPOTENCY_KEY_TTL: TimeDelta = TimeDelta::hours(24);

/// The stored `status` of a key whose first request is still running.
const IN_PROGRESS: i64 = 0;

/// The answer to a completed request, replayed byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// The HTTP status (100..=999; never 0, which marks a claim).
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// What presenting a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClaim {
    /// The key was free: this request owns it now and must complete or release it.
    Claimed,
    /// The same request finished before: answer with this.
    Replay(StoredAnswer),
    /// The same request is still running elsewhere.
    InProgress,
    /// The key was used for a different request (another fingerprint).
    Mismatch,
}

/// A key's row as read back.
struct KeyRow {
    fingerprint: String,
    status: i64,
    content_type: Option<String>,
    body: Option<Vec<u8>>,
    created_at: i64,
}

/// Attempts at claiming before giving up with [`KeyClaim::InProgress`]. A second attempt
/// is only needed when the row vanished between the insert and the read (released by
/// its owner, or expired and deleted); a third would need that to happen twice.
const CLAIM_ATTEMPTS: usize = 3;

impl Store {
    /// Presents `key` for a request whose method, path and body hash to `fingerprint`:
    /// claims the key when it is free (or its row has expired), otherwise says what the
    /// existing row holds.
    pub async fn claim_idempotency_key(
        &self,
        workspace_id: WorkspaceId,
        key: &str,
        fingerprint: &str,
    ) -> Result<KeyClaim, StoreError> {
        for _ in 0..CLAIM_ATTEMPTS {
            let now = self.clock.now();
            let inserted = on_write!(&self.backend, pool => {
                sqlx::query(
                    "INSERT INTO idempotency_keys (workspace_id, key, fingerprint, status, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, key) DO NOTHING",
                )
                .bind(workspace_id.to_string())
                .bind(key)
                .bind(fingerprint)
                .bind(IN_PROGRESS)
                .bind(to_micros(now))
                .execute(pool)
                .await?
                .rows_affected()
            });
            if inserted == 1 {
                return Ok(KeyClaim::Claimed);
            }
            let Some(row) = self.idempotency_key_row(workspace_id, key).await? else {
                continue;
            };
            if row.created_at < to_micros(now - IDEMPOTENCY_KEY_TTL) {
                // Only this row, and only if it is still the expired one: a concurrent
                // request may have deleted it and claimed the key afresh already.
                on_write!(&self.backend, pool => {
                    sqlx::query(
                        "DELETE FROM idempotency_keys \
                         WHERE workspace_id = $1 AND key = $2 AND created_at = $3",
                    )
                    .bind(workspace_id.to_string())
                    .bind(key)
                    .bind(row.created_at)
                    .execute(pool)
                    .await?;
                });
                continue;
            }
            return classify(row, fingerprint);
        }
        Ok(KeyClaim::InProgress)
    }

    /// Stores the answer of the request that claimed `key`. Returns false when the
    /// claim was no longer held (released, or expired and taken by another request);
    /// then nothing is stored.
    pub async fn complete_idempotency_key(
        &self,
        workspace_id: WorkspaceId,
        key: &str,
        fingerprint: &str,
        answer: &StoredAnswer,
    ) -> Result<bool, StoreError> {
        let updated = on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE idempotency_keys SET status = $1, content_type = $2, body = $3 \
                 WHERE workspace_id = $4 AND key = $5 AND fingerprint = $6 AND status = $7",
            )
            .bind(i64::from(answer.status))
            .bind(answer.content_type.as_deref())
            .bind(answer.body.as_slice())
            .bind(workspace_id.to_string())
            .bind(key)
            .bind(fingerprint)
            .bind(IN_PROGRESS)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    /// Gives up the claim on `key` so the request can be retried with it. A completed
    /// key is never released.
    pub async fn release_idempotency_key(
        &self,
        workspace_id: WorkspaceId,
        key: &str,
        fingerprint: &str,
    ) -> Result<(), StoreError> {
        on_write!(&self.backend, pool => {
            sqlx::query(
                "DELETE FROM idempotency_keys \
                 WHERE workspace_id = $1 AND key = $2 AND fingerprint = $3 AND status = $4",
            )
            .bind(workspace_id.to_string())
            .bind(key)
            .bind(fingerprint)
            .bind(IN_PROGRESS)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn idempotency_key_row(
        &self,
        workspace_id: WorkspaceId,
        key: &str,
    ) -> Result<Option<KeyRow>, StoreError> {
        on_read!(&self.backend, pool => {
            let row = sqlx::query(
                "SELECT fingerprint, status, content_type, body, created_at \
                 FROM idempotency_keys WHERE workspace_id = $1 AND key = $2",
            )
            .bind(workspace_id.to_string())
            .bind(key)
            .fetch_optional(pool)
            .await?;
            row.map(|row| -> Result<KeyRow, StoreError> {
                Ok(KeyRow {
                    fingerprint: row.try_get("fingerprint")?,
                    status: row.try_get("status")?,
                    content_type: row.try_get("content_type")?,
                    body: row.try_get("body")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .transpose()
        })
    }
}

/// A different request under the same key is a client error whatever state the key is
/// in, so the fingerprint is compared first.
fn classify(row: KeyRow, fingerprint: &str) -> Result<KeyClaim, StoreError> {
    if row.fingerprint != fingerprint {
        return Ok(KeyClaim::Mismatch);
    }
    if row.status == IN_PROGRESS {
        return Ok(KeyClaim::InProgress);
    }
    let status = u16::try_from(row.status)
        .map_err(|_| StoreError::Corrupt(format!("idempotency_keys.status {}", row.status)))?;
    Ok(KeyClaim::Replay(StoredAnswer {
        status,
        content_type: row.content_type,
        body: row.body.unwrap_or_default(),
    }))
}
