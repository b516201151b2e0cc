//! `GET /api/v1/events/stream`: the event log followed live, as Server-Sent Events. Each
//! event is sent with `id:` its id, `event:` its type and `data:` its payload exactly as
//! delivered to webhook endpoints; a comment line every 15 seconds keeps idle proxies
//! from closing the connection. A client that reconnects with `Last-Event-ID` gets
//! every event after that one from the log first, then the live ones; without it the
//! stream starts at the moment of connecting (less the settle window below).
//!
//! **Following the log, not a broadcast.** The stream reads the log every
//! [`POLL_INTERVAL`] after the last event it sent, so it sees events written by every
//! node sharing the database, and a reconnection resumes exactly where the log says.
//! An in-memory broadcast would see only this node's events and lose what was
//! broadcast while a client was away.
//!
//! **Why a settle window.** Event ids are UUIDv7 taken when an event is built, before
//! its transaction commits; a transaction that commits later can hold a smaller id than
//! one already committed. Were the stream to send everything it reads, such an event
//! would land behind the stream's position and never be sent, and `Last-Event-ID`
//! could not say what a client has seen. So the stream sends only events whose id is
//! older than [`SETTLE`]: by then the transactions that took smaller ids have
//! committed, the stream is in id order, and "after this id" is exactly what a client
//! has not seen. (Re-scanning a trailing window and de-duplicating by id would send
//! sooner but out of order, which breaks that meaning of `Last-Event-ID`.) The price
//! is that an event reaches the stream about a second after it was made, which suits
//! a console; an in-process wake-up when this node writes an event would save nothing,
//! since the event must settle first. Webhook deliveries do not depend on any of this:
//! they are queued in the event's own transaction.
//!
//! **A revoked key ends its streams.** The key is checked once more before each read of
//! the log, through the node's key cache (which learns of revocations on every node
//! within its poll), so a revocation cuts off a stream as it refuses a request.
//!
//! Each open stream reads the log about four times a second; `/metrics` shows how many
//! are open on the node (`leadline_event_streams_open`).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use leadline_core::ApiKeyHash;
use leadline_core::event::EventType;
use leadline_core::{EventId, WorkspaceId};
use leadline_store::events::{EventQuery, StoredEvent};

use super::filters::{StreamFilterParams, types_in};
use crate::auth::{Authenticated, KeyCheck, presented_hash};
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// How long after its id was taken an event is streamed (see the module doc).
pub const SETTLE: Duration = Duration::from_secs(1);
/// How often the log is read while the stream has caught up.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Events read per query.
const PAGE: u32 = 500;
/// How often an idle stream sends a comment line.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
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
        // From now on, less the settle window: nothing that may still commit is lost.
        None => id_at_millis(now_millis().saturating_sub(settle_millis())),
    };
    let follower = Follower {
        state: state.clone(),
        key,
        workspace,
        types,
        after,
        pending: VecDeque::new(),
        read_at_once: true,
    };
    let sse = Sse::new(follow(follower))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"));
    // Proxies that buffer answers (nginx) would hold events back.
    let no_buffering = [(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    )];
    Ok((no_buffering, sse))
}

/// Where one client's stream stands in the log.
struct Follower {
    state: AppState,
    /// The key the stream was opened with, checked again before each read.
    key: ApiKeyHash,
    workspace: WorkspaceId,
    types: Vec<EventType>,
    /// The last event sent (or the starting point).
    after: EventId,
    /// Read and settled, not yet sent.
    pending: VecDeque<StoredEvent>,
    /// Read again without waiting: the last read filled a page with settled events.
    read_at_once: bool,
}

/// The gauge of the node's open streams.
const OPEN_STREAMS: &str = "leadline_event_streams_open";

impl Drop for Follower {
    fn drop(&mut self) {
        metrics::gauge!(OPEN_STREAMS).decrement(1.0);
    }
}

/// The events of `follower` as SSE events, until the server shuts down.
fn follow(follower: Follower) -> impl Stream<Item = Result<Event, Infallible>> {
    metrics::gauge!(OPEN_STREAMS).increment(1.0);
    futures::stream::unfold(follower, |mut follower| async move {
        let event = follower.next().await?;
        Some((Ok(event), follower))
    })
}

impl Follower {
    /// The next settled event, waiting for it as long as it takes; `None` once the
    /// server shuts down (so a stop need not wait for clients) or the key is revoked.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.after = event.id;
                return Some(
                    Event::default()
                        .id(event.id.to_string())
                        .event(event.event_type.as_str())
                        .data(event.payload),
                );
            }
            let shutdown = self.state.shutdown.clone();
            if !self.read_at_once {
                tokio::select! {
                    _ = shutdown.cancelled() => return None,
                    _ = tokio::time::sleep(POLL_INTERVAL) => {}
                }
            }
            if shutdown.is_cancelled() || !self.key_in_force().await {
                return None;
            }
            self.read().await;
        }
    }

    /// Whether the stream's key still grants its workspace. While the store cannot be
    /// read the stream stays open: its own reads fail alike and it sends nothing.
    async fn key_in_force(&self) -> bool {
        let (keys, store) = (&self.state.keys, &self.state.store);
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

    /// Reads the settled events after the stream's position into `pending`.
    async fn read(&mut self) {
        let settled_before = now_millis().saturating_sub(settle_millis());
        let query = EventQuery {
            types: self.types.clone(),
            after: Some(self.after),
            limit: PAGE,
            ..EventQuery::default()
        };
        match self.state.store.list_events(self.workspace, &query).await {
            Ok(events) => {
                let read = events.len();
                self.pending.extend(
                    events
                        .into_iter()
                        .take_while(|event| millis_of(event.id) < settled_before),
                );
                self.read_at_once = read == PAGE as usize && self.pending.len() == read;
            }
            Err(error) => {
                // An outage is reported by /readyz and the workers; the stream stays
                // open and reads again at the next interval.
                tracing::debug!(%error, workspace = %self.workspace, "event stream: the log cannot be read");
                self.read_at_once = false;
            }
        }
    }
}

fn settle_millis() -> u64 {
    u64::try_from(SETTLE.as_millis()).unwrap_or(u64::MAX)
}

/// Milliseconds since the epoch on the clock UUIDv7 ids are taken from.
fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The millisecond a UUIDv7 id was taken in (its first 48 bits).
fn millis_of(id: EventId) -> u64 {
    let bytes = id.as_uuid().into_bytes();
    let mut millis = [0u8; 8];
    millis[2..].copy_from_slice(&bytes[..6]);
    u64::from_be_bytes(millis)
}

/// The smallest UUIDv7 of millisecond `millis`: ids taken in it or later sort after it.
fn id_at_millis(millis: u64) -> EventId {
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6] = 0x70;
    bytes[8] = 0x80;
    EventId::from(uuid::Uuid::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_tells_its_millisecond_and_the_bound_sorts_before_it() {
        let id = EventId::new();
        let millis = millis_of(id);
        assert!(millis.abs_diff(now_millis()) < 60_000);
        assert!(id_at_millis(millis) <= id);
        assert!(id < id_at_millis(millis + 1));
        assert_eq!(millis_of(id_at_millis(millis)), millis);
    }
}
