//! Kannel's calls to leadline: delivery reports and inbound messages, both as GETs with
//! everything in the query, told apart by `kind`, each already authenticated by its
//! Basic credentials ([`super::webhook_auth`]). Both are answered 200 with an empty
//! body at once: smsbox does not retry by default, so a slow or failed answer loses the
//! report, and a body would be sent to the lead as an SMS.
//!
//! * `kind=dlr` (the `dlr-url` of each send): `sig` must be the MAC of `id` (our
//!   message id) under the secret the credentials belong to, so a DLR cannot be made
//!   up for another message even with the credentials. `type` maps as 1 →
//!   `delivered`, 2 → `failed`, 8 → `sent` (accepted by the SMSC), 16 → `failed`
//!   (rejected by the SMSC); 4 (buffered at the SMSC) changes nothing and gives no event.
//!   Reports arrive in any order; the status machine ignores a step backwards. The error
//!   code of a failure is the SMPP receipt's `err:` field or the SMSC's `NACK/` code.
//! * `kind=mo` (the `sms-service` from [`super::mo_get_url`]): the credentials are the
//!   whole check; `from` gets a `+` when Kannel gives bare international digits.

use leadline_core::E164;
use leadline_core::MessageId;
use leadline_core::message::MessageStatus;

use super::mac_hex;
use crate::signature::equal;
use crate::webhook_input::{Pairs, non_empty, query_pairs, unix_seconds, value};
use crate::{
    MessageRef, ProviderEvent, WebhookError, WebhookOutcome, WebhookReply, WebhookRequest,
};

pub(super) fn handle(
    webhook_secret: &str,
    request: &WebhookRequest<'_>,
) -> Result<WebhookOutcome, WebhookError> {
    let query = query_pairs(request);
    let events = match value(&query, "kind") {
        Some("dlr") => delivery_report(webhook_secret, &query)?,
        Some("mo") => vec![inbound(&query)?],
        _ => return Err(WebhookError::Malformed("kind must be dlr or mo".into())),
    };
    Ok(WebhookOutcome {
        events,
        reply: WebhookReply::ok(),
    })
}

fn delivery_report(
    webhook_secret: &str,
    query: &Pairs,
) -> Result<Vec<ProviderEvent>, WebhookError> {
    let id = value(query, "id").unwrap_or_default();
    let sig = value(query, "sig").unwrap_or_default();
    if !equal(
        mac_hex(webhook_secret, id.as_bytes()).as_bytes(),
        sig.as_bytes(),
    ) {
        return Err(WebhookError::BadSignature(
            "sig does not match the DLR's id".into(),
        ));
    }
    let message_id: MessageId = id
        .parse()
        .map_err(|_| WebhookError::Malformed(format!("id {id:?} is not a leadline message id")))?;
    let dlr_type = non_empty(query, "type")
        .and_then(|text| text.trim().parse::<u8>().ok())
        .ok_or_else(|| WebhookError::Malformed("type must be Kannel's DLR type (%d)".into()))?;
    let status = match dlr_type {
        1 => MessageStatus::Delivered,
        2 | 16 => MessageStatus::Failed,
        8 => MessageStatus::Sent,
        _ => return Ok(Vec::new()),
    };
    let error_code = match status {
        MessageStatus::Failed => value(query, "answer").and_then(error_code),
        _ => None,
    };
    Ok(vec![ProviderEvent::Status {
        message: MessageRef::Ours(message_id),
        status,
        error_code,
        occurred_at: value(query, "ts").and_then(unix_seconds),
    }])
}

/// The carrier's error code in Kannel's `%A`: an SMPP receipt (`id:… stat:UNDELIV
/// err:034 …`) or an SMSC refusal (`NACK/0x00000045/…`).
fn error_code(answer: &str) -> Option<String> {
    if let Some(rest) = answer.split_once("err:").map(|(_, rest)| rest) {
        let code: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        return (!code.is_empty()).then_some(code);
    }
    let rest = answer.strip_prefix("NACK/")?;
    let code = rest.split('/').next().unwrap_or_default().trim();
    (!code.is_empty()).then(|| code.to_owned())
}

fn inbound(query: &Pairs) -> Result<ProviderEvent, WebhookError> {
    let raw_from = value(query, "from").unwrap_or_default().trim();
    let from = if raw_from.starts_with('+') {
        raw_from.to_owned()
    } else {
        format!("+{raw_from}")
    };
    let from = E164::parse(&from)
        .map_err(|error| WebhookError::Malformed(format!("from {raw_from:?} {error}")))?;
    let text = value(query, "text")
        .ok_or_else(|| WebhookError::Malformed("text is required (%a)".into()))?;
    Ok(ProviderEvent::Inbound {
        from,
        to: non_empty(query, "to").map(str::to_owned),
        text: text.to_owned(),
        provider_message_id: non_empty(query, "id").map(str::to_owned),
        received_at: value(query, "ts").and_then(unix_seconds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_from_smpp_receipts_and_nacks() {
        assert_eq!(
            error_code(
                "id:123 sub:001 dlvrd:000 submit date:2401010000 done date:2401010001 stat:UNDELIV err:034 text:"
            ),
            Some("034".into())
        );
        assert_eq!(
            error_code("NACK/0x00000045/Submit failed"),
            Some("0x00000045".into())
        );
        assert_eq!(error_code("ACK/"), None);
        assert_eq!(error_code(""), None);
    }
}
