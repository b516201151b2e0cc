//! Keeping every stored secret sealed under the current key: the start-up sweep that
//! seals legacy clear-text values, the check that no stored value needs a key this
//! process lacks, and the batches of `leadline secrets rotate`. The secrets are the
//! channels' credentials, the workspaces' LLM keys and the webhook endpoints' signing
//! secrets (the current one and the previous one of a rotation).
//!
//! Legacy values are sealed at start-up rather than when next read or written: a
//! channel that is seldom used would otherwise keep its token in clear indefinitely,
//! and reads stay free of writes. The sweep seals only clear values, never values
//! under a previous key: in a cluster another node may not have the new key yet, so
//! moving to a new key is the operator's explicit `secrets rotate`.
//!
//! Every re-seal is a compare-and-swap on the stored text it read, so a sweep or a
//! rotation racing a server that changes the same secret (or another sweep on another
//! node) never overwrites a newer value: the loser simply finds the row again.

use leadline_core::agent::settings::AgentSettings;
use leadline_core::{ChannelId, WorkspaceId};

use crate::backend::on_write;
use crate::rows::{FromStoreRow, StoreRow, fetch_all};
use crate::secret_box::SecretError;
use crate::secret_store::Stored;
use crate::{Store, StoreError};

/// What one pass of re-sealing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Values looked at.
    pub seen: u64,
    /// Values written under the primary key.
    pub resealed: u64,
}

struct ChannelSecretsRow {
    id: ChannelId,
    workspace_id: WorkspaceId,
    stored: Stored,
}

impl FromStoreRow for ChannelSecretsRow {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            stored: Stored {
                text: row.text("secrets")?,
                key_id: row.optional_text("secrets_key_id")?,
            },
        })
    }
}

struct LlmKeyRow {
    id: WorkspaceId,
    settings: Option<String>,
    stored: Option<Stored>,
}

impl FromStoreRow for LlmKeyRow {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        let text = row.optional_text("llm_api_key")?;
        let key_id = row.optional_text("llm_api_key_id")?;
        Ok(Self {
            id: row.id("id")?,
            settings: row.optional_text("agent_settings")?,
            stored: text.map(|text| Stored { text, key_id }),
        })
    }
}

struct KeyIdRow(String);

impl FromStoreRow for KeyIdRow {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        row.text("kid").map(KeyIdRow)
    }
}

struct CountRow(i64);

impl FromStoreRow for CountRow {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        row.int("n").map(CountRow)
    }
}

/// Which stored values a pass re-seals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResealScope {
    /// Only values still in clear (the start-up sweep).
    Legacy,
    /// Every value not sealed under the primary key (a rotation).
    NotPrimary,
}

/// Where a pass over the stored secrets has got to: each table is walked once in id
/// order, so a row that cannot be changed is looked at once per pass, not forever.
#[derive(Debug, Clone, Default)]
pub struct ResealCursor {
    channel: String,
    workspace: String,
    pub(crate) webhook_endpoint: String,
}

const CHANNELS_LEGACY: &str = "SELECT id, workspace_id, secrets, secrets_key_id FROM channels \
     WHERE secrets_key_id IS NULL AND id > $1 ORDER BY id LIMIT $2";
const CHANNELS_NOT_PRIMARY: &str = "SELECT id, workspace_id, secrets, secrets_key_id FROM channels \
     WHERE (secrets_key_id IS NULL OR secrets_key_id <> $1) AND id > $2 ORDER BY id LIMIT $3";
const LLM_KEYS_LEGACY: &str = "SELECT id, agent_settings, llm_api_key, llm_api_key_id FROM workspaces \
     WHERE llm_api_key IS NULL AND agent_settings LIKE '%\"apiKey\"%' AND id > $1 ORDER BY id LIMIT $2";
const LLM_KEYS_NOT_PRIMARY: &str = "SELECT id, agent_settings, llm_api_key, llm_api_key_id FROM workspaces \
     WHERE ((llm_api_key IS NOT NULL AND llm_api_key_id <> $1) \
        OR (llm_api_key IS NULL AND agent_settings LIKE '%\"apiKey\"%')) AND id > $2 ORDER BY id LIMIT $3";
const COUNT_TO_RESEAL: &str = "SELECT \
     (SELECT COUNT(*) FROM channels WHERE secrets_key_id IS NULL OR secrets_key_id <> $1) + \
     (SELECT COUNT(*) FROM workspaces WHERE (llm_api_key IS NOT NULL AND llm_api_key_id <> $1) \
        OR (llm_api_key IS NULL AND agent_settings LIKE '%\"apiKey\"%')) + \
     (SELECT COUNT(*) FROM webhook_endpoints WHERE secret_key_id <> $1 \
        OR (previous_secret IS NOT NULL AND previous_secret_key_id <> $1)) AS n";
const KEY_IDS_IN_USE: &str = "SELECT DISTINCT secrets_key_id AS kid FROM channels WHERE secrets_key_id IS NOT NULL \
     UNION SELECT DISTINCT llm_api_key_id AS kid FROM workspaces WHERE llm_api_key_id IS NOT NULL \
     UNION SELECT DISTINCT secret_key_id AS kid FROM webhook_endpoints \
     UNION SELECT DISTINCT previous_secret_key_id AS kid FROM webhook_endpoints \
        WHERE previous_secret IS NOT NULL AND previous_secret_key_id IS NOT NULL";

impl Store {
    /// What a server does with the stored secrets before it serves: refuses (with
    /// the key id and what to do) when a stored value is sealed under a key it does
    /// not have, then seals every legacy clear-text value. Does nothing without keys.
    pub async fn prepare_secrets(&self) -> Result<Resealed, StoreError> {
        let Some(keys) = self.secret_keys() else {
            return Ok(Resealed::default());
        };
        let in_use = fetch_all::<KeyIdRow>(&self.backend, KEY_IDS_IN_USE, vec![]).await?;
        for KeyIdRow(kid) in in_use {
            if !keys.ring().has_key(&kid) && !keys.reload_for(&kid) {
                return Err(SecretError::UnknownKey {
                    at: "a stored secret".into(),
                    kid,
                    primary: keys.ring().primary().id().to_owned(),
                }
                .into());
            }
        }
        let mut total = Resealed::default();
        let mut cursor = ResealCursor::default();
        loop {
            let pass = self
                .reseal_batch(ResealScope::Legacy, &mut cursor, 500)
                .await?;
            total.seen += pass.seen;
            total.resealed += pass.resealed;
            if pass.seen == 0 {
                break;
            }
        }
        if total.resealed > 0 {
            self.backend.checkpoint().await?;
            tracing::info!(
                sealed = total.resealed,
                "sealed secrets stored in clear by an older version"
            );
        }
        Ok(total)
    }

    /// After re-sealing: on SQLite, moves the rewritten pages out of the WAL into the
    /// database file (where the replaced values were zeroed), so the old values leave
    /// the disk.
    pub async fn checkpoint_after_reseal(&self) -> Result<(), StoreError> {
        self.backend.checkpoint().await
    }

    /// How many stored secrets are not sealed under the primary key.
    pub async fn secrets_to_reseal(&self) -> Result<u64, StoreError> {
        let keys = self.secret_keys().ok_or(SecretError::NoKey)?;
        let primary = keys.ring().primary().id().to_owned();
        let rows =
            fetch_all::<CountRow>(&self.backend, COUNT_TO_RESEAL, vec![primary.into()]).await?;
        Ok(rows.first().map_or(0, |row| row.0.max(0) as u64))
    }

    /// Re-seals the next `limit` channel secrets, `limit` LLM keys and (for a
    /// rotation; webhook secrets were never stored in clear) `limit` webhook endpoints'
    /// secrets of `scope` after `cursor` under the primary key, and moves the cursor.
    /// `seen == 0` means the pass is over.
    pub async fn reseal_batch(
        &self,
        scope: ResealScope,
        cursor: &mut ResealCursor,
        limit: u32,
    ) -> Result<Resealed, StoreError> {
        let keys = self.secret_keys().ok_or(SecretError::NoKey)?;
        let primary = keys.ring().primary().id().to_owned();
        let args = |after: &str| match scope {
            ResealScope::Legacy => vec![after.into(), i64::from(limit).into()],
            ResealScope::NotPrimary => {
                vec![
                    primary.clone().into(),
                    after.into(),
                    i64::from(limit).into(),
                ]
            }
        };
        let (channels_sql, keys_sql) = match scope {
            ResealScope::Legacy => (CHANNELS_LEGACY, LLM_KEYS_LEGACY),
            ResealScope::NotPrimary => (CHANNELS_NOT_PRIMARY, LLM_KEYS_NOT_PRIMARY),
        };
        let mut pass = Resealed::default();
        let channels =
            fetch_all::<ChannelSecretsRow>(&self.backend, channels_sql, args(&cursor.channel))
                .await?;
        for row in channels {
            pass.seen += 1;
            cursor.channel = row.id.to_string();
            let secrets = self.open_channel_secrets(row.workspace_id, row.id, &row.stored)?;
            let sealed = self.seal_channel_secrets(row.workspace_id, row.id, &secrets)?;
            let swapped = on_write!(&self.backend, pool => {
                sqlx::query("UPDATE channels SET secrets = $1, secrets_key_id = $2 WHERE id = $3 AND secrets = $4")
                    .bind(&sealed.text)
                    .bind(&sealed.key_id)
                    .bind(row.id.to_string())
                    .bind(&row.stored.text)
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
            pass.resealed += swapped;
        }
        let workspaces =
            fetch_all::<LlmKeyRow>(&self.backend, keys_sql, args(&cursor.workspace)).await?;
        for row in workspaces {
            pass.seen += 1;
            cursor.workspace = row.id.to_string();
            pass.resealed += self.reseal_llm_key(row).await?;
        }
        if scope == ResealScope::NotPrimary {
            let webhooks = self
                .reseal_webhook_secrets(&primary, &mut cursor.webhook_endpoint, limit)
                .await?;
            pass.seen += webhooks.seen;
            pass.resealed += webhooks.resealed;
        }
        Ok(pass)
    }

    /// Re-seals one workspace's LLM key, moving a clear one out of the settings JSON.
    async fn reseal_llm_key(&self, row: LlmKeyRow) -> Result<u64, StoreError> {
        let (key, settings_text) = match &row.stored {
            Some(stored) => (self.open_llm_key(row.id, stored)?, row.settings.clone()),
            None => {
                let text = row.settings.clone().unwrap_or_default();
                let mut settings: AgentSettings = serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("workspaces.agent_settings: {e}")))?;
                let Some(key) = settings.llm.as_mut().and_then(|llm| llm.api_key.take()) else {
                    return Ok(0);
                };
                let cleared = serde_json::to_string(&settings).expect("settings serialize");
                (key, Some(cleared))
            }
        };
        let sealed = self.seal_llm_key(row.id, &key)?;
        let read = row
            .stored
            .as_ref()
            .map(|stored| stored.text.clone())
            .unwrap_or_default();
        let swapped = on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE workspaces SET llm_api_key = $1, llm_api_key_id = $2, agent_settings = $3 \
                 WHERE id = $4 AND COALESCE(llm_api_key, '') = $5 AND COALESCE(agent_settings, '') = $6",
            )
            .bind(&sealed.text)
            .bind(&sealed.key_id)
            .bind(&settings_text)
            .bind(row.id.to_string())
            .bind(read)
            .bind(row.settings.clone().unwrap_or_default())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(swapped)
    }
}
