//! Twilio: SMS through the Messages API and voice calls through the Calls API (channels
//! of type SMS and VOICE).
//!
//! Settings:
//! * `accountSid` (required): the account, `AC` and 32 hex digits.
//! * `apiBaseUrl` (optional, default `https://api.twilio.com`): only changed to point
//!   the adapter at a mock server or a regional edge.
//!
//! Secrets:
//! * `authToken` (required): HTTP Basic password of every request, and the key Twilio
//!   signs its webhooks with.
//!
//! Sending: `POST {apiBaseUrl}/2010-04-01/Accounts/{accountSid}/Messages.json` with the
//! form fields `To`, `From` (or `MessagingServiceSid` when the channel's sender is an
//! `MG…` service id), `Body` (a template's rendered text) and `StatusCallback` (this
//! channel's webhook URL). Calls go to `…/Calls.json` with `Twiml` =
//! `<Response><Say>script</Say></Response>` and `StatusCallbackEvent` = initiated,
//! ringing, answered, completed. Each request carries our message id in
//! `I-Twilio-Idempotency-Token`. Twilio documents that header for its own webhook
//! retries, not as an API idempotency key, so a send retried after a timeout may still
//! be sent twice: the outbox is at-least-once for Twilio.
//!
//! Answers: 2xx with `sid` → accepted; 429 and 5xx → retryable (honouring
//! `Retry-After`); other 4xx and 3xx → permanent with Twilio's `code` (e.g. 21211
//! invalid `To`) and the start of its `message`.
//!
//! Webhooks are described in [`webhook`].

mod webhook;

use leadline_core::FieldErrors;
use leadline_core::channel::ProviderKind;
use serde::Deserialize;

use crate::answer::{Answer, clean_provider_id};
use crate::config::Secret;
use crate::outbound::OutboundClient;
use crate::{
    OutboundContent, OutboundMessage, Provider, ProviderContext, SendError, SendReceipt, Settings,
    WebhookError, WebhookOutcome, WebhookRequest,
};

const DEFAULT_API_BASE: &str = "https://api.twilio.com";

/// The call events Twilio reports to `StatusCallback`. Without this list Twilio reports
/// only `completed`, and a call that is ringing would look stuck.
const CALL_EVENTS: [&str; 4] = ["initiated", "ringing", "answered", "completed"];

#[derive(Debug)]
pub struct TwilioProvider {
    http: OutboundClient,
    /// `{apiBaseUrl}/2010-04-01/Accounts/{accountSid}`, without a trailing slash.
    account_url: String,
    account_sid: String,
    auth_token: Secret,
    webhook_url: String,
}

impl TwilioProvider {
    pub fn from_settings(
        settings: &Settings<'_>,
        context: ProviderContext,
    ) -> Result<Self, FieldErrors> {
        let account_sid = settings.setting("accountSid");
        if !account_sid.is_empty() && !is_account_sid(&account_sid) {
            settings.fail(
                "settings.accountSid".into(),
                "must be a Twilio account SID: AC followed by 32 hex digits",
            );
        }
        let api_base = settings.optional_url("apiBaseUrl").map_or_else(
            || DEFAULT_API_BASE.to_owned(),
            |url| url.as_str().trim_end_matches('/').to_owned(),
        );
        let auth_token = Secret::new(settings.secret("authToken"));
        settings.finish(Self {
            http: context.http,
            account_url: format!("{api_base}/2010-04-01/Accounts/{account_sid}"),
            account_sid,
            auth_token,
            webhook_url: context.webhook_url,
        })
    }

    /// The endpoint and form fields of one send.
    fn request_form(
        &self,
        message: &OutboundMessage,
    ) -> (&'static str, Vec<(&'static str, String)>) {
        let mut form = vec![("To", message.to.as_str().to_owned())];
        let text = match &message.content {
            OutboundContent::Text { body } => body,
            OutboundContent::Template { rendered, .. } => rendered,
            OutboundContent::Call { script } => {
                form.push(("From", message.from.clone()));
                form.push(("Twiml", say_twiml(script)));
                form.push(("StatusCallback", self.webhook_url.clone()));
                form.extend(
                    CALL_EVENTS
                        .iter()
                        .map(|event| ("StatusCallbackEvent", (*event).to_owned())),
                );
                return ("Calls.json", form);
            }
        };
        // A Messaging Service picks the sender itself; Twilio wants its id in its own field.
        let sender_field = if message.from.starts_with("MG") {
            "MessagingServiceSid"
        } else {
            "From"
        };
        form.push((sender_field, message.from.clone()));
        form.push(("Body", text.clone()));
        form.push(("StatusCallback", self.webhook_url.clone()));
        ("Messages.json", form)
    }
}

#[async_trait::async_trait]
impl Provider for TwilioProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Twilio
    }

    async fn send(&self, message: &OutboundMessage) -> Result<SendReceipt, SendError> {
        let (endpoint, form) = self.request_form(message);
        let request = self
            .http
            .post(&format!("{}/{endpoint}", self.account_url))
            .map(|request| {
                request
                    .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
                    .header("I-Twilio-Idempotency-Token", message.message_id.to_string())
                    .form(&form)
            });
        let answer = Answer::fetch(request).await?;
        if answer.status.is_success() {
            let sid = serde_json::from_str::<Created>(&answer.body)
                .ok()
                .and_then(|created| clean_provider_id(created.sid));
            if sid.is_none() {
                tracing::warn!(message_id = %message.message_id, "Twilio accepted a send without returning its sid; its status callbacks cannot be matched");
            }
            return Ok(SendReceipt {
                provider_message_id: sid,
            });
        }
        let error = serde_json::from_str::<TwilioError>(&answer.body).ok();
        let code = error.as_ref().and_then(|e| e.code.as_ref()).map(code_text);
        Err(answer.failure(
            "Twilio",
            code,
            error.as_ref().and_then(|e| e.message.as_deref()),
        ))
    }

    fn handle_webhook(&self, request: &WebhookRequest<'_>) -> Result<WebhookOutcome, WebhookError> {
        webhook::handle(self.auth_token.expose(), request)
    }
}

/// What Twilio answers to a created message or call.
#[derive(Deserialize)]
struct Created {
    sid: String,
}

/// Twilio's error body: `{"code": 21211, "message": "…", "more_info": "…", "status": 400}`.
#[derive(Deserialize)]
struct TwilioError {
    code: Option<serde_json::Value>,
    message: Option<String>,
}

fn code_text(code: &serde_json::Value) -> String {
    match code {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn is_account_sid(sid: &str) -> bool {
    sid.len() == 34 && sid.starts_with("AC") && sid[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// TwiML that speaks `script` once the call is answered.
fn say_twiml(script: &str) -> String {
    format!("<Response><Say>{}</Say></Response>", xml_escape(script))
}

/// Escapes the five XML special characters, so a script cannot inject TwiML verbs.
fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_is_escaped_into_say() {
        assert_eq!(
            say_twiml("Hi <Dial>911</Dial> & 'bye'"),
            "<Response><Say>Hi &lt;Dial&gt;911&lt;/Dial&gt; &amp; &apos;bye&apos;</Say></Response>"
        );
    }

    #[test]
    fn account_sid_shape() {
        assert!(is_account_sid("AC0123456789abcdef0123456789abcdef"));
        assert!(!is_account_sid("AC0123"));
        assert!(!is_account_sid("MG0123456789abcdef0123456789abcdef"));
        assert!(!is_account_sid("AC0123456789abcdef0123456789abcde/"));
    }
}
