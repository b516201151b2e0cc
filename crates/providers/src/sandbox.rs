//! The sandbox provider: local and default. It accepts every send and names it
//! `sandbox-{messageId}`, so a retried send gets the same id (it is idempotent by
//! construction). Delivery receipts are produced by the dispatcher on the injected
//! clock, `deliveryDelaySeconds` after the send; replies are injected through
//! `POST /api/v1/sandbox/inbound`. It has no webhooks of its own.

use std::time::Duration;

use leadline_core::FieldErrors;
use leadline_core::channel::ProviderKind;

use crate::{
    OutboundMessage, Provider, SendError, SendReceipt, Settings, WebhookError, WebhookOutcome,
    WebhookRequest,
};

#[derive(Debug, Clone)]
pub struct SandboxProvider {
    delivery_delay: Duration,
}

impl SandboxProvider {
    pub fn from_settings(settings: &Settings<'_>) -> Result<Self, FieldErrors> {
        let delay = settings.optional_u64("deliveryDelaySeconds").unwrap_or(1);
        if delay > 86_400 {
            settings.fail(
                "settings.deliveryDelaySeconds".into(),
                "must be at most 86400 (one day)",
            );
        }
        let provider = Self {
            delivery_delay: Duration::from_secs(delay),
        };
        settings.finish(provider)
    }

    /// How long after the send the sandbox reports the message delivered.
    pub fn delivery_delay(&self) -> Duration {
        self.delivery_delay
    }

    /// The id the sandbox gives a message.
    pub fn provider_id(message: &OutboundMessage) -> String {
        format!("sandbox-{}", message.message_id)
    }
}

#[async_trait::async_trait]
impl Provider for SandboxProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Sandbox
    }

    async fn send(&self, message: &OutboundMessage) -> Result<SendReceipt, SendError> {
        Ok(SendReceipt {
            provider_message_id: Some(Self::provider_id(message)),
        })
    }

    fn simulated_receipt_after(&self) -> Option<Duration> {
        Some(self.delivery_delay)
    }

    fn handle_webhook(
        &self,
        _request: &WebhookRequest<'_>,
    ) -> Result<WebhookOutcome, WebhookError> {
        Err(WebhookError::Malformed(
            "sandbox channels have no provider webhooks; inject replies with POST /api/v1/sandbox/inbound".into(),
        ))
    }
}
