//! Twilio's webhooks: message status callbacks, call status callbacks and incoming
//! SMS, all form-encoded POSTs to the channel's webhook URL (set the number's
//! "A message comes in" webhook to the same URL).
//!
//! Verification: `X-Twilio-Signature` must equal base64(HMAC-SHA1(authToken, URL +
//! every form parameter sorted by name, name and value concatenated)). The URL is the
//! exact one Twilio called, query included, which is why [`WebhookRequest::url`] is the
//! full public URL: behind a proxy that rewrites scheme, host or port the signature
//! fails. For a GET, Twilio puts the parameters in the query and signs the URL alone.
//!
//! Events:
//! * `MessageSid` + `MessageStatus`: accepted, scheduled, queued, sending and sent →
//!   `sent` (all mean Twilio has it); delivered and partially_delivered → `delivered`;
//!   read → `read`; undelivered, failed and canceled → `failed` with `ErrorCode`.
//! * `MessageSid` with `SmsStatus`/`MessageStatus` = received → an inbound message
//!   (`From` must be E.164; a media-only message reads `[media]`).
//! * `CallSid` + `CallStatus`: queued, initiated and ringing → `pending`; in-progress →
//!   `answered`; completed → `completed`, or `voicemail` when answering-machine
//!   detection reported a machine (`AnsweredBy` = machine_…); busy, no-answer, failed,
//!   canceled → the same leadline status; `CallDuration` → duration.
//! * Anything else (a status we do not track, another product's callback) → no events.
//!
//! The reply is an empty TwiML document, so an incoming message gets no automatic answer.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use leadline_core::E164;
use leadline_core::message::{CallStatus, MessageStatus};

use crate::signature::{equal, hmac_sha1};
use crate::webhook_input::{Pairs, form_pairs, non_empty, query_pairs, signature_header, value};
use crate::{
    MessageRef, ProviderEvent, WebhookError, WebhookOutcome, WebhookReply, WebhookRequest,
};

const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

pub(super) fn handle(
    auth_token: &str,
    request: &WebhookRequest<'_>,
) -> Result<WebhookOutcome, WebhookError> {
    let given = signature_header(request, SIGNATURE_HEADER)?;
    let body_params = if request.method == http::Method::GET {
        Vec::new()
    } else {
        form_pairs(request.body)
    };
    let expected = signature(auth_token, request.url, &body_params);
    if !equal(expected.as_bytes(), given.trim().as_bytes()) {
        return Err(WebhookError::BadSignature(format!(
            "{SIGNATURE_HEADER} does not match"
        )));
    }
    let params = if request.method == http::Method::GET {
        query_pairs(request)
    } else {
        body_params
    };
    Ok(WebhookOutcome {
        events: events(&params)?,
        reply: WebhookReply {
            status: 200,
            content_type: "text/xml; charset=utf-8",
            body: r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#.into(),
        },
    })
}

/// Twilio's request signature. Parameters sort by name, then by value for repeated names
/// (as Twilio's own validators do).
pub(super) fn signature(auth_token: &str, url: &str, params: &Pairs) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = url.to_owned();
    for (name, value) in sorted {
        data.push_str(name);
        data.push_str(value);
    }
    BASE64.encode(hmac_sha1(auth_token.as_bytes(), &[data.as_bytes()]))
}

fn events(params: &Pairs) -> Result<Vec<ProviderEvent>, WebhookError> {
    if let Some(call_sid) = non_empty(params, "CallSid") {
        return call_events(call_sid, params);
    }
    let Some(message_sid) = non_empty(params, "MessageSid").or_else(|| non_empty(params, "SmsSid"))
    else {
        return Ok(Vec::new());
    };
    let status = value(params, "MessageStatus").or_else(|| value(params, "SmsStatus"));
    if status == Some("received") {
        return inbound(message_sid, params).map(|event| vec![event]);
    }
    let Some(status) = status.and_then(message_status) else {
        return Ok(Vec::new());
    };
    Ok(vec![ProviderEvent::Status {
        message: MessageRef::Provider(message_sid.to_owned()),
        status,
        error_code: non_empty(params, "ErrorCode").map(str::to_owned),
        occurred_at: None,
    }])
}

fn message_status(status: &str) -> Option<MessageStatus> {
    match status {
        "accepted" | "scheduled" | "queued" | "sending" | "sent" => Some(MessageStatus::Sent),
        "delivered" | "partially_delivered" => Some(MessageStatus::Delivered),
        "read" => Some(MessageStatus::Read),
        "undelivered" | "failed" | "canceled" => Some(MessageStatus::Failed),
        _ => None,
    }
}

fn call_events(call_sid: &str, params: &Pairs) -> Result<Vec<ProviderEvent>, WebhookError> {
    let answered_by = value(params, "AnsweredBy").unwrap_or_default();
    let Some(status) =
        value(params, "CallStatus").and_then(|status| call_status(status, answered_by))
    else {
        return Ok(Vec::new());
    };
    let duration_seconds = match non_empty(params, "CallDuration") {
        Some(text) => Some(text.trim().parse::<u32>().map_err(|_| {
            WebhookError::Malformed(format!("CallDuration must be whole seconds, got {text:?}"))
        })?),
        None => None,
    };
    Ok(vec![ProviderEvent::CallStatus {
        message: MessageRef::Provider(call_sid.to_owned()),
        status,
        duration_seconds,
    }])
}

fn call_status(status: &str, answered_by: &str) -> Option<CallStatus> {
    Some(match status {
        "queued" | "initiated" | "ringing" => CallStatus::Pending,
        "in-progress" => CallStatus::Answered,
        "completed" if answered_by.starts_with("machine") => CallStatus::Voicemail,
        "completed" => CallStatus::Completed,
        "busy" => CallStatus::Busy,
        "no-answer" => CallStatus::NoAnswer,
        "failed" => CallStatus::Failed,
        "canceled" => CallStatus::Canceled,
        _ => return None,
    })
}

fn inbound(message_sid: &str, params: &Pairs) -> Result<ProviderEvent, WebhookError> {
    let from = value(params, "From").unwrap_or_default();
    let from = E164::parse(from)
        .map_err(|error| WebhookError::Malformed(format!("From {from:?} {error}")))?;
    let body = value(params, "Body").unwrap_or_default();
    let has_media = non_empty(params, "NumMedia").is_some_and(|n| n.trim() != "0");
    let text = if body.is_empty() && has_media {
        "[media]".to_owned()
    } else {
        body.to_owned()
    };
    Ok(ProviderEvent::Inbound {
        from,
        to: non_empty(params, "To").map(str::to_owned),
        text,
        provider_message_id: Some(message_sid.to_owned()),
        received_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Pairs {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The worked example of Twilio's webhook security guide: auth token `12345`, a
    /// call to `https://mycompany.com/myapp.php?foo=1&bar=2`.
    #[test]
    fn signature_matches_twilios_documented_example() {
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675310"),
            ("Digits", "1234"),
            ("From", "+14158675310"),
            ("To", "+18005551212"),
        ]);
        assert_eq!(
            signature(
                "12345",
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                &params
            ),
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        );
    }

    #[test]
    fn call_statuses_map_to_leadline_names() {
        assert_eq!(call_status("ringing", ""), Some(CallStatus::Pending));
        assert_eq!(call_status("in-progress", ""), Some(CallStatus::Answered));
        assert_eq!(
            call_status("completed", "human"),
            Some(CallStatus::Completed)
        );
        assert_eq!(
            call_status("completed", "machine_end_beep"),
            Some(CallStatus::Voicemail)
        );
        assert_eq!(call_status("no-answer", ""), Some(CallStatus::NoAnswer));
        assert_eq!(call_status("paused", ""), None);
    }
}
