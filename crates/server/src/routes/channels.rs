//! `/api/v1/channels`: how a workspace reaches its leads. A channel names what it
//! carries (SMS, WHATSAPP, VOICE), the provider adapter, the sender, and the adapter's
//! settings and secrets. Secrets are write-only: answers list which secrets are set,
//! never their values, and they are never logged. Each channel also has its delivery
//! settings (concurrency, rate, what becomes of uncertain sends) and shows the state
//! of its circuit breaker.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::ChannelId;
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::delivery::DeliverySettings;
use leadline_store::channels::Channel;
use leadline_store::lane_circuits::LaneCircuit;
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
use crate::usecases::settings::channels::{self, ChannelInput};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_channel, list_channels))
        .routes(routes!(get_channel))
        .routes(routes!(set_delivery))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateChannelRequest {
    #[schema(schema_with = leadline_core::schema::text::<100>)]
    name: String,
    message_provider_type: MessageProviderType,
    /// sandbox (default), twilio, whatsapp_cloud, http or kannel.
    #[serde(default)]
    provider: Option<ProviderKind>,
    /// The from-number (E.164) for SMS and VOICE, the WhatsApp phone-number id for
    /// whatsapp_cloud, or the Kannel sender (a number or short code); at most 64
    /// characters. Which of these the provider needs is checked with the provider
    /// (422 naming `sender`), as are its settings and secrets.
    #[schema(schema_with = leadline_core::schema::text::<64>)]
    sender: String,
    /// The adapter's settings (returned as given).
    #[serde(default)]
    #[schema(value_type = Object)]
    settings: Map<String, Value>,
    /// The adapter's credentials: write-only (`Debug` shows their names only).
    #[serde(default)]
    #[schema(value_type = Object)]
    secrets: leadline_core::SecretMap,
    /// How the dispatcher treats the channel (all fields optional).
    #[serde(default)]
    delivery: Option<DeliverySettings>,
}

/// A channel's circuit breaker: `closed` (sending), `open` (the provider kept failing;
/// nothing is sent until `openUntil`, and queued messages wait without using their
/// attempts) or `half_open` (one probe send decides).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CircuitResponse {
    #[schema(example = "closed")]
    state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    open_until: Option<String>,
    /// What the provider kept answering.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl CircuitResponse {
    fn new(circuit: Option<LaneCircuit>, now: chrono::DateTime<chrono::Utc>) -> Self {
        match circuit {
            Some(circuit) => Self {
                state: if circuit.open_until > now {
                    circuit.state
                } else {
                    "half_open".to_owned()
                },
                open_until: Some(timestamp(circuit.open_until)),
                reason: Some(circuit.reason),
            },
            None => Self {
                state: "closed".to_owned(),
                open_until: None,
                reason: None,
            },
        }
    }
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
    delivery: DeliverySettings,
    circuit: CircuitResponse,
    created_at: String,
    updated_at: String,
}

impl ChannelResponse {
    async fn load(channel: Channel, state: &AppState) -> ApiResult<Self> {
        let circuit = state.store.lane_circuit(&channel.id.to_string()).await?;
        Ok(Self::new(channel, circuit, state))
    }

    fn new(channel: Channel, circuit: Option<LaneCircuit>, state: &AppState) -> Self {
        let secrets_set = channel.secrets.names();
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
            delivery: channel.delivery.effective(channel.provider),
            circuit: CircuitResponse::new(circuit, state.store.clock().now()),
            created_at: timestamp(channel.created_at),
            updated_at: timestamp(channel.updated_at),
        }
    }
}

/// Create a channel. The provider's settings are checked at once: a missing setting or
/// secret is a 422 naming it (`settings.accountSid`, `secrets.authToken`, …), and so is
/// a URL whose host is, or resolves to, an address the outbound guard refuses
/// (loopback, private, link-local, metadata…) unless the operator allowed it with
/// `--allow-outbound`.
#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", request_body = CreateChannelRequest,
    responses((status = 201, body = ChannelResponse), (status = 422, body = Problem)))]
async fn create_channel(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<CreateChannelRequest>,
) -> ApiResult<(StatusCode, axum::Json<ChannelResponse>)> {
    let input = ChannelInput {
        name: body.name,
        carries: body.message_provider_type,
        provider: body.provider,
        sender: body.sender,
        settings: body.settings,
        secrets: body.secrets,
        delivery: body.delivery,
    };
    let channel = channels::create(&state, workspace, input).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ChannelResponse::new(channel, None, &state)),
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
    let mut items = Vec::with_capacity(channels.len());
    for channel in channels {
        items.push(ChannelResponse::load(channel, &state).await?);
    }
    Ok(axum::Json(Page::new(items, limit, |c| c.id.clone())))
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
    Ok(axum::Json(ChannelResponse::load(channel, &state).await?))
}

/// Replace a channel's delivery settings: sends in flight at once and per second (per
/// server process), and what becomes of a send whose outcome is unknown. Absent fields
/// take their defaults. Takes effect within 30 seconds on every node.
#[utoipa::path(put, path = "/api/v1/channels/{id}/delivery", tag = "channels",
    params(("id" = String, Path, description = "The channel's id")),
    request_body = DeliverySettings,
    responses((status = 200, body = ChannelResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_delivery(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(delivery): ApiJson<DeliverySettings>,
) -> ApiResult<axum::Json<ChannelResponse>> {
    let channel_id: ChannelId = path_id("id", &id, "channel")?;
    let channel = channels::set_delivery(&state, workspace, channel_id, delivery, "")
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no channel '{id}' in this workspace"),
            field: Some("id".to_owned()),
        })?;
    Ok(axum::Json(ChannelResponse::load(channel, &state).await?))
}
