//! The Kannel adapter against a mock smsbox holding Kannel's documented sendsms
//! parameters and answers, and DLR/MO calls shaped as smsbox makes them (escapes filled
//! in and URL-encoded). `kannel_e2e.rs` runs the same paths through a real Kannel.

mod common;

use common::{Call, LEAD, WEBHOOK_URL, message, owned, pairs, template, text};
use hmac::{Hmac, Mac};
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::message::MessageStatus;
use leadline_providers::kannel::{mo_get_url, sms_service_group};
use leadline_providers::{
    MessageRef, OutboundContent, Provider, ProviderEvent, SendError, WebhookError,
};
use serde_json::json;
use sha2::Sha256;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const USERNAME: &str = "leadline";
const PASSWORD: &str = "kannel-pass";
const WEBHOOK_SECRET: &str = "kannel-webhook-secret";
const SENDER: &str = "12345";

fn kannel(base: &str, extra: serde_json::Value) -> std::sync::Arc<dyn Provider> {
    let mut settings =
        json!({"sendsmsUrl": format!("{base}/cgi-bin/sendsms"), "username": USERNAME});
    settings
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    common::provider(
        ProviderKind::Kannel,
        MessageProviderType::Sms,
        settings,
        json!({"password": PASSWORD, "webhookSecret": WEBHOOK_SECRET}),
    )
}

/// The first 32 hex characters of HMAC-SHA256(webhookSecret, data), written out here.
fn mac32(data: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    hex::encode(mac.finalize().into_bytes())[..32].to_owned()
}

async fn accepting_kannel(answer: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/cgi-bin/sendsms"))
        .respond_with(
            ResponseTemplate::new(202)
                .set_body_string(answer)
                .insert_header("content-type", "text/html"),
        )
        .mount(&server)
        .await;
    server
}

async fn sent_query(server: &MockServer) -> Vec<(String, String)> {
    let requests = server.received_requests().await.unwrap();
    pairs(
        requests
            .last()
            .unwrap()
            .url
            .query()
            .unwrap_or_default()
            .as_bytes(),
    )
}

/// What smsbox does with a URL template: replace the escapes with URL-encoded values.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |url, (escape, value)| {
            let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            url.replace(escape, &encoded)
        })
}

/// A GET as Kannel makes it: the URL's userinfo becomes a Basic `Authorization`.
fn get(url: &str) -> Call {
    Call::get_with_userinfo(url)
}

/// The password of the Basic credentials derived from `secret`, written out here.
fn credential(secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(b"leadline kannel webhook credentials v1");
    hex::encode(mac.finalize().into_bytes())[..32].to_owned()
}

/// `WEBHOOK_URL` with the Basic credentials of `secret` in its userinfo.
fn with_credentials(secret: &str) -> String {
    WEBHOOK_URL.replacen(
        "https://",
        &format!("https://kannel:{}@", credential(secret)),
        1,
    )
}

#[tokio::test]
async fn sends_gsm_text_with_a_signed_dlr_url() {
    let server = accepting_kannel("0: Accepted for delivery").await;
    let provider = kannel(&server.uri(), json!({}));
    assert_eq!(provider.kind(), ProviderKind::Kannel);
    let outbound = message(SENDER, text("Hi Ana, 5 pm? Reply YES & we'll call"));
    let receipt = provider.send(&outbound).await.unwrap();
    assert_eq!(receipt.provider_message_id, None);

    let id = outbound.message_id.to_string();
    let dlr_url = format!(
        "{}?kind=dlr&id={id}&sig={}&type=%d&smsc=%i&ts=%T&answer=%A",
        with_credentials(WEBHOOK_SECRET),
        mac32(&id)
    );
    assert_eq!(
        sent_query(&server).await,
        owned(&[
            ("username", USERNAME),
            ("password", PASSWORD),
            ("to", LEAD),
            ("from", SENDER),
            ("text", "Hi Ana, 5 pm? Reply YES & we'll call"),
            ("coding", "0"),
            ("charset", "UTF-8"),
            ("dlr-mask", "31"),
            ("dlr-url", &dlr_url),
        ])
    );
    // One parameter on the wire: its `&` and `%` are escaped.
    let raw = server.received_requests().await.unwrap()[0]
        .url
        .query()
        .unwrap()
        .to_owned();
    assert!(raw.contains("dlr-url=https%3A%2F%2Fkannel%3A"), "{raw}");
    assert!(raw.contains("%26type%3D%25d%26smsc%3D%25i"), "{raw}");
}

#[tokio::test]
async fn other_scripts_go_as_ucs2_and_templates_as_rendered_text_through_the_smsc() {
    let server = accepting_kannel("3: Queued for later delivery").await;
    let provider = kannel(&server.uri(), json!({"smsc": "smpp-carrier"}));

    provider
        .send(&message(SENDER, text("Привет 🙂")))
        .await
        .unwrap();
    let query = sent_query(&server).await;
    let field = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(field("text").as_deref(), Some("Привет 🙂"));
    assert_eq!(field("coding").as_deref(), Some("2"));
    assert_eq!(field("charset").as_deref(), Some("UTF-8"));
    assert_eq!(field("smsc").as_deref(), Some("smpp-carrier"));

    provider.send(&message(SENDER, template())).await.unwrap();
    let query = sent_query(&server).await;
    assert!(query.contains(&("text".into(), "Hi Ana, see you Tuesday 5 pm.".into())));
    assert!(query.contains(&("coding".into(), "0".into())));
}

#[tokio::test]
async fn texts_longer_than_max_parts_and_calls_are_refused_before_kannel() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(202))
        .expect(0)
        .mount(&server)
        .await;
    let provider = kannel(&server.uri(), json!({"maxParts": 2}));

    let too_long = "a".repeat(307); // 3 parts of 153
    let error = provider
        .send(&message(SENDER, text(&too_long)))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SendError::Permanent { code: Some(code), .. } if code == "too_long"),
        "{error:?}"
    );
    let too_long_ucs2 = "ж".repeat(135); // 3 parts of 67
    assert!(matches!(
        provider.send(&message(SENDER, text(&too_long_ucs2))).await,
        Err(SendError::Permanent { .. })
    ));
    let call = message(
        SENDER,
        OutboundContent::Call {
            script: "Hi".into(),
        },
    );
    assert!(matches!(
        provider.send(&call).await,
        Err(SendError::Permanent { .. })
    ));
}

async fn send_answered_with(status: u16, body: &str) -> SendError {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    kannel(&server.uri(), json!({}))
        .send(&message(SENDER, text("Hi")))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn kannels_answers_are_classified() {
    let error = send_answered_with(503, "Temporal failure, try again later.").await;
    assert!(matches!(error, SendError::Retryable { .. }), "{error:?}");
    let error = send_answered_with(500, "Sending failed.").await;
    assert!(matches!(error, SendError::Retryable { .. }), "{error:?}");
    for (status, body) in [
        (403, "Authorization failed for sendsms"),
        (
            400,
            "Number(s) has/have been denied by white- and/or black-lists.",
        ),
        (404, "Unknown request."),
    ] {
        match send_answered_with(status, body).await {
            SendError::Permanent { reason, .. } => assert!(reason.contains(body), "{reason}"),
            other => panic!("{status}: expected a permanent error, got {other:?}"),
        }
    }
    // Something that is not Kannel answering: only the status is shown.
    match send_answered_with(403, "<html>Admin console: root password is hunter2</html>").await {
        SendError::Permanent { reason, .. } => assert_eq!(
            reason,
            "Kannel answered HTTP 403: the request is not allowed for these credentials"
        ),
        other => panic!("expected a permanent error, got {other:?}"),
    }
    let error = kannel(&common::closed_port_url(), json!({}))
        .send(&message(SENDER, text("Hi")))
        .await
        .unwrap_err();
    match error {
        SendError::Retryable { reason, .. } => {
            assert!(!reason.contains(PASSWORD), "the password leaked: {reason}")
        }
        other => panic!("expected a retryable error, got {other:?}"),
    }
}

#[tokio::test]
async fn delivery_reports_verify_their_signature_and_map_the_dlr_type() {
    let server = accepting_kannel("0: Accepted for delivery").await;
    let provider = kannel(&server.uri(), json!({}));
    let outbound = message(SENDER, text("Hi"));
    provider.send(&outbound).await.unwrap();
    let query = sent_query(&server).await;
    let dlr_url = &query.iter().find(|(k, _)| k == "dlr-url").unwrap().1;

    let report = |dlr_type: &str, answer: &str| {
        fill(
            dlr_url,
            &[
                ("%d", dlr_type),
                ("%i", "fake1"),
                ("%T", "1700000000"),
                ("%A", answer),
            ],
        )
    };
    let outcome = get(&report("1", "")).handle(provider.as_ref()).unwrap();
    assert_eq!(
        outcome.events,
        vec![ProviderEvent::Status {
            message: MessageRef::Ours(outbound.message_id),
            status: MessageStatus::Delivered,
            error_code: None,
            occurred_at: chrono::DateTime::from_timestamp(1_700_000_000, 0),
        }]
    );
    assert_eq!(
        (outcome.reply.status, outcome.reply.body.as_str()),
        (200, "")
    );

    let sent = get(&report("8", "ACK/")).handle(provider.as_ref()).unwrap();
    assert!(matches!(
        sent.events[..],
        [ProviderEvent::Status {
            status: MessageStatus::Sent,
            ..
        }]
    ));
    assert!(
        get(&report("4", ""))
            .handle(provider.as_ref())
            .unwrap()
            .events
            .is_empty()
    );
    let rejected = get(&report("16", "NACK/0x00000045/Submit failed"))
        .handle(provider.as_ref())
        .unwrap();
    assert!(matches!(
        &rejected.events[..],
        [ProviderEvent::Status { status: MessageStatus::Failed, error_code: Some(code), .. }] if code == "0x00000045"
    ));
    let undelivered = get(&report(
        "2",
        "id:1 sub:001 dlvrd:000 stat:UNDELIV err:034 text:",
    ))
    .handle(provider.as_ref())
    .unwrap();
    assert!(matches!(
        &undelivered.events[..],
        [ProviderEvent::Status { status: MessageStatus::Failed, error_code: Some(code), .. }] if code == "034"
    ));

    // Another message's id with this message's signature is refused.
    let forged = report("1", "").replace(
        &outbound.message_id.to_string(),
        &leadline_core::MessageId::new().to_string(),
    );
    assert!(matches!(
        get(&forged).handle(provider.as_ref()),
        Err(WebhookError::BadSignature(_))
    ));
    let unsigned = format!(
        "{}?kind=dlr&id={}&type=1",
        with_credentials(WEBHOOK_SECRET),
        outbound.message_id
    );
    assert!(matches!(
        get(&unsigned).handle(provider.as_ref()),
        Err(WebhookError::BadSignature(_))
    ));

    // A report as a log or a proxy shows it (the request line: id, sig and status, no
    // credentials), its status changed from 8 to 1: refused, as is the original.
    let logged =
        report("8", "ACK/").replacen(&format!("kannel:{}@", credential(WEBHOOK_SECRET)), "", 1);
    for status in ["8", "1"] {
        let tampered = logged.replace("type=8", &format!("type={status}"));
        assert!(matches!(
            get(&tampered).handle(provider.as_ref()),
            Err(WebhookError::BadSignature(_))
        ));
    }
    // The same with another channel's credentials, or as another user: refused.
    let other = report("1", "").replace(&credential(WEBHOOK_SECRET), &credential("other"));
    assert!(get(&other).handle(provider.as_ref()).is_err());
    let other_user = report("1", "").replacen("kannel:", "admin:", 1);
    assert!(get(&other_user).handle(provider.as_ref()).is_err());
}

#[test]
fn inbound_messages_arrive_through_the_sms_service_get_url() {
    let provider = kannel("http://127.0.0.1:13013", json!({}));
    let template = mo_get_url(WEBHOOK_URL, WEBHOOK_SECRET);
    assert_eq!(
        template,
        format!(
            "{}?kind=mo&from=%p&to=%P&text=%a&id=%I&ts=%T",
            with_credentials(WEBHOOK_SECRET)
        )
    );
    let group = sms_service_group(WEBHOOK_URL, WEBHOOK_SECRET);
    assert!(
        group.contains(&format!("get-url = \"{template}\"")),
        "{group}"
    );
    assert!(group.contains("max-messages = 0"), "{group}");

    let mo = fill(
        &template,
        &[
            ("%p", "14155552671"),
            ("%P", SENDER),
            ("%a", "Yes & thanks, 5 pm works"),
            ("%I", "abe28b01-c4d0-4858-b0f4-7f7dc1b23a8f"),
            ("%T", "1700000000"),
        ],
    );
    let outcome = get(&mo).handle(provider.as_ref()).unwrap();
    assert_eq!(
        outcome.events,
        vec![ProviderEvent::Inbound {
            from: leadline_core::E164::parse(LEAD).unwrap(),
            to: Some(SENDER.into()),
            text: "Yes & thanks, 5 pm works".into(),
            provider_message_id: Some("abe28b01-c4d0-4858-b0f4-7f7dc1b23a8f".into()),
            received_at: chrono::DateTime::from_timestamp(1_700_000_000, 0),
        }]
    );
    assert_eq!(
        (outcome.reply.status, outcome.reply.body.as_str()),
        (200, "")
    );

    let other_secret = fill(
        &mo_get_url(WEBHOOK_URL, "another-secret"),
        &[("%p", "14155552671"), ("%a", "hi")],
    );
    assert!(matches!(
        get(&other_secret).handle(provider.as_ref()),
        Err(WebhookError::BadSignature(_))
    ));
    let bad_sender = fill(&template, &[("%p", "INFO"), ("%a", "hi")]);
    assert!(matches!(
        get(&bad_sender).handle(provider.as_ref()),
        Err(WebhookError::Malformed(_))
    ));
    assert!(matches!(
        get(&with_credentials(WEBHOOK_SECRET)).handle(provider.as_ref()),
        Err(WebhookError::Malformed(_))
    ));
    // The MO URL with its credentials left out (as a log shows it) is refused.
    let logged = mo.replacen(&format!("kannel:{}@", credential(WEBHOOK_SECRET)), "", 1);
    assert!(matches!(
        get(&logged).handle(provider.as_ref()),
        Err(WebhookError::BadSignature(_))
    ));
}

#[test]
fn settings_errors_name_every_field() {
    let errors = common::try_provider(
        ProviderKind::Kannel,
        MessageProviderType::Sms,
        json!({"sendsmsUrl": "127.0.0.1:13013", "maxParts": 0}),
        json!({"password": "x"}),
    )
    .unwrap_err();
    assert_eq!(
        common::failed_fields(&errors),
        [
            "secrets.webhookSecret",
            "settings.maxParts",
            "settings.sendsmsUrl",
            "settings.username"
        ]
    );
}
