//! Message templates. A template is unique per workspace by name and language; its
//! body is stored as written and its placeholder count alongside, so a send checks its
//! parameters without parsing the body again.

use chrono::{DateTime, Utc};
use leadline_core::channel::MessageProviderType;
use leadline_core::template::{TemplateBody, TemplateStatus};
use leadline_core::{TemplateId, WorkspaceId};

use crate::backend::on_write;
use crate::rows::{FromStoreRow, StoreRow, fetch_all, fetch_optional, page_args, to_micros};
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub id: TemplateId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    /// A language code as the provider wants it (`en`, `es`, `en_US`).
    pub language: String,
    pub body: TemplateBody,
    pub channel_type: MessageProviderType,
    pub status: TemplateStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub name: String,
    pub language: String,
    pub body: TemplateBody,
    pub channel_type: MessageProviderType,
    pub status: TemplateStatus,
}

macro_rules! template_columns {
    () => {
        "id, workspace_id, name, language, body, placeholders, channel_type, status, created_at, updated_at"
    };
}

impl FromStoreRow for Template {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        let body = row.text("body")?;
        Ok(Template {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            name: row.text("name")?,
            language: row.text("language")?,
            body: TemplateBody::parse("templates.body", &body)
                .map_err(|e| StoreError::Corrupt(e.message))?,
            channel_type: row.parsed("channel_type", MessageProviderType::parse)?,
            status: row.parsed("status", TemplateStatus::parse)?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Store {
    /// Creates a template; the same name and language twice is [`StoreError::Duplicate`].
    pub async fn create_template(
        &self,
        workspace_id: WorkspaceId,
        new: NewTemplate,
    ) -> Result<Template, StoreError> {
        let now = self.clock.now();
        let template = Template {
            id: TemplateId::new(),
            workspace_id,
            name: new.name,
            language: new.language,
            body: new.body,
            channel_type: new.channel_type,
            status: new.status,
            created_at: now,
            updated_at: now,
        };
        on_write!(&self.backend, pool => {
            sqlx::query(concat!(
                "INSERT INTO templates (", template_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(template.id.to_string())
            .bind(workspace_id.to_string())
            .bind(&template.name)
            .bind(&template.language)
            .bind(template.body.as_str())
            .bind(template.body.placeholders() as i64)
            .bind(template.channel_type.as_str())
            .bind(template.status.as_str())
            .bind(to_micros(now))
            .bind(to_micros(now))
            .execute(pool)
            .await?;
        });
        Ok(template)
    }

    /// Records the provider's verdict on a template.
    pub async fn set_template_status(
        &self,
        workspace_id: WorkspaceId,
        template_id: TemplateId,
        status: TemplateStatus,
    ) -> Result<Option<Template>, StoreError> {
        let now = self.clock.now();
        on_write!(&self.backend, pool => {
            sqlx::query("UPDATE templates SET status = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4")
                .bind(status.as_str())
                .bind(to_micros(now))
                .bind(workspace_id.to_string())
                .bind(template_id.to_string())
                .execute(pool)
                .await?;
        });
        self.template(workspace_id, template_id).await
    }

    pub async fn template(
        &self,
        workspace_id: WorkspaceId,
        template_id: TemplateId,
    ) -> Result<Option<Template>, StoreError> {
        let sql = concat!(
            "SELECT ",
            template_columns!(),
            " FROM templates WHERE workspace_id = $1 AND id = $2"
        );
        let args = vec![
            workspace_id.to_string().into(),
            template_id.to_string().into(),
        ];
        fetch_optional(&self.backend, sql, args).await
    }

    /// Every language version of the named template.
    pub async fn templates_named(
        &self,
        workspace_id: WorkspaceId,
        name: &str,
    ) -> Result<Vec<Template>, StoreError> {
        let sql = concat!(
            "SELECT ",
            template_columns!(),
            " FROM templates WHERE workspace_id = $1 AND name = $2 ORDER BY id"
        );
        fetch_all(
            &self.backend,
            sql,
            vec![workspace_id.to_string().into(), name.into()],
        )
        .await
    }

    /// One page of the workspace's templates in creation order.
    pub async fn list_templates(
        &self,
        workspace_id: WorkspaceId,
        after: Option<TemplateId>,
        limit: u32,
    ) -> Result<Vec<Template>, StoreError> {
        let sql = concat!(
            "SELECT ",
            template_columns!(),
            " FROM templates WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        fetch_all(&self.backend, sql, page_args(workspace_id, after, limit)).await
    }

    /// The workspace's approved templates for `channel_type`, by name and language.
    pub async fn approved_templates(
        &self,
        workspace_id: WorkspaceId,
        channel_type: MessageProviderType,
    ) -> Result<Vec<Template>, StoreError> {
        let sql = concat!(
            "SELECT ",
            template_columns!(),
            " FROM templates WHERE workspace_id = $1 AND channel_type = $2 AND status = 'APPROVED' \
             ORDER BY name, language"
        );
        fetch_all(
            &self.backend,
            sql,
            vec![
                workspace_id.to_string().into(),
                channel_type.as_str().into(),
            ],
        )
        .await
    }
}
