//! Writing events and queuing their deliveries, inside the caller's transaction.

use chrono::{DateTime, Utc};
use leadline_core::event::{EventFilter, EventType, NewEvent, schedule};
use leadline_core::job::Task;
use leadline_core::{EventId, JobId, WebhookEndpointId, WorkspaceId};

use crate::StoreError;
use crate::rows::{Arg, placeholders, to_micros};

/// Rows per multi-row INSERT: 7 columns × 100 rows stays far below both databases'
/// limit on bound parameters.
const ROWS_PER_STATEMENT: usize = 100;

/// The enabled endpoints of a workspace and what they receive, read inside the
/// transaction that writes the events.
pub(crate) const SUBSCRIBERS: &str =
    "SELECT id, event_types FROM webhook_endpoints WHERE workspace_id = $1 AND enabled = 1";

/// One delivery of one event to one endpoint, as an outbox job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryJob {
    pub workspace_id: WorkspaceId,
    pub event_id: EventId,
    pub endpoint_id: WebhookEndpointId,
}

/// Writes `$events` and queues their deliveries with the executor `$conn` (a
/// transaction or connection, reborrowed as `&mut *$conn`). Expands per backend.
macro_rules! record_events {
    ($conn:expr, $events:expr, $now:expr) => {{
        let events: &[leadline_core::event::NewEvent] = $events;
        if !events.is_empty() {
            for (sql, args) in $crate::events::write::insert_events(events) {
                $crate::rows::bind_args!(sqlx::AssertSqlSafe(sql), args)
                    .execute(&mut *$conn)
                    .await?;
            }
            let mut jobs = Vec::new();
            for workspace in $crate::events::write::workspaces(events) {
                let rows: Vec<(String, Option<String>)> =
                    sqlx::query_as($crate::events::write::SUBSCRIBERS)
                        .bind(workspace.to_string())
                        .fetch_all(&mut *$conn)
                        .await?;
                jobs.extend($crate::events::write::deliveries(workspace, events, rows)?);
            }
            for (sql, args) in $crate::events::write::insert_delivery_jobs(&jobs, $now) {
                $crate::rows::bind_args!(sqlx::AssertSqlSafe(sql), args)
                    .execute(&mut *$conn)
                    .await?;
            }
        }
    }};
}
pub(crate) use record_events;

/// The distinct workspaces of a batch of events, in first-seen order.
pub(crate) fn workspaces(events: &[NewEvent]) -> Vec<WorkspaceId> {
    let mut seen = Vec::new();
    for event in events {
        if !seen.contains(&event.workspace_id) {
            seen.push(event.workspace_id);
        }
    }
    seen
}

/// Reads an endpoint's stored event types (`NULL` for all).
pub(crate) fn parse_filter(stored: Option<&str>) -> Result<EventFilter, StoreError> {
    let Some(text) = stored else {
        return Ok(EventFilter::All);
    };
    let names: Vec<String> = serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("webhook endpoint event types: {e}")))?;
    names
        .iter()
        .map(|name| {
            EventType::parse(name)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown event type '{name}'")))
        })
        .collect::<Result<_, _>>()
        .map(EventFilter::Only)
}

/// Which of `workspace`'s events go to which of its endpoints.
pub(crate) fn deliveries(
    workspace: WorkspaceId,
    events: &[NewEvent],
    endpoints: Vec<(String, Option<String>)>,
) -> Result<Vec<DeliveryJob>, StoreError> {
    let mut jobs = Vec::new();
    for (id, types) in endpoints {
        let endpoint_id: WebhookEndpointId = crate::rows::id("webhook_endpoints.id", &id)?;
        let filter = parse_filter(types.as_deref())?;
        jobs.extend(
            events
                .iter()
                .filter(|event| event.workspace_id == workspace && filter.accepts(event.event_type))
                .map(|event| DeliveryJob {
                    workspace_id: workspace,
                    event_id: event.id,
                    endpoint_id,
                }),
        );
    }
    Ok(jobs)
}

/// Multi-row INSERTs of the events.
pub(crate) fn insert_events(events: &[NewEvent]) -> Vec<(String, Vec<Arg>)> {
    events
        .chunks(ROWS_PER_STATEMENT)
        .map(|chunk| {
            let rows = rows_of(chunk.len(), 6);
            let sql = format!(
                "INSERT INTO events (id, workspace_id, event_type, resource_id, payload, occurred_at) VALUES {rows}"
            );
            let mut args = Vec::with_capacity(chunk.len() * 6);
            for event in chunk {
                args.push(event.id.to_string().into());
                args.push(event.workspace_id.to_string().into());
                args.push(event.event_type.as_str().into());
                args.push(event.resource_id.clone().into());
                args.push(event.payload().into());
                args.push(to_micros(event.occurred_at).into());
            }
            (sql, args)
        })
        .collect()
}

/// Multi-row INSERTs of delivery jobs, due now.
pub(crate) fn insert_delivery_jobs(
    jobs: &[DeliveryJob],
    now: DateTime<Utc>,
) -> Vec<(String, Vec<Arg>)> {
    jobs.chunks(ROWS_PER_STATEMENT)
        .map(|chunk| {
            let rows = (0..chunk.len())
                .map(|row| {
                    let first = row * 6 + 1;
                    format!(
                        "({}, {max}, NULL, 0, NULL, NULL, 0, 0, NULL)",
                        placeholders(first, 6),
                        max = schedule::ATTEMPTS
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO jobs (id, workspace_id, lane, task, run_at, created_at, max_attempts, \
                 message_id, attempts, lease_owner, lease_token, lease_until, lease_lapsed, last_error) \
                 VALUES {rows}"
            );
            let mut args = Vec::with_capacity(chunk.len() * 6);
            for job in chunk {
                let task = Task::WebhookV1 {
                    event_id: job.event_id,
                    endpoint_id: job.endpoint_id,
                };
                args.push(JobId::new().to_string().into());
                args.push(job.workspace_id.to_string().into());
                args.push(Task::webhook_lane(job.endpoint_id).into());
                args.push(task.to_json().into());
                args.push(to_micros(now).into());
                args.push(to_micros(now).into());
            }
            (sql, args)
        })
        .collect()
}

/// `($1, …, $c), ($c+1, …)` for `count` rows of `columns` values.
fn rows_of(count: usize, columns: usize) -> String {
    (0..count)
        .map(|row| format!("({})", placeholders(row * columns + 1, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}
