//! The generic `http` adapter against a mock endpoint, and webhooks signed with the
//! documented scheme (computed here independently of `leadline_providers::signing`).

mod common;

use std::time::Duration;

use chrono::Utc;
use common::{Call, LEAD, WEBHOOK_URL, message, template, text};
use hmac::{Hmac, Mac};
use leadline_core::MessageId;
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::message::{CallStatus, MessageStatus};
use leadline_providers::signing;
use leadline_providers::{
    MessageRef, OutboundContent, Provider, ProviderEvent, SendError, WebhookError,
};
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "whsec-generic";
const SENDER: &str = "+14155550100";

fn endpoint(url: &str) -> std::sync::Arc<dyn Provider> {
    common::provider(
        ProviderKind::Http,
        MessageProviderType::Sms,
        json!({"url": url}),
        json!({"signingSecret": SECRET}),
    )
}

/// `v1` of the documented scheme, written out independently.
fn v1(timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Checks the signature header of a request leadline sent.
fn assert_signed(request: &wiremock::Request) {
    let header = request
        .headers
        .get("x-leadline-signature")
        .unwrap()
        .to_str()
        .unwrap();
    let (t, v) = header.split_once(",v1=").unwrap();
    let timestamp: i64 = t.strip_prefix("t=").unwrap().parse().unwrap();
    assert!(
        (Utc::now().timestamp() - timestamp).abs() < 60,
        "timestamp {timestamp} is not now"
    );
    assert_eq!(v, v1(timestamp, &request.body));
}

#[tokio::test]
async fn sends_signed_json_with_an_idempotency_key() {
    let server = MockServer::start().await;
    let outbound = message(SENDER, text("Hi Ana"));
    Mock::given(method("POST"))
        .and(path("/leadline/send"))
        .and(header("content-type", "application/json"))
        .and(header("idempotency-key", outbound.message_id.to_string()))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"id": "gw-7781"})))
        .expect(1)
        .mount(&server)
        .await;

    let provider = endpoint(&format!("{}/leadline/send", server.uri()));
    assert_eq!(provider.kind(), ProviderKind::Http);
    let receipt = provider.send(&outbound).await.unwrap();
    assert_eq!(receipt.provider_message_id.as_deref(), Some("gw-7781"));

    let request = &server.received_requests().await.unwrap()[0];
    assert_signed(request);
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        json!({"messageId": outbound.message_id, "to": LEAD, "from": SENDER, "type": "text", "text": "Hi Ana"})
    );
}

#[tokio::test]
async fn templates_and_calls_carry_their_parts_and_an_empty_answer_is_accepted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let provider = endpoint(&server.uri());

    let outbound = message(SENDER, template());
    assert_eq!(
        provider.send(&outbound).await.unwrap().provider_message_id,
        None
    );
    let call = message(
        SENDER,
        OutboundContent::Call {
            script: "Hello Ana".into(),
        },
    );
    provider.send(&call).await.unwrap();

    let requests = server.received_requests().await.unwrap();
    let bodies: Vec<Value> = requests
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        bodies[0],
        json!({
            "messageId": outbound.message_id, "to": LEAD, "from": SENDER, "type": "template",
            "text": "Hi Ana, see you Tuesday 5 pm.",
            "template": {"name": "appointment_reminder", "language": "en", "params": ["Ana", "Tuesday 5 pm"]}
        })
    );
    assert_eq!(
        bodies[1],
        json!({"messageId": call.message_id, "to": LEAD, "from": SENDER, "type": "call", "text": "Hello Ana"})
    );
    requests.iter().for_each(assert_signed);
}

async fn send_answered_with(response: ResponseTemplate) -> SendError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(response)
        .mount(&server)
        .await;
    endpoint(&server.uri())
        .send(&message(SENDER, text("Hi")))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn answers_are_classified() {
    let error =
        send_answered_with(ResponseTemplate::new(503).insert_header("Retry-After", "5")).await;
    assert!(
        matches!(&error, SendError::Retryable { retry_after: Some(after), .. } if *after == Duration::from_secs(5)),
        "{error:?}"
    );
    let error = send_answered_with(ResponseTemplate::new(429)).await;
    assert!(matches!(error, SendError::Retryable { .. }), "{error:?}");
    let error = send_answered_with(
        ResponseTemplate::new(422)
            .set_body_json(json!({"code": "invalid_number", "message": "no such subscriber"})),
    )
    .await;
    match error {
        SendError::Permanent { code, reason } => {
            assert_eq!(code.as_deref(), Some("invalid_number"));
            assert!(reason.contains("no such subscriber"), "{reason}");
        }
        other => panic!("expected a permanent error, got {other:?}"),
    }
    let error = endpoint(&common::closed_port_url())
        .send(&message(SENDER, text("Hi")))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Retryable { .. }), "{error:?}");
}

fn signed_at(timestamp: i64, body: &Value) -> Call {
    let raw = serde_json::to_vec(body).unwrap();
    let signature = format!("t={timestamp},v1={}", v1(timestamp, &raw));
    Call::new(
        http::Method::POST,
        WEBHOOK_URL,
        &[("x-leadline-signature", &signature)],
        &raw,
    )
}

fn signed(body: &Value) -> Call {
    signed_at(Utc::now().timestamp(), body)
}

#[test]
fn status_inbound_and_call_reports_become_events() {
    let provider = endpoint("https://gateway.example.com/send");
    let ours = MessageId::new();

    let status = json!({"type": "status", "messageId": ours, "status": "delivered", "occurredAt": "2024-05-01T10:00:00Z"});
    assert_eq!(
        signed(&status).handle(provider.as_ref()).unwrap().events,
        vec![ProviderEvent::Status {
            message: MessageRef::Ours(ours),
            status: MessageStatus::Delivered,
            error_code: None,
            occurred_at: Some("2024-05-01T10:00:00Z".parse().unwrap()),
        }]
    );

    let failed = json!({"type": "status", "providerMessageId": "gw-1", "status": "failed", "errorCode": 30003});
    assert_eq!(
        signed(&failed).handle(provider.as_ref()).unwrap().events,
        vec![ProviderEvent::Status {
            message: MessageRef::Provider("gw-1".into()),
            status: MessageStatus::Failed,
            error_code: Some("30003".into()),
            occurred_at: None,
        }]
    );

    let inbound =
        json!({"type": "inbound", "from": LEAD, "to": SENDER, "text": "Yes", "id": "gw-in-9"});
    assert_eq!(
        signed(&inbound).handle(provider.as_ref()).unwrap().events,
        vec![ProviderEvent::Inbound {
            from: leadline_core::E164::parse(LEAD).unwrap(),
            to: Some(SENDER.into()),
            text: "Yes".into(),
            provider_message_id: Some("gw-in-9".into()),
            received_at: None,
        }]
    );

    let call =
        json!({"type": "call", "messageId": ours, "status": "no-answer", "durationSeconds": 0});
    assert_eq!(
        signed(&call).handle(provider.as_ref()).unwrap().events,
        vec![ProviderEvent::CallStatus {
            message: MessageRef::Ours(ours),
            status: CallStatus::NoAnswer,
            duration_seconds: Some(0),
        }]
    );

    let other = signed(&json!({"type": "balance", "remaining": 12}))
        .handle(provider.as_ref())
        .unwrap();
    assert!(other.events.is_empty());
    assert_eq!(other.reply.status, 200);
}

#[test]
fn signatures_are_checked_before_anything_else() {
    let provider = endpoint("https://gateway.example.com/send");
    let body = json!({"type": "status", "providerMessageId": "gw-1", "status": "sent"});

    let stale = signed_at(Utc::now().timestamp() - 301, &body);
    assert!(matches!(
        stale.handle(provider.as_ref()),
        Err(WebhookError::BadSignature(_))
    ));

    let mut tampered = signed(&body);
    tampered.body = serde_json::to_vec(
        &json!({"type": "status", "providerMessageId": "gw-2", "status": "sent"}),
    )
    .unwrap();
    assert!(matches!(
        tampered.handle(provider.as_ref()),
        Err(WebhookError::BadSignature(_))
    ));

    let unsigned = Call::new(
        http::Method::POST,
        WEBHOOK_URL,
        &[],
        &serde_json::to_vec(&body).unwrap(),
    );
    assert!(matches!(
        unsigned.handle(provider.as_ref()),
        Err(WebhookError::BadSignature(_))
    ));

    // The public helper signs the same way, for the server's tests and benchmark sinks.
    let raw = serde_json::to_vec(&body).unwrap();
    let header = signing::sign(SECRET.as_bytes(), Utc::now().timestamp(), &raw);
    let call = Call::new(
        http::Method::POST,
        WEBHOOK_URL,
        &[(signing::SIGNATURE_HEADER, &header)],
        &raw,
    );
    assert_eq!(call.handle(provider.as_ref()).unwrap().events.len(), 1);
}

#[test]
fn malformed_reports_are_refused() {
    let provider = endpoint("https://gateway.example.com/send");
    for body in [
        json!({"status": "sent", "providerMessageId": "gw-1"}),
        json!({"type": "status", "status": "sent"}),
        json!({"type": "status", "messageId": "not-a-uuid", "status": "sent"}),
        json!({"type": "status", "providerMessageId": "gw-1", "status": "queued"}),
        json!({"type": "inbound", "from": "4155552671", "text": "hi"}),
        json!({"type": "call", "providerMessageId": "c-1", "status": "ringing"}),
    ] {
        assert!(
            matches!(
                signed(&body).handle(provider.as_ref()),
                Err(WebhookError::Malformed(_))
            ),
            "{body}"
        );
    }
}

#[test]
fn settings_errors_name_every_field() {
    let errors = common::try_provider(
        ProviderKind::Http,
        MessageProviderType::Voice,
        json!({}),
        json!({}),
    )
    .unwrap_err();
    assert_eq!(
        common::failed_fields(&errors),
        ["secrets.signingSecret", "settings.url"]
    );
}
