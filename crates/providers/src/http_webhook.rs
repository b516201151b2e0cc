//! The generic `http` provider: leadline POSTs each message or call as signed JSON to a
//! URL of the operator's choice, and that endpoint reports back with signed JSON to the
//! channel's webhook URL. It carries any channel type, and is how a self-hoster plugs
//! in a gateway leadline has no adapter for.
//!
//! Settings:
//! * `url` (required): where sends are POSTed.
//!
//! Secrets:
//! * `signingSecret` (required): the HMAC key of both directions (see [`crate::signing`]).
//!
//! Sending: `POST {url}` with `Content-Type: application/json`, `Idempotency-Key:
//! {messageId}`, `X-Leadline-Signature` and the body `{"messageId", "to", "from",
//! "type": "text"|"template"|"call", "text", "template"?: {"name", "language",
//! "params"}}` (`text` is the body, the rendered template or the call script). A 2xx
//! answer is accepted; its body may be `{"id": "…"}` (the endpoint's own id) or empty.
//! 429 and 5xx are retryable (with `Retry-After`), other statuses permanent. An error
//! body `{"code", "message"}` gives the failure its code and the start of its message;
//! any other body is not shown (see [`crate::answer`]).
//!
//! Webhooks to leadline: a POST with the same signature header over the raw body,
//! refused when the signed timestamp is more than 300 s from our clock (so keep the
//! endpoint's clock in sync). Bodies:
//! * `{"type": "status", "messageId"|"providerMessageId", "status":
//!   "sent"|"delivered"|"read"|"failed", "errorCode"?, "occurredAt"?}`
//! * `{"type": "inbound", "from": "+1…", "to"?, "text", "id"?, "receivedAt"?}`
//! * `{"type": "call", "messageId"|"providerMessageId", "status": <leadline call status,
//!   e.g. "completed" or "no-answer">, "durationSeconds"?}`
//!
//! Times are RFC 3339. Another `type` is answered 200 with no events, so endpoints may
//! send more than leadline reads.

use chrono::{DateTime, Utc};
use leadline_core::channel::ProviderKind;
use leadline_core::message::{CallStatus, MessageStatus};
use leadline_core::{E164, FieldErrors, MessageId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::answer::{Answer, clean_provider_id};
use crate::config::Secret;
use crate::outbound::OutboundClient;
use crate::signing::{self, SIGNATURE_HEADER};
use crate::webhook_input::signature_header;
use crate::{
    MessageRef, OutboundContent, OutboundMessage, Provider, ProviderContext, ProviderEvent,
    SendError, SendReceipt, Settings, WebhookError, WebhookOutcome, WebhookReply, WebhookRequest,
};

#[derive(Debug)]
pub struct HttpProvider {
    http: OutboundClient,
    url: url::Url,
    signing_secret: Secret,
}

impl HttpProvider {
    pub fn from_settings(
        settings: &Settings<'_>,
        context: ProviderContext,
    ) -> Result<Self, FieldErrors> {
        let url = settings.url("url");
        let signing_secret = Secret::new(settings.secret("signingSecret"));
        settings.finish(())?;
        Ok(Self {
            http: context.http,
            url: url.expect("a missing or invalid url is a field error"),
            signing_secret,
        })
    }
}

#[async_trait::async_trait]
impl Provider for HttpProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Http
    }

    async fn send(&self, message: &OutboundMessage) -> Result<SendReceipt, SendError> {
        let body = serde_json::to_vec(&SendBody::new(message)).expect("the send body serializes");
        let signature = signing::sign(
            self.signing_secret.expose().as_bytes(),
            Utc::now().timestamp(),
            &body,
        );
        let request = self.http.post(self.url.as_str()).map(|request| {
            request
                .header(http::header::CONTENT_TYPE, "application/json")
                .header("Idempotency-Key", message.message_id.to_string())
                .header(SIGNATURE_HEADER, signature)
                .body(body)
        });
        let answer = Answer::fetch(request).await?;
        let json = serde_json::from_str::<Value>(&answer.body).ok();
        if answer.status.is_success() {
            let id = json
                .as_ref()
                .and_then(|json| json.get("id"))
                .and_then(id_text)
                .and_then(clean_provider_id);
            return Ok(SendReceipt {
                provider_message_id: id,
            });
        }
        let field = |name: &str| json.as_ref().and_then(|json| json.get(name));
        let code = field("code").and_then(id_text);
        Err(answer.failure(
            "the HTTP endpoint",
            code,
            field("message").and_then(Value::as_str),
        ))
    }

    fn handle_webhook(&self, request: &WebhookRequest<'_>) -> Result<WebhookOutcome, WebhookError> {
        let header = signature_header(request, SIGNATURE_HEADER)?;
        signing::verify(
            self.signing_secret.expose().as_bytes(),
            header,
            request.body,
            Utc::now(),
        )
        .map_err(|error| WebhookError::BadSignature(error.to_string()))?;
        let body: Value = serde_json::from_slice(request.body)
            .map_err(|error| WebhookError::Malformed(format!("the body is not JSON: {error}")))?;
        let events = match body.get("type").and_then(Value::as_str) {
            Some("status") => vec![status_event(parse(body)?)?],
            Some("inbound") => vec![inbound_event(parse(body)?)?],
            Some("call") => vec![call_event(parse(body)?)?],
            Some(_) => Vec::new(),
            None => return Err(WebhookError::Malformed("type is required".into())),
        };
        Ok(WebhookOutcome {
            events,
            reply: WebhookReply::ok(),
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SendBody<'m> {
    message_id: MessageId,
    to: &'m str,
    from: &'m str,
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'m str,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<TemplateBody<'m>>,
}

#[derive(Serialize)]
struct TemplateBody<'m> {
    name: &'m str,
    language: &'m str,
    params: &'m [String],
}

impl<'m> SendBody<'m> {
    fn new(message: &'m OutboundMessage) -> Self {
        let (kind, text, template) = match &message.content {
            OutboundContent::Text { body } => ("text", body.as_str(), None),
            OutboundContent::Template {
                name,
                language,
                params,
                rendered,
            } => (
                "template",
                rendered.as_str(),
                Some(TemplateBody {
                    name,
                    language,
                    params,
                }),
            ),
            OutboundContent::Call { script } => ("call", script.as_str(), None),
        };
        Self {
            message_id: message.message_id,
            to: message.to.as_str(),
            from: &message.from,
            kind,
            text,
            template,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusReport {
    message_id: Option<String>,
    provider_message_id: Option<String>,
    status: String,
    error_code: Option<Value>,
    occurred_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InboundReport {
    from: String,
    to: Option<String>,
    text: String,
    id: Option<String>,
    received_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallReport {
    message_id: Option<String>,
    provider_message_id: Option<String>,
    status: String,
    duration_seconds: Option<u32>,
}

fn parse<T: serde::de::DeserializeOwned>(body: Value) -> Result<T, WebhookError> {
    serde_json::from_value(body).map_err(|error| WebhookError::Malformed(error.to_string()))
}

fn status_event(report: StatusReport) -> Result<ProviderEvent, WebhookError> {
    let status = match MessageStatus::parse(&report.status) {
        Some(
            status @ (MessageStatus::Sent
            | MessageStatus::Delivered
            | MessageStatus::Read
            | MessageStatus::Failed),
        ) => status,
        _ => {
            return Err(WebhookError::Malformed(format!(
                "status must be sent, delivered, read or failed, got {:?}",
                report.status
            )));
        }
    };
    Ok(ProviderEvent::Status {
        message: message_ref(report.message_id, report.provider_message_id)?,
        status,
        error_code: report.error_code.as_ref().and_then(id_text),
        occurred_at: report.occurred_at,
    })
}

fn inbound_event(report: InboundReport) -> Result<ProviderEvent, WebhookError> {
    let from = E164::parse(&report.from)
        .map_err(|error| WebhookError::Malformed(format!("from {:?} {error}", report.from)))?;
    Ok(ProviderEvent::Inbound {
        from,
        to: report.to,
        text: report.text,
        provider_message_id: report.id,
        received_at: report.received_at,
    })
}

fn call_event(report: CallReport) -> Result<ProviderEvent, WebhookError> {
    let status = CallStatus::parse(&report.status).ok_or_else(|| {
        WebhookError::Malformed(format!(
            "status must be {}, got {:?}",
            CallStatus::expected(),
            report.status
        ))
    })?;
    Ok(ProviderEvent::CallStatus {
        message: message_ref(report.message_id, report.provider_message_id)?,
        status,
        duration_seconds: report.duration_seconds,
    })
}

/// Our id when the endpoint kept it, else its own.
fn message_ref(ours: Option<String>, theirs: Option<String>) -> Result<MessageRef, WebhookError> {
    match (ours, theirs) {
        (Some(ours), _) => ours
            .parse::<MessageId>()
            .map(MessageRef::Ours)
            .map_err(|_| {
                WebhookError::Malformed(format!("messageId {ours:?} is not a leadline message id"))
            }),
        (None, Some(theirs)) if !theirs.is_empty() => Ok(MessageRef::Provider(theirs)),
        _ => Err(WebhookError::Malformed(
            "messageId or providerMessageId is required".into(),
        )),
    }
}

/// An id or code given as a string or a number.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}
