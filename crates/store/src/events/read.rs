//! Reading the event log, replaying an event and deleting events past their retention.

use chrono::{DateTime, Utc};
use leadline_core::event::EventType;
use leadline_core::{EventId, WebhookEndpointId, WorkspaceId};

use super::write::{DeliveryJob, SUBSCRIBERS, insert_delivery_jobs, parse_filter};
use crate::backend::{on_read, on_write};
use crate::rows::{Arg, FromStoreRow, StoreRow, bind_args, fetch_optional, to_micros};
use crate::{Store, StoreError};

/// An event as the log keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: EventId,
    pub workspace_id: WorkspaceId,
    pub event_type: EventType,
    pub resource_id: String,
    /// `{"type", "timestamp", "data"}`, byte for byte as delivered.
    pub payload: String,
    pub occurred_at: DateTime<Utc>,
}

impl FromStoreRow for StoredEvent {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        let kind = row.text("event_type")?;
        Ok(StoredEvent {
            id: crate::rows::id("events.id", &row.text("id")?)?,
            workspace_id: crate::rows::id("events.workspace_id", &row.text("workspace_id")?)?,
            event_type: EventType::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown event type '{kind}'")))?,
            resource_id: row.text("resource_id")?,
            payload: row.text("payload")?,
            occurred_at: row.time("occurred_at")?,
        })
    }
}

/// Which events a page of the log holds.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Only these types (all when empty).
    pub types: Vec<EventType>,
    /// Only events about this resource.
    pub resource_id: Option<String>,
    /// Only events that occurred at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events after this one (the page cursor).
    pub after: Option<EventId>,
    pub limit: u32,
}

const COLUMNS: &str = "id, workspace_id, event_type, resource_id, payload, occurred_at";

const BY_IDS_SQLITE: &str = "SELECT id, workspace_id, event_type, resource_id, payload, occurred_at \
    FROM events WHERE id IN (SELECT value FROM json_each($1))";
const BY_IDS_POSTGRES: &str = "SELECT id, workspace_id, event_type, resource_id, payload, occurred_at \
    FROM events WHERE id = ANY(ARRAY(SELECT json_array_elements_text($1::json)))";

impl Store {
    /// One page of a workspace's events, oldest first.
    pub async fn list_events(
        &self,
        workspace_id: WorkspaceId,
        query: &EventQuery,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let types = if query.types.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = query.types.iter().map(|t| t.as_str()).collect();
            format!(",{},", names.join(","))
        };
        let resource = if query.resource_id.is_some() {
            "AND resource_id = $5"
        } else {
            "AND $5 = ''"
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE workspace_id = $1 AND id > $2 \
             AND occurred_at >= $3 AND ($4 = '' OR $4 LIKE '%,' || event_type || ',%') \
             {resource} ORDER BY id LIMIT $6"
        );
        let args: Vec<Arg> = vec![
            workspace_id.to_string().into(),
            query
                .after
                .map(|id| id.to_string())
                .unwrap_or_default()
                .into(),
            query.since.map(to_micros).unwrap_or(i64::MIN).into(),
            types.into(),
            query.resource_id.clone().unwrap_or_default().into(),
            i64::from(query.limit).into(),
        ];
        on_read!(&self.backend, pool => {
            bind_args!(sqlx::AssertSqlSafe(sql), args)
                .fetch_all(pool)
                .await?
                .iter()
                .map(StoredEvent::from_row)
                .collect()
        })
    }

    /// One event of a workspace.
    pub async fn event(
        &self,
        workspace_id: WorkspaceId,
        id: EventId,
    ) -> Result<Option<StoredEvent>, StoreError> {
        const SQL: &str = "SELECT id, workspace_id, event_type, resource_id, payload, occurred_at \
                           FROM events WHERE workspace_id = $1 AND id = $2";
        fetch_optional(
            &self.backend,
            SQL,
            vec![workspace_id.to_string().into(), id.to_string().into()],
        )
        .await
    }

    /// The events named, whatever their workspace, in one statement: what the
    /// dispatcher delivers in a round of leased jobs. An id no longer in the log (past
    /// its retention) is simply absent.
    pub async fn events_by_ids(&self, ids: &[EventId]) -> Result<Vec<StoredEvent>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let list = serde_json::to_string(&ids).expect("ids serialize");
        on_read!(&self.backend, pool => {
            let sql = match &self.backend {
                crate::Backend::Sqlite { .. } => BY_IDS_SQLITE,
                crate::Backend::Postgres(_) => BY_IDS_POSTGRES,
            };
            sqlx::query(sql)
                .bind(list)
                .fetch_all(pool)
                .await?
                .iter()
                .map(StoredEvent::from_row)
                .collect()
        })
    }

    /// Queues the event again for delivery: to `endpoint` alone when given (if it is
    /// enabled), else to every enabled endpoint subscribed to its type. Deliveries of a
    /// replay carry the event's own id, so receivers can tell it is the same event.
    /// Returns the endpoints it was queued for.
    pub async fn replay_event(
        &self,
        event: &StoredEvent,
        endpoint: Option<WebhookEndpointId>,
    ) -> Result<Vec<WebhookEndpointId>, StoreError> {
        let now = self.clock.now();
        let workspace = event.workspace_id;
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let rows: Vec<(String, Option<String>)> = sqlx::query_as(SUBSCRIBERS)
                .bind(workspace.to_string())
                .fetch_all(&mut *tx)
                .await?;
            let mut jobs = Vec::new();
            for (id, types) in rows {
                let endpoint_id: WebhookEndpointId = crate::rows::id("webhook_endpoints.id", &id)?;
                let chosen = match endpoint {
                    Some(only) => only == endpoint_id,
                    None => parse_filter(types.as_deref())?.accepts(event.event_type),
                };
                if chosen {
                    jobs.push(DeliveryJob { workspace_id: workspace, event_id: event.id, endpoint_id });
                }
            }
            for (sql, args) in insert_delivery_jobs(&jobs, now) {
                bind_args!(sqlx::AssertSqlSafe(sql), args).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(jobs.into_iter().map(|job| job.endpoint_id).collect())
        })
    }

    /// Deletes up to `batch` events that occurred before `cutoff`, oldest first; how
    /// many it deleted. Ids are UUIDv7, so "before" is an id range on the primary key.
    pub async fn delete_events_before(
        &self,
        cutoff: DateTime<Utc>,
        batch: u32,
    ) -> Result<u64, StoreError> {
        let bound = first_id_at(cutoff);
        let deleted = on_write!(&self.backend, pool => {
            sqlx::query(
                "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id < $1 ORDER BY id LIMIT $2)",
            )
            .bind(bound)
            .bind(i64::from(batch))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(deleted)
    }
}

/// The smallest UUIDv7 of the millisecond `at`: every id made before it sorts lower.
fn first_id_at(at: DateTime<Utc>) -> String {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6] = 0x70;
    bytes[8] = 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_first_id_of_a_millisecond_sorts_before_every_id_made_in_it_and_after() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let bound = first_id_at(at);
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, at.timestamp() as u64, 0);
        let same = uuid::Uuid::new_v7(ts).to_string();
        let earlier = uuid::Timestamp::from_unix(uuid::NoContext, at.timestamp() as u64 - 1, 0);
        assert!(bound <= same, "{bound} > {same}");
        assert!(uuid::Uuid::new_v7(earlier).to_string() < bound);
    }
}
