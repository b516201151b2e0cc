//! `POST /api/v1/messages/{id}/resolve`: a person settles a send the dispatcher holds
//! in doubt. A send through a provider that takes no idempotency key (Twilio, WhatsApp
//! Cloud, Kannel) whose worker died mid-call, or whose call timed out after the request
//! was written, is held as `uncertain`; one whose outcome could not be recorded is
//! `quarantined`. Neither is ever sent again by itself, because only someone who looks
//! (at the provider's log, or by asking the lead) can tell whether it went out: they
//! resend it, or record it as sent or failed.

use axum::extract::{Path, State};
use leadline_core::MessageId;
use leadline_core::message::SendResolution;
use leadline_store::message_resolution::ResolveOutcome;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, path_id};
use crate::routes::conversations::MessageResponse;
use crate::state::AppState;

/// The longest note accepted.
const MAX_NOTE: usize = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(resolve_message))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResolveRequest {
    /// `resend` queues it again (a duplicate is possible if it did go out), `markSent`
    /// records it as sent, `markFailed` as failed (error code `resolved_failed`).
    action: SendResolution,
    /// What the person found, up to 500 characters: logged, and kept as the message's
    /// `errorMessage` when it is marked failed.
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_text_up_to::<500>)]
    note: Option<String>,
}

/// Settle a message held as `uncertain` or `quarantined`: resend it, or mark it sent or
/// failed. Any other message is refused with 409 and its status.
#[utoipa::path(post, path = "/api/v1/messages/{id}/resolve", tag = "messages",
    params(("id" = String, Path, description = "The message's id")),
    request_body = ResolveRequest,
    responses((status = 200, description = "The message as settled", body = MessageResponse),
              (status = 404, description = "No such message in this workspace", body = Problem),
              (status = 409, description = "The message is not uncertain or quarantined, or a resend \
                  would reach a contact who opted out", body = Problem),
              (status = 422, description = "An invalid action or note", body = Problem)))]
async fn resolve_message(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResolveRequest>,
) -> ApiResult<axum::Json<MessageResponse>> {
    let note = match body.note.as_deref().map(str::trim) {
        Some(note) if note.chars().count() > MAX_NOTE => {
            return Err(ApiError::field(
                "note",
                format!("must be at most {MAX_NOTE} characters"),
            ));
        }
        Some(note) if !note.is_empty() => Some(note.to_owned()),
        _ => None,
    };
    let message_id: MessageId = path_id("id", &id, "message")?;
    let action = body.action;
    match state
        .store
        .resolve_message(workspace, message_id, action, note.as_deref())
        .await?
    {
        ResolveOutcome::Resolved(message) => {
            if action == SendResolution::Resend {
                state.wake_dispatcher();
            }
            tracing::info!(
                %message_id,
                %action,
                status = %message.status,
                note = note.as_deref().unwrap_or(""),
                "a person settled a send in doubt"
            );
            Ok(axum::Json((*message).into()))
        }
        ResolveOutcome::WrongStatus(status) => Err(ApiError::Conflict {
            detail: format!(
                "the message is {status}; only uncertain or quarantined messages can be resolved"
            ),
            field: None,
        }),
        ResolveOutcome::OptedOut(channel_type) => Err(ApiError::Conflict {
            detail: format!(
                "the contact opted out of {channel_type}, so the message cannot be resent; \
                 mark it sent or failed instead"
            ),
            field: Some("action".to_owned()),
        }),
        ResolveOutcome::NotFound => Err(ApiError::NotFound {
            detail: format!("no message '{id}' in this workspace"),
            field: Some("id".to_owned()),
        }),
    }
}
