//! The LeadScout outbound seed endpoint, end to end on the sandbox: the conversation is
//! opened, the template rendered and delivered by the dispatcher, a reply injected, and
//! every refusal answered with the field named.

mod common;

use common::dispatch_steps::stepped;
use common::{assert_invalid, problem_fields};
use serde_json::json;

both_stores!(
    opens_a_conversation_and_the_sandbox_delivers_it,
    stepped(),
    |app| {
        let opened = app.open_leadscout("+14155552671").await;
        let response = &opened.response;
        assert_eq!(response["alreadyInitiated"], false);
        assert_eq!(response["templateSent"]["name"], "welcome");
        let conversation = &response["conversation"];
        assert_eq!(conversation["status"], "ACTIVE");
        assert_eq!(conversation["controller"], "AI");
        assert_eq!(conversation["workspaceId"], app.workspace_id.as_str());
        assert_eq!(
            conversation["participants"]["externals"][0]["identifier"],
            opened.contact_id.as_str()
        );
        assert_eq!(
            conversation["participants"]["externals"][0]["identifierType"],
            "ID"
        );
        assert!(conversation["createdAt"].as_str().unwrap().ends_with('Z'));
        assert_eq!(response["contact"]["cellphone"], "+14155552671");
        assert_eq!(response["contact"]["firstName"], "Ana");

        let delivered = app
            .wait_for_status(&opened.conversation_id, &opened.message_id, "delivered")
            .await;
        assert_eq!(delivered["body"], "Hi Ana, this is Leo.");
        assert_eq!(delivered["direction"], "outbound");
        assert_eq!(delivered["type"], "SMS");
        assert_eq!(delivered["template"]["params"], json!(["Ana", "Leo"]));
        assert_eq!(
            delivered["providerMessageId"],
            format!("sandbox-{}", opened.message_id)
        );
        assert!(delivered["sentAt"].is_string() && delivered["deliveredAt"].is_string());

        let (status, reply) = app
        .post("/api/v1/sandbox/inbound", json!({"channelId": opened.channel_id, "from": "+14155552671", "text": "Yes, tell me more"}))
        .await;
        assert_eq!(status, 201, "{reply}");
        assert_eq!(reply["conversationId"], opened.conversation_id.as_str());
        let messages = app.messages(&opened.conversation_id).await;
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[1]["direction"], "inbound");
        assert_eq!(messages[1]["status"], "received");
        assert_eq!(messages[1]["body"], "Yes, tell me more");
    }
);

both_stores!(one_active_conversation_per_contact_and_channel, |app| {
    let opened = app.open_leadscout("+14155552672").await;
    let body = common::TestApp::leadscout_body("+14155552672", &opened.channel_id, &["Ana", "Leo"]);
    let (status, conflict) = app.post(&app.leadscout_path(), body.clone()).await;
    assert_eq!(status, 409, "{conflict}");

    let mut forced = body;
    forced["forceSend"] = json!(true);
    let (status, reused) = app.post(&app.leadscout_path(), forced).await;
    assert_eq!(status, 200, "{reused}");
    assert_eq!(reused["alreadyInitiated"], true);
    assert_eq!(
        reused["conversation"]["id"],
        opened.conversation_id.as_str()
    );
    assert!(reused["templateSent"]["messageId"].is_null());
    assert_eq!(
        app.messages(&opened.conversation_id).await.len(),
        1,
        "nothing new was sent"
    );
});

both_stores!(concurrent_openings_open_exactly_one_conversation, |app| {
    let opened = app.open_leadscout("+14155552673").await;
    app.upsert_contact(json!({"cellphone": "+14155552674"}))
        .await;
    let body = common::TestApp::leadscout_body("+14155552674", &opened.channel_id, &["A", "B"]);
    let path = app.leadscout_path();
    let calls = (0..8).map(|_| app.post(&path, body.clone()));
    let answers = futures::future::join_all(calls).await;
    let opened_count = answers.iter().filter(|(status, _)| *status == 200).count();
    let conflicts = answers.iter().filter(|(status, _)| *status == 409).count();
    assert_eq!((opened_count, conflicts), (1, 7), "{answers:?}");
});

both_stores!(contact_channel_and_template_are_checked, |app| {
    let opened = app.open_leadscout("+14155552675").await;
    let path = app.leadscout_path();
    let body = |cellphone: &str, params: &[&str]| {
        common::TestApp::leadscout_body(cellphone, &opened.channel_id, params)
    };

    let (status, missing) = app.post(&path, body("+14155559999", &["a", "b"])).await;
    assert_eq!(status, 404, "{missing}");
    assert_eq!(problem_fields(&missing), ["contact.identifier"]);

    app.upsert_contact(json!({"cellphone": "+14155552676"}))
        .await;
    let (status, wrong_count) = app.post(&path, body("+14155552676", &["only one"])).await;
    assert_invalid(status, &wrong_count, "template.orderedParams");

    let mut unknown_template = body("+14155552676", &["a", "b"]);
    unknown_template["template"]["name"] = json!("nope");
    let (status, problem) = app.post(&path, unknown_template).await;
    assert_invalid(status, &problem, "template.name");

    let mut wrong_type = body("+14155552676", &["a", "b"]);
    wrong_type["contact"]["messageProviderType"] = json!("WHATSAPP");
    let (status, problem) = app.post(&path, wrong_type).await;
    assert_invalid(status, &problem, "contact.messageProviderType");

    let mut unknown_channel = body("+14155552676", &["a", "b"]);
    unknown_channel["contact"]["providerChannelId"] = json!("0190a5a0-0000-7000-8000-000000000000");
    let (status, problem) = app.post(&path, unknown_channel).await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(problem_fields(&problem), ["contact.providerChannelId"]);

    let mut unknown_user = body("+14155552676", &["a", "b"]);
    unknown_user["handoffOverride"] =
        json!({"preAssignedUser": {"identifier": "ghost@example.com", "identifierType": "EMAIL"}});
    let (status, problem) = app.post(&path, unknown_user).await;
    assert_invalid(
        status,
        &problem,
        "handoffOverride.preAssignedUser.identifier",
    );

    let (status, problem) = app
        .post(&path, json!({"contact": {"identifier": "x", "identifierType": "PHONE", "messageProviderType": "FAX",
                                          "providerChannelId": "nope"}, "template": {"name": ""}}))
        .await;
    assert_eq!(status, 422, "{problem}");
    let fields = problem_fields(&problem);
    for field in [
        "contact.identifierType",
        "contact.messageProviderType",
        "contact.providerChannelId",
        "template.name",
    ] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} missing from {fields:?}"
        );
    }

    let pending_template = app
        .create_template(json!({"name": "pending", "language": "en", "body": "Hello", "channelType": "SMS", "status": "PENDING"}))
        .await;
    assert_eq!(pending_template["status"], "PENDING");
    let mut pending = body("+14155552676", &[]);
    pending["template"]["name"] = json!("pending");
    let (status, problem) = app.post(&path, pending).await;
    assert_invalid(status, &problem, "template.name");
    assert!(
        problem["detail"].as_str().unwrap().contains("PENDING"),
        "{problem}"
    );
    assert_eq!(
        app.messages(&opened.conversation_id).await.len(),
        1,
        "refusals write nothing"
    );
});

both_stores!(pre_assigned_user_joins_as_internal_participant, |app| {
    let channel_id = app.sandbox_channel().await;
    app.create_template(json!({"name": "welcome", "language": "en", "body": "Hi {{1}}, this is {{2}}.", "channelType": "SMS"}))
        .await;
    let user = app.create_user("advisor@example.com").await;
    app.upsert_contact(json!({"cellphone": "+14155552677", "email": "lead@example.com"}))
        .await;
    let mut body = common::TestApp::leadscout_body("lead@example.com", &channel_id, &["A", "B"]);
    body["contact"]["identifierType"] = json!("EMAIL");
    body["handoffOverride"] =
        json!({"preAssignedUser": {"identifier": user["id"], "identifierType": "ID"}});
    body["agentContext"] = json!("Interested in solar panels");
    body["additionalMessages"] = json!(["Are you the homeowner?"]);
    body["consent"] = json!({"capturedAt": "2026-11-01T10:00:00Z"});
    body["campaignId"] = json!("spring-2026");
    let (status, response) = app.post(&app.leadscout_path(), body).await;
    assert_eq!(status, 200, "{response}");
    let internals = &response["conversation"]["participants"]["internals"];
    assert_eq!(internals[0]["identifier"], user["id"]);
    assert_eq!(internals[0]["role"], "INTERNAL");
    assert_eq!(response["conversation"]["assignedUserId"], user["id"]);
    assert_eq!(
        response["conversation"]["agentContext"],
        "Interested in solar panels"
    );
    assert_eq!(response["conversation"]["campaignId"], "spring-2026");
});
