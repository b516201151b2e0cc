//! `/api/v1/sandbox`: drive the sandbox provider by hand. `POST /api/v1/sandbox/inbound`
//! files a reply as if the lead had written it on a sandbox channel, exactly as a real
//! provider's inbound webhook would.

use axum::extract::State;
use axum::http::StatusCode;
use leadline_core::channel::ProviderKind;
use leadline_core::validation::text;
use leadline_core::{ChannelId, E164, FieldErrors};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;
use crate::routes::conversations::{MAX_TEXT, MessageResponse};
use crate::state::AppState;
use crate::usecases::inbound::{Inbound, receive_inbound};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(inject_inbound))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SandboxInboundRequest {
    /// A sandbox channel of the workspace (404 when none has this id, 422 when the
    /// channel uses another provider).
    #[schema(schema_with = leadline_core::schema::uuid)]
    channel_id: String,
    /// The lead's E.164 cellphone.
    #[schema(schema_with = leadline_core::schema::e164)]
    from: String,
    #[schema(schema_with = leadline_core::schema::text::<1600>)]
    text: String,
}

/// Inject a reply from a lead on a sandbox channel.
#[utoipa::path(post, path = "/api/v1/sandbox/inbound", tag = "sandbox", request_body = SandboxInboundRequest,
    responses((status = 201, body = MessageResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn inject_inbound(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<SandboxInboundRequest>,
) -> ApiResult<(StatusCode, axum::Json<MessageResponse>)> {
    let mut errors = FieldErrors::new();
    let channel_id: Option<ChannelId> = body.channel_id.parse().ok();
    if channel_id.is_none() {
        errors.push("channelId", "must be a channel id (a UUID)");
    }
    let from = errors.check(E164::parse_field("from", &body.from));
    let text = errors.check(text("text", &body.text, MAX_TEXT));
    errors.finish(())?;
    let channel_id = channel_id.expect("checked above");
    let channel = state
        .store
        .channel(workspace, channel_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no channel '{channel_id}' in this workspace"),
            field: Some("channelId".to_owned()),
        })?;
    if channel.provider != ProviderKind::Sandbox {
        return Err(ApiError::field(
            "channelId",
            format!(
                "channel {channel_id} uses the {} provider; only sandbox channels take injected replies",
                channel.provider
            ),
        ));
    }
    let inbound = Inbound {
        from: from.expect("checked above"),
        text: text.expect("checked above"),
        provider_message_id: None,
        received_at: None,
    };
    let recorded = receive_inbound(&state.store, &channel, inbound).await?;
    tracing::info!(conversation = %recorded.conversation.id, message_id = %recorded.message.id, "sandbox reply injected");
    state.wake_agent();
    Ok((StatusCode::CREATED, axum::Json(recorded.message.into())))
}
