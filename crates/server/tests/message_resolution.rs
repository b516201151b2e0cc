//! `POST /api/v1/messages/{id}/resolve` over HTTP, on SQLite and PostgreSQL: each
//! action answers 200 with the message as the conversation lists it; a message not in
//! doubt is a 409 naming its status; an unknown id a 404; a bad action or note a 422
//! naming the field; the OpenAPI document lists those answers. The dispatcher is off,
//! so the test holds sends as uncertain itself, as a worker whose provider call timed
//! out would.

mod common;

use std::time::Duration;

use common::{TestApp, assert_invalid, assert_problem};
use leadline_server::serve::ServerOptions;
use leadline_store::outbox::{JobOutcome, LaneCaps, LeaseRequest};
use reqwest::Method;
use serde_json::{Value, json};

fn without_dispatcher() -> ServerOptions {
    ServerOptions {
        without_dispatcher: true,
        ..ServerOptions::default()
    }
}

/// Leases every due send job and ends each as uncertain; returns how many.
async fn hold_due_sends_as_uncertain(app: &TestApp) -> usize {
    let jobs = app
        .store
        .lease_jobs(&LeaseRequest {
            owner: "test",
            limit: 100,
            lease_for: Duration::from_secs(60),
            takeover_grace: Duration::from_secs(60),
            caps: &LaneCaps {
                default: 100,
                lanes: Default::default(),
            },
        })
        .await
        .expect("the jobs lease");
    let outcomes: Vec<JobOutcome> = jobs
        .iter()
        .map(|job| JobOutcome::Uncertain {
            lease: job.lease.clone(),
            message: job.task.message_id().expect("a send"),
            reason: "the call timed out after the request was written".into(),
        })
        .collect();
    app.store.finish_jobs(&outcomes).await.expect("recorded");
    jobs.len()
}

/// A message of a new LeadScout conversation on `channel_id`, held as uncertain;
/// returns `(conversation id, message id)`.
async fn uncertain_message(app: &TestApp, channel_id: &str, cellphone: &str) -> (String, String) {
    let (status, contact) = app.upsert_contact(json!({"cellphone": cellphone})).await;
    assert_eq!(status, 200, "{contact}");
    let (status, opened) = app
        .post(
            &app.leadscout_path(),
            TestApp::leadscout_body(cellphone, channel_id, &["Ana", "Leo"]),
        )
        .await;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(hold_due_sends_as_uncertain(app).await, 1);
    (
        opened["conversation"]["id"].as_str().unwrap().to_owned(),
        opened["templateSent"]["messageId"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

async fn resolve(app: &TestApp, message_id: &str, body: Value) -> (u16, String, Value) {
    app.send(
        app.request(
            Method::POST,
            &format!("/api/v1/messages/{message_id}/resolve"),
        )
        .json(&body),
    )
    .await
}

/// The message as the conversation's message list shows it.
async fn listed(app: &TestApp, conversation_id: &str, message_id: &str) -> Value {
    app.messages(conversation_id)
        .await
        .into_iter()
        .find(|m| m["id"] == message_id)
        .expect("the message is listed")
}

both_stores!(
    each_action_settles_an_uncertain_message,
    without_dispatcher(),
    |app| {
        let opened = app.open_leadscout("+14155550101").await;
        assert_eq!(hold_due_sends_as_uncertain(app).await, 1);
        let held = listed(app, &opened.conversation_id, &opened.message_id).await;
        assert_eq!(held["status"], "uncertain", "{held}");

        let (status, _, resent) = resolve(
            app,
            &opened.message_id,
            json!({"action": "resend", "note": "not in the provider's log"}),
        )
        .await;
        assert_eq!(status, 200, "{resent}");
        assert_eq!(resent["status"], "queued", "{resent}");
        assert_eq!(resent["errorCode"], Value::Null, "{resent}");
        assert_eq!(resent["errorMessage"], Value::Null, "{resent}");
        assert_eq!(
            resent,
            listed(app, &opened.conversation_id, &opened.message_id).await,
            "the same representation as the conversation's messages"
        );
        assert_eq!(app.store.outbox_depth().await.unwrap(), 1, "a new send job");

        // Sent again, and again in doubt: this time the person finds it went out.
        assert_eq!(hold_due_sends_as_uncertain(app).await, 1);
        let (status, _, sent) =
            resolve(app, &opened.message_id, json!({"action": "markSent"})).await;
        assert_eq!(status, 200, "{sent}");
        assert_eq!(sent["status"], "sent", "{sent}");
        assert!(sent["sentAt"].is_string(), "{sent}");
        assert_eq!(sent["errorCode"], Value::Null, "{sent}");

        let (conversation_id, message_id) =
            uncertain_message(app, &opened.channel_id, "+14155550102").await;
        let (status, _, failed) = resolve(
            app,
            &message_id,
            json!({"action": "markFailed", "note": "  the lead never got it  "}),
        )
        .await;
        assert_eq!(status, 200, "{failed}");
        assert_eq!(failed["status"], "failed", "{failed}");
        assert_eq!(failed["errorCode"], "resolved_failed", "{failed}");
        assert_eq!(failed["errorMessage"], "the lead never got it", "{failed}");
        assert_eq!(failed, listed(app, &conversation_id, &message_id).await);
        assert_eq!(
            app.store.outbox_depth().await.unwrap(),
            0,
            "nothing to send"
        );
    }
);

both_stores!(
    only_messages_in_doubt_can_be_resolved,
    without_dispatcher(),
    |app| {
        let opened = app.open_leadscout("+14155550101").await;
        let (status, content_type, queued) =
            resolve(app, &opened.message_id, json!({"action": "markSent"})).await;
        assert_problem(status, &content_type, &queued, 409);
        let detail = queued["detail"].as_str().unwrap();
        assert!(
            detail.contains("queued") && detail.contains("only uncertain or quarantined"),
            "{detail}"
        );

        assert_eq!(hold_due_sends_as_uncertain(app).await, 1);
        let (status, _, _) =
            resolve(app, &opened.message_id, json!({"action": "markFailed"})).await;
        assert_eq!(status, 200);
        let (status, content_type, again) =
            resolve(app, &opened.message_id, json!({"action": "resend"})).await;
        assert_problem(status, &content_type, &again, 409);
        assert!(
            again["detail"].as_str().unwrap().contains("is failed"),
            "{again}"
        );
        let settled = listed(app, &opened.conversation_id, &opened.message_id).await;
        assert_eq!(
            settled["errorMessage"], "marked failed by a person",
            "{settled}"
        );

        for unknown in ["0190f1c2-0000-7000-8000-000000000000", "not-an-id"] {
            let (status, content_type, missing) =
                resolve(app, unknown, json!({"action": "resend"})).await;
            assert_problem(status, &content_type, &missing, 404);
            assert_eq!(common::problem_fields(&missing), ["id"], "{missing}");
        }
        let (_, other_key) = app.other_workspace().await;
        let (status, _) = app
            .post_as(
                &other_key,
                &format!("/api/v1/messages/{}/resolve", opened.message_id),
                json!({"action": "resend"}),
            )
            .await;
        assert_eq!(status, 404, "another workspace's message is not there");
        let anonymous = app
            .anonymous(
                Method::POST,
                &format!("/api/v1/messages/{}/resolve", opened.message_id),
            )
            .json(&json!({"action": "resend"}))
            .send()
            .await
            .expect("the request is sent");
        assert_eq!(anonymous.status().as_u16(), 401, "a key is required");
    }
);

both_stores!(bad_bodies_name_the_field, without_dispatcher(), |app| {
    let opened = app.open_leadscout("+14155550101").await;
    assert_eq!(hold_due_sends_as_uncertain(app).await, 1);
    let cases = [
        (json!({"action": "shred"}), "action"),
        (json!({"action": "MARK_SENT"}), "action"),
        (json!({"note": "no action"}), "action"),
        (json!({"action": "resend", "note": "x".repeat(501)}), "note"),
        (json!({"action": "resend", "by": "me"}), "by"),
    ];
    for (body, field) in cases {
        let (status, _, problem) = resolve(app, &opened.message_id, body).await;
        assert_invalid(status, &problem, field);
    }
    let still = listed(app, &opened.conversation_id, &opened.message_id).await;
    assert_eq!(still["status"], "uncertain", "nothing changed: {still}");
});

both_stores!(
    a_resend_to_a_contact_who_opted_out_is_refused,
    without_dispatcher(),
    |app| {
        let opened = app.open_leadscout("+14155550101").await;
        assert_eq!(hold_due_sends_as_uncertain(app).await, 1);
        let (status, body) = app
            .post(
                &format!("/api/v1/contacts/{}/opt-outs", opened.contact_id),
                json!({"messageProviderType": "SMS"}),
            )
            .await;
        assert!(status == 200 || status == 201, "{status}: {body}");
        let (status, content_type, refused) =
            resolve(app, &opened.message_id, json!({"action": "resend"})).await;
        assert_problem(status, &content_type, &refused, 409);
        assert!(
            refused["detail"].as_str().unwrap().contains("opted out"),
            "{refused}"
        );
        assert_eq!(app.store.outbox_depth().await.unwrap(), 0);
        let (status, _, failed) =
            resolve(app, &opened.message_id, json!({"action": "markFailed"})).await;
        assert_eq!(
            (status, &failed["status"]),
            (200, &json!("failed")),
            "{failed}"
        );
    }
);

both_stores!(the_route_is_documented, without_dispatcher(), |app| {
    let (status, document) = app.get("/openapi.json").await;
    assert_eq!(status, 200);
    let operation = &document["paths"]["/api/v1/messages/{id}/resolve"]["post"];
    let responses = operation["responses"].as_object().expect("documented");
    for code in ["200", "404", "409", "422"] {
        assert!(responses.contains_key(code), "{code} missing: {operation}");
    }
});
