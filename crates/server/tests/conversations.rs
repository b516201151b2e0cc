//! Channels, templates and conversations under `/api/v1`: creation rules, write-only
//! secrets, filters, and the advisor's reply going out through the outbox.

mod common;

use common::dispatch_steps::stepped;
use common::{assert_invalid, problem_fields};
use serde_json::json;

both_stores!(channel_secrets_are_write_only, |app| {
    let channel = app
        .create_channel(json!({
            "name": "Twilio SMS", "messageProviderType": "SMS", "provider": "twilio", "sender": "+14155550101",
            "settings": {"accountSid": "AC0123456789abcdef0123456789abcdef"},
            "secrets": {"authToken": "super-secret-token"}
        }))
        .await;
    assert_eq!(channel["secretsSet"], json!(["authToken"]));
    assert!(!channel.to_string().contains("super-secret-token"));
    let webhook = channel["webhookUrl"].as_str().unwrap();
    assert!(
        webhook.ends_with(&format!(
            "/webhooks/providers/{}",
            channel["id"].as_str().unwrap()
        )),
        "{webhook}"
    );
    let (status, fetched) = app
        .get(&format!(
            "/api/v1/channels/{}",
            channel["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200);
    assert!(!fetched.to_string().contains("super-secret-token"));
    let (_, listed) = app.get("/api/v1/channels").await;
    assert!(!listed.to_string().contains("super-secret-token"));
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
});

both_stores!(channels_are_validated, |app| {
    let (status, problem) = app
        .post("/api/v1/channels", json!({"name": "x", "messageProviderType": "SMS", "provider": "twilio", "sender": "+14155550101"}))
        .await;
    assert_eq!(status, 422, "{problem}");
    let fields = problem_fields(&problem);
    assert!(
        fields.contains(&"settings.accountSid".to_owned()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"secrets.authToken".to_owned()),
        "{fields:?}"
    );

    let (status, problem) = app
        .post("/api/v1/channels", json!({"name": "x", "messageProviderType": "VOICE", "provider": "kannel", "sender": "1234"}))
        .await;
    assert_invalid(status, &problem, "provider");
    let (status, problem) = app
        .post(
            "/api/v1/channels",
            json!({"name": "x", "messageProviderType": "SMS", "sender": "555-0100"}),
        )
        .await;
    assert_invalid(status, &problem, "sender");
    let (status, problem) = app
        .post(
            "/api/v1/channels",
            json!({"name": "x", "messageProviderType": "FAX", "sender": "+14155550101"}),
        )
        .await;
    assert_invalid(status, &problem, "messageProviderType");
    let (status, problem) = app.get("/api/v1/channels/not-a-uuid").await;
    assert_eq!(status, 404, "{problem}");
});

both_stores!(templates_count_placeholders_and_take_a_status, |app| {
    let channel_id = app.sandbox_channel().await;
    let template = app
        .create_template(json!({"name": "wa", "language": "es", "body": "Hola {{1}}", "channelType": "WHATSAPP"}))
        .await;
    assert_eq!(template["status"], "PENDING");
    assert_eq!(template["placeholders"], 1);
    let sandbox = app
        .create_template(
            json!({"name": "wa2", "language": "es", "body": "Hola", "channelType": "WHATSAPP",
                                "providerChannelId": channel_id}),
        )
        .await;
    assert_eq!(
        sandbox["status"], "APPROVED",
        "sandbox templates are approved at once"
    );

    let id = template["id"].as_str().unwrap();
    let (status, approved) = common::read(
        app.request(reqwest::Method::PATCH, &format!("/api/v1/templates/{id}"))
            .json(&json!({"status": "APPROVED"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "APPROVED");

    let (status, problem) = app
        .post(
            "/api/v1/templates",
            json!({"name": "wa", "language": "es", "body": "again", "channelType": "WHATSAPP"}),
        )
        .await;
    assert_eq!(status, 409, "{problem}");
    let (status, problem) = app
        .post(
            "/api/v1/templates",
            json!({"name": "gap", "language": "en", "body": "{{1}} {{3}}", "channelType": "SMS"}),
        )
        .await;
    assert_invalid(status, &problem, "body");
    let (status, problem) = app
        .post(
            "/api/v1/templates",
            json!({"name": "lang", "language": "e n", "body": "x", "channelType": "SMS"}),
        )
        .await;
    assert_invalid(status, &problem, "language");
    let (_, listed) = app.get("/api/v1/templates").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
});

both_stores!(
    advisor_message_takes_over_and_is_delivered,
    stepped(),
    |app| {
        let opened = app.open_leadscout("+14155554001").await;
        let advisor = app.create_user("advisor@example.com").await;
        let path = format!("/api/v1/conversations/{}/messages", opened.conversation_id);
        let (status, message) = app
            .post(
                &path,
                json!({"userId": "advisor@example.com", "text": "Hi, I'm your advisor."}),
            )
            .await;
        assert_eq!(status, 202, "{message}");
        assert_eq!(message["status"], "queued");
        assert_eq!(message["authorUserId"], advisor["id"]);
        let id = message["id"].as_str().unwrap();
        app.wait_for_status(&opened.conversation_id, id, "delivered")
            .await;
        let (_, conversation) = app
            .get(&format!("/api/v1/conversations/{}", opened.conversation_id))
            .await;
        assert_eq!(conversation["controller"], "HUMAN");

        let (status, problem) = app
            .post(&path, json!({"userId": "ghost@example.com", "text": "x"}))
            .await;
        assert_invalid(status, &problem, "userId");
        let (status, problem) = app
            .post(&path, json!({"userId": "advisor@example.com", "text": " "}))
            .await;
        assert_invalid(status, &problem, "text");
    }
);

both_stores!(conversations_filter_by_contact_channel_and_status, |app| {
    let first = app.open_leadscout("+14155554002").await;
    app.upsert_contact(json!({"cellphone": "+14155554003"}))
        .await;
    let (status, _) = app
        .post(
            &app.leadscout_path(),
            common::TestApp::leadscout_body("+14155554003", &first.channel_id, &["a", "b"]),
        )
        .await;
    assert_eq!(status, 200);
    let (_, all) = app.get("/api/v1/conversations").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    let (_, mine) = app
        .get(&format!(
            "/api/v1/conversations?contactId={}",
            first.contact_id
        ))
        .await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    assert_eq!(mine["data"][0]["id"], first.conversation_id.as_str());
    let (_, on_channel) = app
        .get(&format!(
            "/api/v1/conversations?channelId={}&status=ACTIVE",
            first.channel_id
        ))
        .await;
    assert_eq!(on_channel["data"].as_array().unwrap().len(), 2);
    let (_, closed) = app.get("/api/v1/conversations?status=CLOSED").await;
    assert_eq!(closed["data"].as_array().unwrap().len(), 0);
    let (status, problem) = app
        .get("/api/v1/conversations?status=OPEN&contactId=x")
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem_fields(&problem).len(), 2);
    let (status, _) = app
        .get("/api/v1/conversations/0190a5a0-0000-7000-8000-000000000000")
        .await;
    assert_eq!(status, 404);
});

both_stores!(
    inbound_from_an_unknown_number_opens_a_human_conversation,
    |app| {
        let channel_id = app.sandbox_channel().await;
        let (status, message) = app
            .post(
                "/api/v1/sandbox/inbound",
                json!({"channelId": channel_id, "from": "+14155554004", "text": "Who is this?"}),
            )
            .await;
        assert_eq!(status, 201, "{message}");
        let (_, conversation) = app
            .get(&format!(
                "/api/v1/conversations/{}",
                message["conversationId"].as_str().unwrap()
            ))
            .await;
        assert_eq!(conversation["controller"], "HUMAN");
        let (_, contacts) = app.get("/api/v1/contacts?cellphone=%2B14155554004").await;
        assert_eq!(contacts["data"].as_array().unwrap().len(), 1, "{contacts}");
        let (status, problem) = app
            .post(
                "/api/v1/sandbox/inbound",
                json!({"channelId": channel_id, "from": "12", "text": ""}),
            )
            .await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem_fields(&problem), ["from", "text"]);
    }
);
