//! The Twilio adapter against a mock of the Messages and Calls APIs holding Twilio's
//! documented request and response shapes, and its webhooks signed the way Twilio signs.

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{Call, LEAD, WEBHOOK_URL, form, message, owned, pairs, template, text};
use hmac::{Hmac, Mac};
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::message::{CallStatus, MessageStatus};
use leadline_providers::{
    MessageRef, OutboundContent, Provider, ProviderEvent, SendError, WebhookError,
};
use serde_json::json;
use sha1::Sha1;
use wiremock::matchers::{basic_auth, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-auth-token";
const SENDER: &str = "+14155550100";

fn twilio(base: &str) -> std::sync::Arc<dyn Provider> {
    common::provider(
        ProviderKind::Twilio,
        MessageProviderType::Sms,
        json!({"accountSid": SID, "apiBaseUrl": base}),
        json!({"authToken": TOKEN}),
    )
}

/// Twilio's answer to a created message (abridged from the API reference).
fn created_message() -> serde_json::Value {
    json!({
        "account_sid": SID, "api_version": "2010-04-01", "body": "Hi", "direction": "outbound-api",
        "from": SENDER, "to": LEAD, "sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "status": "queued",
        "uri": format!("/2010-04-01/Accounts/{SID}/Messages/SM1f0e8ae6ade43cb3c0ce4525424e404f.json")
    })
}

/// Signs like Twilio, written out independently of the adapter.
fn twilio_signature(url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let data: String = std::iter::once(url.to_owned())
        .chain(sorted.iter().map(|(k, v)| format!("{k}{v}")))
        .collect();
    let mut mac = Hmac::<Sha1>::new_from_slice(TOKEN.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

fn signed_post(params: &[(&str, &str)]) -> Call {
    let signature = twilio_signature(WEBHOOK_URL, params);
    Call::new(
        http::Method::POST,
        WEBHOOK_URL,
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-twilio-signature", &signature),
        ],
        &form(params),
    )
}

#[tokio::test]
async fn send_text_posts_the_messages_form_with_basic_auth_and_idempotency_token() {
    let server = MockServer::start().await;
    let outbound = message(SENDER, text("Hi Ana & co, 5 pm?"));
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{SID}/Messages.json")))
        .and(basic_auth(SID, TOKEN))
        .and(header(
            "I-Twilio-Idempotency-Token",
            outbound.message_id.to_string(),
        ))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(201).set_body_json(created_message()))
        .expect(1)
        .mount(&server)
        .await;

    let provider = twilio(&server.uri());
    assert_eq!(provider.kind(), ProviderKind::Twilio);
    let receipt = provider.send(&outbound).await.unwrap();
    assert_eq!(
        receipt.provider_message_id.as_deref(),
        Some("SM1f0e8ae6ade43cb3c0ce4525424e404f")
    );

    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        pairs(&requests[0].body),
        owned(&[
            ("To", LEAD),
            ("From", SENDER),
            ("Body", "Hi Ana & co, 5 pm?"),
            ("StatusCallback", WEBHOOK_URL),
        ])
    );
}

#[tokio::test]
async fn templates_send_their_rendered_text_and_messaging_services_their_own_field() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{SID}/Messages.json")))
        .respond_with(ResponseTemplate::new(201).set_body_json(created_message()))
        .mount(&server)
        .await;

    let service = "MG9752274e9e519418a7406176694466fa";
    twilio(&server.uri())
        .send(&message(service, template()))
        .await
        .unwrap();

    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        pairs(&requests[0].body),
        owned(&[
            ("To", LEAD),
            ("MessagingServiceSid", service),
            ("Body", "Hi Ana, see you Tuesday 5 pm."),
            ("StatusCallback", WEBHOOK_URL),
        ])
    );
}

#[tokio::test]
async fn calls_post_escaped_twiml_and_ask_for_every_progress_event() {
    let server = MockServer::start().await;
    let outbound = message(
        SENDER,
        OutboundContent::Call {
            script: "Hello <Ana>, press 1 & hold".into(),
        },
    );
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{SID}/Calls.json")))
        .and(basic_auth(SID, TOKEN))
        .and(header(
            "I-Twilio-Idempotency-Token",
            outbound.message_id.to_string(),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"sid": "CAe1644a7eed5088b159577c5802d8be38", "status": "queued"}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let receipt = twilio(&server.uri()).send(&outbound).await.unwrap();
    assert_eq!(
        receipt.provider_message_id.as_deref(),
        Some("CAe1644a7eed5088b159577c5802d8be38")
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        pairs(&requests[0].body),
        owned(&[
            ("To", LEAD),
            ("From", SENDER),
            (
                "Twiml",
                "<Response><Say>Hello &lt;Ana&gt;, press 1 &amp; hold</Say></Response>"
            ),
            ("StatusCallback", WEBHOOK_URL),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "completed"),
        ])
    );
}

async fn send_answered_with(response: ResponseTemplate) -> SendError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(response)
        .mount(&server)
        .await;
    twilio(&server.uri())
        .send(&message(SENDER, text("Hi")))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retryable_with_retry_after() {
    let error = send_answered_with(
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "30")
            .set_body_json(json!({"code": 20429, "message": "Too Many Requests", "status": 429})),
    )
    .await;
    assert!(
        matches!(&error, SendError::Retryable { retry_after: Some(after), .. } if *after == Duration::from_secs(30)),
        "{error:?}"
    );
    let error = send_answered_with(ResponseTemplate::new(503).set_body_string("busy")).await;
    assert!(
        matches!(
            error,
            SendError::Retryable {
                retry_after: None,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn client_errors_are_permanent_with_twilios_code() {
    let error = send_answered_with(ResponseTemplate::new(400).set_body_json(json!({
        "code": 21211,
        "message": "The 'To' number +1415555 is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400
    })))
    .await;
    match error {
        SendError::Permanent { code, reason } => {
            assert_eq!(code.as_deref(), Some("21211"));
            assert!(reason.contains("not a valid phone number"), "{reason}");
        }
        other => panic!("expected a permanent error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_api_is_retryable() {
    let error = twilio(&common::closed_port_url())
        .send(&message(SENDER, text("Hi")))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Retryable { .. }), "{error:?}");
}

#[test]
fn twilios_documented_signature_example_is_accepted() {
    // Twilio's webhook security guide: auth token 12345, this URL and these parameters.
    let provider = common::provider(
        ProviderKind::Twilio,
        MessageProviderType::Voice,
        json!({"accountSid": SID}),
        json!({"authToken": "12345"}),
    );
    let params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675310"),
        ("Digits", "1234"),
        ("From", "+14158675310"),
        ("To", "+18005551212"),
    ];
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    let call = Call::new(
        http::Method::POST,
        url,
        &[("X-Twilio-Signature", "GvWf1cFY/Q7PnoempGyD5oXAezc=")],
        &form(&params),
    );
    let outcome = call.handle(provider.as_ref()).unwrap();
    assert!(
        outcome.events.is_empty(),
        "a gather callback carries no status we track"
    );
    assert_eq!(outcome.reply.status, 200);

    let mut tampered = Call::new(
        http::Method::POST,
        url,
        &[("X-Twilio-Signature", "GvWf1cFY/Q7PnoempGyD5oXAezc=")],
        &form(&params),
    );
    tampered.body = form(&[("CallSid", "CA1234567890ABCDE"), ("Digits", "9999")]);
    assert!(matches!(
        tampered.handle(provider.as_ref()),
        Err(WebhookError::BadSignature(_))
    ));
}

#[test]
fn message_status_callbacks_become_status_events() {
    let provider = twilio("https://api.twilio.com");
    let params = [
        ("AccountSid", SID),
        ("ApiVersion", "2010-04-01"),
        ("From", SENDER),
        ("MessageSid", "SM1f0e8ae6ade43cb3c0ce4525424e404f"),
        ("MessageStatus", "undelivered"),
        ("SmsSid", "SM1f0e8ae6ade43cb3c0ce4525424e404f"),
        ("SmsStatus", "undelivered"),
        ("To", LEAD),
        ("ErrorCode", "30003"),
    ];
    let outcome = signed_post(&params).handle(provider.as_ref()).unwrap();
    assert_eq!(
        outcome.events,
        vec![ProviderEvent::Status {
            message: MessageRef::Provider("SM1f0e8ae6ade43cb3c0ce4525424e404f".into()),
            status: MessageStatus::Failed,
            error_code: Some("30003".into()),
            occurred_at: None,
        }]
    );
    assert_eq!(outcome.reply.status, 200);
    assert!(outcome.reply.body.contains("<Response>"));

    let delivered = [("MessageSid", "SM1"), ("MessageStatus", "delivered")];
    let outcome = signed_post(&delivered).handle(provider.as_ref()).unwrap();
    assert!(matches!(
        outcome.events[..],
        [ProviderEvent::Status {
            status: MessageStatus::Delivered,
            ..
        }]
    ));
}

#[test]
fn incoming_sms_becomes_an_inbound_event() {
    let provider = twilio("https://api.twilio.com");
    let params = [
        ("AccountSid", SID),
        ("Body", "Yes, Tuesday works"),
        ("From", LEAD),
        ("MessageSid", "SM7a4d3b0c0e1f2a3b4c5d6e7f8a9b0c1d"),
        ("NumMedia", "0"),
        ("SmsStatus", "received"),
        ("To", SENDER),
    ];
    let outcome = signed_post(&params).handle(provider.as_ref()).unwrap();
    match &outcome.events[..] {
        [
            ProviderEvent::Inbound {
                from,
                to,
                text,
                provider_message_id,
                ..
            },
        ] => {
            assert_eq!(from.as_str(), LEAD);
            assert_eq!(to.as_deref(), Some(SENDER));
            assert_eq!(text, "Yes, Tuesday works");
            assert_eq!(
                provider_message_id.as_deref(),
                Some("SM7a4d3b0c0e1f2a3b4c5d6e7f8a9b0c1d")
            );
        }
        other => panic!("expected one inbound event, got {other:?}"),
    }

    let bad_sender = [
        ("Body", "hi"),
        ("From", "TWILIO"),
        ("MessageSid", "SM2"),
        ("SmsStatus", "received"),
    ];
    assert!(matches!(
        signed_post(&bad_sender).handle(provider.as_ref()),
        Err(WebhookError::Malformed(_))
    ));
}

#[test]
fn call_status_callbacks_become_call_events() {
    let provider = twilio("https://api.twilio.com");
    let completed = [
        ("CallSid", "CAe1644a7eed5088b159577c5802d8be38"),
        ("CallStatus", "completed"),
        ("CallDuration", "42"),
        ("Direction", "outbound-api"),
    ];
    let outcome = signed_post(&completed).handle(provider.as_ref()).unwrap();
    assert_eq!(
        outcome.events,
        vec![ProviderEvent::CallStatus {
            message: MessageRef::Provider("CAe1644a7eed5088b159577c5802d8be38".into()),
            status: CallStatus::Completed,
            duration_seconds: Some(42),
        }]
    );
    for (twilio_status, ours) in [
        ("ringing", CallStatus::Pending),
        ("in-progress", CallStatus::Answered),
        ("no-answer", CallStatus::NoAnswer),
        ("busy", CallStatus::Busy),
    ] {
        let outcome = signed_post(&[("CallSid", "CA1"), ("CallStatus", twilio_status)])
            .handle(provider.as_ref())
            .unwrap();
        assert!(
            matches!(outcome.events[..], [ProviderEvent::CallStatus { status, .. }] if status == ours),
            "{twilio_status}"
        );
    }
}

#[test]
fn unsigned_or_wrongly_signed_webhooks_are_refused() {
    let provider = twilio("https://api.twilio.com");
    let params = [("MessageSid", "SM1"), ("MessageStatus", "delivered")];
    let unsigned = Call::new(http::Method::POST, WEBHOOK_URL, &[], &form(&params));
    assert!(matches!(
        unsigned.handle(provider.as_ref()),
        Err(WebhookError::BadSignature(_))
    ));

    let mut other_url = signed_post(&params);
    other_url.url = format!("{WEBHOOK_URL}?x=1");
    assert!(matches!(
        other_url.handle(provider.as_ref()),
        Err(WebhookError::BadSignature(_))
    ));
}

#[test]
fn unknown_but_signed_callbacks_give_no_events() {
    let provider = twilio("https://api.twilio.com");
    let outcome = signed_post(&[("RecordingSid", "RE1"), ("RecordingStatus", "completed")])
        .handle(provider.as_ref())
        .unwrap();
    assert!(outcome.events.is_empty());
    assert_eq!(outcome.reply.status, 200);
}

#[test]
fn settings_errors_name_every_field() {
    let errors = common::try_provider(
        ProviderKind::Twilio,
        MessageProviderType::Sms,
        json!({"accountSid": "not-a-sid", "apiBaseUrl": "ftp://x"}),
        json!({}),
    )
    .unwrap_err();
    assert_eq!(
        common::failed_fields(&errors),
        [
            "secrets.authToken",
            "settings.accountSid",
            "settings.apiBaseUrl"
        ]
    );
}
