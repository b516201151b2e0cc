//! What configures the agent of a workspace: its settings (one JSON document on the
//! workspace row, like the number pool's) and its flow scripts, one per scope: a
//! campaign's, a channel's, or the workspace-wide one. A conversation gets the most
//! specific script that applies to it.
//!
//! The scope is stored as one text column (`campaign:<id>`, `channel:<id>` or
//! `workspace`) under `UNIQUE (workspace_id, scope)`, so the database itself refuses a
//! second script for a scope, even between two concurrent requests.

use chrono::{DateTime, Utc};
use leadline_core::agent::flow::FlowScript;
use leadline_core::agent::settings::AgentSettings;
use leadline_core::{AgentScriptId, ChannelId, WorkspaceId};

use crate::backend::on_write;
use crate::rows::{FromStoreRow, StoreRow, fetch_all, fetch_optional, page_args, to_micros};
use crate::secret_store::Stored;
use crate::workspaces::SettingsColumn;
use crate::{Store, StoreError};

/// A flow script and the conversations it answers.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentScript {
    pub id: AgentScriptId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    /// Set for a campaign's script: compared with the conversations' `campaignId`,
    /// which is free text from the lead's source, not a leadline campaign.
    pub campaign_id: Option<String>,
    /// Set for a channel's script.
    pub channel_id: Option<ChannelId>,
    pub script: FlowScript,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which conversations a script answers; one script per scope and workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentScriptScope {
    /// Conversations with this `campaignId`.
    Campaign(String),
    /// Conversations on this channel without a campaign script.
    Channel(ChannelId),
    /// Every other conversation of the workspace.
    Workspace,
}

impl AgentScriptScope {
    /// The stored `scope` column.
    fn key(&self) -> String {
        match self {
            AgentScriptScope::Campaign(campaign_id) => campaign_key(campaign_id),
            AgentScriptScope::Channel(channel_id) => channel_key(*channel_id),
            AgentScriptScope::Workspace => WORKSPACE_KEY.to_owned(),
        }
    }
}

const WORKSPACE_KEY: &str = "workspace";

fn campaign_key(campaign_id: &str) -> String {
    format!("campaign:{campaign_id}")
}

fn channel_key(channel_id: ChannelId) -> String {
    format!("channel:{channel_id}")
}

impl AgentScript {
    pub fn scope(&self) -> AgentScriptScope {
        match (&self.campaign_id, self.channel_id) {
            (Some(campaign_id), _) => AgentScriptScope::Campaign(campaign_id.clone()),
            (None, Some(channel_id)) => AgentScriptScope::Channel(channel_id),
            (None, None) => AgentScriptScope::Workspace,
        }
    }
}

/// What a client sets on a script (validated by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentScriptFields {
    pub name: String,
    pub scope: AgentScriptScope,
    pub script: FlowScript,
}

impl AgentScriptFields {
    fn campaign_id(&self) -> Option<&str> {
        match &self.scope {
            AgentScriptScope::Campaign(campaign_id) => Some(campaign_id),
            _ => None,
        }
    }

    fn channel_id(&self) -> Option<ChannelId> {
        match self.scope {
            AgentScriptScope::Channel(channel_id) => Some(channel_id),
            _ => None,
        }
    }

    fn script_json(&self) -> String {
        serde_json::to_string(&self.script).expect("a flow script serializes")
    }
}

impl StoreError {
    /// Whether this is a second script for a scope that has one.
    pub fn is_duplicate_scope(&self) -> bool {
        self.is_duplicate_of("scope")
    }
}

macro_rules! script_columns {
    () => {
        "id, workspace_id, name, scope, campaign_id, channel_id, script, created_at, updated_at"
    };
}

impl FromStoreRow for AgentScript {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(AgentScript {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            name: row.text("name")?,
            campaign_id: row.optional_text("campaign_id")?,
            channel_id: row.optional_id("channel_id")?,
            script: row.json("script")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Store {
    /// The workspace's agent settings: the defaults until they are set (or when there
    /// is no such workspace). The LLM key is opened from its sealed column and
    /// included, for the agent's client; `llm.api_key_set` says whether there is one.
    /// (A key still in clear inside the settings JSON, from before the start-up sweep
    /// sealed it, is read as it is.)
    pub async fn agent_settings(
        &self,
        workspace_id: WorkspaceId,
    ) -> Result<AgentSettings, StoreError> {
        let mut settings: AgentSettings = self
            .workspace_settings(workspace_id, SettingsColumn::Agent)
            .await?;
        if let Some(llm) = &mut settings.llm {
            if let Some(stored) = self.stored_llm_key(workspace_id).await? {
                llm.api_key = Some(self.open_llm_key(workspace_id, &stored)?);
            }
            llm.api_key_set = llm.api_key.is_some();
        }
        Ok(settings)
    }

    /// Stores the workspace's agent settings (validated by the caller): the JSON
    /// without the LLM key, and the key sealed in its own column (`None` stores none).
    /// `false` when there is no such workspace.
    pub async fn set_agent_settings(
        &self,
        workspace_id: WorkspaceId,
        settings: &AgentSettings,
    ) -> Result<bool, StoreError> {
        let mut without_key = settings.clone();
        let key = without_key.llm.as_mut().and_then(|llm| {
            llm.api_key_set = false;
            llm.api_key.take()
        });
        let sealed = key
            .map(|key| self.seal_llm_key(workspace_id, &key))
            .transpose()?;
        let json = serde_json::to_string(&without_key).expect("settings serialize");
        let updated = on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE workspaces SET agent_settings = $1, llm_api_key = $2, llm_api_key_id = $3 \
                 WHERE id = $4",
            )
            .bind(json)
            .bind(sealed.as_ref().map(|s| s.text.clone()))
            .bind(sealed.as_ref().and_then(|s| s.key_id.clone()))
            .bind(workspace_id.to_string())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated > 0)
    }

    /// The sealed LLM key of the workspace, if it has one.
    async fn stored_llm_key(
        &self,
        workspace_id: WorkspaceId,
    ) -> Result<Option<Stored>, StoreError> {
        let row = fetch_optional::<StoredLlmKey>(
            &self.backend,
            "SELECT llm_api_key, llm_api_key_id FROM workspaces WHERE id = $1",
            vec![workspace_id.to_string().into()],
        )
        .await?;
        Ok(row.and_then(|row| row.0))
    }

    /// Creates a script; a scope that has one is [`StoreError::Duplicate`] (see
    /// [`StoreError::is_duplicate_scope`]).
    pub async fn create_agent_script(
        &self,
        workspace_id: WorkspaceId,
        fields: AgentScriptFields,
    ) -> Result<AgentScript, StoreError> {
        let now = self.clock.now();
        let script = AgentScript {
            id: AgentScriptId::new(),
            workspace_id,
            name: fields.name.clone(),
            campaign_id: fields.campaign_id().map(str::to_owned),
            channel_id: fields.channel_id(),
            script: fields.script.clone(),
            created_at: now,
            updated_at: now,
        };
        on_write!(&self.backend, pool => {
            sqlx::query(concat!(
                "INSERT INTO agent_scripts (", script_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(script.id.to_string())
            .bind(workspace_id.to_string())
            .bind(&script.name)
            .bind(fields.scope.key())
            .bind(fields.campaign_id())
            .bind(fields.channel_id().map(|id| id.to_string()))
            .bind(fields.script_json())
            .bind(to_micros(now))
            .bind(to_micros(now))
            .execute(pool)
            .await?;
        });
        Ok(script)
    }

    /// Replaces a script's name, scope and questions; `None` when there is no such
    /// script, [`StoreError::Duplicate`] when the new scope has another script.
    pub async fn replace_agent_script(
        &self,
        workspace_id: WorkspaceId,
        script_id: AgentScriptId,
        fields: AgentScriptFields,
    ) -> Result<Option<AgentScript>, StoreError> {
        let now = self.clock.now();
        let updated = on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE agent_scripts SET name = $1, scope = $2, campaign_id = $3, channel_id = $4, \
                 script = $5, updated_at = $6 WHERE workspace_id = $7 AND id = $8",
            )
            .bind(&fields.name)
            .bind(fields.scope.key())
            .bind(fields.campaign_id())
            .bind(fields.channel_id().map(|id| id.to_string()))
            .bind(fields.script_json())
            .bind(to_micros(now))
            .bind(workspace_id.to_string())
            .bind(script_id.to_string())
            .execute(pool)
            .await?
            .rows_affected()
        });
        if updated == 0 {
            return Ok(None);
        }
        self.agent_script(workspace_id, script_id).await
    }

    pub async fn delete_agent_script(
        &self,
        workspace_id: WorkspaceId,
        script_id: AgentScriptId,
    ) -> Result<bool, StoreError> {
        let deleted = on_write!(&self.backend, pool => {
            sqlx::query("DELETE FROM agent_scripts WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id.to_string())
                .bind(script_id.to_string())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted > 0)
    }

    pub async fn agent_script(
        &self,
        workspace_id: WorkspaceId,
        script_id: AgentScriptId,
    ) -> Result<Option<AgentScript>, StoreError> {
        let sql = concat!(
            "SELECT ",
            script_columns!(),
            " FROM agent_scripts WHERE workspace_id = $1 AND id = $2"
        );
        let args = vec![
            workspace_id.to_string().into(),
            script_id.to_string().into(),
        ];
        fetch_optional(&self.backend, sql, args).await
    }

    /// One page of the workspace's scripts in creation order.
    pub async fn list_agent_scripts(
        &self,
        workspace_id: WorkspaceId,
        after: Option<AgentScriptId>,
        limit: u32,
    ) -> Result<Vec<AgentScript>, StoreError> {
        let sql = concat!(
            "SELECT ",
            script_columns!(),
            " FROM agent_scripts WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        fetch_all(&self.backend, sql, page_args(workspace_id, after, limit)).await
    }

    /// The script that answers a conversation of this campaign (if it has one) on this
    /// channel: the campaign's, else the channel's, else the workspace's. One lookup
    /// of at most three rows through the `(workspace_id, scope)` key, the most
    /// specific first.
    pub async fn agent_script_for(
        &self,
        workspace_id: WorkspaceId,
        campaign_id: Option<&str>,
        channel_id: ChannelId,
    ) -> Result<Option<AgentScript>, StoreError> {
        let sql = concat!(
            "SELECT ",
            script_columns!(),
            " FROM agent_scripts WHERE workspace_id = $1 AND scope IN ($2, $3, $4) \
             ORDER BY CASE WHEN scope = $4 THEN 2 WHEN channel_id IS NOT NULL THEN 1 ELSE 0 END \
             LIMIT 1"
        );
        // Without a campaign, `$2` is a key no row has: every stored scope has a prefix.
        let campaign = campaign_id.map(campaign_key).unwrap_or_default();
        let args = vec![
            workspace_id.to_string().into(),
            campaign.into(),
            channel_key(channel_id).into(),
            WORKSPACE_KEY.into(),
        ];
        fetch_optional(&self.backend, sql, args).await
    }
}

/// The `llm_api_key` columns of a workspace row.
struct StoredLlmKey(Option<Stored>);

impl FromStoreRow for StoredLlmKey {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        let text = row.optional_text("llm_api_key")?;
        let key_id = row.optional_text("llm_api_key_id")?;
        Ok(StoredLlmKey(text.map(|text| Stored { text, key_id })))
    }
}
