//! `GET /api/v1/events/stream`: the event log followed live, as Server-Sent Events. Each
//! event is sent with `id:` its id, `event:` its type and `data:` its payload exactly as
//! delivered to webhook endpoints; a comment line every 15 seconds keeps idle proxies
//! from closing the connection. A client that reconnects with `Last-Event-ID` gets
//! every event after that one from the log first, then the live ones; without it the
//! stream starts at the moment of connecting (less the settle window).
//!
//! The stream follows the log at the settled pace ([`crate::event_stream`], which
//! explains why): events arrive about a second after they happen, in the order of
//! their ids, so `Last-Event-ID` says exactly what a client has seen. Webhook
//! deliveries do not depend on any of this: they are queued in the event's own
//! transaction.
//!
//! **A revoked key ends its streams.** The key is checked once more before each read of
//! the log, through the node's key cache (which learns of revocations on every node
//! within its poll), so a revocation cuts off a stream as it refuses a request.

use axum::extract::{RawQuery, State};
use axum::http::request::Parts;
use axum::response::IntoResponse;
use leadline_core::{ApiKeyHash, EventId, WorkspaceId};
use leadline_store::events::StoredEvent;

use super::filters::{StreamFilterParams, types_in};
use crate::auth::{Authenticated, KeyCheck, presented_hash};
use crate::error::{ApiError, ApiResult, Problem};
use crate::event_stream::{Audience, Follower, Pace, start_now};
use crate::state::AppState;

/// The header a reconnecting client names the last event it received with.
const LAST_EVENT_ID: &str = "last-event-id";

/// Follow the workspace's events live (Server-Sent Events).
///
/// Each event has `id:` its id, `event:` its type and `data:` its payload
/// (`{"type", "timestamp", "data"}`); a comment line every 15 seconds keeps the
/// connection open. Reconnect with `Last-Event-ID` to get every event after that one first. Events
/// arrive about a second after they happen, in the order of their ids.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "events",
    params(StreamFilterParams,
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event: the id of the last event received")),
    responses(
        (status = 200, description = "A stream of events that lasts until the client or the server ends it",
         content_type = "text/event-stream", body = String),
        (status = 422, body = Problem)))]
pub(super) async fn stream_events(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    parts: Parts,
    RawQuery(raw): RawQuery,
) -> ApiResult<impl IntoResponse> {
    let types = types_in(raw.as_deref())?;
    let key = presented_hash(&parts).ok_or(ApiError::Unauthorized)?;
    let after = match parts.headers.get(LAST_EVENT_ID) {
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse::<EventId>().ok())
            .ok_or_else(|| {
                ApiError::field("Last-Event-ID", "must be the id of an event of this stream")
            })?,
        None => start_now(),
    };
    let audience = KeyHolder { key, workspace };
    Ok(Follower::new(state, audience, workspace, types, Pace::Settled, after).into_response())
}

/// The holder of an API key: every event of the key's workspace, while the key
/// grants it.
struct KeyHolder {
    key: ApiKeyHash,
    workspace: WorkspaceId,
}

impl Audience for KeyHolder {
    /// Whether the stream's key still grants its workspace. While the store cannot be
    /// read the stream stays open: its own reads fail alike and it sends nothing.
    async fn in_force(&mut self, state: &AppState) -> bool {
        let (keys, store) = (&state.keys, &state.store);
        let now = store.clock().now();
        let check = match keys.cached(&self.key, now) {
            Some(check) => check,
            None => match keys.load(store, &self.key, now).await {
                Ok(check) => check,
                Err(_) => return true,
            },
        };
        matches!(check, KeyCheck::Granted(grant) if grant.workspace_id == self.workspace)
    }

    async fn admit(&mut self, _state: &AppState, events: Vec<StoredEvent>) -> Vec<StoredEvent> {
        events
    }
}
