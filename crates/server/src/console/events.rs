//! `GET /console/events?types=a,b`: the console's live updates, a Server-Sent Events
//! stream of the logged-in person's workspace, fed by the same event log as the API's
//! `/api/v1/events/stream` ([`crate::event_stream`]), at the prompt pace: an event is
//! sent within a poll of its commit, so a new message reaches an open inbox in well
//! under a second.
//!
//! A person receives only what they may see: an admin every event of the workspace,
//! an advisor the events about conversations they may open (`Viewer::may_see`, checked
//! against each conversation as it is now). The session is checked again before each
//! read of the log (at most once a second), so a logout or a revocation ends the
//! stream, and the person's teams are read again with it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::get;
use leadline_core::ConversationId;
use leadline_core::event::EventType;
use leadline_core::inbox::Viewer;
use leadline_store::events::StoredEvent;

use super::session::session_of;
use super::{BASE, ConsoleError, ConsoleUser};
use crate::event_stream::{Audience, Follower, Pace, start_now};
use crate::state::AppState;

/// How often a stream checks its session again.
const SESSION_CHECK: Duration = Duration::from_secs(1);

pub fn router() -> Router<AppState> {
    Router::new().route(&format!("{BASE}/events"), get(events))
}

/// The types named in `?types=a,b` (all when absent or empty).
fn types_in(raw: Option<&str>) -> Result<Vec<EventType>, ConsoleError> {
    let mut types = Vec::new();
    for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if name != "types" {
            continue;
        }
        for kind in value.split(',').map(str::trim).filter(|k| !k.is_empty()) {
            let parsed = EventType::parse(kind).ok_or_else(|| {
                ConsoleError::BadRequest(format!("types: '{kind}' is not an event type"))
            })?;
            if !types.contains(&parsed) {
                types.push(parsed);
            }
        }
    }
    Ok(types)
}

async fn events(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, ConsoleError> {
    let types = types_in(raw.as_deref())?;
    let workspace = user.workspace();
    let audience = Person {
        headers,
        viewer: user.viewer.clone(),
        checked_at: Instant::now(),
    };
    Ok(Follower::new(state, audience, workspace, types, Pace::Prompt, start_now()).into_response())
}

/// The person of a console session.
struct Person {
    /// The request's headers: the session cookie, presented again at each check.
    headers: HeaderMap,
    viewer: Viewer,
    checked_at: Instant,
}

impl Audience for Person {
    async fn in_force(&mut self, state: &AppState) -> bool {
        if self.checked_at.elapsed() < SESSION_CHECK {
            return true;
        }
        self.checked_at = Instant::now();
        match session_of(&self.headers, state).await {
            Ok(Some(user)) => {
                self.viewer = user.viewer;
                true
            }
            Ok(None) => false,
            // The store is away: the stream stays, its reads fail alike.
            Err(_) => true,
        }
    }

    async fn admit(&mut self, state: &AppState, events: Vec<StoredEvent>) -> Vec<StoredEvent> {
        if self.viewer.is_admin() {
            return events;
        }
        let about: Vec<Option<ConversationId>> = events.iter().map(conversation_of).collect();
        let mut ids: Vec<ConversationId> = about.iter().flatten().copied().collect();
        ids.sort();
        ids.dedup();
        let Some(first) = events.first() else {
            return events;
        };
        let access: HashMap<_, _> = match state
            .store
            .conversation_access(first.workspace_id, &ids)
            .await
        {
            Ok(access) => access.into_iter().collect(),
            Err(error) => {
                tracing::debug!(%error, "console events: who may see them cannot be read");
                return Vec::new();
            }
        };
        events
            .into_iter()
            .zip(about)
            .filter(|(_, conversation)| {
                conversation
                    .and_then(|id| access.get(&id))
                    .is_some_and(|a| self.viewer.may_see(a.assigned_user_id, a.team_id))
            })
            .map(|(event, _)| event)
            .collect()
    }
}

/// The conversation an event is about: the resource of a `conversation.*` event, else
/// its data's `conversationId` (messages, calls, decisions).
fn conversation_of(event: &StoredEvent) -> Option<ConversationId> {
    if event.event_type.as_str().starts_with("conversation.") {
        return event.resource_id.parse().ok();
    }
    let payload: serde_json::Value = serde_json::from_str(&event.payload).ok()?;
    payload["data"]["conversationId"].as_str()?.parse().ok()
}
