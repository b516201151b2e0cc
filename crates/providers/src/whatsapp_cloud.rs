//! Meta's WhatsApp Cloud API (channels of type WHATSAPP).
//!
//! Settings:
//! * `apiBaseUrl` (optional, default `https://graph.facebook.com`): changed for tests.
//! * `apiVersion` (optional, default `v21.0`): the Graph API version in the path.
//!
//! Secrets:
//! * `accessToken` (required): a system-user token with `whatsapp_business_messaging`.
//! * `appSecret` (required): the Meta app's secret, the key of `X-Hub-Signature-256`.
//! * `verifyToken` (required): the string typed into the app's webhook settings, echoed
//!   back by Meta in the subscription check.
//!
//! Sending: the message's `from` is the WhatsApp phone-number id. `POST
//! {apiBaseUrl}/{apiVersion}/{from}/messages` with a Bearer token and JSON
//! `{"messaging_product": "whatsapp", "to": <digits, no '+'>, "type": "template",
//! "template": {"name", "language": {"code"}, "components": [{"type": "body",
//! "parameters": [{"type": "text", "text"}…]}]}}` (no `components` without parameters)
//! or `"type": "text", "text": {"body"}`. `biz_opaque_callback_data` carries our message
//! id: Meta echoes it in status webhooks, which helps an operator trace a message in
//! Meta's tools. The Cloud API has no idempotency key, so a retry after a timeout can
//! send twice. Calls are not supported (a permanent error).
//!
//! Answers: `{"messages": [{"id"}]}` → accepted. Errors are `{"error": {"code",
//! "message"}}`, mostly with HTTP 400 even for throttling, so the code decides: rate
//! limits and Meta's transient failures (see [`RETRYABLE_CODES`]), HTTP 429 and 5xx are
//! retryable; everything else (bad token 190, template not found 132001, recipient not
//! on WhatsApp 131026, …) is permanent with Meta's code.
//!
//! Webhooks are described in [`webhook`].

mod webhook;

use leadline_core::FieldErrors;
use leadline_core::channel::ProviderKind;
use serde::{Deserialize, Serialize};

use crate::answer::{Answer, clean_provider_id};
use crate::config::Secret;
use crate::outbound::OutboundClient;
use crate::{
    OutboundContent, OutboundMessage, Provider, ProviderContext, SendError, SendReceipt, Settings,
    WebhookError, WebhookOutcome, WebhookRequest,
};

const DEFAULT_API_BASE: &str = "https://graph.facebook.com";
const DEFAULT_API_VERSION: &str = "v21.0";

/// Meta error codes worth another try although Meta answers them with HTTP 400:
/// 1 and 2 (API temporarily unavailable), 4 (application request limit), 80007 (WABA
/// rate limit), 130429 (throughput limit), 131000 (unknown failure), 131016 (service
/// unavailable), 131048 (spam rate limit), 131056 (too many messages to one user).
const RETRYABLE_CODES: [i64; 9] = [1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056];

#[derive(Debug)]
pub struct WhatsappCloudProvider {
    http: OutboundClient,
    /// `{apiBaseUrl}/{apiVersion}`, without a trailing slash.
    api_url: String,
    access_token: Secret,
    app_secret: Secret,
    verify_token: Secret,
}

impl WhatsappCloudProvider {
    pub fn from_settings(
        settings: &Settings<'_>,
        context: ProviderContext,
    ) -> Result<Self, FieldErrors> {
        let api_base = settings.optional_url("apiBaseUrl").map_or_else(
            || DEFAULT_API_BASE.to_owned(),
            |url| url.as_str().trim_end_matches('/').to_owned(),
        );
        let api_version = settings
            .optional_setting("apiVersion")
            .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned());
        if !is_api_version(&api_version) {
            settings.fail("settings.apiVersion".into(), "must look like v21.0");
        }
        let provider = Self {
            http: context.http,
            api_url: format!("{api_base}/{api_version}"),
            access_token: Secret::new(settings.secret("accessToken")),
            app_secret: Secret::new(settings.secret("appSecret")),
            verify_token: Secret::new(settings.secret("verifyToken")),
        };
        settings.finish(provider)
    }
}

#[async_trait::async_trait]
impl Provider for WhatsappCloudProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::WhatsappCloud
    }

    async fn send(&self, message: &OutboundMessage) -> Result<SendReceipt, SendError> {
        if !is_phone_number_id(&message.from) {
            return Err(SendError::Permanent {
                code: None,
                reason: "the sender must be a WhatsApp phone-number id (digits)".into(),
            });
        }
        let body = SendBody::new(message)?;
        let request = self
            .http
            .post(&format!("{}/{}/messages", self.api_url, message.from))
            .map(|request| request.bearer_auth(self.access_token.expose()).json(&body));
        let answer = Answer::fetch(request).await?;
        if answer.status.is_success() {
            let id = serde_json::from_str::<Sent>(&answer.body)
                .ok()
                .and_then(|sent| sent.messages.into_iter().next())
                .and_then(|sent| clean_provider_id(sent.id));
            if id.is_none() {
                tracing::warn!(message_id = %message.message_id, "WhatsApp accepted a send without a message id; its status webhooks cannot be matched");
            }
            return Ok(SendReceipt {
                provider_message_id: id,
            });
        }
        let error = serde_json::from_str::<ErrorBody>(&answer.body)
            .ok()
            .map(|body| body.error);
        let code = error.as_ref().and_then(|error| error.code);
        let message_text = error.as_ref().and_then(|error| error.message.as_deref());
        match answer.failure("WhatsApp", code.map(|code| code.to_string()), message_text) {
            SendError::Permanent { reason, .. }
                if code.is_some_and(|code| RETRYABLE_CODES.contains(&code)) =>
            {
                Err(SendError::Retryable {
                    reason,
                    retry_after: answer.retry_after,
                })
            }
            other => Err(other),
        }
    }

    fn handle_webhook(&self, request: &WebhookRequest<'_>) -> Result<WebhookOutcome, WebhookError> {
        webhook::handle(
            self.app_secret.expose(),
            self.verify_token.expose(),
            request,
        )
    }
}

/// The JSON body of one send.
#[derive(Serialize)]
struct SendBody<'m> {
    messaging_product: &'static str,
    to: &'m str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<TextBody<'m>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<TemplateBody<'m>>,
    biz_opaque_callback_data: String,
}

#[derive(Serialize)]
struct TextBody<'m> {
    body: &'m str,
}

#[derive(Serialize)]
struct TemplateBody<'m> {
    name: &'m str,
    language: Language<'m>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    components: Vec<Component<'m>>,
}

#[derive(Serialize)]
struct Language<'m> {
    code: &'m str,
}

#[derive(Serialize)]
struct Component<'m> {
    #[serde(rename = "type")]
    kind: &'static str,
    parameters: Vec<Parameter<'m>>,
}

#[derive(Serialize)]
struct Parameter<'m> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'m str,
}

impl<'m> SendBody<'m> {
    fn new(message: &'m OutboundMessage) -> Result<Self, SendError> {
        let mut body = SendBody {
            messaging_product: "whatsapp",
            to: message.to.as_str().trim_start_matches('+'),
            kind: "text",
            text: None,
            template: None,
            biz_opaque_callback_data: message.message_id.to_string(),
        };
        match &message.content {
            OutboundContent::Text { body: text } => body.text = Some(TextBody { body: text }),
            OutboundContent::Template {
                name,
                language,
                params,
                ..
            } => {
                let parameters: Vec<Parameter<'m>> = params
                    .iter()
                    .map(|text| Parameter { kind: "text", text })
                    .collect();
                let components = if parameters.is_empty() {
                    Vec::new()
                } else {
                    vec![Component {
                        kind: "body",
                        parameters,
                    }]
                };
                body.kind = "template";
                body.template = Some(TemplateBody {
                    name,
                    language: Language { code: language },
                    components,
                });
            }
            OutboundContent::Call { .. } => {
                return Err(SendError::Permanent {
                    code: None,
                    reason: "the WhatsApp Cloud adapter cannot place calls".into(),
                });
            }
        }
        Ok(body)
    }
}

/// `{"messaging_product": "whatsapp", "contacts": […], "messages": [{"id": "wamid…"}]}`.
#[derive(Deserialize)]
struct Sent {
    messages: Vec<SentMessage>,
}

#[derive(Deserialize)]
struct SentMessage {
    id: String,
}

/// `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: MetaError,
}

#[derive(Deserialize)]
struct MetaError {
    code: Option<i64>,
    message: Option<String>,
}

fn is_api_version(version: &str) -> bool {
    version
        .strip_prefix('v')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(major, minor)| {
            [major, minor]
                .iter()
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// Phone-number ids are numeric; checking keeps a stray sender out of the URL path.
fn is_phone_number_id(from: &str) -> bool {
    !from.is_empty() && from.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions() {
        assert!(is_api_version("v21.0"));
        assert!(is_api_version("v9.12"));
        assert!(!is_api_version("21.0"));
        assert!(!is_api_version("v21"));
        assert!(!is_api_version("v21.0/../x"));
    }
}
