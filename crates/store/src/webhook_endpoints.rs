//! Webhook endpoints: where a workspace's events are delivered, with the secret that
//! signs them (sealed at rest, shown once), the previous secret that keeps signing for
//! a while after a rotation, and the endpoint's health: since when its deliveries have
//! been failing, and why leadline disabled it.

pub(crate) mod attempts;
mod reseal;
mod targets;

pub(crate) use attempts::write_webhook_attempts;
pub use attempts::{AttemptStatus, NewWebhookAttempt, WebhookAttempt};

use std::time::Duration;

use chrono::{DateTime, Utc};
use leadline_core::event::EventFilter;
use leadline_core::event::signature::WebhookSecret;
use leadline_core::job::Task;
use leadline_core::{WebhookEndpointId, WorkspaceId};

use crate::backend::on_write;
use crate::events::write::parse_filter;
use crate::rows::{FromStoreRow, StoreRow, fetch_all, fetch_optional, page_args, to_micros};
use crate::secret_box::SealedAt;
use crate::{Store, StoreError};

/// An endpoint as the API shows it (never its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub workspace_id: WorkspaceId,
    pub url: String,
    pub description: String,
    pub event_types: EventFilter,
    pub enabled: bool,
    /// Deliveries per second at most.
    pub rate_limit: Option<u32>,
    /// Why leadline disabled the endpoint, when it did.
    pub disabled_reason: Option<String>,
    /// When the current run of failed deliveries began.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still signs.
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What creating an endpoint takes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhookEndpoint {
    pub url: String,
    pub description: String,
    pub event_types: EventFilter,
    pub enabled: bool,
    pub rate_limit: Option<u32>,
}

/// A change to an endpoint; `None` leaves a field as it is. Enabling an endpoint
/// clears why it was disabled and its failing run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookEndpointPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<EventFilter>,
    pub enabled: Option<bool>,
    pub rate_limit: Option<Option<u32>>,
}

/// The secrets a delivery is signed with now: the current one, and the previous one
/// while its overlap lasts.
#[derive(Debug, Clone)]
pub struct SigningSecrets {
    pub current: WebhookSecret,
    pub previous: Option<WebhookSecret>,
}

impl SigningSecrets {
    pub fn all(&self) -> Vec<&WebhookSecret> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .collect()
    }
}

macro_rules! endpoint_columns {
    () => {
        "id, workspace_id, url, description, event_types, enabled, rate_limit, disabled_reason, \
         failing_since, previous_secret_until, created_at, updated_at"
    };
}

impl FromStoreRow for WebhookEndpoint {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(WebhookEndpoint {
            id: crate::rows::id("webhook_endpoints.id", &row.text("id")?)?,
            workspace_id: crate::rows::id(
                "webhook_endpoints.workspace_id",
                &row.text("workspace_id")?,
            )?,
            url: row.text("url")?,
            description: row.text("description")?,
            event_types: parse_filter(row.optional_text("event_types")?.as_deref())?,
            enabled: row.int("enabled")? != 0,
            rate_limit: row
                .optional_int("rate_limit")?
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            disabled_reason: row.optional_text("disabled_reason")?,
            failing_since: row.optional_time("failing_since")?,
            previous_secret_until: row.optional_time("previous_secret_until")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

/// The sealed secrets of an endpoint as stored.
struct SealedSecrets {
    workspace_id: WorkspaceId,
    secret: String,
    previous: Option<String>,
    previous_until: Option<DateTime<Utc>>,
}

impl FromStoreRow for SealedSecrets {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(SealedSecrets {
            workspace_id: crate::rows::id(
                "webhook_endpoints.workspace_id",
                &row.text("workspace_id")?,
            )?,
            secret: row.text("secret")?,
            previous: row.optional_text("previous_secret")?,
            previous_until: row.optional_time("previous_secret_until")?,
        })
    }
}

fn secret_at(workspace_id: WorkspaceId, id: WebhookEndpointId) -> SealedAt {
    SealedAt::new(
        "webhook_endpoints.secret",
        &[&workspace_id.to_string(), &id.to_string()],
    )
}

pub(crate) fn stored_filter(filter: &EventFilter) -> Option<String> {
    filter.listed().map(|types| {
        let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        serde_json::to_string(&names).expect("names serialize")
    })
}

impl Store {
    /// Creates an endpoint with a new secret, returned this once.
    pub async fn create_webhook_endpoint(
        &self,
        workspace_id: WorkspaceId,
        new: &NewWebhookEndpoint,
    ) -> Result<(WebhookEndpoint, WebhookSecret), StoreError> {
        let id = WebhookEndpointId::new();
        let secret = WebhookSecret::generate();
        let sealed = self.seal(
            secret.expose().expose().as_bytes(),
            &secret_at(workspace_id, id),
        )?;
        let now = to_micros(self.clock.now());
        on_write!(&self.backend, pool => {
            sqlx::query(
                "INSERT INTO webhook_endpoints (id, workspace_id, url, description, event_types, enabled, \
                 rate_limit, secret, secret_key_id, previous_secret, previous_secret_key_id, \
                 previous_secret_until, failing_since, disabled_reason, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, NULL, NULL, NULL, $10, $10)",
            )
            .bind(id.to_string())
            .bind(workspace_id.to_string())
            .bind(&new.url)
            .bind(&new.description)
            .bind(stored_filter(&new.event_types))
            .bind(i64::from(new.enabled))
            .bind(new.rate_limit.map(i64::from))
            .bind(&sealed.envelope)
            .bind(&sealed.key_id)
            .bind(now)
            .execute(pool)
            .await?;
        });
        let endpoint = self
            .webhook_endpoint(workspace_id, id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("webhook endpoint vanished".into()))?;
        Ok((endpoint, secret))
    }

    pub async fn webhook_endpoint(
        &self,
        workspace_id: WorkspaceId,
        id: WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let sql = concat!(
            "SELECT ",
            endpoint_columns!(),
            " FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2"
        );
        fetch_optional(
            &self.backend,
            sql,
            vec![workspace_id.to_string().into(), id.to_string().into()],
        )
        .await
    }

    /// One page of a workspace's endpoints, by id.
    pub async fn list_webhook_endpoints(
        &self,
        workspace_id: WorkspaceId,
        after: Option<WebhookEndpointId>,
        limit: u32,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let sql = concat!(
            "SELECT ",
            endpoint_columns!(),
            " FROM webhook_endpoints WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        fetch_all(&self.backend, sql, page_args(workspace_id, after, limit)).await
    }

    /// Applies a change; `None` when there is no such endpoint.
    pub async fn update_webhook_endpoint(
        &self,
        workspace_id: WorkspaceId,
        id: WebhookEndpointId,
        patch: &WebhookEndpointPatch,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let now = to_micros(self.clock.now());
        let enabling = patch.enabled == Some(true);
        let updated = on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE webhook_endpoints SET url = COALESCE($3, url), \
                 description = COALESCE($4, description), \
                 event_types = CASE WHEN $5 = 1 THEN $6 ELSE event_types END, \
                 enabled = COALESCE($7, enabled), \
                 rate_limit = CASE WHEN $8 = 1 THEN $9 ELSE rate_limit END, \
                 disabled_reason = CASE WHEN $10 = 1 THEN NULL ELSE disabled_reason END, \
                 failing_since = CASE WHEN $10 = 1 THEN NULL ELSE failing_since END, \
                 updated_at = $11 \
                 WHERE workspace_id = $1 AND id = $2",
            )
            .bind(workspace_id.to_string())
            .bind(id.to_string())
            .bind(patch.url.as_deref())
            .bind(patch.description.as_deref())
            .bind(i64::from(patch.event_types.is_some()))
            .bind(patch.event_types.as_ref().and_then(stored_filter))
            .bind(patch.enabled.map(i64::from))
            .bind(i64::from(patch.rate_limit.is_some()))
            .bind(patch.rate_limit.flatten().map(i64::from))
            .bind(i64::from(enabling))
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if updated == 0 {
            return Ok(None);
        }
        self.webhook_endpoint(workspace_id, id).await
    }

    /// Deletes an endpoint, its attempts and its deliveries still waiting; whether it
    /// existed.
    pub async fn delete_webhook_endpoint(
        &self,
        workspace_id: WorkspaceId,
        id: WebhookEndpointId,
    ) -> Result<bool, StoreError> {
        let deleted = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let deleted = sqlx::query("DELETE FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id.to_string())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if deleted > 0 {
                sqlx::query("DELETE FROM jobs WHERE lane = $1")
                    .bind(Task::webhook_lane(id))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            deleted
        });
        Ok(deleted > 0)
    }

    /// Gives the endpoint a new secret, returned this once; the old one keeps signing
    /// beside it for `overlap`. `None` when there is no such endpoint.
    pub async fn rotate_webhook_secret(
        &self,
        workspace_id: WorkspaceId,
        id: WebhookEndpointId,
        overlap: Duration,
    ) -> Result<Option<(WebhookEndpoint, WebhookSecret)>, StoreError> {
        let secret = WebhookSecret::generate();
        let sealed = self.seal(
            secret.expose().expose().as_bytes(),
            &secret_at(workspace_id, id),
        )?;
        let now = self.clock.now();
        let until = now + chrono::Duration::from_std(overlap).unwrap_or(chrono::Duration::zero());
        let rotated = on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE webhook_endpoints SET previous_secret = secret, \
                 previous_secret_key_id = secret_key_id, previous_secret_until = $3, \
                 secret = $4, secret_key_id = $5, updated_at = $6 \
                 WHERE workspace_id = $1 AND id = $2",
            )
            .bind(workspace_id.to_string())
            .bind(id.to_string())
            .bind(to_micros(until))
            .bind(&sealed.envelope)
            .bind(&sealed.key_id)
            .bind(to_micros(now))
            .execute(pool)
            .await?
            .rows_affected()
        });
        if rotated == 0 {
            return Ok(None);
        }
        Ok(self
            .webhook_endpoint(workspace_id, id)
            .await?
            .map(|endpoint| (endpoint, secret)))
    }

    /// What a delivery to the endpoint needs: the endpoint and the secrets that sign
    /// now (the previous one only while its overlap lasts). Looked up by id alone: the
    /// dispatcher has the id from its job.
    pub async fn webhook_delivery_target(
        &self,
        id: WebhookEndpointId,
    ) -> Result<Option<(WebhookEndpoint, SigningSecrets)>, StoreError> {
        Ok(self.webhook_delivery_targets(&[id]).await?.remove(&id))
    }
}
