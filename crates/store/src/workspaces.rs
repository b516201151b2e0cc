//! Workspaces (tenants) and their API keys. Only key hashes are stored.

use chrono::{DateTime, Utc};
use leadline_core::{ApiKey, ApiKeyHash, WorkspaceId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;

use crate::api_keys::{first_key_record, insert_key_sql};
use crate::backend::{on_read, on_write};
use crate::rows::{OptionalText, fetch_optional, from_micros, id, to_micros};
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Creates a workspace with its first API key, in one transaction.
    pub async fn create_workspace(&self, name: &str) -> Result<(Workspace, ApiKey), StoreError> {
        let workspace = Workspace {
            id: WorkspaceId::new(),
            name: name.to_owned(),
            created_at: self.clock.now(),
        };
        let key = ApiKey::generate();
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(workspace.id.to_string())
                .bind(&workspace.name)
                .bind(to_micros(workspace.created_at))
                .execute(&mut *tx)
                .await?;
            let record = first_key_record(workspace.id, &key, workspace.created_at);
            insert_key_sql(&record, &key.hash()).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok((workspace, key))
    }

    /// Creates the first workspace when the database has none: what `leadline serve`
    /// does on its first start. Returns `None` when a workspace already exists.
    ///
    /// Several nodes may start together on one empty database, so the check and the
    /// insert are one statement, and on PostgreSQL the transaction first locks the table
    /// against other inserts: a second node waits for the first one's commit, then finds
    /// its workspace. (A count followed by an insert let each node create one.) SQLite
    /// needs no lock: the statement is the transaction's first, so it starts as a write
    /// transaction and sees every write committed before it.
    pub async fn create_first_workspace(
        &self,
        name: &str,
    ) -> Result<Option<(Workspace, ApiKey)>, StoreError> {
        let workspace = Workspace {
            id: WorkspaceId::new(),
            name: name.to_owned(),
            created_at: self.clock.now(),
        };
        let key = ApiKey::generate();
        let postgres = matches!(self.backend, crate::Backend::Postgres(_));
        let created = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            if postgres {
                sqlx::query("LOCK TABLE workspaces IN SHARE ROW EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
            }
            let inserted = sqlx::query(
                "INSERT INTO workspaces (id, name, created_at) SELECT $1, $2, $3 \
                 WHERE NOT EXISTS (SELECT 1 FROM workspaces)",
            )
            .bind(workspace.id.to_string())
            .bind(&workspace.name)
            .bind(to_micros(workspace.created_at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                let record = first_key_record(workspace.id, &key, workspace.created_at);
                insert_key_sql(&record, &key.hash()).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            inserted == 1
        });
        Ok(created.then_some((workspace, key)))
    }

    /// A new full-scope key for an existing workspace; `None` when the workspace does
    /// not exist. (See [`Store::issue_api_key`] for names, scopes and expiry.)
    pub async fn create_api_key(
        &self,
        workspace_id: WorkspaceId,
    ) -> Result<Option<ApiKey>, StoreError> {
        let issued = self
            .issue_api_key(workspace_id, crate::api_keys::NewApiKey::default())
            .await?;
        Ok(issued.map(|(_, key)| key))
    }

    pub async fn workspace(
        &self,
        workspace_id: WorkspaceId,
    ) -> Result<Option<Workspace>, StoreError> {
        let row = on_read!(&self.backend, pool => {
            sqlx::query("SELECT id, name, created_at FROM workspaces WHERE id = $1")
                .bind(workspace_id.to_string())
                .fetch_optional(pool)
                .await?
                .map(|row| -> Result<_, StoreError> {
                    Ok(Workspace {
                        id: id("workspaces.id", row.try_get("id")?)?,
                        name: row.try_get("name")?,
                        created_at: from_micros(row.try_get("created_at")?)?,
                    })
                })
        });
        row.transpose()
    }

    /// The workspace a key belongs to, looked up by the key's hash; `None` for a revoked
    /// key. (Authentication reads [`Store::api_key_grant`], which also says why.)
    pub async fn workspace_for_key(
        &self,
        hash: &ApiKeyHash,
    ) -> Result<Option<WorkspaceId>, StoreError> {
        let found: Option<String> = on_read!(&self.backend, pool => {
            sqlx::query_scalar("SELECT workspace_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
                .bind(hash.to_hex())
                .fetch_optional(pool)
                .await?
        });
        found
            .map(|value| id("api_keys.workspace_id", &value))
            .transpose()
    }
}

/// A settings document kept as JSON on the workspace's row; NULL means the defaults.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SettingsColumn {
    NumberPool,
    Agent,
}

impl SettingsColumn {
    fn select(self) -> &'static str {
        match self {
            SettingsColumn::NumberPool => {
                "SELECT number_settings AS value FROM workspaces WHERE id = $1"
            }
            SettingsColumn::Agent => "SELECT agent_settings AS value FROM workspaces WHERE id = $1",
        }
    }

    fn update(self) -> &'static str {
        match self {
            SettingsColumn::NumberPool => {
                "UPDATE workspaces SET number_settings = $1 WHERE id = $2"
            }
            SettingsColumn::Agent => "UPDATE workspaces SET agent_settings = $1 WHERE id = $2",
        }
    }

    fn name(self) -> &'static str {
        match self {
            SettingsColumn::NumberPool => "workspaces.number_settings",
            SettingsColumn::Agent => "workspaces.agent_settings",
        }
    }
}

impl Store {
    /// The workspace's settings in `column`; the defaults when it never set any (or
    /// does not exist).
    pub(crate) async fn workspace_settings<T: DeserializeOwned + Default>(
        &self,
        workspace_id: WorkspaceId,
        column: SettingsColumn,
    ) -> Result<T, StoreError> {
        let stored = fetch_optional::<OptionalText>(
            &self.backend,
            column.select(),
            vec![workspace_id.to_string().into()],
        )
        .await?;
        match stored.and_then(|row| row.0) {
            None => Ok(T::default()),
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("{}: {e}", column.name()))),
        }
    }

    /// Stores the workspace's settings in `column` (validated by the caller); `false`
    /// when there is no such workspace.
    pub(crate) async fn set_workspace_settings<T: Serialize>(
        &self,
        workspace_id: WorkspaceId,
        column: SettingsColumn,
        settings: &T,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(settings).expect("settings serialize");
        let updated = on_write!(&self.backend, pool => {
            sqlx::query(column.update())
                .bind(json)
                .bind(workspace_id.to_string())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(updated > 0)
    }
}
