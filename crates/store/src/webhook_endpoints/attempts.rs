//! Delivery attempts of webhook endpoints, and what they say of an endpoint's health:
//! a success ends its failing run; a 410 Gone, or a failing run 5 days long, disables
//! it, with a `webhook_endpoint.disabled` event written in the same transaction.

use std::time::Duration;

use chrono::{DateTime, Utc};
pub use leadline_core::event::AttemptStatus;
use leadline_core::event::{EventType, NewEvent, schedule};
use leadline_core::job::Task;
use leadline_core::views::WebhookEndpointView;
use leadline_core::{EventId, WebhookEndpointId, WorkspaceId};

use super::{ENDPOINT_BY_ID, WebhookEndpoint};
use crate::backend::on_write;
use crate::events::record_events;
use crate::rows::{FromStoreRow, StoreRow, fetch_all, to_micros};
use crate::{Store, StoreError};

/// One attempt to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhookAttempt {
    pub workspace_id: WorkspaceId,
    pub endpoint_id: WebhookEndpointId,
    pub event_id: EventId,
    pub status: AttemptStatus,
    pub response_code: Option<u16>,
    pub duration: Duration,
    /// The first bytes of the answer, or why there was none.
    pub response_excerpt: Option<String>,
    /// The endpoint answered 410 Gone: it is disabled.
    pub gone: bool,
}

/// One attempt as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAttempt {
    pub id: String,
    pub endpoint_id: WebhookEndpointId,
    pub event_id: EventId,
    pub status: AttemptStatus,
    pub response_code: Option<u16>,
    pub duration_ms: u64,
    pub response_excerpt: Option<String>,
    pub attempted_at: DateTime<Utc>,
}

impl FromStoreRow for WebhookAttempt {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        let status = row.text("status")?;
        Ok(WebhookAttempt {
            id: row.text("id")?,
            endpoint_id: crate::rows::id(
                "webhook_attempts.endpoint_id",
                &row.text("endpoint_id")?,
            )?,
            event_id: crate::rows::id("webhook_attempts.event_id", &row.text("event_id")?)?,
            status: AttemptStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("attempt status '{status}'")))?,
            response_code: row
                .optional_int("response_code")?
                .and_then(|code| u16::try_from(code).ok()),
            duration_ms: u64::try_from(row.int("duration_ms")?).unwrap_or(0),
            response_excerpt: row.optional_text("response_excerpt")?,
            attempted_at: row.time("attempted_at")?,
        })
    }
}

impl From<&WebhookEndpoint> for WebhookEndpointView {
    fn from(endpoint: &WebhookEndpoint) -> Self {
        use leadline_core::views::timestamp;
        WebhookEndpointView {
            id: endpoint.id.to_string(),
            workspace_id: endpoint.workspace_id.to_string(),
            url: endpoint.url.clone(),
            description: endpoint.description.clone(),
            event_types: endpoint.event_types.listed().map(<[EventType]>::to_vec),
            enabled: endpoint.enabled,
            rate_limit: endpoint.rate_limit,
            disabled_reason: endpoint.disabled_reason.clone(),
            failing_since: endpoint.failing_since.map(timestamp),
            previous_secret_expires_at: endpoint.previous_secret_until.map(timestamp),
            created_at: timestamp(endpoint.created_at),
            updated_at: timestamp(endpoint.updated_at),
        }
    }
}

/// How an endpoint stands after a batch of its attempts.
enum Verdict {
    Healthy,
    Failing,
    Gone,
}

/// The last word of the batch on each endpoint, in first-seen order.
fn verdicts(attempts: &[NewWebhookAttempt]) -> Vec<(WorkspaceId, WebhookEndpointId, Verdict)> {
    let mut out: Vec<(WorkspaceId, WebhookEndpointId, Verdict)> = Vec::new();
    for attempt in attempts {
        let verdict = match (attempt.status, attempt.gone) {
            (_, true) => Verdict::Gone,
            (AttemptStatus::Succeeded, false) => Verdict::Healthy,
            (AttemptStatus::Failed, false) => Verdict::Failing,
        };
        match out.iter_mut().find(|(_, id, _)| *id == attempt.endpoint_id) {
            Some((_, _, Verdict::Gone)) => {}
            Some(slot) => slot.2 = verdict,
            None => out.push((attempt.workspace_id, attempt.endpoint_id, verdict)),
        }
    }
    out
}

const DISABLE: &str = "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $2, updated_at = $3 \
    WHERE id = $1 AND enabled = 1";

impl Store {
    /// Records a batch of attempts and what they say of their endpoints, in one
    /// transaction. Returns the endpoints it disabled.
    pub async fn record_webhook_attempts(
        &self,
        attempts: &[NewWebhookAttempt],
    ) -> Result<Vec<WebhookEndpointId>, StoreError> {
        if attempts.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.clock.now();
        let failing_cutoff = to_micros(
            now - chrono::Duration::from_std(schedule::DISABLE_AFTER_FAILING_FOR)
                .expect("5 days fit"),
        );
        let mut disabled = Vec::new();
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            for attempt in attempts {
                sqlx::query(
                    "INSERT INTO webhook_attempts (id, workspace_id, endpoint_id, event_id, status, \
                     response_code, duration_ms, response_excerpt, attempted_at) \
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS \
                     (SELECT 1 FROM webhook_endpoints WHERE id = $3)",
                )
                .bind(EventId::new().to_string())
                .bind(attempt.workspace_id.to_string())
                .bind(attempt.endpoint_id.to_string())
                .bind(attempt.event_id.to_string())
                .bind(attempt.status.as_str())
                .bind(attempt.response_code.map(i64::from))
                .bind(i64::try_from(attempt.duration.as_millis()).unwrap_or(i64::MAX))
                .bind(attempt.response_excerpt.as_deref())
                .bind(to_micros(now))
                .execute(&mut *tx)
                .await?;
            }
            for (workspace, endpoint, verdict) in verdicts(attempts) {
                let reason = match verdict {
                    Verdict::Healthy => {
                        sqlx::query("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL")
                            .bind(endpoint.to_string())
                            .execute(&mut *tx)
                            .await?;
                        None
                    }
                    Verdict::Gone => Some("the endpoint answered 410 Gone".to_owned()),
                    Verdict::Failing => {
                        let since: Option<(i64,)> = sqlx::query_as(
                            "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2) \
                             WHERE id = $1 RETURNING failing_since",
                        )
                        .bind(endpoint.to_string())
                        .bind(to_micros(now))
                        .fetch_optional(&mut *tx)
                        .await?;
                        since
                            .filter(|(since,)| *since <= failing_cutoff)
                            .map(|_| "every delivery failed for 5 days".to_owned())
                    }
                };
                let Some(reason) = reason else { continue };
                let changed = sqlx::query(DISABLE)
                    .bind(endpoint.to_string())
                    .bind(&reason)
                    .bind(to_micros(now))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if changed == 0 {
                    continue;
                }
                sqlx::query("DELETE FROM jobs WHERE lane = $1 AND lease_token IS NULL")
                    .bind(Task::webhook_lane(endpoint))
                    .execute(&mut *tx)
                    .await?;
                disabled.push((workspace, endpoint));
            }
            // The events about the endpoints disabled, in the same transaction: a
            // disabled endpoint always has its event, whatever happens after the commit.
            let mut events = Vec::with_capacity(disabled.len());
            for (workspace, endpoint) in &disabled {
                let row = sqlx::query(ENDPOINT_BY_ID)
                    .bind(endpoint.to_string())
                    .fetch_one(&mut *tx)
                    .await?;
                let found = WebhookEndpoint::from_row(&row)?;
                events.push(NewEvent::new(
                    *workspace,
                    EventType::WebhookEndpointDisabled,
                    endpoint,
                    WebhookEndpointView::from(&found),
                    now,
                ));
            }
            record_events!(tx, &events, now);
            tx.commit().await?;
        });
        Ok(disabled.into_iter().map(|(_, id)| id).collect())
    }

    /// One page of an endpoint's attempts, newest first.
    pub async fn list_webhook_attempts(
        &self,
        workspace_id: WorkspaceId,
        endpoint_id: WebhookEndpointId,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Vec<WebhookAttempt>, StoreError> {
        let sql = "SELECT id, endpoint_id, event_id, status, response_code, duration_ms, \
                   response_excerpt, attempted_at FROM webhook_attempts \
                   WHERE workspace_id = $1 AND endpoint_id = $2 AND ($3 = '' OR id < $3) \
                   ORDER BY id DESC LIMIT $4";
        fetch_all(
            &self.backend,
            sql,
            vec![
                workspace_id.to_string().into(),
                endpoint_id.to_string().into(),
                before.unwrap_or_default().into(),
                i64::from(limit).into(),
            ],
        )
        .await
    }
}
