//! `/api/v1/channels`: how a workspace reaches its leads. A channel names what it
//! carries (SMS, WHATSAPP, VOICE), the provider adapter, the sender, and the adapter's
//! settings and secrets. Secrets are write-only: answers list which secrets are set,
//! never their values, and they are never logged.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::validation::text;
use leadline_core::{ChannelId, E164, FieldErrors};
use leadline_store::channels::{Channel, NewChannel};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, path_id, timestamp};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_channel, list_channels))
        .routes(routes!(get_channel))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateChannelRequest {
    name: String,
    message_provider_type: MessageProviderType,
    /// sandbox (default), twilio, whatsapp_cloud, http or kannel.
    #[serde(default)]
    provider: Option<ProviderKind>,
    /// The from-number (E.164) for SMS and VOICE, the WhatsApp phone-number id for
    /// whatsapp_cloud, or the Kannel sender (a number or short code).
    sender: String,
    /// The adapter's settings (returned as given).
    #[serde(default)]
    #[schema(value_type = Object)]
    settings: Map<String, Value>,
    /// The adapter's credentials: write-only.
    #[serde(default)]
    #[schema(value_type = Object)]
    secrets: Map<String, Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelResponse {
    /// The `providerChannelId` of the seed endpoints.
    id: String,
    workspace_id: String,
    name: String,
    message_provider_type: MessageProviderType,
    provider: ProviderKind,
    sender: String,
    #[schema(value_type = Object)]
    settings: Map<String, Value>,
    /// Names of the secrets that are set (their values are never shown).
    secrets_set: Vec<String>,
    /// Where this channel's provider sends delivery reports and replies.
    webhook_url: String,
    created_at: String,
    updated_at: String,
}

impl ChannelResponse {
    fn new(channel: Channel, state: &AppState) -> Self {
        let mut secrets_set: Vec<String> = channel.secrets.keys().cloned().collect();
        secrets_set.sort();
        Self {
            webhook_url: state.providers.webhook_url(channel.id),
            id: channel.id.to_string(),
            workspace_id: channel.workspace_id.to_string(),
            name: channel.name,
            message_provider_type: channel.carries,
            provider: channel.provider,
            sender: channel.sender,
            settings: channel.settings,
            secrets_set,
            created_at: timestamp(channel.created_at),
            updated_at: timestamp(channel.updated_at),
        }
    }
}

/// Checks the sender against what the provider expects.
fn check_sender(provider: ProviderKind, sender: &str) -> Result<String, leadline_core::FieldError> {
    let sender = text("sender", sender, 64)?;
    match provider {
        ProviderKind::WhatsappCloud => {
            if sender.bytes().all(|b| b.is_ascii_digit()) {
                Ok(sender)
            } else {
                Err(leadline_core::FieldError::new(
                    "sender",
                    "whatsapp_cloud needs the WhatsApp phone-number id (digits), not the phone number",
                ))
            }
        }
        ProviderKind::Kannel => Ok(sender),
        _ => E164::parse_field("sender", &sender).map(|number| number.as_str().to_owned()),
    }
}

/// Create a channel. The provider's settings are checked at once: a missing setting or
/// secret is a 422 naming it (`settings.accountSid`, `secrets.authToken`, …).
#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", request_body = CreateChannelRequest,
    responses((status = 201, body = ChannelResponse), (status = 422, body = Problem)))]
async fn create_channel(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<CreateChannelRequest>,
) -> ApiResult<(StatusCode, axum::Json<ChannelResponse>)> {
    let mut errors = FieldErrors::new();
    let provider = body.provider.unwrap_or(ProviderKind::Sandbox);
    let name = errors.check(text("name", &body.name, 100));
    if !provider.supports(body.message_provider_type) {
        errors.push(
            "provider",
            format!(
                "{provider} cannot carry {} messages",
                body.message_provider_type
            ),
        );
    }
    let sender = errors.check(check_sender(provider, &body.sender));
    errors.finish(())?;
    let new = NewChannel {
        name: name.expect("checked above"),
        carries: body.message_provider_type,
        provider,
        sender: sender.expect("checked above"),
        settings: body.settings,
        secrets: body.secrets,
    };
    // Build the adapter once now, so a bad configuration is refused here rather than
    // failing every send later.
    let config = leadline_providers::ChannelConfig {
        kind: new.provider,
        carries: new.carries,
        settings: &new.settings,
        secrets: &new.secrets,
    };
    state.providers.build_config(ChannelId::new(), &config)?;
    let channel = state.store.create_channel(workspace, new).await?;
    tracing::info!(channel = %channel.id, provider = %channel.provider, carries = %channel.carries, "channel created");
    Ok((
        StatusCode::CREATED,
        axum::Json(ChannelResponse::new(channel, &state)),
    ))
}

/// List the workspace's channels, oldest first.
#[utoipa::path(get, path = "/api/v1/channels", tag = "channels", params(PageParams),
    responses((status = 200, body = Page<ChannelResponse>)))]
async fn list_channels(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<ChannelResponse>>> {
    let limit = page.limit()?;
    let after: Option<ChannelId> = page.cursor()?;
    let channels = state.store.list_channels(workspace, after, limit).await?;
    Ok(axum::Json(Page::new(
        channels
            .into_iter()
            .map(|c| ChannelResponse::new(c, &state))
            .collect(),
        limit,
        |c| c.id.clone(),
    )))
}

/// Fetch a channel.
#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "channels",
    params(("id" = String, Path, description = "The channel's id")),
    responses((status = 200, body = ChannelResponse), (status = 404, body = Problem)))]
async fn get_channel(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChannelResponse>> {
    let channel_id: ChannelId = path_id("id", &id, "channel")?;
    let channel = state
        .store
        .channel(workspace, channel_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no channel '{id}' in this workspace"),
            field: Some("id".to_owned()),
        })?;
    Ok(axum::Json(ChannelResponse::new(channel, &state)))
}
