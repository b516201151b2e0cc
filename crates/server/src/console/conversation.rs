//! One conversation, `/console/conversations/{id}`: its messages (with the number each
//! went out from and its delivery state), calls, the agent's decisions with their
//! reasons, the contact's attributes and opt-outs, and the forms that act on it (take
//! over, release to the AI, reply, log a call: [`super::conversation_actions`]).
//! WhatsApp's 24-hour window is shown, and the channel's templates offered while it is
//! closed. Opening the page marks the conversation read for the person.
//!
//! A conversation the person may not see (`Viewer::may_see`) is answered 404, as one
//! that does not exist: the page does not tell an advisor what other teams hold.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use leadline_core::ConversationId;
use leadline_core::agent::{WHATSAPP_WINDOW, whatsapp_window_open};
use leadline_core::channel::MessageProviderType;
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::message::{Direction, MessageType};
use leadline_store::conversations::Conversation;
use leadline_store::inbox::ConversationPage;
use leadline_store::messages::Message;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::inbox::LIVE_TYPES;
use super::pages::{self, Section};
use super::{BASE, ConsoleError, ConsoleUser};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(&format!("{BASE}/conversations/{{id}}"), get(page))
}

/// The conversation `id` if it exists in the person's workspace and they may see it;
/// 404 otherwise (also for an id that is not one).
pub async fn load_visible(
    state: &AppState,
    user: &ConsoleUser,
    id: &str,
) -> Result<Conversation, ConsoleError> {
    let not_found = || ConsoleError::NotFound(format!("no conversation '{id}' in your inbox"));
    let conversation_id: ConversationId = id.parse().map_err(|_| not_found())?;
    let conversation = state
        .store
        .conversation(user.workspace(), conversation_id)
        .await?
        .ok_or_else(not_found)?;
    if !user
        .viewer
        .may_see(conversation.assigned_user_id, conversation.team_id)
    {
        return Err(not_found());
    }
    Ok(conversation)
}

async fn page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let conversation = load_visible(&state, &user, &id).await?;
    render(&state, &user, conversation.id, Notice::None).await
}

/// What the page says above its forms after a change was refused.
pub enum Notice {
    None,
    /// The form's problem, the status to answer with, and the reply kept.
    Refused {
        status: StatusCode,
        message: String,
        reply: String,
    },
}

/// Draws the page of `conversation_id` (already checked visible), marking it read.
pub async fn render(
    state: &AppState,
    user: &ConsoleUser,
    conversation_id: ConversationId,
    notice: Notice,
) -> Result<Response, ConsoleError> {
    let page = state
        .store
        .conversation_page(user.workspace(), conversation_id)
        .await?
        .ok_or_else(|| ConsoleError::NotFound("the conversation was deleted".into()))?;
    if let Some(newest) = page.messages.last() {
        state
            .store
            .mark_read(user.user_id(), conversation_id, newest.id)
            .await?;
    }
    let now = state.store.clock().now();
    let view = View::of(&page, user, now);
    let (status, error, reply) = match notice {
        Notice::None => (StatusCode::OK, None, String::new()),
        Notice::Refused {
            status,
            message,
            reply,
        } => (status, Some(message), reply),
    };
    let html = pages::render(
        user,
        Section::Inbox,
        "conversation.html",
        context! {
            c => Serde(view),
            error,
            reply,
            live_types => LIVE_TYPES,
            call_statuses => leadline_core::message::CallStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        },
    )?;
    Ok((status, html).into_response())
}

#[derive(Serialize)]
struct View {
    id: String,
    status: &'static str,
    controller: &'static str,
    open: bool,
    mine: bool,
    can_take_over: bool,
    can_release: bool,
    assigned: Option<String>,
    channel_type: &'static str,
    channel_name: String,
    can_reply: bool,
    whatsapp: bool,
    window_open: bool,
    window_closes: Option<String>,
    contact: ContactView,
    messages: Vec<MessageView>,
    calls: Vec<MessageView>,
    decisions: Vec<DecisionView>,
    templates: Vec<TemplateView>,
}

#[derive(Serialize)]
struct ContactView {
    name: String,
    phone: String,
    email: Option<String>,
    attributes: Vec<(String, String)>,
    opt_outs: Vec<(String, String, String)>,
}

#[derive(Serialize)]
struct MessageView {
    id: String,
    direction: &'static str,
    status: &'static str,
    kind: &'static str,
    body: String,
    template: Option<String>,
    from_number: Option<String>,
    by_person: bool,
    call_status: Option<&'static str>,
    call_duration: Option<i64>,
    error: Option<String>,
    at: String,
}

#[derive(Serialize)]
struct DecisionView {
    kind: &'static str,
    reason: String,
    at: String,
}

#[derive(Serialize)]
struct TemplateView {
    id: String,
    name: String,
    language: String,
    body: String,
    placeholders: usize,
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl View {
    fn of(page: &ConversationPage, user: &ConsoleUser, now: chrono::DateTime<chrono::Utc>) -> Self {
        let c = &page.conversation;
        let open = matches!(
            c.status,
            ConversationStatus::Active | ConversationStatus::HandedOff
        );
        let mine = c.assigned_user_id == Some(user.user_id());
        let carries = page.channel.as_ref().map(|ch| ch.carries);
        let whatsapp = carries == Some(MessageProviderType::Whatsapp);
        let fields = &page.contact.fields;
        let name = [&fields.first_name, &fields.last_name]
            .into_iter()
            .flatten()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let messages: Vec<MessageView> = page.messages.iter().map(message_view).collect();
        let calls = page
            .messages
            .iter()
            .filter(|m| m.message_type == MessageType::Call)
            .map(message_view)
            .collect();
        View {
            id: c.id.to_string(),
            status: c.status.as_str(),
            controller: c.controller.as_str(),
            open,
            mine,
            can_take_over: open && !(mine && c.controller == Controller::Human),
            can_release: open
                && !(c.status == ConversationStatus::Active && c.controller == Controller::Ai),
            assigned: c.assigned_user_id.map(|u| u.to_string()),
            channel_type: carries.map_or("", |t| t.as_str()),
            channel_name: page
                .channel
                .as_ref()
                .map(|ch| ch.name.clone())
                .unwrap_or_default(),
            can_reply: open
                && matches!(
                    carries,
                    Some(MessageProviderType::Sms | MessageProviderType::Whatsapp)
                ),
            whatsapp,
            window_open: whatsapp_window_open(c.agent.last_inbound_at, now),
            window_closes: c
                .agent
                .last_inbound_at
                .map(|at| at + WHATSAPP_WINDOW)
                .filter(|closes| *closes > now)
                .map(when),
            contact: ContactView {
                name: if name.is_empty() {
                    page.contact.cellphone.as_str().to_owned()
                } else {
                    name
                },
                phone: page.contact.cellphone.as_str().to_owned(),
                email: fields.email.as_ref().map(|e| e.as_str().to_owned()),
                attributes: page
                    .attributes
                    .iter()
                    .map(|(key, values)| (key.clone(), values.join(", ")))
                    .collect(),
                opt_outs: page
                    .opt_outs
                    .iter()
                    .map(|o| {
                        (
                            o.channel_type.as_str().to_owned(),
                            when(o.opted_out_at),
                            o.source.clone(),
                        )
                    })
                    .collect(),
            },
            messages,
            calls,
            decisions: page
                .decisions
                .iter()
                .map(|d| DecisionView {
                    kind: d.kind.as_str(),
                    reason: d.reason.clone(),
                    at: when(d.created_at),
                })
                .collect(),
            templates: page
                .templates
                .iter()
                .map(|t| TemplateView {
                    id: t.id.to_string(),
                    name: t.name.clone(),
                    language: t.language.clone(),
                    body: t.body.as_str().to_owned(),
                    placeholders: t.body.placeholders(),
                })
                .collect(),
        }
    }
}

fn message_view(m: &Message) -> MessageView {
    let call = m.call.as_ref();
    MessageView {
        id: m.id.to_string(),
        direction: match m.direction {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        },
        status: m.status.as_str(),
        kind: m.message_type.as_str(),
        body: m.body.clone().unwrap_or_default(),
        template: m
            .template
            .as_ref()
            .map(|t| format!("{} ({})", t.name, t.language)),
        from_number: m
            .from_number
            .as_ref()
            .map(|n| n.as_str().to_owned())
            .or_else(|| call.and_then(|c| c.from.clone())),
        by_person: m.author_user_id.is_some(),
        call_status: call.and_then(|c| c.status).map(|s| s.as_str()),
        call_duration: call.and_then(|c| c.duration_seconds),
        error: m.error_message.clone().or_else(|| m.error_code.clone()),
        at: when(m.sent_at.unwrap_or(m.created_at)),
    }
}
