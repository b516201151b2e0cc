//! `/webhooks/providers/{channelId}`: where providers report delivery, call progress
//! and replies. No API key: each call is verified by the channel's provider adapter
//! (Twilio's `X-Twilio-Signature`, WhatsApp's `X-Hub-Signature-256`, the http
//! provider's HMAC, Kannel's Basic credentials and per-message MAC). A call that fails
//! verification is a 401 (a 403 when it comes from outside the channel's
//! `allowedSources`) and changes nothing. Reports may repeat or arrive out of order;
//! applying them is idempotent and never moves a message back. Calls are rate limited per
//! channel (see [`crate::rate_limit`]), before the channel is even looked up.
//!
//! The adapter judges the call with the caller's address (the TCP peer, from
//! `ConnectInfo`) and the arrival time on the store's clock. Kannel's calls are judged
//! by the channel as stored now (its webhook secret rotates through the API); for the
//! others a refusal by a cached adapter is checked once more against the stored
//! channel, so a secret changed on another node is honoured at once.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{Extensions, HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use leadline_core::ChannelId;
use leadline_core::channel::ProviderKind;
use leadline_providers::{
    MessageRef, Provider, ProviderEvent, WebhookError, WebhookOutcome, WebhookRequest,
};
use leadline_store::messages::MessageKey;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::channel_providers::ProviderLookupError;
use crate::error::{ApiError, Problem};
use crate::extract::path_id;
use crate::rate_limit::response::{Shape, too_many_requests};
use crate::state::AppState;
use crate::usecases::call_outcome::{CallReport, record_call_outcome};
use crate::usecases::inbound::{Inbound, receive_inbound};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(provider_webhook_post, provider_webhook_get))
}

/// Receive a provider's webhook call (delivery reports, call status, inbound messages).
#[utoipa::path(post, path = "/webhooks/providers/{channelId}", tag = "webhooks", security(()),
    request_body(content = String, description = "The provider's own payload: form fields, JSON or text"),
    params(("channelId" = String, Path, description = "The channel the provider reports on")),
    responses((status = 200, description = "Accepted"), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 404, body = Problem)))]
async fn provider_webhook_post(
    state: State<AppState>,
    path: Path<String>,
    method: Method,
    uri: Uri,
    extensions: Extensions,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let call = Call {
        method,
        uri,
        peer: peer(&extensions),
        headers,
        body,
    };
    receive(state, path, call).await
}

/// Provider webhooks sent as GET (Kannel's reports and inbound messages, WhatsApp's
/// subscription check).
#[utoipa::path(get, path = "/webhooks/providers/{channelId}", tag = "webhooks", security(()),
    params(("channelId" = String, Path, description = "The channel the provider reports on")),
    responses((status = 200, description = "Accepted"), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 404, body = Problem)))]
async fn provider_webhook_get(
    state: State<AppState>,
    path: Path<String>,
    method: Method,
    uri: Uri,
    extensions: Extensions,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let call = Call {
        method,
        uri,
        peer: peer(&extensions),
        headers,
        body: Bytes::new(),
    };
    receive(state, path, call).await
}

/// A webhook call as it reached the server.
struct Call {
    method: Method,
    uri: Uri,
    peer: Option<std::net::IpAddr>,
    headers: HeaderMap,
    body: Bytes,
}

/// The TCP peer, when the server is served with connect info (as `serve` does).
fn peer(extensions: &Extensions) -> Option<std::net::IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip())
}

async fn receive(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    call: Call,
) -> Result<Response, ApiError> {
    let channel_id: ChannelId = path_id("channelId", &channel, "channel")?;
    if let Err(limited) = state.limits.take_for_channel(channel_id) {
        return Ok(too_many_requests(&limited, Shape::Problem));
    }
    let store = &state.store;
    let (channel, provider) = match state
        .providers
        .get(channel_id, || store.channel_by_id(channel_id))
        .await
    {
        Ok(Some(found)) => found,
        Ok(None) => return Err(ApiError::not_found(format!("no channel '{channel_id}'"))),
        Err(ProviderLookupError::Store(error)) => return Err(error.into()),
        Err(ProviderLookupError::Misconfigured(_)) => {
            return Err(ApiError::Unavailable(
                "this channel's provider settings are incomplete; fix the channel".into(),
            ));
        }
    };
    // Providers sign the URL they called: the public base plus the path and query.
    let path_and_query = call.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let url = format!("{}{path_and_query}", state.providers.public_url());
    let request = WebhookRequest {
        method: &call.method,
        url: &url,
        headers: &call.headers,
        body: &call.body,
        peer: call.peer,
        received_at: state.store.clock().now(),
    };
    let outcome = match verify(&state, &channel, &provider, &request).await {
        Ok(outcome) => outcome,
        Err(WebhookError::SourceRefused(reason)) => {
            tracing::warn!(channel = %channel.id, provider = %channel.provider, %reason, "webhook refused: source not allowed");
            metrics::counter!("leadline_webhooks_total", "outcome" => "source_refused")
                .increment(1);
            return Err(ApiError::Forbidden(
                "this address may not call this channel's webhook (allowedSources)".into(),
            ));
        }
        Err(WebhookError::BadSignature(reason)) => {
            tracing::warn!(channel = %channel.id, provider = %channel.provider, %reason, "webhook refused: bad signature");
            metrics::counter!("leadline_webhooks_total", "outcome" => "bad_signature").increment(1);
            return Err(ApiError::Unauthorized);
        }
        Err(WebhookError::Malformed(reason)) => {
            tracing::info!(channel = %channel.id, provider = %channel.provider, %reason, "webhook not understood");
            metrics::counter!("leadline_webhooks_total", "outcome" => "malformed").increment(1);
            return Err(ApiError::BadRequest(reason));
        }
    };
    for event in outcome.events {
        apply(&state, &channel, event).await?;
    }
    metrics::counter!("leadline_webhooks_total", "outcome" => "accepted").increment(1);
    let reply = outcome.reply;
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    Ok((
        status,
        [(header::CONTENT_TYPE, reply.content_type)],
        reply.body,
    )
        .into_response())
}

/// The adapter's verdict. Kannel's calls are judged by the channel as stored now: its
/// webhook secret is rotated through the API, and a cached adapter would accept a
/// replaced secret for up to the cache's lifetime after its grace period (one read by
/// primary key per call). Other providers' refusals are judged again the same way, so
/// a secret changed a moment ago is honoured at once.
async fn verify(
    state: &AppState,
    channel: &leadline_store::channels::Channel,
    cached: &Arc<dyn Provider>,
    request: &WebhookRequest<'_>,
) -> Result<WebhookOutcome, WebhookError> {
    if channel.provider == ProviderKind::Kannel {
        let current = current_adapter(state, channel).await;
        return current.as_ref().unwrap_or(cached).handle_webhook(request);
    }
    match cached.handle_webhook(request) {
        Err(refusal @ WebhookError::BadSignature(_)) => match current_adapter(state, channel).await
        {
            Some(current) => current.handle_webhook(request),
            None => Err(refusal),
        },
        verdict => verdict,
    }
}

/// An adapter built from the channel as stored now, when it differs from `channel`
/// (compared whole: two changes within one clock tick share `updated_at`).
async fn current_adapter(
    state: &AppState,
    channel: &leadline_store::channels::Channel,
) -> Option<Arc<dyn Provider>> {
    let stored = state.store.channel_by_id(channel.id).await.ok()??;
    if stored == *channel {
        return None;
    }
    state.providers.build(&stored).ok()
}

fn key(reference: MessageRef) -> MessageKey {
    match reference {
        MessageRef::Ours(id) => MessageKey::Id(id),
        MessageRef::Provider(id) => MessageKey::ProviderId(id),
    }
}

async fn apply(
    state: &AppState,
    channel: &leadline_store::channels::Channel,
    event: ProviderEvent,
) -> Result<(), ApiError> {
    match event {
        ProviderEvent::Status {
            message,
            status,
            error_code,
            ..
        } => {
            let reference = key(message);
            let updated = state
                .store
                .apply_message_status(channel.id, &reference, status, error_code.as_deref())
                .await?;
            match updated {
                Some(message) => {
                    tracing::debug!(message_id = %message.id, reported = %status, now = %message.status, "delivery report applied")
                }
                None => {
                    tracing::info!(channel = %channel.id, ?reference, reported = %status, "delivery report for an unknown message ignored")
                }
            }
        }
        ProviderEvent::CallStatus {
            message,
            status,
            duration_seconds,
        } => {
            let report = CallReport {
                channel_id: channel.id,
                call: key(message),
                status,
                duration_seconds: duration_seconds.map(i64::from),
            };
            let reference = report.call.clone();
            if record_call_outcome(&state.store, report).await?.is_none() {
                tracing::info!(channel = %channel.id, ?reference, reported = %status, "call status for an unknown call ignored");
            }
        }
        ProviderEvent::Inbound {
            from,
            text,
            provider_message_id,
            received_at,
            ..
        } => {
            let inbound = Inbound {
                from,
                text,
                provider_message_id,
                received_at,
            };
            let recorded = receive_inbound(&state.store, channel, inbound).await?;
            tracing::info!(conversation = %recorded.conversation.id, message_id = %recorded.message.id,
                duplicate = recorded.duplicate, "inbound message recorded");
            if !recorded.duplicate {
                state.wake_agent();
            }
        }
    }
    Ok(())
}
