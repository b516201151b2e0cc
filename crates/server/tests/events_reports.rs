//! The events of what providers report, on both stores, through the generic `http`
//! provider: a send refused for good, signed delivery reports (told once, and never
//! for a report that would move a message back), and a reply from an unknown
//! cellphone, which creates its contact and conversation. The dispatcher is stepped.

mod common;

use common::TestApp;
use common::dispatch_steps::stepped;
use common::event_log::EventLog;
use leadline_providers::signing::{SIGNATURE_HEADER, sign};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "webhook-test-secret";

/// A gateway answering every send with `answer`, and an `http` channel sending to it
/// (with the `welcome` template); the channel's id.
async fn channel(app: &TestApp, answer: ResponseTemplate) -> (MockServer, String) {
    let gateway = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer)
        .mount(&gateway)
        .await;
    let channel = app
        .create_channel(json!({
            "name": "HTTP gateway", "messageProviderType": "SMS", "provider": "http",
            "sender": "+14155550100", "settings": {"url": gateway.uri()},
            "secrets": {"signingSecret": SECRET}
        }))
        .await;
    app.create_template(json!({"name": "welcome", "language": "en",
                               "body": "Hi {{1}}, this is {{2}}.", "channelType": "SMS"}))
        .await;
    (gateway, channel["id"].as_str().unwrap().to_owned())
}

/// A LeadScout opening to `cellphone` on `channel_id`; its message's id.
async fn open(app: &TestApp, channel_id: &str, cellphone: &str) -> String {
    app.upsert_contact(json!({"cellphone": cellphone})).await;
    let body = TestApp::leadscout_body(cellphone, channel_id, &["Ana", "Leo"]);
    let (status, response) = app.post(&app.leadscout_path(), body).await;
    assert_eq!(status, 200, "{response}");
    response["templateSent"]["messageId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Posts `body` to the channel's webhook, signed; the answer's status.
async fn report(app: &TestApp, channel_id: &str, body: Value) -> u16 {
    let raw = body.to_string();
    let signature = sign(
        SECRET.as_bytes(),
        chrono::Utc::now().timestamp(),
        raw.as_bytes(),
    );
    app.anonymous(
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

both_stores!(a_send_refused_for_good_is_told_failed, stepped(), |app| {
    let refusal = ResponseTemplate::new(400).set_body_json(json!({"code": "invalid_number"}));
    let (_gateway, channel) = channel(app, refusal).await;
    open(app, &channel, "+14155556101").await;
    let mut log = EventLog::new(app);
    log.step(app).await;
    app.drain_dispatcher().await;
    let step = log.step(app).await;
    assert_eq!(step.types(), ["message.failed"]);
    assert_eq!(step.0[0].data["errorCode"], "invalid_number");
    step.assert_as_the_api_shows(app).await;
});

both_stores!(reports_are_told_once_and_forward_only, stepped(), |app| {
    let accepted = ResponseTemplate::new(200).set_body_json(json!({"id": "gw-1"}));
    let (_gateway, channel) = channel(app, accepted).await;
    let message = open(app, &channel, "+14155556102").await;
    let mut log = EventLog::new(app);
    log.step(app).await;
    app.drain_dispatcher().await;
    let step = log.step(app).await;
    assert_eq!(step.types(), ["message.sent"]);
    assert_eq!(step.0[0].data["providerMessageId"], "gw-1");
    step.assert_as_the_api_shows(app).await;

    let delivered = json!({"type": "status", "providerMessageId": "gw-1", "status": "delivered"});
    for _ in 0..2 {
        assert_eq!(report(app, &channel, delivered.clone()).await, 200);
    }
    let late = json!({"type": "status", "messageId": message, "status": "sent"});
    assert_eq!(report(app, &channel, late).await, 200);
    let read = json!({"type": "status", "messageId": message, "status": "read"});
    assert_eq!(report(app, &channel, read).await, 200);
    let step = log.step(app).await;
    assert_eq!(step.types(), ["message.delivered"], "told once, never back");
    assert_eq!(step.0[0].data["status"], "delivered");
});

both_stores!(a_failure_report_is_told_failed, stepped(), |app| {
    let accepted = ResponseTemplate::new(200).set_body_json(json!({"id": "gw-2"}));
    let (_gateway, channel) = channel(app, accepted).await;
    open(app, &channel, "+14155556103").await;
    app.drain_dispatcher().await;
    let mut log = EventLog::new(app);
    log.step(app).await;
    let failed = json!({"type": "status", "providerMessageId": "gw-2", "status": "failed",
                        "errorCode": "30003"});
    assert_eq!(report(app, &channel, failed).await, 200);
    let step = log.step(app).await;
    assert_eq!(step.types(), ["message.failed"]);
    assert_eq!(step.0[0].data["errorCode"], "30003");
    step.assert_as_the_api_shows(app).await;
});

both_stores!(
    a_reply_from_a_stranger_opens_its_conversation,
    stepped(),
    |app| {
        let (_gateway, channel) = channel(app, ResponseTemplate::new(200)).await;
        let mut log = EventLog::new(app);
        let reply = json!({"type": "inbound", "from": "+14155556104", "text": "Who is this?",
                       "id": "in-7"});
        for _ in 0..2 {
            assert_eq!(report(app, &channel, reply.clone()).await, 200);
        }
        let step = log.step(app).await;
        assert_eq!(
            step.types(),
            ["contact.created", "conversation.opened", "message.received"]
        );
        assert_eq!(step.0[2].data["providerMessageId"], "in-7");
        step.only("contact.").assert_as_the_api_shows(app).await;
        step.only("message.").assert_as_the_api_shows(app).await;
        // The conversation as it was opened: filing the message (after it, in a
        // transaction of its own) then sets when the lead last wrote.
        let opened = &step.0[1].data;
        let (_, mut now) = app
            .get(&format!(
                "/api/v1/conversations/{}",
                opened["id"].as_str().unwrap()
            ))
            .await;
        assert!(now["agent"]["lastInboundAt"].is_string(), "{now}");
        now["agent"]["lastInboundAt"] = Value::Null;
        assert_eq!(*opened, now);
    }
);
