//! Kannel: a self-hosted SMS gateway in front of SMPP carriers (channels of type SMS).
//!
//! Settings:
//! * `sendsmsUrl` (required): smsbox's sendsms endpoint, e.g.
//!   `http://127.0.0.1:13013/cgi-bin/sendsms`.
//! * `username` (required): a `sendsms-user` of Kannel.
//! * `smsc` (optional): the `smsc-id` to route through.
//! * `maxParts` (optional, default 3, 1 to 255): the user's `max-messages`; longer texts
//!   are refused here because Kannel would cut them silently.
//! * `allowedSources` (optional): IP addresses and CIDR blocks Kannel calls from; a
//!   webhook call from any other peer is refused (403).
//!
//! Secrets:
//! * `password` (required): the sendsms user's password (it travels in the query, as
//!   Kannel wants, so no URL is ever logged).
//! * `webhookSecret` (required): authenticates Kannel's calls to us (see
//!   [`webhook_auth`]); rotated by `POST /api/v1/channels/{id}/rotate-webhook-secret`,
//!   which keeps the old one as `previousWebhookSecret` for a day.
//!
//! Sending: `GET {sendsmsUrl}?username&password&to=+E164&from&text&coding&charset=UTF-8
//! &dlr-mask=31&dlr-url[&smsc]`, `coding` 0 for GSM-7 text and 2 (UCS-2) otherwise.
//! Kannel returns no message id, so `dlr-url` carries ours, its MAC and the channel's
//! credentials: `http://kannel:{credential}@{host}/webhooks/providers/{channel}?kind=dlr
//! &id={messageId}&sig={first 32 hex of HMAC-SHA256(webhookSecret, messageId)}&type=%d
//! &smsc=%i&ts=%T&answer=%A`. Answers: 2xx (`0: Accepted for
//! delivery`, `3: Queued for later delivery`) → accepted without a provider id; 429,
//! 500 and 503 → retryable; other 4xx (403 bad credentials or not routable, 400 bad
//! field, 404) and 3xx → permanent. Kannel answers in free text without a code: one of
//! its own fixed answers ([`KNOWN_ANSWERS`]) is shown as it is, any other text only in
//! the log, the status standing in for it. Kannel has no idempotency key: a send retried after a
//! timeout may go out twice.
//!
//! Inbound messages need an `sms-service` in Kannel calling [`mo_get_url`]; the whole
//! group is [`sms_service_group`]. Webhooks are described in [`webhook`].

mod sms_length;
mod webhook;
pub mod webhook_auth;

use chrono::{DateTime, Utc};
use leadline_core::channel::ProviderKind;
use leadline_core::{FieldErrors, SecretMap};
use serde_json::json;

use crate::answer::Answer;
use crate::config::Secret;
use crate::outbound::OutboundClient;
use crate::signature::hmac_sha256;
use crate::{
    OutboundContent, OutboundMessage, Provider, ProviderContext, SendError, SendReceipt, Settings,
    WebhookError, WebhookOutcome, WebhookRequest,
};
use sms_length::Coding;
use webhook_auth::{WebhookAuth, with_credentials};

/// How long a rotated-out webhook secret is still accepted: the `dlr-url`s of messages
/// sent before the rotation carry it, and Kannel's config needs time to be updated.
pub const PREVIOUS_SECRET_GRACE: chrono::Duration = chrono::Duration::hours(24);

const DEFAULT_MAX_PARTS: u64 = 3;

/// smsbox's fixed answers to a refused sendsms: shown to the tenant as they are, since
/// they say nothing but what Kannel always says. Anything else answering at
/// `sendsmsUrl` is not Kannel, and its text is not shown.
const KNOWN_ANSWERS: [&str; 7] = [
    "Authorization failed for sendsms",
    "Not routable. Do not try again.",
    "Number(s) has/have been denied by white- and/or black-lists.",
    "Sender missing and no global set, rejected",
    "Unknown request.",
    "Sending failed.",
    "Temporal failure, try again later.",
];

/// Every DLR type Kannel can report: delivered, undelivered, buffered, accepted by the
/// SMSC, rejected by the SMSC.
const DLR_MASK: &str = "31";

/// Hex characters of the MACs in our URLs: 128 bits, plenty against guessing and short
/// enough for URLs that pass through Kannel's logs.
const MAC_HEX_CHARS: usize = 32;

#[derive(Debug)]
pub struct KannelProvider {
    http: OutboundClient,
    sendsms_url: url::Url,
    username: String,
    password: Secret,
    smsc: Option<String>,
    max_parts: usize,
    webhook: WebhookAuth,
    webhook_url: String,
}

impl KannelProvider {
    pub fn from_settings(
        settings: &Settings<'_>,
        context: ProviderContext,
    ) -> Result<Self, FieldErrors> {
        let sendsms_url = settings.url("sendsmsUrl");
        let username = settings.setting("username");
        let smsc = settings
            .optional_setting("smsc")
            .filter(|smsc| !smsc.trim().is_empty());
        let max_parts = settings
            .optional_u64("maxParts")
            .unwrap_or(DEFAULT_MAX_PARTS);
        if !(1..=255).contains(&max_parts) {
            settings.fail("settings.maxParts".into(), "must be between 1 and 255");
        }
        let password = Secret::new(settings.secret("password"));
        let webhook = WebhookAuth::from_settings(settings);
        settings.finish(())?;
        Ok(Self {
            http: context.http,
            sendsms_url: sendsms_url.expect("a missing or invalid sendsmsUrl is a field error"),
            username,
            password,
            smsc,
            max_parts: max_parts as usize,
            webhook,
            webhook_url: context.webhook_url,
        })
    }

    /// The `get-url` of the Kannel `sms-service` that forwards inbound SMS here.
    pub fn mo_get_url(&self) -> String {
        mo_get_url(&self.webhook_url, self.webhook.current().expose())
    }

    /// `dlr-url` for one message: the channel's credentials, our id, its MAC, and
    /// Kannel's escapes.
    fn dlr_url(&self, message: &OutboundMessage) -> String {
        let secret = self.webhook.current().expose();
        let url = with_credentials(&self.webhook_url, secret);
        let id = message.message_id.to_string();
        let sig = mac_hex(secret, id.as_bytes());
        format!(
            "{url}{}kind=dlr&id={id}&sig={sig}&type=%d&smsc=%i&ts=%T&answer=%A",
            query_separator(&url)
        )
    }
}

#[async_trait::async_trait]
impl Provider for KannelProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Kannel
    }

    async fn send(&self, message: &OutboundMessage) -> Result<SendReceipt, SendError> {
        let text = match &message.content {
            OutboundContent::Text { body } => body,
            OutboundContent::Template { rendered, .. } => rendered,
            OutboundContent::Call { .. } => {
                return Err(SendError::Permanent {
                    code: None,
                    reason: "Kannel carries SMS only; it cannot place calls".into(),
                });
            }
        };
        let length = sms_length::measure(text);
        if length.parts > self.max_parts {
            let (unit, per_part) = match length.coding {
                Coding::Gsm7 => ("GSM-7 characters", 153),
                Coding::Ucs2 => ("UCS-2 characters", 67),
            };
            return Err(SendError::Permanent {
                code: Some("too_long".into()),
                reason: format!(
                    "the text needs {} SMS parts ({} {unit}, {per_part} per part) but this channel allows {}; Kannel would cut it",
                    length.parts, length.units, self.max_parts
                ),
            });
        }
        let coding = match length.coding {
            Coding::Gsm7 => "0",
            Coding::Ucs2 => "2",
        };
        let dlr_url = self.dlr_url(message);
        let mut query: Vec<(&str, &str)> = vec![
            ("username", &self.username),
            ("password", self.password.expose()),
            ("to", message.to.as_str()),
            ("from", &message.from),
            ("text", text),
            ("coding", coding),
            ("charset", "UTF-8"),
            ("dlr-mask", DLR_MASK),
            ("dlr-url", &dlr_url),
        ];
        if let Some(smsc) = &self.smsc {
            query.push(("smsc", smsc));
        }
        let request = self
            .http
            .get(self.sendsms_url.as_str())
            .map(|request| request.query(&query));
        let answer = Answer::fetch(request).await?;
        if answer.status.is_success() {
            return Ok(SendReceipt::default());
        }
        Err(answer.failure("Kannel", None, known_answer(&answer.body)))
    }

    fn handle_webhook(&self, request: &WebhookRequest<'_>) -> Result<WebhookOutcome, WebhookError> {
        let secret = self.webhook.authenticate(request)?;
        webhook::handle(secret.expose(), request)
    }
}

/// The `get-url` of the Kannel `sms-service` that forwards inbound SMS to a Kannel
/// channel whose webhook URL is `webhook_url`. Its userinfo holds the credentials
/// derived from the channel's `webhookSecret` (Kannel sends them as a Basic
/// `Authorization` header), so rotating the secret means updating Kannel's config
/// within the grace period.
pub fn mo_get_url(webhook_url: &str, webhook_secret: &str) -> String {
    let url = with_credentials(webhook_url, webhook_secret);
    format!(
        "{url}{}kind=mo&from=%p&to=%P&text=%a&id=%I&ts=%T",
        query_separator(&url)
    )
}

/// Rotates a Kannel channel's webhook secret in `secrets`: `new_secret` becomes the
/// secret, the replaced one is accepted until `now` + [`PREVIOUS_SECRET_GRACE`] (a
/// previous secret still in its grace is dropped: only one old secret is kept).
/// Returns when the replaced secret stops working.
pub fn rotate_webhook_secret(
    secrets: &mut SecretMap,
    new_secret: &str,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let valid_until = now + PREVIOUS_SECRET_GRACE;
    let map = secrets.expose_mut();
    if let Some(old) = map.insert("webhookSecret".into(), new_secret.into()) {
        map.insert(
            "previousWebhookSecret".into(),
            json!({"secret": old, "validUntil": valid_until.to_rfc3339()}),
        );
    }
    valid_until
}

/// A complete Kannel `sms-service` group for [`mo_get_url`], to paste into
/// `kannel.conf`. `max-messages = 0` stops Kannel from sending our (empty) reply back to
/// the lead as an SMS, and from texting "Could not fetch content" when we are down.
pub fn sms_service_group(webhook_url: &str, webhook_secret: &str) -> String {
    format!(
        "group = sms-service\nkeyword = default\ncatch-all = true\nmax-messages = 0\nget-url = \"{}\"\n",
        mo_get_url(webhook_url, webhook_secret)
    )
}

/// The first [`MAC_HEX_CHARS`] hex characters of HMAC-SHA256(`secret`, `data`).
fn mac_hex(secret: &str, data: &[u8]) -> String {
    let mut hex_text = hex::encode(hmac_sha256(secret.as_bytes(), &[data]));
    hex_text.truncate(MAC_HEX_CHARS);
    hex_text
}

/// `body` when it is one of Kannel's [`KNOWN_ANSWERS`].
fn known_answer(body: &str) -> Option<&'static str> {
    let body = body.trim();
    KNOWN_ANSWERS.iter().copied().find(|known| *known == body)
}

fn query_separator(url: &str) -> char {
    if url.contains('?') { '&' } else { '?' }
}
