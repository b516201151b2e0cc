//! Provider webhooks and send outcomes through the generic `http` provider: signed
//! delivery reports and replies are applied, a bad signature is a 401 that changes
//! nothing, and the provider's answers decide between sent, retried and failed.

mod common;

use std::sync::Arc;

use common::dispatch_steps::stepped;
use leadline_core::ManualClock;
use leadline_core::retry::RetryPolicy;
use leadline_providers::signing::{SIGNATURE_HEADER, sign};
use leadline_store::BackendKind;
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "webhook-test-secret";

impl common::TestApp {
    /// An `http` channel sending to `url`, with the `welcome` template.
    async fn http_channel(&self, url: &str) -> String {
        let channel = self
            .create_channel(json!({
                "name": "HTTP gateway", "messageProviderType": "SMS", "provider": "http", "sender": "+14155550100",
                "settings": {"url": url}, "secrets": {"signingSecret": SECRET}
            }))
            .await;
        self.create_template(json!({"name": "welcome", "language": "en", "body": "Hi {{1}}, this is {{2}}.", "channelType": "SMS"}))
            .await;
        channel["id"].as_str().unwrap().to_owned()
    }

    /// Opens a LeadScout conversation on `channel_id`; returns (conversation, message).
    async fn open_on(&self, channel_id: &str, cellphone: &str) -> (String, String) {
        self.upsert_contact(json!({"cellphone": cellphone})).await;
        let (status, response) = self
            .post(
                &self.leadscout_path(),
                Self::leadscout_body(cellphone, channel_id, &["Ana", "Leo"]),
            )
            .await;
        assert_eq!(status, 200, "{response}");
        (
            response["conversation"]["id"].as_str().unwrap().to_owned(),
            response["templateSent"]["messageId"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
    }

    /// Posts `body` to the channel's webhook, signed with `secret`.
    async fn webhook(&self, channel_id: &str, body: &Value, secret: &str) -> u16 {
        let raw = body.to_string();
        let signature = sign(
            secret.as_bytes(),
            chrono::Utc::now().timestamp(),
            raw.as_bytes(),
        );
        self.anonymous(
            reqwest::Method::POST,
            &format!("/webhooks/providers/{channel_id}"),
        )
        .header(SIGNATURE_HEADER, signature)
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
    }
}

async fn gateway(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

both_stores!(
    signed_reports_move_messages_forward_only,
    stepped(),
    |app| {
        let gateway =
            gateway(ResponseTemplate::new(200).set_body_json(json!({"id": "gw-1"}))).await;
        let channel = app.http_channel(&gateway.uri()).await;
        let (conversation, message) = app.open_on(&channel, "+14155556001").await;
        let sent = app.wait_for_status(&conversation, &message, "sent").await;
        assert_eq!(sent["providerMessageId"], "gw-1");
        let request = &gateway.received_requests().await.unwrap()[0];
        assert_eq!(
            request
                .headers
                .get("idempotency-key")
                .unwrap()
                .to_str()
                .unwrap(),
            message
        );

        let delivered =
            json!({"type": "status", "providerMessageId": "gw-1", "status": "delivered"});
        assert_eq!(app.webhook(&channel, &delivered, SECRET).await, 200);
        app.wait_for_status(&conversation, &message, "delivered")
            .await;
        let late = json!({"type": "status", "messageId": message, "status": "sent"});
        assert_eq!(app.webhook(&channel, &late, SECRET).await, 200);
        let read = json!({"type": "status", "messageId": message, "status": "read"});
        assert_eq!(app.webhook(&channel, &read, SECRET).await, 200);
        app.wait_for_status(&conversation, &message, "read").await;
    }
);

both_stores!(
    bad_signatures_are_refused_and_change_nothing,
    stepped(),
    |app| {
        let gateway =
            gateway(ResponseTemplate::new(200).set_body_json(json!({"id": "gw-2"}))).await;
        let channel = app.http_channel(&gateway.uri()).await;
        let (conversation, message) = app.open_on(&channel, "+14155556002").await;
        app.wait_for_status(&conversation, &message, "sent").await;
        let report = json!({"type": "status", "providerMessageId": "gw-2", "status": "failed", "errorCode": "30003"});
        assert_eq!(app.webhook(&channel, &report, "wrong-secret").await, 401);
        let unsigned = app
            .anonymous(
                reqwest::Method::POST,
                &format!("/webhooks/providers/{channel}"),
            )
            .json(&report)
            .send()
            .await
            .unwrap();
        assert_eq!(unsigned.status(), 401);
        let reply = json!({"type": "inbound", "from": "+14155556002", "text": "forged"});
        assert_eq!(app.webhook(&channel, &reply, "wrong-secret").await, 401);
        let messages = app.messages(&conversation).await;
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0]["status"], "sent");

        let (status, _) = app
            .get("/webhooks/providers/0190a5a0-0000-7000-8000-000000000000")
            .await;
        assert_eq!(status, 404);
    }
);

both_stores!(signed_replies_are_recorded_once, stepped(), |app| {
    let gateway = gateway(ResponseTemplate::new(200)).await;
    let channel = app.http_channel(&gateway.uri()).await;
    let (conversation, _) = app.open_on(&channel, "+14155556003").await;
    let reply =
        json!({"type": "inbound", "from": "+14155556003", "text": "Sounds good", "id": "in-42"});
    assert_eq!(app.webhook(&channel, &reply, SECRET).await, 200);
    assert_eq!(
        app.webhook(&channel, &reply, SECRET).await,
        200,
        "a repeated report is accepted"
    );
    let inbound: Vec<Value> = app
        .messages(&conversation)
        .await
        .into_iter()
        .filter(|m| m["direction"] == "inbound")
        .collect();
    assert_eq!(inbound.len(), 1, "recorded once");
    assert_eq!(inbound[0]["body"], "Sounds good");
    assert_eq!(inbound[0]["providerMessageId"], "in-42");
});

both_stores!(permanent_refusals_fail_the_message, stepped(), |app| {
    let gateway =
        gateway(ResponseTemplate::new(400).set_body_json(json!({"code": "invalid_number"}))).await;
    let channel = app.http_channel(&gateway.uri()).await;
    let (conversation, message) = app.open_on(&channel, "+14155556004").await;
    let failed = app.wait_for_status(&conversation, &message, "failed").await;
    assert_eq!(failed["errorCode"], "invalid_number");
    assert_eq!(
        gateway.received_requests().await.unwrap().len(),
        1,
        "a permanent failure is not retried"
    );
});

on_both_stores!(temporary_failures_are_retried_with_the_same_key);

async fn temporary_failures_are_retried_with_the_same_key(kind: BackendKind) {
    // The retry is due after the retry policy's delay on the store's clock, moved below.
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let Some(app) = common::TestApp::spawn_with(kind, clock.clone(), stepped()).await else {
        return;
    };
    let gateway = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&gateway)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "gw-retry"})))
        .with_priority(2)
        .mount(&gateway)
        .await;
    let channel = app.http_channel(&gateway.uri()).await;
    let (conversation, message) = app.open_on(&channel, "+14155556005").await;
    // The first attempt meets the 503; the retry waits at most the first delay.
    app.drain_dispatcher().await;
    let retry_delay = RetryPolicy::default().first_delay;
    clock.advance(chrono::Duration::from_std(retry_delay).unwrap());
    let sent = app.wait_for_status(&conversation, &message, "sent").await;
    assert_eq!(sent["providerMessageId"], "gw-retry");
    let requests = gateway.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    for request in requests {
        assert_eq!(
            request
                .headers
                .get("idempotency-key")
                .unwrap()
                .to_str()
                .unwrap(),
            message
        );
    }
    app.stop().await;
}
