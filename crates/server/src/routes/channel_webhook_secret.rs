//! `POST /api/v1/channels/{id}/rotate-webhook-secret`: a new webhook secret for a
//! Kannel channel, and the Kannel configuration that goes with it, shown this once.
//!
//! Kannel authenticates its calls with credentials derived from the secret, carried in
//! the URLs it is given (see `leadline_providers::kannel::webhook_auth`). The answer
//! holds the new `sms-service` group (its `get-url` has the credentials); `dlr-url`s of
//! new sends carry them by themselves. The replaced secret keeps working for 24 hours
//! on the server's clock, for the reports of messages already sent and while Kannel's
//! config is updated. Also the way to get the first `sms-service` group of a new
//! channel.
//!
//! The answer is a credential: it is sent with `Cache-Control: no-store`, and a request
//! with an `Idempotency-Key` is refused, since the key's stored answer would keep the
//! credential in the database in clear for a day.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use leadline_core::ChannelId;
use leadline_core::channel::ProviderKind;
use leadline_providers::kannel::{mo_get_url, rotate_webhook_secret, sms_service_group};
use rand::RngCore;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{path_id, timestamp};
use crate::idempotency::IDEMPOTENCY_KEY;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(rotate_channel_webhook_secret))
}

/// The new secret's Kannel configuration.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotatedWebhookSecret {
    channel_id: String,
    /// The `get-url` of Kannel's `sms-service` for inbound messages: its userinfo
    /// holds the credentials. Shown only in this answer.
    mo_url: String,
    /// The whole `sms-service` group to put into `kannel.conf` (then restart smsbox).
    sms_service_group: String,
    /// Until when calls with the replaced secret's credentials are still accepted.
    previous_secret_valid_until: String,
}

/// Rotate a Kannel channel's webhook secret; the answer holds the new `sms-service`
/// configuration, shown once. The replaced secret is accepted for 24 hours more.
#[utoipa::path(post, path = "/api/v1/channels/{id}/rotate-webhook-secret", tag = "channels",
    params(("id" = String, Path, description = "The channel's id")),
    responses((status = 200, body = RotatedWebhookSecret), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn rotate_channel_webhook_secret(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if headers.contains_key(IDEMPOTENCY_KEY) {
        return Err(ApiError::field(
            "Idempotency-Key",
            "is not accepted here: the answer holds credentials, which a replay would have to keep; rotate again instead",
        ));
    }
    let channel_id: ChannelId = path_id("id", &id, "channel")?;
    let not_found = || ApiError::NotFound {
        detail: format!("no channel '{id}' in this workspace"),
        field: Some("id".to_owned()),
    };
    let channel = state
        .store
        .channel(workspace, channel_id)
        .await?
        .ok_or_else(not_found)?;
    if channel.provider != ProviderKind::Kannel {
        return Err(ApiError::Conflict {
            detail: format!(
                "the channel's provider is {}: only kannel channels have a webhook secret leadline rotates",
                channel.provider
            ),
            field: None,
        });
    }
    let new_secret = {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    };
    let now = state.store.clock().now();
    let (channel, valid_until) = state
        .store
        .change_channel_secrets(workspace, channel_id, |secrets| {
            rotate_webhook_secret(secrets, &new_secret, now)
        })
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(channel = %channel.id, valid_until = %valid_until, "Kannel webhook secret rotated");
    let webhook_url = state.providers.webhook_url(channel.id);
    let answer = RotatedWebhookSecret {
        channel_id: channel.id.to_string(),
        mo_url: mo_get_url(&webhook_url, &new_secret),
        sms_service_group: sms_service_group(&webhook_url, &new_secret),
        previous_secret_valid_until: timestamp(valid_until),
    };
    let mut response = axum::Json(answer).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
