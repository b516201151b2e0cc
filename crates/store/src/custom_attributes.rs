//! Custom attribute definitions. Options of a CLOSED attribute are stored as a JSON
//! array on the definition row: they are always read with it and never queried alone.

use leadline_core::WorkspaceId;
use leadline_core::custom_attribute::{AttributeDefinition, AttributeKind, AttributeOption};
use sqlx::Row;

use crate::backend::{on_read, on_write};
use crate::rows::{id, to_micros};
use crate::{Store, StoreError};

macro_rules! attribute_columns {
    () => {
        "id, key, label, kind, options, required"
    };
}

/// Reads a definition row (the columns of `attribute_columns!`).
pub(crate) fn read_definition<R: Row>(row: &R) -> Result<AttributeDefinition, StoreError>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let kind: String = row.try_get("kind")?;
    let options: String = row.try_get("options")?;
    Ok(AttributeDefinition {
        id: id("custom_attributes.id", &row.try_get::<String, _>("id")?)?,
        key: row.try_get("key")?,
        label: row.try_get("label")?,
        kind: AttributeKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("custom_attributes.kind '{kind}'")))?,
        options: serde_json::from_str::<Vec<AttributeOption>>(&options)
            .map_err(|e| StoreError::Corrupt(format!("custom_attributes.options: {e}")))?,
        required: row.try_get("required")?,
    })
}

impl Store {
    /// Stores a validated definition; a second one with the same key in the workspace
    /// is [`StoreError::Duplicate`].
    pub async fn create_custom_attribute(
        &self,
        workspace_id: WorkspaceId,
        definition: &AttributeDefinition,
    ) -> Result<(), StoreError> {
        let options = serde_json::to_string(&definition.options).expect("options serialize");
        on_write!(&self.backend, pool => {
            sqlx::query(
                "INSERT INTO custom_attributes (id, workspace_id, key, label, kind, options, required, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(definition.id.to_string())
            .bind(workspace_id.to_string())
            .bind(&definition.key)
            .bind(&definition.label)
            .bind(definition.kind.as_str())
            .bind(options)
            .bind(definition.required)
            .bind(to_micros(self.clock.now()))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Every definition of the workspace, in creation order.
    pub async fn custom_attributes(
        &self,
        workspace_id: WorkspaceId,
    ) -> Result<Vec<AttributeDefinition>, StoreError> {
        on_read!(&self.backend, pool => {
            sqlx::query(concat!("SELECT ", attribute_columns!(), " FROM custom_attributes WHERE workspace_id = $1 ORDER BY id"))
                .bind(workspace_id.to_string())
                .fetch_all(pool)
                .await?
                .iter()
                .map(read_definition)
                .collect()
        })
    }
}
