//! The forms of a conversation's page: take it over (hand it to me), release it to the
//! AI, reply (text, or an approved template while WhatsApp's window is closed), and log
//! a call. Each calls the same use case as the API ([`crate::usecases::hand_off`],
//! [`crate::usecases::reply`], [`crate::usecases::call_log`]); a change that worked
//! sends the browser back to the page, one refused draws the page again with why,
//! naming the field, and keeps what was typed.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use leadline_core::message::CallStatus;
use leadline_core::validation::text;
use leadline_core::{FieldError, TemplateId};
use leadline_store::conversations::Conversation;
use leadline_store::messages::CallDetails;
use serde::Deserialize;

use super::conversation::{Notice, load_visible, render};
use super::csrf::CsrfForm;
use super::{BASE, ConsoleError, ConsoleUser};
use crate::state::AppState;
use crate::usecases::call_log::{self, LoggedCall};
use crate::usecases::hand_off::{self, HandOffError, ReleaseError};
use crate::usecases::reply::{self, ReplyContent, ReplyError};

/// The longest reply or call note.
const MAX_TEXT: usize = 1600;
/// The longest call a form may log: a day.
const MAX_DURATION: i64 = 86_400;

pub fn router() -> Router<AppState> {
    let at = |action: &str| format!("{BASE}/conversations/{{id}}/{action}");
    Router::new()
        .route(&at("take-over"), post(take_over))
        .route(&at("release"), post(release))
        .route(&at("reply"), post(send_reply))
        .route(&at("calls"), post(log_call))
}

/// The form carries nothing but its token.
#[derive(Deserialize)]
struct Empty {}

fn back_to(conversation: &Conversation) -> Response {
    Redirect::to(&format!("{BASE}/conversations/{}", conversation.id)).into_response()
}

/// Draws the page again with `message`, answering `status`.
async fn refused(
    state: &AppState,
    user: &ConsoleUser,
    conversation: &Conversation,
    status: StatusCode,
    message: String,
    reply: String,
) -> Result<Response, ConsoleError> {
    let notice = Notice::Refused {
        status,
        message,
        reply,
    };
    render(state, user, conversation.id, notice).await
}

async fn take_over(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, Empty {}): CsrfForm<Empty>,
) -> Result<Response, ConsoleError> {
    let conversation = load_visible(&state, &user, &id).await?;
    let me = user.user_id().to_string();
    let reason = format!(
        "{} took the conversation over in the console",
        user.display_name()
    );
    match hand_off::by_person(&state.store, &conversation, Some(&me), &reason).await {
        Ok(()) => Ok(back_to(&conversation)),
        Err(HandOffError::Store(error)) => Err(error.into()),
        Err(error) => {
            refused(
                &state,
                &user,
                &conversation,
                StatusCode::CONFLICT,
                error.to_string(),
                String::new(),
            )
            .await
        }
    }
}

async fn release(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, Empty {}): CsrfForm<Empty>,
) -> Result<Response, ConsoleError> {
    let conversation = load_visible(&state, &user, &id).await?;
    match hand_off::release(&state.store, &conversation).await {
        Ok(_) => Ok(back_to(&conversation)),
        Err(ReleaseError::Store(error)) => Err(error.into()),
        Err(error) => {
            refused(
                &state,
                &user,
                &conversation,
                StatusCode::CONFLICT,
                error.to_string(),
                String::new(),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct ReplyForm {
    #[serde(default)]
    body: Option<String>,
    /// An approved template's id (a closed WhatsApp window), instead of `body`.
    #[serde(default)]
    template: Option<String>,
    /// The template's parameters, one a line.
    #[serde(default)]
    params: Option<String>,
}

/// What the reply form asks to send, checked.
async fn reply_content(
    state: &AppState,
    user: &ConsoleUser,
    form: &ReplyForm,
) -> Result<ReplyContent, FieldError> {
    let template = form.template.as_deref().map(str::trim).unwrap_or_default();
    if template.is_empty() {
        let body = text("body", form.body.as_deref().unwrap_or_default(), MAX_TEXT)?;
        return Ok(ReplyContent::Text(body));
    }
    let unknown = || FieldError::new("template", "is not a template of this workspace");
    let template_id: TemplateId = template.parse().map_err(|_| unknown())?;
    let template = state
        .store
        .template(user.workspace(), template_id)
        .await
        .map_err(|_| FieldError::new("template", "could not be read; try again"))?
        .ok_or_else(unknown)?;
    let params: Vec<String> = form
        .params
        .as_deref()
        .unwrap_or_default()
        .lines()
        .map(|line| line.trim().to_owned())
        .filter(|line| !line.is_empty())
        .collect();
    if params.len() != template.body.placeholders() {
        return Err(FieldError::new(
            "params",
            format!(
                "'{}' takes {} parameters, one a line; {} given",
                template.name,
                template.body.placeholders(),
                params.len()
            ),
        ));
    }
    Ok(ReplyContent::Template {
        template: Box::new(template),
        params,
    })
}

async fn send_reply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, form): CsrfForm<ReplyForm>,
) -> Result<Response, ConsoleError> {
    let conversation = load_visible(&state, &user, &id).await?;
    let typed = form.body.clone().unwrap_or_default();
    let content = match reply_content(&state, &user, &form).await {
        Ok(content) => content,
        Err(field) => {
            let message = format!("{}: {}", field.field, field.message);
            return refused(
                &state,
                &user,
                &conversation,
                StatusCode::BAD_REQUEST,
                message,
                typed,
            )
            .await;
        }
    };
    let sent = reply::advisor_reply(
        &state.store,
        &state.senders(),
        &conversation,
        user.user_id(),
        content,
    )
    .await;
    match sent {
        Ok(_) => {
            state.wake_dispatcher();
            Ok(back_to(&conversation))
        }
        Err(ReplyError::Store(error)) => Err(error.into()),
        Err(ReplyError::Template(field)) => {
            let message = format!("{}: {}", field.field, field.message);
            refused(
                &state,
                &user,
                &conversation,
                StatusCode::BAD_REQUEST,
                message,
                typed,
            )
            .await
        }
        Err(error) => {
            refused(
                &state,
                &user,
                &conversation,
                StatusCode::CONFLICT,
                error.to_string(),
                typed,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct CallForm {
    #[serde(default)]
    status: Option<String>,
    /// Seconds; empty when unknown.
    #[serde(default)]
    duration: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// The call the form describes, or the first field that is wrong.
fn checked_call(form: &CallForm) -> Result<LoggedCall, FieldError> {
    let raw_status = form.status.as_deref().map(str::trim).unwrap_or_default();
    let status = CallStatus::parse(raw_status)
        .ok_or_else(|| FieldError::new("status", format!("must be {}", CallStatus::expected())))?;
    let duration = match form.duration.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(seconds) if (0..=MAX_DURATION).contains(&seconds) => Some(seconds),
            _ => {
                return Err(FieldError::new(
                    "duration",
                    format!("must be a whole number of seconds from 0 to {MAX_DURATION}"),
                ));
            }
        },
    };
    let note = match form.note.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(note) => Some(text("note", note, MAX_TEXT)?),
    };
    Ok(LoggedCall {
        call: CallDetails {
            to: None,
            from: None,
            status: Some(status),
            duration_seconds: duration,
        },
        note,
        alt_id: None,
        date: None,
        attachments: Vec::new(),
    })
}

async fn log_call(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, form): CsrfForm<CallForm>,
) -> Result<Response, ConsoleError> {
    let conversation = load_visible(&state, &user, &id).await?;
    match checked_call(&form) {
        Ok(logged) => {
            call_log::log_call(&state.store, &conversation, logged).await?;
            Ok(back_to(&conversation))
        }
        Err(field) => {
            let message = format!("{}: {}", field.field, field.message);
            refused(
                &state,
                &user,
                &conversation,
                StatusCode::BAD_REQUEST,
                message,
                String::new(),
            )
            .await
        }
    }
}
