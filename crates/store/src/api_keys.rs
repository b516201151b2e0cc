//! API keys over their life: issued (only the hash and a display prefix are stored),
//! listed, used (recorded at most once a minute by the caller), revoked. Also the
//! workspace's rate limits, which authentication reads together with the key, and the
//! key generation: one counter bumped by every revocation and every change of rate
//! limits, which nodes poll to know whether the keys they cached are still good.

use chrono::{DateTime, Utc};
use leadline_core::rate_limit::RateLimitSettings;
use leadline_core::{ApiKey, ApiKeyHash, ApiKeyId, ApiKeyScope, WorkspaceId};
use sqlx::Row;

use crate::backend::{on_read, on_write};
use crate::rows::{FromStoreRow, StoreRow, fetch_all, fetch_optional, page_args, to_micros};
use crate::{Store, StoreError};

/// What a new key may do and for how long.
#[derive(Debug, Clone, Default)]
pub struct NewApiKey {
    pub name: Option<String>,
    pub scope: Option<ApiKeyScope>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key as lists show it: never the key, never its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub workspace_id: WorkspaceId,
    pub name: Option<String>,
    /// `None` for keys created before prefixes were kept.
    pub prefix: Option<String>,
    pub scope: ApiKeyScope,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl FromStoreRow for ApiKeyRecord {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            name: row.optional_text("name")?,
            prefix: row.optional_text("prefix")?,
            scope: row.parsed("scope", ApiKeyScope::parse)?,
            created_at: row.time("created_at")?,
            last_used_at: row.optional_time("last_used_at")?,
            expires_at: row.optional_time("expires_at")?,
            revoked_at: row.optional_time("revoked_at")?,
        })
    }
}

/// What authentication needs to know of a presented key, read in one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGrant {
    pub key_id: ApiKeyId,
    pub workspace_id: WorkspaceId,
    pub scope: ApiKeyScope,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    /// The workspace's limits for each of its keys.
    pub rate_limits: RateLimitSettings,
}

impl FromStoreRow for KeyGrant {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        let rate_limits = match row.optional_text("rate_limits")? {
            None => RateLimitSettings::default(),
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("workspaces.rate_limits: {e}")))?,
        };
        Ok(Self {
            key_id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            scope: row.parsed("scope", ApiKeyScope::parse)?,
            expires_at: row.optional_time("expires_at")?,
            revoked: row.optional_int("revoked_at")?.is_some(),
            rate_limits,
        })
    }
}

impl Store {
    /// Issues a key for `workspace_id`; `None` when there is no such workspace. The key
    /// is returned once, here; the store keeps its hash and display prefix.
    pub async fn issue_api_key(
        &self,
        workspace_id: WorkspaceId,
        new: NewApiKey,
    ) -> Result<Option<(ApiKeyRecord, ApiKey)>, StoreError> {
        if self.workspace(workspace_id).await?.is_none() {
            return Ok(None);
        }
        let key = ApiKey::generate();
        let record = ApiKeyRecord {
            id: ApiKeyId::new(),
            workspace_id,
            name: new.name,
            prefix: Some(key.display_prefix()),
            scope: new.scope.unwrap_or(ApiKeyScope::Full),
            created_at: self.clock.now(),
            last_used_at: None,
            expires_at: new.expires_at,
            revoked_at: None,
        };
        on_write!(&self.backend, pool => {
            insert_key_sql(&record, &key.hash()).execute(pool).await?;
        });
        Ok(Some((record, key)))
    }

    /// One page of the workspace's keys that are not revoked (expired ones included, so
    /// they can be seen and removed), in creation order.
    pub async fn api_keys(
        &self,
        workspace_id: WorkspaceId,
        after: Option<ApiKeyId>,
        limit: u32,
    ) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let sql = "SELECT id, workspace_id, name, prefix, scope, created_at, last_used_at, expires_at, revoked_at \
                   FROM api_keys WHERE workspace_id = $1 AND id > $2 AND revoked_at IS NULL \
                   ORDER BY id LIMIT $3";
        fetch_all(&self.backend, sql, page_args(workspace_id, after, limit)).await
    }

    /// A key by id, revoked or not.
    pub async fn api_key(&self, id: ApiKeyId) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = "SELECT id, workspace_id, name, prefix, scope, created_at, last_used_at, expires_at, revoked_at \
                   FROM api_keys WHERE id = $1";
        fetch_optional(&self.backend, sql, vec![id.to_string().into()]).await
    }

    /// Revokes a key that is not revoked yet: of `workspace_id` only when given (the
    /// API's case), of any workspace otherwise (the operator's CLI). Returns the revoked
    /// key, or `None` when there was no such key to revoke. The key generation moves in
    /// the same transaction, so every node that polls it drops its cached keys.
    pub async fn revoke_api_key(
        &self,
        workspace_id: Option<WorkspaceId>,
        id: ApiKeyId,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let now = to_micros(self.clock.now());
        let workspace = workspace_id.map(|w| w.to_string()).unwrap_or_default();
        let revoked = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let row = sqlx::query(
                "UPDATE api_keys SET revoked_at = $1 \
                 WHERE id = $2 AND ($3 = '' OR workspace_id = $3) AND revoked_at IS NULL \
                 RETURNING id, workspace_id, name, prefix, scope, created_at, last_used_at, expires_at, revoked_at",
            )
            .bind(now)
            .bind(id.to_string())
            .bind(&workspace)
            .fetch_optional(&mut *tx)
            .await?;
            let revoked = row.as_ref().map(ApiKeyRecord::from_row).transpose()?;
            if revoked.is_some() {
                bump_generation_sql().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            revoked
        });
        Ok(revoked)
    }

    /// The key whose hash is `hash`, with its workspace's rate limits; `None` when no
    /// key has that hash. Revoked and expired keys are returned as such: the caller
    /// decides, and may remember the refusal.
    pub async fn api_key_grant(&self, hash: &ApiKeyHash) -> Result<Option<KeyGrant>, StoreError> {
        let sql = "SELECT k.id, k.workspace_id, k.scope, k.expires_at, k.revoked_at, w.rate_limits \
                   FROM api_keys AS k JOIN workspaces AS w ON w.id = k.workspace_id \
                   WHERE k.key_hash = $1";
        fetch_optional(&self.backend, sql, vec![hash.to_hex().into()]).await
    }

    /// Records that the key was used at `at`, unless a use at or after `not_before`
    /// is already recorded (another node's): callers record at most once a minute per
    /// key, and this keeps the nodes from moving the time back and forth.
    pub async fn record_api_key_use(
        &self,
        id: ApiKeyId,
        at: DateTime<Utc>,
        not_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE api_keys SET last_used_at = $1 \
                 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
            )
            .bind(to_micros(at))
            .bind(id.to_string())
            .bind(to_micros(not_before))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The key generation: moves whenever a key is revoked or rate limits change. One
    /// primary-key read, cheap enough to poll several times a second.
    pub async fn api_key_generation(&self) -> Result<i64, StoreError> {
        let generation: i64 = on_read!(&self.backend, pool => {
            sqlx::query("SELECT generation FROM api_key_generation WHERE id = 1")
                .fetch_one(pool)
                .await?
                .try_get("generation")?
        });
        Ok(generation)
    }

    /// The workspace's rate limits; the defaults when it never set any.
    pub async fn rate_limit_settings(
        &self,
        workspace_id: WorkspaceId,
    ) -> Result<RateLimitSettings, StoreError> {
        let stored: Option<Option<String>> = on_read!(&self.backend, pool => {
            sqlx::query_scalar("SELECT rate_limits FROM workspaces WHERE id = $1")
                .bind(workspace_id.to_string())
                .fetch_optional(pool)
                .await?
        });
        match stored.flatten() {
            None => Ok(RateLimitSettings::default()),
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("workspaces.rate_limits: {e}"))),
        }
    }

    /// Stores the workspace's rate limits (validated by the caller) and moves the key
    /// generation, so every node applies them to its next request; `false` when there
    /// is no such workspace.
    pub async fn set_rate_limit_settings(
        &self,
        workspace_id: WorkspaceId,
        settings: &RateLimitSettings,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(settings).expect("settings serialize");
        let updated = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query("UPDATE workspaces SET rate_limits = $1 WHERE id = $2")
                .bind(json)
                .bind(workspace_id.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if updated > 0 {
                bump_generation_sql().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            updated
        });
        Ok(updated > 0)
    }
}

/// The statement that moves the key generation. Its row lock orders concurrent bumps,
/// so the value only grows and every committed change is seen as a change.
fn bump_generation_sql<'q, DB: sqlx::Database>()
-> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments> {
    sqlx::query("UPDATE api_key_generation SET generation = generation + 1 WHERE id = 1")
}

/// Inserts a new key's row: every key, whoever issues it, goes through this.
pub(crate) fn insert_key_sql<'q, DB: sqlx::Database>(
    record: &ApiKeyRecord,
    hash: &ApiKeyHash,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(
        "INSERT INTO api_keys (id, workspace_id, key_hash, created_at, name, prefix, scope, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(record.id.to_string())
    .bind(record.workspace_id.to_string())
    .bind(hash.to_hex())
    .bind(to_micros(record.created_at))
    .bind(record.name.clone())
    .bind(record.prefix.clone())
    .bind(record.scope.as_str().to_owned())
    .bind(record.expires_at.map(to_micros))
}

/// A full-scope key without name or expiry, as a new workspace's first key.
pub(crate) fn first_key_record(
    workspace_id: WorkspaceId,
    key: &ApiKey,
    at: DateTime<Utc>,
) -> ApiKeyRecord {
    ApiKeyRecord {
        id: ApiKeyId::new(),
        workspace_id,
        name: None,
        prefix: Some(key.display_prefix()),
        scope: ApiKeyScope::Full,
        created_at: at,
        last_used_at: None,
        expires_at: None,
        revoked_at: None,
    }
}
