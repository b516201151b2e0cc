//! WhatsApp Cloud API webhooks, both at the channel's webhook URL.
//!
//! * `GET` is Meta's subscription check: `hub.mode=subscribe` and `hub.verify_token`
//!   equal to the `verifyToken` secret → 200 with `hub.challenge` as the body; anything
//!   else → refused.
//! * `POST` carries events, signed with `X-Hub-Signature-256: sha256=<hex
//!   HMAC-SHA256(appSecret, raw body)>`. From `entry[].changes[].value` we read
//!   `statuses[]` (id, status sent/delivered/read/failed, timestamp, `errors[0].code`;
//!   other statuses such as `deleted` are ignored) and `messages[]` (inbound: `from` as
//!   digits, id, timestamp, and the text: `text.body`, a button's or list reply's title,
//!   or `[image]`-style placeholders naming the type, followed by a caption if any).
//!
//! One POST may batch many events. An inbound message whose sender is not a valid
//! E.164 number is skipped with a warning rather than failing the batch, because Meta
//! redelivers a refused batch for days and the other events in it are good.

use leadline_core::E164;
use leadline_core::message::MessageStatus;
use serde::Deserialize;
use serde_json::Value;

use crate::signature::{equal, hmac_sha256};
use crate::webhook_input::{query_pairs, signature_header, unix_seconds, value};
use crate::{
    MessageRef, ProviderEvent, WebhookError, WebhookOutcome, WebhookReply, WebhookRequest,
};

const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

pub(super) fn handle(
    app_secret: &str,
    verify_token: &str,
    request: &WebhookRequest<'_>,
) -> Result<WebhookOutcome, WebhookError> {
    if request.method == http::Method::GET {
        return subscription_check(verify_token, request);
    }
    let given = signature_header(request, SIGNATURE_HEADER)?;
    let given = given
        .trim()
        .strip_prefix("sha256=")
        .and_then(|hex_text| hex::decode(hex_text).ok())
        .ok_or_else(|| {
            WebhookError::BadSignature(format!("{SIGNATURE_HEADER} is not sha256=<hex>"))
        })?;
    let expected = hmac_sha256(app_secret.as_bytes(), &[request.body]);
    if !equal(&expected, &given) {
        return Err(WebhookError::BadSignature(format!(
            "{SIGNATURE_HEADER} does not match"
        )));
    }
    let notification: Notification = serde_json::from_slice(request.body).map_err(|error| {
        WebhookError::Malformed(format!("not a WhatsApp notification: {error}"))
    })?;
    Ok(WebhookOutcome {
        events: events(notification),
        reply: WebhookReply::ok(),
    })
}

fn subscription_check(
    verify_token: &str,
    request: &WebhookRequest<'_>,
) -> Result<WebhookOutcome, WebhookError> {
    let query = query_pairs(request);
    let token = value(&query, "hub.verify_token").unwrap_or_default();
    if value(&query, "hub.mode") != Some("subscribe")
        || !equal(verify_token.as_bytes(), token.as_bytes())
    {
        return Err(WebhookError::BadSignature(
            "subscription check without hub.mode=subscribe and the channel's verify token".into(),
        ));
    }
    let challenge = value(&query, "hub.challenge").ok_or_else(|| {
        WebhookError::Malformed("subscription check without hub.challenge".into())
    })?;
    Ok(WebhookOutcome {
        events: Vec::new(),
        reply: WebhookReply {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: challenge.to_owned(),
        },
    })
}

#[derive(Deserialize)]
struct Notification {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    #[serde(default)]
    field: String,
    value: ChangeValue,
}

#[derive(Deserialize)]
struct ChangeValue {
    metadata: Option<Metadata>,
    #[serde(default)]
    statuses: Vec<Status>,
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(Deserialize)]
struct Metadata {
    phone_number_id: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    status: String,
    timestamp: Option<String>,
    #[serde(default)]
    errors: Vec<StatusError>,
}

#[derive(Deserialize)]
struct StatusError {
    code: Option<Value>,
}

#[derive(Deserialize)]
struct Message {
    from: String,
    id: String,
    timestamp: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    /// The type-specific part (`text`, `image`, `button`, …) stays loose: Meta adds types.
    #[serde(flatten)]
    content: serde_json::Map<String, Value>,
}

fn events(notification: Notification) -> Vec<ProviderEvent> {
    if notification.object != "whatsapp_business_account" {
        return Vec::new();
    }
    let mut events = Vec::new();
    for change in notification
        .entry
        .into_iter()
        .flat_map(|entry| entry.changes)
    {
        if change.field != "messages" {
            continue;
        }
        let to = change
            .value
            .metadata
            .and_then(|metadata| metadata.phone_number_id);
        events.extend(change.value.statuses.into_iter().filter_map(status_event));
        events.extend(
            change
                .value
                .messages
                .into_iter()
                .filter_map(|message| inbound_event(message, to.as_deref())),
        );
    }
    events
}

fn status_event(status: Status) -> Option<ProviderEvent> {
    let mapped = match status.status.as_str() {
        "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "read" => MessageStatus::Read,
        "failed" => MessageStatus::Failed,
        _ => return None,
    };
    let error_code =
        status
            .errors
            .into_iter()
            .find_map(|error| error.code)
            .map(|code| match code {
                Value::String(text) => text,
                other => other.to_string(),
            });
    Some(ProviderEvent::Status {
        message: MessageRef::Provider(status.id),
        status: mapped,
        error_code,
        occurred_at: status.timestamp.as_deref().and_then(unix_seconds),
    })
}

fn inbound_event(message: Message, to: Option<&str>) -> Option<ProviderEvent> {
    let from = match E164::parse(&format!("+{}", message.from)) {
        Ok(from) => from,
        Err(error) => {
            tracing::warn!(provider_message_id = %message.id, %error, "skipping a WhatsApp message whose sender is not an E.164 number");
            return None;
        }
    };
    Some(ProviderEvent::Inbound {
        from,
        to: to.map(str::to_owned),
        text: message_text(&message.kind, &message.content),
        provider_message_id: Some(message.id),
        received_at: message.timestamp.as_deref().and_then(unix_seconds),
    })
}

/// The words of a message, or a placeholder naming what it is.
fn message_text(kind: &str, content: &serde_json::Map<String, Value>) -> String {
    let part = content.get(kind);
    let text_at = |pointer: &str| {
        part.and_then(|part| part.pointer(pointer))
            .and_then(Value::as_str)
    };
    let found = match kind {
        "text" => text_at("/body"),
        "button" => text_at("/text"),
        "interactive" => text_at("/button_reply/title").or_else(|| text_at("/list_reply/title")),
        _ => None,
    };
    if let Some(text) = found {
        return text.to_owned();
    }
    let detail = text_at("/caption").or_else(|| text_at("/emoji"));
    match detail {
        Some(detail) => format!("[{kind}] {detail}"),
        None => format!("[{kind}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text_of(message: Value) -> String {
        let kind = message["type"].as_str().unwrap().to_owned();
        message_text(&kind, message.as_object().unwrap())
    }

    #[test]
    fn message_texts_by_type() {
        assert_eq!(
            text_of(json!({"type": "text", "text": {"body": "hi"}})),
            "hi"
        );
        assert_eq!(
            text_of(json!({"type": "button", "button": {"text": "Yes", "payload": "Y"}})),
            "Yes"
        );
        assert_eq!(
            text_of(
                json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "1", "title": "Tuesday"}}})
            ),
            "Tuesday"
        );
        assert_eq!(
            text_of(json!({"type": "image", "image": {"id": "1", "caption": "my car"}})),
            "[image] my car"
        );
        assert_eq!(
            text_of(json!({"type": "reaction", "reaction": {"emoji": "👍"}})),
            "[reaction] 👍"
        );
        assert_eq!(
            text_of(json!({"type": "audio", "audio": {"id": "1"}})),
            "[audio]"
        );
    }
}
