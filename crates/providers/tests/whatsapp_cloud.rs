//! The WhatsApp Cloud adapter against a mock Graph API holding Meta's documented
//! request and response shapes, and its webhooks signed the way Meta signs them.

mod common;

use std::time::Duration;

use common::{Call, LEAD, WEBHOOK_URL, message, template, text};
use hmac::{Hmac, Mac};
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::message::MessageStatus;
use leadline_providers::{
    MessageRef, OutboundContent, Provider, ProviderEvent, SendError, WebhookError,
};
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PHONE_NUMBER_ID: &str = "106540352242922";
const ACCESS_TOKEN: &str = "EAAJB-access-token";
const APP_SECRET: &str = "meta-app-secret";
const VERIFY_TOKEN: &str = "verify-me";

fn whatsapp(base: &str) -> std::sync::Arc<dyn Provider> {
    common::provider(
        ProviderKind::WhatsappCloud,
        MessageProviderType::Whatsapp,
        json!({"apiBaseUrl": base}),
        json!({"accessToken": ACCESS_TOKEN, "appSecret": APP_SECRET, "verifyToken": VERIFY_TOKEN}),
    )
}

fn sent(id: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": "14155552671", "wa_id": "14155552671"}],
        "messages": [{"id": id, "message_status": "accepted"}]
    })
}

fn messages_path() -> String {
    format!("/v21.0/{PHONE_NUMBER_ID}/messages")
}

#[tokio::test]
async fn templates_post_name_language_and_body_parameters() {
    let server = MockServer::start().await;
    let outbound = message(PHONE_NUMBER_ID, template());
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .and(header("authorization", format!("Bearer {ACCESS_TOKEN}")))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "messaging_product": "whatsapp",
            "to": "14155552671",
            "type": "template",
            "template": {
                "name": "appointment_reminder",
                "language": {"code": "en"},
                "components": [{"type": "body", "parameters": [
                    {"type": "text", "text": "Ana"},
                    {"type": "text", "text": "Tuesday 5 pm"}
                ]}]
            },
            "biz_opaque_callback_data": outbound.message_id.to_string()
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(sent(
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA",
        )))
        .expect(1)
        .mount(&server)
        .await;

    let provider = whatsapp(&server.uri());
    assert_eq!(provider.kind(), ProviderKind::WhatsappCloud);
    let receipt = provider.send(&outbound).await.unwrap();
    assert_eq!(
        receipt.provider_message_id.as_deref(),
        Some("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA")
    );
}

#[tokio::test]
async fn templates_without_parameters_have_no_components_and_text_is_sent_as_text() {
    let server = MockServer::start().await;
    let bare = message(
        PHONE_NUMBER_ID,
        OutboundContent::Template {
            name: "hello_world".into(),
            language: "en_US".into(),
            params: vec![],
            rendered: "Hello World".into(),
        },
    );
    let reply = message(PHONE_NUMBER_ID, text("See you then!"));
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .and(body_json(json!({
            "messaging_product": "whatsapp", "to": "14155552671", "type": "template",
            "template": {"name": "hello_world", "language": {"code": "en_US"}},
            "biz_opaque_callback_data": bare.message_id.to_string()
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(sent("wamid.1")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .and(body_json(json!({
            "messaging_product": "whatsapp", "to": "14155552671", "type": "text",
            "text": {"body": "See you then!"},
            "biz_opaque_callback_data": reply.message_id.to_string()
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(sent("wamid.2")))
        .expect(1)
        .mount(&server)
        .await;

    let provider = whatsapp(&server.uri());
    assert_eq!(
        provider
            .send(&bare)
            .await
            .unwrap()
            .provider_message_id
            .as_deref(),
        Some("wamid.1")
    );
    assert_eq!(
        provider
            .send(&reply)
            .await
            .unwrap()
            .provider_message_id
            .as_deref(),
        Some("wamid.2")
    );
}

#[tokio::test]
async fn calls_are_refused_without_a_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let error = whatsapp(&server.uri())
        .send(&message(
            PHONE_NUMBER_ID,
            OutboundContent::Call {
                script: "Hi".into(),
            },
        ))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Permanent { .. }), "{error:?}");
}

async fn send_answered_with(response: ResponseTemplate) -> SendError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(response)
        .mount(&server)
        .await;
    whatsapp(&server.uri())
        .send(&message(PHONE_NUMBER_ID, text("Hi")))
        .await
        .unwrap_err()
}

fn meta_error(code: i64, message: &str) -> Value {
    json!({"error": {"message": message, "type": "OAuthException", "code": code, "error_data": {"messaging_product": "whatsapp", "details": message}, "fbtrace_id": "AbCdEf"}})
}

#[tokio::test]
async fn throttling_codes_429_and_5xx_are_retryable() {
    let error = send_answered_with(
        ResponseTemplate::new(400).set_body_json(meta_error(130429, "Rate limit hit")),
    )
    .await;
    assert!(matches!(error, SendError::Retryable { .. }), "{error:?}");
    let error = send_answered_with(
        ResponseTemplate::new(400).set_body_json(meta_error(131048, "Spam rate limit hit")),
    )
    .await;
    assert!(matches!(error, SendError::Retryable { .. }), "{error:?}");
    let error = send_answered_with(
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "60")
            .set_body_json(meta_error(80007, "Rate limit issues")),
    )
    .await;
    assert!(
        matches!(&error, SendError::Retryable { retry_after: Some(after), .. } if *after == Duration::from_secs(60)),
        "{error:?}"
    );
    let error = send_answered_with(ResponseTemplate::new(500).set_body_string("oops")).await;
    assert!(matches!(error, SendError::Retryable { .. }), "{error:?}");
}

#[tokio::test]
async fn other_errors_are_permanent_with_metas_code() {
    let error = send_answered_with(ResponseTemplate::new(400).set_body_json(meta_error(
        132001,
        "Template name does not exist in the translation",
    )))
    .await;
    match error {
        SendError::Permanent { code, reason } => {
            assert_eq!(code.as_deref(), Some("132001"));
            assert!(reason.contains("Template name does not exist"), "{reason}");
        }
        other => panic!("expected a permanent error, got {other:?}"),
    }
    let error = send_answered_with(
        ResponseTemplate::new(401).set_body_json(meta_error(190, "Invalid OAuth access token")),
    )
    .await;
    assert!(matches!(error, SendError::Permanent { code: Some(code), .. } if code == "190"));
}

#[test]
fn the_subscription_check_echoes_the_challenge_only_for_our_verify_token() {
    let provider = whatsapp("https://graph.facebook.com");
    let url = format!(
        "{WEBHOOK_URL}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}"
    );
    let outcome = Call::new(http::Method::GET, &url, &[], b"")
        .handle(provider.as_ref())
        .unwrap();
    assert_eq!(outcome.reply.status, 200);
    assert_eq!(outcome.reply.body, "1158201444");
    assert!(outcome.events.is_empty());

    let wrong =
        format!("{WEBHOOK_URL}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess");
    let refused = Call::new(http::Method::GET, &wrong, &[], b"").handle(provider.as_ref());
    assert!(matches!(refused, Err(WebhookError::BadSignature(_))));
}

/// Signs like Meta, written out independently of the adapter.
fn signed(body: &Value) -> Call {
    let raw = serde_json::to_vec(body).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(&raw);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    Call::new(
        http::Method::POST,
        WEBHOOK_URL,
        &[
            ("content-type", "application/json"),
            ("x-hub-signature-256", &signature),
        ],
        &raw,
    )
}

fn notification(value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]
    })
}

#[test]
fn statuses_and_messages_become_events() {
    let provider = whatsapp("https://graph.facebook.com");
    let body = notification(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": "14155552671"}],
        "statuses": [
            {"id": "wamid.A", "status": "delivered", "timestamp": "1700000000", "recipient_id": "14155552671"},
            {"id": "wamid.B", "status": "failed", "timestamp": "1700000005", "recipient_id": "14155552671",
             "errors": [{"code": 131026, "title": "Message undeliverable"}]},
            {"id": "wamid.C", "status": "deleted", "timestamp": "1700000006", "recipient_id": "14155552671"}
        ],
        "messages": [
            {"from": "14155552671", "id": "wamid.IN1", "timestamp": "1700000010", "type": "text", "text": {"body": "Yes please"}},
            {"from": "14155552671", "id": "wamid.IN2", "timestamp": "1700000011", "type": "image",
             "image": {"mime_type": "image/jpeg", "sha256": "x", "id": "1"}}
        ]
    }));
    let outcome = signed(&body).handle(provider.as_ref()).unwrap();
    assert_eq!(outcome.reply.status, 200);
    let lead = leadline_core::E164::parse(LEAD).unwrap();
    assert_eq!(
        outcome.events,
        vec![
            ProviderEvent::Status {
                message: MessageRef::Provider("wamid.A".into()),
                status: MessageStatus::Delivered,
                error_code: None,
                occurred_at: chrono::DateTime::from_timestamp(1_700_000_000, 0),
            },
            ProviderEvent::Status {
                message: MessageRef::Provider("wamid.B".into()),
                status: MessageStatus::Failed,
                error_code: Some("131026".into()),
                occurred_at: chrono::DateTime::from_timestamp(1_700_000_005, 0),
            },
            ProviderEvent::Inbound {
                from: lead.clone(),
                to: Some(PHONE_NUMBER_ID.into()),
                text: "Yes please".into(),
                provider_message_id: Some("wamid.IN1".into()),
                received_at: chrono::DateTime::from_timestamp(1_700_000_010, 0),
            },
            ProviderEvent::Inbound {
                from: lead,
                to: Some(PHONE_NUMBER_ID.into()),
                text: "[image]".into(),
                provider_message_id: Some("wamid.IN2".into()),
                received_at: chrono::DateTime::from_timestamp(1_700_000_011, 0),
            },
        ]
    );
}

#[test]
fn wrong_or_missing_signatures_are_refused() {
    let provider = whatsapp("https://graph.facebook.com");
    let body =
        notification(json!({"statuses": [{"id": "wamid.A", "status": "read", "timestamp": "1"}]}));
    let mut tampered = signed(&body);
    tampered.body = serde_json::to_vec(&notification(
        json!({"statuses": [{"id": "wamid.Z", "status": "read"}]}),
    ))
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

    let mut garbled = signed(&body);
    garbled
        .headers
        .insert("x-hub-signature-256", "sha1=abc".parse().unwrap());
    assert!(matches!(
        garbled.handle(provider.as_ref()),
        Err(WebhookError::BadSignature(_))
    ));
}

#[test]
fn other_objects_give_no_events_and_broken_json_is_malformed() {
    let provider = whatsapp("https://graph.facebook.com");
    let page = json!({"object": "page", "entry": []});
    assert!(
        signed(&page)
            .handle(provider.as_ref())
            .unwrap()
            .events
            .is_empty()
    );
    let templates = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "message_template_status_update", "value": {"event": "APPROVED"}}]}]});
    assert!(
        signed(&templates)
            .handle(provider.as_ref())
            .unwrap()
            .events
            .is_empty()
    );

    let broken = signed(&json!("not a notification"));
    assert!(matches!(
        broken.handle(provider.as_ref()),
        Err(WebhookError::Malformed(_))
    ));
}

#[test]
fn settings_errors_name_every_field() {
    let errors = common::try_provider(
        ProviderKind::WhatsappCloud,
        MessageProviderType::Whatsapp,
        json!({"apiVersion": "21"}),
        json!({"accessToken": ""}),
    )
    .unwrap_err();
    assert_eq!(
        common::failed_fields(&errors),
        [
            "secrets.accessToken",
            "secrets.appSecret",
            "secrets.verifyToken",
            "settings.apiVersion"
        ]
    );
}
