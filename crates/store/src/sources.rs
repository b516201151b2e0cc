//! Lead sources: where leads come from (a web form, a list vendor, an ad campaign). A
//! phone number can be reserved for sources, so leads of a source hear from the same
//! numbers. Names are unique per workspace.

use chrono::{DateTime, Utc};
use leadline_core::{SourceId, WorkspaceId};

use crate::backend::on_write;
use crate::rows::{FromStoreRow, StoreRow, fetch_all, fetch_optional, page_args, to_micros};
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub id: SourceId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a client sets on a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFields {
    pub name: String,
    pub description: Option<String>,
}

macro_rules! source_columns {
    () => {
        "id, workspace_id, name, description, created_at, updated_at"
    };
}

impl FromStoreRow for Source {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(Source {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            name: row.text("name")?,
            description: row.optional_text("description")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Store {
    /// Creates a source; a taken name is [`StoreError::Duplicate`].
    pub async fn create_source(
        &self,
        workspace_id: WorkspaceId,
        fields: SourceFields,
    ) -> Result<Source, StoreError> {
        let now = self.clock.now();
        let source = Source {
            id: SourceId::new(),
            workspace_id,
            name: fields.name,
            description: fields.description,
            created_at: now,
            updated_at: now,
        };
        on_write!(&self.backend, pool => {
            sqlx::query(concat!("INSERT INTO sources (", source_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6)"))
                .bind(source.id.to_string())
                .bind(workspace_id.to_string())
                .bind(&source.name)
                .bind(source.description.as_deref())
                .bind(to_micros(now))
                .bind(to_micros(now))
                .execute(pool)
                .await?;
        });
        Ok(source)
    }

    /// Replaces a source's name and description; `None` when there is no such source.
    pub async fn update_source(
        &self,
        workspace_id: WorkspaceId,
        source_id: SourceId,
        fields: SourceFields,
    ) -> Result<Option<Source>, StoreError> {
        let now = self.clock.now();
        let updated = on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE sources SET name = $1, description = $2, updated_at = $3 WHERE workspace_id = $4 AND id = $5",
            )
            .bind(&fields.name)
            .bind(fields.description.as_deref())
            .bind(to_micros(now))
            .bind(workspace_id.to_string())
            .bind(source_id.to_string())
            .execute(pool)
            .await?
            .rows_affected()
        });
        if updated == 0 {
            return Ok(None);
        }
        self.source(workspace_id, source_id).await
    }

    /// Deletes a source; numbers reserved for it lose that reservation (the foreign key
    /// cascades).
    pub async fn delete_source(
        &self,
        workspace_id: WorkspaceId,
        source_id: SourceId,
    ) -> Result<bool, StoreError> {
        let deleted = on_write!(&self.backend, pool => {
            sqlx::query("DELETE FROM sources WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id.to_string())
                .bind(source_id.to_string())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted > 0)
    }

    pub async fn source(
        &self,
        workspace_id: WorkspaceId,
        source_id: SourceId,
    ) -> Result<Option<Source>, StoreError> {
        let sql = concat!(
            "SELECT ",
            source_columns!(),
            " FROM sources WHERE workspace_id = $1 AND id = $2"
        );
        let args = vec![
            workspace_id.to_string().into(),
            source_id.to_string().into(),
        ];
        fetch_optional(&self.backend, sql, args).await
    }

    /// One page of the workspace's sources in creation order.
    pub async fn list_sources(
        &self,
        workspace_id: WorkspaceId,
        after: Option<SourceId>,
        limit: u32,
    ) -> Result<Vec<Source>, StoreError> {
        let sql = concat!(
            "SELECT ",
            source_columns!(),
            " FROM sources WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        fetch_all(&self.backend, sql, page_args(workspace_id, after, limit)).await
    }
}
