//! Delivery attempts of webhook endpoints, and what they say of an endpoint's health:
//! a success ends its failing run; a 410 Gone, or a failing run 5 days long, disables
//! it, with a `webhook_endpoint.disabled` event written in the same transaction. The
//! dispatcher writes a batch of attempts in the transaction that records its jobs'
//! outcomes ([`write_webhook_attempts!`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
pub use leadline_core::event::AttemptStatus;
use leadline_core::event::{EventType, NewEvent, schedule};
use leadline_core::views::WebhookEndpointView;
use leadline_core::{EventId, WebhookEndpointId, WorkspaceId};

use super::WebhookEndpoint;
use crate::Backend;
use crate::backend::on_write;
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
pub(crate) enum Verdict {
    Healthy,
    Failing,
    Gone,
}

/// The last word of the batch on each endpoint, in first-seen order.
pub(crate) fn verdicts(attempts: &[NewWebhookAttempt]) -> Vec<(WebhookEndpointId, Verdict)> {
    let mut out: Vec<(WebhookEndpointId, Verdict)> = Vec::new();
    for attempt in attempts {
        let verdict = match (attempt.status, attempt.gone) {
            (_, true) => Verdict::Gone,
            (AttemptStatus::Succeeded, false) => Verdict::Healthy,
            (AttemptStatus::Failed, false) => Verdict::Failing,
        };
        match out.iter_mut().find(|(id, _)| *id == attempt.endpoint_id) {
            Some((_, Verdict::Gone)) => {}
            Some(slot) => slot.1 = verdict,
            None => out.push((attempt.endpoint_id, verdict)),
        }
    }
    out
}

/// The `webhook_endpoint.disabled` event of an endpoint just disabled.
pub(crate) fn disabled_event(endpoint: &WebhookEndpoint, now: DateTime<Utc>) -> NewEvent {
    NewEvent::new(
        endpoint.workspace_id,
        EventType::WebhookEndpointDisabled,
        endpoint.id,
        WebhookEndpointView::from(endpoint),
        now,
    )
}

/// A failing run that began at or before this time disables its endpoint.
pub(crate) fn failing_cutoff(now: DateTime<Utc>) -> i64 {
    to_micros(
        now - chrono::Duration::from_std(schedule::DISABLE_AFTER_FAILING_FOR).expect("5 days fit"),
    )
}

/// Records a batch of attempts in one statement, from a JSON array of rows
/// `[id, workspace, endpoint, event, status, code, duration_ms, excerpt]`; attempts of
/// an endpoint deleted meanwhile are left out.
const INSERT_SQLITE: &str = "INSERT INTO webhook_attempts (id, workspace_id, endpoint_id, event_id, \
    status, response_code, duration_ms, response_excerpt, attempted_at) \
    SELECT a.value ->> 0, a.value ->> 1, a.value ->> 2, a.value ->> 3, a.value ->> 4, \
    a.value ->> 5, a.value ->> 6, a.value ->> 7, $2 FROM json_each($1) AS a \
    WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = a.value ->> 2)";
const INSERT_POSTGRES: &str = "INSERT INTO webhook_attempts (id, workspace_id, endpoint_id, event_id, \
    status, response_code, duration_ms, response_excerpt, attempted_at) \
    SELECT a ->> 0, a ->> 1, a ->> 2, a ->> 3, a ->> 4, (a ->> 5)::bigint, (a ->> 6)::bigint, \
    a ->> 7, $2 FROM jsonb_array_elements($1::jsonb) AS a \
    WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = a ->> 2)";

pub(crate) fn insert_attempts(backend: &Backend) -> &'static str {
    match backend {
        Backend::Sqlite { .. } => INSERT_SQLITE,
        Backend::Postgres(_) => INSERT_POSTGRES,
    }
}

/// The rows of [`INSERT_SQLITE`] / [`INSERT_POSTGRES`], each with a new time-ordered id.
pub(crate) fn attempt_rows(attempts: &[NewWebhookAttempt]) -> String {
    let rows: Vec<serde_json::Value> = attempts
        .iter()
        .map(|attempt| {
            serde_json::json!([
                EventId::new().to_string(),
                attempt.workspace_id.to_string(),
                attempt.endpoint_id.to_string(),
                attempt.event_id.to_string(),
                attempt.status.as_str(),
                attempt.response_code,
                i64::try_from(attempt.duration.as_millis()).unwrap_or(i64::MAX),
                attempt.response_excerpt,
            ])
        })
        .collect();
    serde_json::to_string(&rows).expect("attempts serialize")
}

/// Disables an endpoint still enabled, returning it as it now is.
pub(crate) const DISABLE: &str = "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $2, updated_at = $3 \
    WHERE id = $1 AND enabled = 1 RETURNING id, workspace_id, url, description, event_types, enabled, \
    rate_limit, disabled_reason, failing_since, previous_secret_until, created_at, updated_at";

/// Writes `$attempts` (recorded at `$now`) and what they say of their endpoints with
/// the executor `$conn` (a transaction, reborrowed as `&mut *$conn`) of `$backend`: the
/// attempt rows in one statement, each endpoint's failing run, and for each endpoint
/// they disable, its waiting deliveries dropped and its `webhook_endpoint.disabled`
/// event. Evaluates to the endpoints disabled.
macro_rules! write_webhook_attempts {
    ($conn:expr, $backend:expr, $attempts:expr, $now:expr) => {{
        use $crate::rows::FromStoreRow as _;
        use $crate::webhook_endpoints::attempts as attempts_sql;
        let attempts: &[$crate::webhook_endpoints::NewWebhookAttempt] = $attempts;
        let now: chrono::DateTime<chrono::Utc> = $now;
        let mut disabled: Vec<leadline_core::WebhookEndpointId> = Vec::new();
        if !attempts.is_empty() {
            let micros = $crate::rows::to_micros(now);
            sqlx::query(attempts_sql::insert_attempts($backend))
                .bind(attempts_sql::attempt_rows(attempts))
                .bind(micros)
                .execute(&mut *$conn)
                .await?;
            let mut events = Vec::new();
            for (endpoint, verdict) in attempts_sql::verdicts(attempts) {
                let reason = match verdict {
                    attempts_sql::Verdict::Healthy => {
                        sqlx::query("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL")
                            .bind(endpoint.to_string())
                            .execute(&mut *$conn)
                            .await?;
                        None
                    }
                    attempts_sql::Verdict::Gone => Some("the endpoint answered 410 Gone"),
                    attempts_sql::Verdict::Failing => {
                        let since: Option<(i64,)> = sqlx::query_as(
                            "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2) \
                             WHERE id = $1 RETURNING failing_since",
                        )
                        .bind(endpoint.to_string())
                        .bind(micros)
                        .fetch_optional(&mut *$conn)
                        .await?;
                        since
                            .filter(|(since,)| *since <= attempts_sql::failing_cutoff(now))
                            .map(|_| "every delivery failed for 5 days")
                    }
                };
                let Some(reason) = reason else { continue };
                let Some(row) = sqlx::query(attempts_sql::DISABLE)
                    .bind(endpoint.to_string())
                    .bind(reason)
                    .bind(micros)
                    .fetch_optional(&mut *$conn)
                    .await?
                else {
                    continue;
                };
                let found = $crate::webhook_endpoints::WebhookEndpoint::from_row(&row)?;
                sqlx::query("DELETE FROM jobs WHERE lane = $1 AND lease_token IS NULL")
                    .bind(leadline_core::job::Task::webhook_lane(endpoint))
                    .execute(&mut *$conn)
                    .await?;
                events.push(attempts_sql::disabled_event(&found, now));
                disabled.push(endpoint);
            }
            $crate::events::record_events!($conn, &events, now);
        }
        disabled
    }};
}
pub(crate) use write_webhook_attempts;

impl Store {
    /// Records a batch of attempts and what they say of their endpoints, in one
    /// transaction with the `webhook_endpoint.disabled` events of the endpoints it
    /// disabled. Returns those endpoints.
    pub async fn record_webhook_attempts(
        &self,
        attempts: &[NewWebhookAttempt],
    ) -> Result<Vec<WebhookEndpointId>, StoreError> {
        if attempts.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.clock.now();
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let disabled = write_webhook_attempts!(tx, &self.backend, attempts, now);
            tx.commit().await?;
            Ok(disabled)
        })
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
