//! The Leadping outgoing-number endpoints beyond the campaign flow: every request field
//! optional, unknown ids a 404 naming the field, an empty pool answered with how to add
//! a number, a manual override that cannot send reported rather than replaced, and a
//! conversation's override set and cleared.

mod common;

use common::{TestApp, assert_invalid};
use reqwest::Method;
use serde_json::{Value, json};

impl TestApp {
    async fn add_number(&self, number: &str, capabilities: Value) -> String {
        let (status, created) = self
            .post(
                "/api/v1/phone-numbers",
                json!({"number": number, "capabilities": capabilities}),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        created["id"].as_str().unwrap().to_owned()
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        common::read(self.request(Method::DELETE, path).send().await.unwrap()).await
    }
}

both_stores!(an_empty_pool_says_how_to_add_a_number, |app| {
    let (status, answer) = app.post("/phone-numbers/outgoing/new", json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["canSend"], false);
    assert!(answer["phoneNumberId"].is_null());
    assert!(
        answer["setupMessage"]
            .as_str()
            .unwrap()
            .contains("/api/v1/phone-numbers"),
        "{answer}"
    );
    assert_eq!(answer["eligibleNumbers"], json!([]));
});

both_stores!(unknown_ids_are_404s_naming_the_field, |app| {
    let unknown = "01900000-0000-7000-8000-000000000000";
    for field in [
        "conversationId",
        "leadId",
        "campaignId",
        "sourceId",
        "teamId",
    ] {
        let (status, problem) = app
            .post("/phone-numbers/outgoing/new", json!({ field: unknown }))
            .await;
        assert_eq!(status, 404, "{field}: {problem}");
        assert_eq!(common::problem_fields(&problem), [field], "{problem}");
    }
    let (status, problem) = app
        .post("/phone-numbers/outgoing/new", json!({"teamId": "nope"}))
        .await;
    assert_invalid(status, &problem, "teamId");
    let (status, problem) = app
        .post(
            "/phone-numbers/outgoing/new",
            json!({"recipientPhoneNumber": "12"}),
        )
        .await;
    assert_invalid(status, &problem, "recipientPhoneNumber");
    let (status, problem) = app
        .post("/phone-numbers/outgoing/new", json!({"channel": "fax"}))
        .await;
    assert_invalid(status, &problem, "channel");
    let (status, problem) = app
        .post(
            "/phone-numbers/outgoing/manual-override",
            json!({"fromPhoneNumberId": unknown}),
        )
        .await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(common::problem_fields(&problem), ["fromPhoneNumberId"]);
});

both_stores!(capability_decides_and_overrides_are_reported, |app| {
    let texting = app
        .add_number("+14155550101", json!({"sms": true, "call": false}))
        .await;
    let calling = app
        .add_number("+14155550102", json!({"sms": false, "call": true}))
        .await;

    let (_, sms) = app
        .post(
            "/phone-numbers/outgoing/new",
            json!({"recipientPhoneNumber": "+14155559000"}),
        )
        .await;
    assert_eq!(sms["canSend"], true, "{sms}");
    assert_eq!(sms["phoneNumberId"], texting);
    assert_eq!(sms["selectionReason"], "LocalArea");
    assert_eq!(sms["reasonLabel"], "Same area code (415)");
    assert_eq!(sms["healthStatus"], "Not Started");
    let listed: Vec<&Value> = sms["eligibleNumbers"].as_array().unwrap().iter().collect();
    assert_eq!(
        listed.len(),
        1,
        "a number without SMS is never listed: {sms}"
    );
    assert_eq!(listed[0]["isSelected"], true);

    let (_, call) = app
        .post(
            "/phone-numbers/outgoing/new",
            json!({"recipientPhoneNumber": "+14155559000", "channel": "call"}),
        )
        .await;
    assert_eq!(call["phoneNumberId"], calling, "{call}");

    // An override without the capability is refused, naming the field.
    let (status, problem) = app
        .post(
            "/phone-numbers/outgoing/manual-override",
            json!({"fromPhoneNumberId": calling, "selection": {"channel": "sms"}}),
        )
        .await;
    assert_invalid(status, &problem, "fromPhoneNumberId");

    // A paused override is reported as chosen and unable to send, not replaced.
    let (status, _) = app
        .post(
            &format!("/api/v1/phone-numbers/{texting}/pause"),
            json!({"reason": "carrier review"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, checked) = app
        .post(
            "/phone-numbers/outgoing/manual-override",
            json!({"fromPhoneNumberId": texting}),
        )
        .await;
    assert_eq!(status, 200, "{checked}");
    assert_eq!(checked["wasManuallyOverridden"], true, "{checked}");
    assert_eq!(checked["canSend"], false);
    assert_eq!(checked["phoneNumberId"], texting);
    assert_eq!(checked["selectionReason"], "ManualOverride");
    assert_eq!(checked["healthStatus"], "Paused");
    assert!(
        checked["healthWarning"]
            .as_str()
            .unwrap()
            .contains("carrier review"),
        "{checked}"
    );
});

both_stores!(a_conversations_override_is_set_and_cleared, |app| {
    let channel = app.sandbox_channel().await;
    app.create_template(
        json!({"name": "welcome", "language": "en", "body": "Hi {{1}}, this is {{2}}.", "channelType": "SMS"}),
    )
    .await;
    let local = app
        .add_number("+14155550201", json!({"sms": true, "call": true}))
        .await;
    let other = app
        .add_number("+12125550202", json!({"sms": true, "call": true}))
        .await;
    app.upsert_contact(json!({"cellphone": "+14155557000"}))
        .await;
    let (status, opened) = app
        .post(
            &app.leadscout_path(),
            TestApp::leadscout_body("+14155557000", &channel, &["Ana", "Leo"]),
        )
        .await;
    assert_eq!(status, 200, "{opened}");
    let conversation = opened["conversation"]["id"].as_str().unwrap().to_owned();
    let path = format!("/phone-numbers/outgoing/conversation/{conversation}");

    // The opening went out from the local number, which the conversation now keeps.
    let (status, next) = app.post(&path, json!({})).await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["phoneNumberId"], local, "{next}");
    assert_eq!(next["selectionReason"], "StickyConversation");
    // The body may repeat the path's conversation, never name another one.
    let (status, same) = app
        .post(&path, json!({"conversationId": conversation}))
        .await;
    assert_eq!(
        (status, &same["phoneNumberId"]),
        (200, &next["phoneNumberId"])
    );
    let (status, problem) = app
        .post(
            &path,
            json!({"conversationId": "01900000-0000-7000-8000-000000000000"}),
        )
        .await;
    common::assert_invalid(status, &problem, "conversationId");
    // No body is none; a body of whitespace is not JSON.
    let (status, content_type, problem) = app
        .send(
            app.request(reqwest::Method::POST, &path)
                .header("content-type", "application/json")
                .body("\n"),
        )
        .await;
    common::assert_problem(status, &content_type, &problem, 400);

    let (status, overridden) = app
        .post(
            &format!("{path}/override"),
            json!({"fromPhoneNumberId": other}),
        )
        .await;
    assert_eq!(status, 200, "{overridden}");
    assert_eq!(overridden["phoneNumberId"], other);
    assert_eq!(overridden["selectionReason"], "ManualOverride");
    assert_eq!(overridden["wasManuallyOverridden"], true);

    let (status, cleared) = app.delete(&format!("{path}/override")).await;
    assert_eq!(status, 200, "{cleared}");
    assert_eq!(cleared["phoneNumberId"], local);
    assert_eq!(cleared["wasManuallyOverridden"], false);

    let (status, problem) = app
        .post(
            "/phone-numbers/outgoing/conversation/01900000-0000-7000-8000-000000000000",
            json!({}),
        )
        .await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(common::problem_fields(&problem), ["conversationId"]);
});
