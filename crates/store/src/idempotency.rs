//! Idempotency keys: what a POST sent with an `Idempotency-Key` header answered, so a
//! retry of the same request gets that answer again instead of running twice.
//!
//! A key belongs to a workspace. Its row goes through two states: claimed (`status` 0,
//! the first request is still running) and completed (the answer's status, content
//! type and body). Claiming is one `INSERT … ON CONFLICT DO NOTHING`, so of any number
//! of concurrent requests, on any number of nodes, exactly one owns a key. Each claim
//! gets a random token; the answer is stored, and a claim that should not be kept (the
//! request failed with a 5xx and may be retried) is released by deleting the row, only
//! under that token.
//!
//! **Recovery.** A claim whose request died with its node would otherwise block the key
//! until it expires. The caller says how long a request may run (its timeout plus a
//! margin, `takeover_after`); a claim older than that is taken over by one guarded
//! `UPDATE` that names the token and claim time it read, so of two retries only one
//! wins, and the dead owner's token no longer matches anything.
//!
//! **Expiry.** Keys expire [`IDEMPOTENCY_KEY_TTL`] after they were claimed. A key
//! presented again after that is freed on the spot (one primary-key lookup); the rest
//! are deleted by [`Store::delete_expired_idempotency_keys`], oldest first in bounded
//! batches through the `created_at` index, which the server's sweeper calls.

use chrono::{DateTime, TimeDelta, Utc};
use leadline_core::WorkspaceId;
use sqlx::Row;

use crate::backend::{on_read, on_write};
use crate::rows::{from_micros, to_micros};
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

/// Proof of owning a claim: completing or releasing the key needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimToken(String);

impl ClaimToken {
    fn new() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }
}

/// What presenting a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClaim {
    /// The key was free, or held by a request that ran past `takeover_after`
    /// (`took_over`): this request owns it now and must complete or release it.
    Claimed { token: ClaimToken, took_over: bool },
    /// The same request finished before: answer with this.
    Replay(StoredAnswer),
    /// The same request is still running elsewhere. If it died, the key can be taken
    /// over from `takeover_at`.
    InProgress { takeover_at: DateTime<Utc> },
    /// The key was used for a different request (another fingerprint).
    Mismatch,
}

/// A key's row as read back.
struct KeyRow {
    fingerprint: String,
    status: i64,
    content_type: Option<String>,
    body: Option<Vec<u8>>,
    claim_token: String,
    created_at: i64,
}

/// Attempts at claiming before giving up with [`KeyClaim::InProgress`]. A second attempt
/// is only needed when the row changed between the insert and the read (released by
/// its owner, expired and deleted, or taken over by another retry); a third would need
/// that to happen twice.
const CLAIM_ATTEMPTS: usize = 3;

impl Store {
    /// Presents `key` for a request whose method, path and body hash to `fingerprint`:
    /// claims the key when it is free, expired, or held by a request of the same
    /// fingerprint claimed more than `takeover_after` ago; otherwise says what the
    /// existing row holds.
    pub async fn claim_idempotency_key(
        &self,
        workspace_id: WorkspaceId,
        key: &str,
        fingerprint: &str,
        takeover_after: TimeDelta,
    ) -> Result<KeyClaim, StoreError> {
        let mut last_seen = None;
        for _ in 0..CLAIM_ATTEMPTS {
            let now = self.clock.now();
            let token = ClaimToken::new();
            let inserted = on_write!(&self.backend, pool => {
                sqlx::query(
                    "INSERT INTO idempotency_keys \
                     (workspace_id, key, fingerprint, status, claim_token, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (workspace_id, key) DO NOTHING",
                )
                .bind(workspace_id.to_string())
                .bind(key)
                .bind(fingerprint)
                .bind(IN_PROGRESS)
                .bind(&token.0)
                .bind(to_micros(now))
                .execute(pool)
                .await?
                .rows_affected()
            });
            if inserted == 1 {
                return Ok(KeyClaim::Claimed {
                    token,
                    took_over: false,
                });
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
            if row.fingerprint != fingerprint {
                // A different request under the same key is a client error whatever
                // state the key is in.
                return Ok(KeyClaim::Mismatch);
            }
            if row.status != IN_PROGRESS {
                return replay(row);
            }
            let claimed_at = from_micros(row.created_at)?;
            if now - claimed_at < takeover_after {
                last_seen = Some(claimed_at + takeover_after);
                break;
            }
            if self.take_over(workspace_id, key, &row, &token, now).await? {
                return Ok(KeyClaim::Claimed {
                    token,
                    took_over: true,
                });
            }
            // Another retry took it over (or its owner finished) meanwhile: look again.
        }
        let takeover_at = match last_seen {
            Some(at) => at,
            None => self.clock.now() + takeover_after,
        };
        Ok(KeyClaim::InProgress { takeover_at })
    }

    /// Moves a stale claim to `token`, only if it is still exactly the claim that was
    /// read (same token, same claim time, still in progress): two retries that read the
    /// same stale row cannot both win.
    async fn take_over(
        &self,
        workspace_id: WorkspaceId,
        key: &str,
        stale: &KeyRow,
        token: &ClaimToken,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let updated = on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE idempotency_keys SET claim_token = $1, created_at = $2 \
                 WHERE workspace_id = $3 AND key = $4 AND status = $5 \
                   AND claim_token = $6 AND created_at = $7",
            )
            .bind(&token.0)
            .bind(to_micros(now))
            .bind(workspace_id.to_string())
            .bind(key)
            .bind(IN_PROGRESS)
            .bind(&stale.claim_token)
            .bind(stale.created_at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    /// Stores the answer of the request holding the claim `token`. Returns false when
    /// the claim was no longer held (released, expired, or taken over); then nothing is
    /// stored.
    pub async fn complete_idempotency_key(
        &self,
        workspace_id: WorkspaceId,
        key: &str,
        token: &ClaimToken,
        answer: &StoredAnswer,
    ) -> Result<bool, StoreError> {
        let updated = on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE idempotency_keys SET status = $1, content_type = $2, body = $3 \
                 WHERE workspace_id = $4 AND key = $5 AND claim_token = $6 AND status = $7",
            )
            .bind(i64::from(answer.status))
            .bind(answer.content_type.as_deref())
            .bind(answer.body.as_slice())
            .bind(workspace_id.to_string())
            .bind(key)
            .bind(&token.0)
            .bind(IN_PROGRESS)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    /// Gives up the claim `token` on `key` so the request can be retried with it. A
    /// completed key, or a claim taken over by another request, is never released.
    pub async fn release_idempotency_key(
        &self,
        workspace_id: WorkspaceId,
        key: &str,
        token: &ClaimToken,
    ) -> Result<(), StoreError> {
        on_write!(&self.backend, pool => {
            sqlx::query(
                "DELETE FROM idempotency_keys \
                 WHERE workspace_id = $1 AND key = $2 AND claim_token = $3 AND status = $4",
            )
            .bind(workspace_id.to_string())
            .bind(key)
            .bind(&token.0)
            .bind(IN_PROGRESS)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Deletes up to `limit` keys, of every workspace, claimed more than
    /// [`IDEMPOTENCY_KEY_TTL`] ago, oldest first; returns how many went. A sweep calls
    /// it until it deletes fewer than `limit`, so no statement holds locks for long.
    pub async fn delete_expired_idempotency_keys(&self, limit: u32) -> Result<u64, StoreError> {
        let expired_before = to_micros(self.clock.now() - IDEMPOTENCY_KEY_TTL);
        // The outer `created_at` test is evaluated again on each row as it is deleted:
        // a key claimed afresh (taken over) after the inner SELECT read it stays.
        Ok(on_write!(&self.backend, pool => {
            sqlx::query(
                "DELETE FROM idempotency_keys WHERE created_at < $1 AND (workspace_id, key) IN \
                 (SELECT workspace_id, key FROM idempotency_keys WHERE created_at < $2 \
                  ORDER BY created_at LIMIT $3)",
            )
            .bind(expired_before)
            .bind(expired_before)
            .bind(i64::from(limit))
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }

    async fn idempotency_key_row(
        &self,
        workspace_id: WorkspaceId,
        key: &str,
    ) -> Result<Option<KeyRow>, StoreError> {
        on_read!(&self.backend, pool => {
            let row = sqlx::query(
                "SELECT fingerprint, status, content_type, body, claim_token, created_at \
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
                    claim_token: row.try_get("claim_token")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .transpose()
        })
    }
}

/// The stored answer of a completed key.
fn replay(row: KeyRow) -> Result<KeyClaim, StoreError> {
    let status = u16::try_from(row.status)
        .map_err(|_| StoreError::Corrupt(format!("idempotency_keys.status {}", row.status)))?;
    Ok(KeyClaim::Replay(StoredAnswer {
        status,
        content_type: row.content_type,
        body: row.body.unwrap_or_default(),
    }))
}
