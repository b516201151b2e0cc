//! `/api/v1/events`: the workspace's event log, for pollers and the console. Each event
//! is shown as it is delivered to webhook endpoints, `{"type", "timestamp", "data"}`,
//! with its `id` (the `webhook-id` of its deliveries). The log is read in id order
//! (UUIDv7, so in the order events were made) with cursor pagination, filtered by
//! type, by the resource an event is about and by time; `…/{id}/replay` queues an
//! event's delivery again; `…/stream` follows the log live as Server-Sent Events
//! ([`stream`]). Events are kept for the server's retention (`--event-retention-days`,
//! default 30) and then deleted ([`crate::event_retention`]).

mod filters;
mod stream;
pub mod webhooks;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use leadline_core::event::EventType;
use leadline_core::{EventId, FieldErrors, WebhookEndpointId, WorkspaceId};
use leadline_store::events::{EventQuery, StoredEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiQuery, parse_json, path_id};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use filters::{EventFilterParams, EventListQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(stream::stream_events))
        .routes(routes!(get_event))
        .routes(routes!(replay_event))
}

/// An event as the log keeps it and endpoints receive it, with its id.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    /// The event's id: the `webhook-id` of its deliveries and the SSE `id`.
    id: String,
    #[serde(rename = "type")]
    event_type: EventType,
    /// When it happened: RFC 3339, UTC, milliseconds.
    timestamp: String,
    /// The resource as the API returns it, plus the ids that tie it to others; its
    /// schema for each type is under the document's `webhooks`.
    #[schema(value_type = Object)]
    data: Value,
}

/// The stored payload, `{"type", "timestamp", "data"}`.
#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "type")]
    event_type: EventType,
    timestamp: String,
    data: Value,
}

impl TryFrom<StoredEvent> for EventResponse {
    type Error = ApiError;

    fn try_from(event: StoredEvent) -> Result<Self, ApiError> {
        let payload: Payload = serde_json::from_str(&event.payload).map_err(|e| {
            ApiError::Internal(format!("event {} has an unreadable payload: {e}", event.id))
        })?;
        Ok(EventResponse {
            id: event.id.to_string(),
            event_type: payload.event_type,
            timestamp: payload.timestamp,
            data: payload.data,
        })
    }
}

/// List the workspace's events, oldest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(PageParams, EventFilterParams),
    responses((status = 200, body = Page<EventResponse>), (status = 422, body = Problem)))]
async fn list_events(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiQuery(query): ApiQuery<EventListQuery>,
    RawQuery(raw): RawQuery,
) -> ApiResult<axum::Json<Page<EventResponse>>> {
    let page = PageParams {
        cursor: query.cursor.clone(),
        limit: query.limit.clone(),
    };
    let mut errors = FieldErrors::new();
    let limit = fields_of(page.limit(), &mut errors)?;
    let after = fields_of(page.cursor::<EventId>(), &mut errors)?;
    let filter = query.checked(raw.as_deref(), &mut errors);
    errors.finish(())?;
    let limit = limit.expect("checked above");
    let events = state
        .store
        .list_events(
            workspace,
            &EventQuery {
                types: filter.types,
                resource_id: filter.resource_id,
                since: filter.since,
                after: after.flatten(),
                limit,
            },
        )
        .await?;
    let shown = events
        .into_iter()
        .map(EventResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(axum::Json(Page::new(shown, limit, |e| e.id.clone())))
}

/// The value of a check that answers [`ApiError`], its field errors collected in
/// `errors` so that every invalid parameter is reported at once.
fn fields_of<T>(result: Result<T, ApiError>, errors: &mut FieldErrors) -> ApiResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(ApiError::Validation(fields)) => {
            for field in fields {
                errors.push(field.field, field.message);
            }
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

/// The event `id` of the workspace, or 404 naming `id`.
async fn load(state: &AppState, workspace: WorkspaceId, id: &str) -> ApiResult<StoredEvent> {
    let event_id: EventId = path_id("id", id, "event")?;
    state
        .store
        .event(workspace, event_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!(
                "no event '{id}' in this workspace (events are kept for the server's retention)"
            ),
            field: Some("id".to_owned()),
        })
}

/// Fetch an event.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events",
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, body = EventResponse), (status = 404, body = Problem)))]
async fn get_event(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<EventResponse>> {
    let event = load(&state, workspace, &id).await?;
    Ok(axum::Json(EventResponse::try_from(event)?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayRequest {
    /// Deliver to this endpoint only (it must be enabled), whatever event types it
    /// receives; absent or `null` for every enabled endpoint that receives the event's
    /// type.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_uuid)]
    endpoint_id: Option<String>,
}

/// The deliveries a replay queued.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplayResponse {
    event_id: String,
    /// The endpoints a delivery was queued for (none when no enabled endpoint
    /// receives the event's type).
    endpoint_ids: Vec<String>,
}

/// Queue an event's delivery again, to one endpoint or to every enabled endpoint that
/// receives its type. The delivery carries the event's own id as `webhook-id`, so a
/// receiver can tell it is the same event.
#[utoipa::path(post, path = "/api/v1/events/{id}/replay", tag = "events",
    params(("id" = String, Path, description = "The event's id")),
    request_body(content = Option<ReplayRequest>, description = "Optional: no body, or `{}`, replays to every endpoint that receives the event"),
    responses((status = 202, body = ReplayResponse), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn replay_event(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, axum::Json<ReplayResponse>)> {
    let request: ReplayRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ReplayRequest::default()
    } else {
        parse_json(&body)?
    };
    let event = load(&state, workspace, &id).await?;
    let endpoint = match request.endpoint_id.as_deref() {
        None => None,
        Some(raw) => Some(enabled_endpoint(&state, workspace, raw).await?),
    };
    let queued = state.store.replay_event(&event, endpoint).await?;
    if !queued.is_empty() {
        state.wake_dispatcher();
    }
    tracing::info!(%workspace, event = %event.id, deliveries = queued.len(), "event replayed");
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(ReplayResponse {
            event_id: event.id.to_string(),
            endpoint_ids: queued.iter().map(ToString::to_string).collect(),
        }),
    ))
}

/// The endpoint a replay names: 404 naming `endpointId` when the workspace has no such
/// endpoint, 409 when it is disabled (nothing would be delivered).
async fn enabled_endpoint(
    state: &AppState,
    workspace: WorkspaceId,
    raw: &str,
) -> ApiResult<WebhookEndpointId> {
    let missing = || ApiError::NotFound {
        detail: format!("no webhook endpoint '{raw}' in this workspace"),
        field: Some("endpointId".to_owned()),
    };
    let endpoint_id: WebhookEndpointId = raw.parse().map_err(|_| missing())?;
    let endpoint = state
        .store
        .webhook_endpoint(workspace, endpoint_id)
        .await?
        .ok_or_else(missing)?;
    if !endpoint.enabled {
        return Err(ApiError::Conflict {
            detail: format!(
                "webhook endpoint '{raw}' is disabled; enable it (PATCH enabled: true) before replaying to it"
            ),
            field: Some("endpointId".to_owned()),
        });
    }
    Ok(endpoint.id)
}
