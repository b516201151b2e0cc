//! Following the event log live as Server-Sent Events: the machinery behind the API's
//! `GET /api/v1/events/stream` and the console's `GET /console/events`. Each follows
//! one workspace's log for one [`Audience`], which says whether the stream may go on
//! (its key or session still in force) and which events it may receive.
//!
//! **Following the log, not a broadcast.** A stream reads the log every
//! [`POLL_INTERVAL`] after the last event it read, so it sees events written by every
//! node sharing the database, and a reconnection resumes where the log says. An
//! in-memory broadcast would see only this node's events and lose what was broadcast
//! while a client was away.
//!
//! **Two paces.** Event ids are UUIDv7 taken when an event is built, before its
//! transaction commits; a transaction that commits later can hold a smaller id than
//! one already committed.
//! - [`Pace::Settled`] (the API) sends only events whose id is older than [`SETTLE`]:
//!   by then the transactions that took smaller ids have committed, the stream is in
//!   id order, and `Last-Event-ID` means exactly "everything up to here". An event
//!   arrives about a second after it was made.
//! - [`Pace::Prompt`] (the console) also sends the events of the last [`SETTLE`] at
//!   once, and remembers their ids so that none is sent twice when it settles. Events
//!   may then arrive out of id order, which a page that only re-reads itself on each
//!   event does not mind; in exchange a new message reaches an open inbox within a
//!   poll of its commit. Such a stream sends no SSE `id`, so a browser reconnecting
//!   does not claim a position it cannot mean; the console re-reads the page instead.
//!
//! Each open stream reads the log about four times a second; `/metrics` shows how many
//! are open on the node (`leadline_event_streams_open`).

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderName, HeaderValue};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use leadline_core::event::EventType;
use leadline_core::{EventId, WorkspaceId};
use leadline_store::events::{EventQuery, StoredEvent};

use crate::state::AppState;

/// How long after its id was taken an event is settled (see the module doc).
pub const SETTLE: Duration = Duration::from_secs(1);
/// How often the log is read while the stream has caught up.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Events read per query.
const PAGE: u32 = 500;
/// How often an idle stream sends a comment line, so idle proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The gauge of the node's open streams.
const OPEN_STREAMS: &str = "leadline_event_streams_open";

/// Who a stream is for.
pub trait Audience: Send + 'static {
    /// Whether the stream may go on; checked before each read of the log. `false`
    /// ends it.
    fn in_force(&mut self, state: &AppState) -> impl Future<Output = bool> + Send;

    /// The events among `events` (in id order) this audience may receive.
    fn admit(
        &mut self,
        state: &AppState,
        events: Vec<StoredEvent>,
    ) -> impl Future<Output = Vec<StoredEvent>> + Send;
}

/// When events are sent (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    Settled,
    Prompt,
}

/// Where one client's stream stands in the log.
pub struct Follower<A> {
    state: AppState,
    audience: A,
    workspace: WorkspaceId,
    types: Vec<EventType>,
    pace: Pace,
    /// Every event up to this one has been read and settled.
    after: EventId,
    /// Unsettled events already sent ([`Pace::Prompt`]).
    sent_early: HashSet<EventId>,
    /// Read and admitted, not yet sent.
    pending: VecDeque<StoredEvent>,
    /// Read again without waiting: the last read filled a page with settled events.
    read_at_once: bool,
}

impl<A: Audience> Follower<A> {
    /// A stream of `workspace`'s events of `types` (all when empty) after `after`.
    pub fn new(
        state: AppState,
        audience: A,
        workspace: WorkspaceId,
        types: Vec<EventType>,
        pace: Pace,
        after: EventId,
    ) -> Self {
        metrics::gauge!(OPEN_STREAMS).increment(1.0);
        Self {
            state,
            audience,
            workspace,
            types,
            pace,
            after,
            sent_early: HashSet::new(),
            pending: VecDeque::new(),
            read_at_once: true,
        }
    }

    /// The answer that streams the follower's events until the client leaves, the
    /// server shuts down or the audience is no longer in force.
    pub fn into_response(self) -> impl IntoResponse {
        let events = futures::stream::unfold(self, |mut follower| async move {
            let event = follower.next().await?;
            Some((Ok::<_, Infallible>(event), follower))
        });
        let sse =
            Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"));
        // Proxies that buffer answers (nginx) would hold events back.
        let no_buffering = [(
            HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        )];
        (no_buffering, sse)
    }

    /// The next event to send, waiting for it as long as it takes; `None` once the
    /// server shuts down (so a stop need not wait for clients) or the audience is no
    /// longer in force.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                let mut sse = Event::default()
                    .event(event.event_type.as_str())
                    .data(event.payload);
                if self.pace == Pace::Settled {
                    sse = sse.id(event.id.to_string());
                }
                return Some(sse);
            }
            let shutdown = self.state.shutdown.clone();
            if !self.read_at_once {
                tokio::select! {
                    _ = shutdown.cancelled() => return None,
                    _ = tokio::time::sleep(POLL_INTERVAL) => {}
                }
            }
            if shutdown.is_cancelled() || !self.audience.in_force(&self.state).await {
                return None;
            }
            self.read().await;
        }
    }

    /// Reads the events after the stream's position; queues those to send.
    async fn read(&mut self) {
        let settled_before = now_millis().saturating_sub(settle_millis());
        let query = EventQuery {
            types: self.types.clone(),
            after: Some(self.after),
            limit: PAGE,
            ..EventQuery::default()
        };
        let events = match self.state.store.list_events(self.workspace, &query).await {
            Ok(events) => events,
            Err(error) => {
                // An outage is reported by /readyz and the workers; the stream stays
                // open and reads again at the next interval.
                tracing::debug!(%error, workspace = %self.workspace, "event stream: the log cannot be read");
                self.read_at_once = false;
                return;
            }
        };
        let read = events.len();
        let mut settled = 0;
        let mut fresh = Vec::new();
        // Ids grow with time: the settled events are a prefix of the page.
        let mut in_prefix = true;
        for event in events {
            if in_prefix && millis_of(event.id) < settled_before {
                settled += 1;
                self.after = event.id;
                if !self.sent_early.remove(&event.id) {
                    fresh.push(event);
                }
                continue;
            }
            in_prefix = false;
            match self.pace {
                Pace::Settled => break,
                Pace::Prompt => {
                    if self.sent_early.insert(event.id) {
                        fresh.push(event);
                    }
                }
            }
        }
        self.read_at_once = read == PAGE as usize && settled == read;
        if !fresh.is_empty() {
            let admitted = self.audience.admit(&self.state, fresh).await;
            self.pending.extend(admitted);
        }
    }
}

impl<A> Drop for Follower<A> {
    fn drop(&mut self) {
        metrics::gauge!(OPEN_STREAMS).decrement(1.0);
    }
}

/// Where a stream without `Last-Event-ID` starts: now, less the settle window, so
/// nothing that may still commit is lost.
pub fn start_now() -> EventId {
    id_at_millis(now_millis().saturating_sub(settle_millis()))
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
