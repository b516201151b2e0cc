//! Provider adapters behind one trait. An adapter turns an [`OutboundMessage`] into the
//! provider's own HTTP request, classifies the answer as accepted, retryable or
//! permanent, and turns the provider's webhooks (delivery reports, call status, inbound
//! messages) into [`ProviderEvent`]s after checking their signature.
//!
//! Adapters are built from a channel's settings and write-only secrets by [`build`],
//! which names the failing field (`settings.accountSid`, `secrets.authToken`, …) when
//! the configuration is incomplete. No adapter keeps state between calls: everything a
//! retry needs is in the outbox.
#![forbid(unsafe_code)]

mod answer;
mod config;
mod http_webhook;
pub mod kannel;
pub mod outbound;
mod sandbox;
mod signature;
pub mod signing;
pub mod source_allow_list;
mod twilio;
mod webhook_input;
mod whatsapp_cloud;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::message::{CallStatus, MessageStatus};
use leadline_core::{E164, FieldErrors, MessageId};

pub use answer::retry_after;
pub use config::Settings;
pub use http_webhook::HttpProvider;
pub use kannel::KannelProvider;
pub use sandbox::SandboxProvider;
pub use twilio::TwilioProvider;
pub use whatsapp_cloud::WhatsappCloudProvider;

/// What a channel needs to build its adapter.
#[derive(Debug, Clone)]
pub struct ChannelConfig<'a> {
    pub kind: ProviderKind,
    pub carries: MessageProviderType,
    /// Non-secret settings, returned by the API.
    pub settings: &'a serde_json::Map<String, serde_json::Value>,
    /// Credentials: accepted on write, never returned or logged (`Debug` shows names).
    pub secrets: &'a leadline_core::SecretMap,
}

/// What every adapter shares at run time.
#[derive(Debug, Clone)]
pub struct ProviderContext {
    /// One client for the whole process: keeps connections alive per provider host,
    /// and calls only what the operator's outbound policy allows.
    pub http: outbound::OutboundClient,
    /// The public URL of this channel's webhook endpoint,
    /// `{public base}/webhooks/providers/{channelId}`, for status callbacks.
    pub webhook_url: String,
}

/// Builds the adapter of a channel, or names every missing or invalid setting.
pub fn build(
    config: &ChannelConfig<'_>,
    context: ProviderContext,
) -> Result<Arc<dyn Provider>, FieldErrors> {
    let settings = Settings::new(config.settings, config.secrets.expose());
    let provider: Arc<dyn Provider> = match config.kind {
        ProviderKind::Sandbox => Arc::new(SandboxProvider::from_settings(&settings)?),
        ProviderKind::Twilio => {
            Arc::new(twilio::TwilioProvider::from_settings(&settings, context)?)
        }
        ProviderKind::WhatsappCloud => Arc::new(
            whatsapp_cloud::WhatsappCloudProvider::from_settings(&settings, context)?,
        ),
        ProviderKind::Http => Arc::new(http_webhook::HttpProvider::from_settings(
            &settings, context,
        )?),
        ProviderKind::Kannel => {
            Arc::new(kannel::KannelProvider::from_settings(&settings, context)?)
        }
    };
    Ok(provider)
}

/// The settings of a provider that hold a URL leadline calls, by their key in
/// `settings`: what the outbound guard checks when a channel is saved.
pub fn outbound_url_settings(kind: ProviderKind) -> &'static [&'static str] {
    match kind {
        ProviderKind::Sandbox => &[],
        ProviderKind::Twilio | ProviderKind::WhatsappCloud => &["apiBaseUrl"],
        ProviderKind::Http => &["url"],
        ProviderKind::Kannel => &["sendsmsUrl"],
    }
}

/// One message or call to send.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundMessage {
    /// Our id; also the idempotency key sent to providers that honour one.
    pub message_id: MessageId,
    pub to: E164,
    /// The sender: an E.164 number, a WhatsApp phone-number id or a Kannel sender.
    pub from: String,
    pub content: OutboundContent,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutboundContent {
    /// Free text (an advisor's or the agent's reply).
    Text { body: String },
    /// A template: providers with their own template store (WhatsApp) get the name,
    /// language and parameters; the others get the rendered text.
    Template {
        name: String,
        /// BCP 47-ish code as stored on the template, e.g. `en` or `es`.
        language: String,
        params: Vec<String>,
        rendered: String,
    },
    /// A voice call that speaks `script` when answered.
    Call { script: String },
}

/// The provider accepted the send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SendReceipt {
    /// The provider's id of the message or call, when it returns one (Kannel does not:
    /// its reports carry our id instead).
    pub provider_message_id: Option<String>,
}

/// The provider did not accept the send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: timeouts, 5xx, 429.
    #[error("retryable: {reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The request was written but no answer came (a timeout or a connection dropped
    /// mid-call): the provider may or may not have accepted it. Sending again is safe
    /// only where the provider honours our idempotency key.
    #[error("uncertain: {reason}")]
    Uncertain { reason: String },
    /// Will fail the same way again: bad number, bad credentials, rejected content, an
    /// address the outbound guard refuses.
    #[error("permanent: {reason}")]
    Permanent {
        /// The provider's own error code, when it gives one.
        code: Option<String>,
        reason: String,
    },
}

/// The code of a send the outbound guard refused.
pub const OUTBOUND_REFUSED: &str = "outbound_refused";

/// A refused address stays refused until the operator changes the allow-list and
/// restarts: permanent, so the message fails at once instead of being retried.
impl From<outbound::OutboundRefusal> for SendError {
    fn from(refusal: outbound::OutboundRefusal) -> Self {
        SendError::Permanent {
            code: Some(OUTBOUND_REFUSED.to_owned()),
            reason: refusal.to_string(),
        }
    }
}

/// A webhook call as it reached us.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    pub method: &'a http::Method,
    /// The full URL the provider called (public base, path and query): Twilio signs it.
    pub url: &'a str,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
    /// The address the call came from (the TCP peer), when the server knows it.
    pub peer: Option<std::net::IpAddr>,
    /// When it arrived, on the server's clock: grace periods are judged by it.
    pub received_at: DateTime<Utc>,
}

/// What a verified webhook said, and what to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookOutcome {
    pub events: Vec<ProviderEvent>,
    pub reply: WebhookReply,
}

/// The answer to a webhook call. Most providers only need a fast 200; WhatsApp's
/// subscription check needs its challenge echoed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl WebhookReply {
    pub fn ok() -> Self {
        Self {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: String::new(),
        }
    }
}

/// Which message a report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageRef {
    /// Our own id, carried through the provider (Kannel's dlr-url, the http provider).
    Ours(MessageId),
    /// The provider's id, as returned in the [`SendReceipt`].
    Provider(String),
}

/// Something a provider told us.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderEvent {
    /// A delivery report.
    Status {
        message: MessageRef,
        status: MessageStatus,
        error_code: Option<String>,
        occurred_at: Option<DateTime<Utc>>,
    },
    /// A call's progress.
    CallStatus {
        message: MessageRef,
        status: CallStatus,
        duration_seconds: Option<u32>,
    },
    /// A message the lead wrote.
    Inbound {
        from: E164,
        /// The number or account it was sent to, when the provider says.
        to: Option<String>,
        text: String,
        provider_message_id: Option<String>,
        received_at: Option<DateTime<Utc>>,
    },
}

/// Why a webhook was refused. Nothing is recorded for a refused webhook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Missing or wrong signature or token: 401.
    #[error("webhook signature rejected: {0}")]
    BadSignature(String),
    /// Signed correctly but not understood: 400.
    #[error("webhook not understood: {0}")]
    Malformed(String),
    /// From an address the channel does not accept calls from: 403.
    #[error("webhook source refused: {0}")]
    SourceRefused(String),
}

/// One provider adapter.
#[async_trait::async_trait]
pub trait Provider: Send + Sync + std::fmt::Debug {
    fn kind(&self) -> ProviderKind;

    /// Sends one message or places one call.
    async fn send(&self, message: &OutboundMessage) -> Result<SendReceipt, SendError>;

    /// Verifies a webhook call and reads its events.
    fn handle_webhook(&self, request: &WebhookRequest<'_>) -> Result<WebhookOutcome, WebhookError>;

    /// For simulated providers only (the sandbox): how long after a send the
    /// dispatcher should report the message delivered. Real providers report
    /// through their webhooks.
    fn simulated_receipt_after(&self) -> Option<Duration> {
        None
    }
}
