//! Every adapter under the outbound guard: a refused address fails the send for good
//! without a connection, a redirect is an answer (never followed), and an error answer
//! shows the tenant no body text.

mod common;

use std::sync::Arc;

use common::{message, text};
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_providers::outbound::{ClientOptions, OutboundClient, OutboundPolicy};
use leadline_providers::{ChannelConfig, OUTBOUND_REFUSED, Provider, ProviderContext, SendError};
use serde_json::{Map, Value, json};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The adapter of `kind` pointed at `base`, under a guard allowing `allow`.
fn adapter(kind: ProviderKind, base: &str, allow: &[&str]) -> Arc<dyn Provider> {
    let (carries, settings, secrets) = match kind {
        ProviderKind::Http => (
            MessageProviderType::Sms,
            json!({"url": format!("{base}/send")}),
            json!({"signingSecret": "s"}),
        ),
        ProviderKind::Twilio => (
            MessageProviderType::Sms,
            json!({"accountSid": "AC0123456789abcdef0123456789abcdef", "apiBaseUrl": base}),
            json!({"authToken": "t"}),
        ),
        ProviderKind::WhatsappCloud => (
            MessageProviderType::Whatsapp,
            json!({"apiBaseUrl": base}),
            json!({"accessToken": "a", "appSecret": "b", "verifyToken": "c"}),
        ),
        ProviderKind::Kannel => (
            MessageProviderType::Sms,
            json!({"sendsmsUrl": format!("{base}/cgi-bin/sendsms"), "username": "u"}),
            json!({"password": "p", "webhookSecret": "w"}),
        ),
        ProviderKind::Sandbox => unreachable!("the sandbox calls nothing"),
    };
    let settings: Map<String, Value> = serde_json::from_value(settings).unwrap();
    let secrets = leadline_core::SecretMap::new(serde_json::from_value(secrets).unwrap());
    let http = OutboundClient::new(
        OutboundPolicy::parse(allow).unwrap(),
        ClientOptions::default(),
    )
    .unwrap();
    leadline_providers::build(
        &ChannelConfig {
            kind,
            carries,
            settings: &settings,
            secrets: &secrets,
        },
        ProviderContext {
            http,
            webhook_url: common::WEBHOOK_URL.into(),
        },
    )
    .unwrap()
}

const ADAPTERS: [ProviderKind; 4] = [
    ProviderKind::Http,
    ProviderKind::Twilio,
    ProviderKind::WhatsappCloud,
    ProviderKind::Kannel,
];

/// WhatsApp sends from a phone-number id, the others from a number.
fn sender(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::WhatsappCloud => "1234567890",
        _ => "+14155550100",
    }
}

#[tokio::test]
async fn a_refused_address_fails_every_adapter_for_good_without_a_connection() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "x", "sid": "SM1"})))
        .mount(&server)
        .await;
    for kind in ADAPTERS {
        let error = adapter(kind, &server.uri(), &[])
            .send(&message(sender(kind), text("Hi")))
            .await
            .unwrap_err();
        match error {
            SendError::Permanent { code, reason } => {
                assert_eq!(code.as_deref(), Some(OUTBOUND_REFUSED), "{kind}");
                assert!(
                    reason.starts_with(
                        "refused by the outbound guard: 127.0.0.1 is a loopback address"
                    ),
                    "{kind}: {reason}"
                );
            }
            other => panic!("{kind}: expected a permanent refusal, got {other:?}"),
        }
    }
    assert!(server.received_requests().await.unwrap().is_empty());

    // `localhost` is a name: refused when it resolves, still before any connection.
    let port = server.address().port();
    let error = adapter(ProviderKind::Http, &format!("http://localhost:{port}"), &[])
        .send(&message("+14155550100", text("Hi")))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SendError::Permanent { code: Some(code), reason }
            if code == OUTBOUND_REFUSED && reason.contains("localhost resolves to a loopback address")),
        "{error:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_redirect_fails_every_adapter_for_good_and_is_not_followed() {
    let target = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "x"})))
        .mount(&target)
        .await;
    let redirecting = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/inside", target.uri())),
        )
        .mount(&redirecting)
        .await;
    for kind in ADAPTERS {
        let error = adapter(kind, &redirecting.uri(), &["127.0.0.0/8"])
            .send(&message(sender(kind), text("Hi")))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, SendError::Permanent { reason, .. } if reason.contains("HTTP 302")),
            "{kind}: {error:?}"
        );
    }
    assert_eq!(redirecting.received_requests().await.unwrap().len(), 4);
    assert!(target.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_error_page_shows_no_body_text() {
    let server = MockServer::start().await;
    let page = format!(
        "<html><body><h1>Internal admin</h1><pre>DATABASE_URL=postgres://admin:s3cret@db</pre>{}</body></html>",
        "x".repeat(5000)
    );
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500).set_body_string(page))
        .mount(&server)
        .await;
    for kind in ADAPTERS {
        let error = adapter(kind, &server.uri(), &["127.0.0.0/8"])
            .send(&message(sender(kind), text("Hi")))
            .await
            .unwrap_err();
        match error {
            SendError::Retryable { reason, .. } => {
                assert!(
                    reason.ends_with("answered HTTP 500: the gateway failed"),
                    "{kind}: {reason}"
                );
                assert!(
                    !reason.contains("admin") && !reason.contains('<'),
                    "{kind}: {reason}"
                );
            }
            other => panic!("{kind}: expected a retryable error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn documented_error_messages_are_cleaned_and_cut_short() {
    let server = MockServer::start().await;
    let long = format!("The 'To' number is not valid.\n\u{7}{}", "y".repeat(400));
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"code": 21211, "message": long, "error": {"code": 100, "message": long}}),
        ))
        .mount(&server)
        .await;
    for (kind, code) in [
        (ProviderKind::Twilio, "21211"),
        (ProviderKind::WhatsappCloud, "100"),
        (ProviderKind::Http, "21211"),
    ] {
        let error = adapter(kind, &server.uri(), &["127.0.0.0/8"])
            .send(&message(sender(kind), text("Hi")))
            .await
            .unwrap_err();
        match error {
            SendError::Permanent {
                code: Some(found),
                reason,
            } => {
                assert_eq!(found, code, "{kind}");
                let (_, detail) = reason.split_once("): ").unwrap();
                assert!(
                    detail.starts_with("The 'To' number is not valid. yyy"),
                    "{reason}"
                );
                assert_eq!(detail.chars().count(), 121, "{kind}: {reason}");
                assert!(!reason.chars().any(char::is_control), "{reason}");
            }
            other => panic!("{kind}: expected a permanent error, got {other:?}"),
        }
    }
}
