//! The workspace's do-not-contact list: numbers the gate refuses on every channel.

use chrono::{DateTime, Utc};
use leadline_core::{E164, WorkspaceId};

use crate::backend::on_write;
use crate::rows::{Arg, FromStoreRow, StoreRow, fetch_all, fetch_optional, to_micros};
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct DoNotContact {
    pub phone_number: E164,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl FromStoreRow for DoNotContact {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(DoNotContact {
            phone_number: E164::from_trusted(row.text("phone_number")?),
            reason: row.optional_text("reason")?,
            created_at: row.time("created_at")?,
        })
    }
}

impl Store {
    /// Adds a number to the list (adding it again keeps the first entry).
    pub async fn add_do_not_contact(
        &self,
        workspace_id: WorkspaceId,
        phone: &E164,
        reason: Option<&str>,
    ) -> Result<DoNotContact, StoreError> {
        let now = self.clock.now();
        on_write!(&self.backend, pool => {
            sqlx::query(
                "INSERT INTO do_not_contact (workspace_id, phone_number, reason, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (workspace_id, phone_number) DO NOTHING",
            )
            .bind(workspace_id.to_string())
            .bind(phone.as_str())
            .bind(reason)
            .bind(to_micros(now))
            .execute(pool)
            .await?;
        });
        self.do_not_contact(workspace_id, phone)
            .await?
            .ok_or_else(|| StoreError::Corrupt("do-not-contact entry vanished".into()))
    }

    /// Takes a number off the list; whether it was on it.
    pub async fn remove_do_not_contact(
        &self,
        workspace_id: WorkspaceId,
        phone: &E164,
    ) -> Result<bool, StoreError> {
        let removed = on_write!(&self.backend, pool => {
            sqlx::query("DELETE FROM do_not_contact WHERE workspace_id = $1 AND phone_number = $2")
                .bind(workspace_id.to_string())
                .bind(phone.as_str())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(removed > 0)
    }

    pub async fn do_not_contact(
        &self,
        workspace_id: WorkspaceId,
        phone: &E164,
    ) -> Result<Option<DoNotContact>, StoreError> {
        let sql = "SELECT phone_number, reason, created_at FROM do_not_contact WHERE workspace_id = $1 AND phone_number = $2";
        fetch_optional(
            &self.backend,
            sql,
            vec![workspace_id.to_string().into(), phone.as_str().into()],
        )
        .await
    }

    /// One page of the list, by number.
    pub async fn list_do_not_contact(
        &self,
        workspace_id: WorkspaceId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DoNotContact>, StoreError> {
        let sql = "SELECT phone_number, reason, created_at FROM do_not_contact \
                   WHERE workspace_id = $1 AND phone_number > $2 ORDER BY phone_number LIMIT $3";
        let args: Vec<Arg> = vec![
            workspace_id.to_string().into(),
            after.unwrap_or_default().into(),
            i64::from(limit).into(),
        ];
        fetch_all(&self.backend, sql, args).await
    }
}
