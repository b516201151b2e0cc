//! The LeadConnector seed endpoint `POST /conversations/messages/outbound`: external
//! calls logged into a conversation, in that API's own error shape.

mod common;

use reqwest::Method;
use serde_json::{Value, json};

impl common::TestApp {
    async fn log_call(&self, version: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = self
            .anonymous(Method::POST, "/conversations/messages/outbound")
            .bearer_auth(&self.api_key)
            .json(&body);
        if let Some(version) = version {
            request = request.header("Version", version);
        }
        common::read(request.send().await.expect("the request is sent")).await
    }
}

fn call_body(conversation_id: &str) -> Value {
    json!({
        "type": "Call", "conversationId": conversation_id, "conversationProviderId": "61d6d1f9cdac7612faf80753",
        "altId": "dialer-call-1", "date": "2026-11-20T15:04:05Z",
        "attachments": ["https://recordings.example.com/1.mp3"],
        "call": {"to": "+15037081210", "from": "+15037081211", "status": "completed"}
    })
}

fn assert_lc_error(status: u16, body: &Value, expected: u16) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["statusCode"], expected, "{body}");
    assert!(body["error"].is_string(), "{body}");
    assert!(
        body["message"].is_string() || body["message"].is_array(),
        "{body}"
    );
}

both_stores!(logs_a_call_once_per_alt_id, |app| {
    let opened = app.open_leadscout("+14155553001").await;
    let (status, logged) = app
        .log_call(Some("2021-07-28"), call_body(&opened.conversation_id))
        .await;
    assert_eq!(status, 200, "{logged}");
    assert_eq!(logged["success"], true);
    assert_eq!(logged["conversationId"], opened.conversation_id.as_str());
    assert_eq!(logged["contactId"], opened.contact_id.as_str());
    assert_eq!(logged["dateAdded"], "2026-11-20T15:04:05.000Z");
    assert!(logged["message"].is_string());

    let (status, again) = app
        .log_call(Some("2021-04-15"), call_body(&opened.conversation_id))
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        again["messageId"], logged["messageId"],
        "a repeated altId returns the first record"
    );

    let calls: Vec<Value> = app
        .messages(&opened.conversation_id)
        .await
        .into_iter()
        .filter(|m| m["type"] == "CALL")
        .collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["call"]["status"], "completed");
    assert_eq!(calls[0]["call"]["to"], "+15037081210");
    assert_eq!(calls[0]["altId"], "dialer-call-1");
    assert_eq!(
        calls[0]["attachments"],
        json!(["https://recordings.example.com/1.mp3"])
    );
});

both_stores!(version_header_and_auth_are_required, |app| {
    let opened = app.open_leadscout("+14155553002").await;
    let (status, body) = app.log_call(None, call_body(&opened.conversation_id)).await;
    assert_lc_error(status, &body, 400);
    assert!(
        body["message"].as_str().unwrap().contains("Version"),
        "{body}"
    );
    let (status, body) = app
        .log_call(Some("2020-01-01"), call_body(&opened.conversation_id))
        .await;
    assert_lc_error(status, &body, 400);

    let (status, body) = common::read(
        app.anonymous(Method::POST, "/conversations/messages/outbound")
            .header("Version", "2021-07-28")
            .json(&call_body(&opened.conversation_id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_lc_error(status, &body, 401);
});

both_stores!(fields_are_validated_in_the_leadconnector_shape, |app| {
    let opened = app.open_leadscout("+14155553003").await;
    let mut sms = call_body(&opened.conversation_id);
    sms["type"] = json!("SMS");
    let (status, body) = app.log_call(Some("2021-07-28"), sms).await;
    assert_lc_error(status, &body, 422);
    assert!(
        body["message"][0].as_str().unwrap().starts_with("type:"),
        "{body}"
    );

    let mut bad = call_body(&opened.conversation_id);
    bad["call"] = json!({"to": "5037081210", "from": "+1", "status": "ringing"});
    bad["date"] = json!("yesterday");
    bad["attachments"] = json!(["ftp://x"]);
    let (status, body) = app.log_call(Some("2021-07-28"), bad).await;
    assert_lc_error(status, &body, 422);
    let lines: Vec<&str> = body["message"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    for field in [
        "call.to:",
        "call.from:",
        "call.status:",
        "date:",
        "attachments[0]:",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(field)),
            "{field} missing from {lines:?}"
        );
    }

    let (status, body) = app
        .log_call(
            Some("2021-07-28"),
            call_body("0190a5a0-0000-7000-8000-000000000000"),
        )
        .await;
    assert_lc_error(status, &body, 404);

    let (status, body) = common::read(
        app.anonymous(Method::POST, "/conversations/messages/outbound")
            .bearer_auth(&app.api_key)
            .header("Version", "2021-07-28")
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_lc_error(status, &body, 400);

    let (other_workspace, other_key) = app.other_workspace().await;
    let _ = other_workspace;
    let (status, body) = common::read(
        app.anonymous(Method::POST, "/conversations/messages/outbound")
            .bearer_auth(&other_key)
            .header("Version", "2021-07-28")
            .json(&call_body(&opened.conversation_id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_lc_error(status, &body, 404);
});
