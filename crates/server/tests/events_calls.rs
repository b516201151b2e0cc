//! The events of calls, on both stores: a voice campaign's call placed, ended with the
//! sandbox's outcome and the lead settled by it; and a call made outside leadline
//! logged once per `altId`. Each event's `data` is what the API shows.

mod common;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use common::TestApp;
use common::event_log::EventLog;
use leadline_core::ManualClock;
use leadline_server::numbers::NumberPools;
use leadline_server::scheduler::Scheduler;
use leadline_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

/// A stepped app on Tuesday 11:00 in New York (inside the default calling hours) with a
/// one-attempt voice campaign on a sandbox channel; the campaign's id.
async fn voice_campaign(kind: BackendKind) -> Option<(TestApp, String)> {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 17, 16, 0, 0).unwrap(),
    ));
    let app = TestApp::spawn_with(kind, clock, common::dispatch_steps::stepped()).await?;
    let channel = app
        .create_channel(json!({"name": "Calls", "messageProviderType": "VOICE",
                               "sender": "+12125550100", "settings": {"deliveryDelaySeconds": 0}}))
        .await;
    let (status, campaign) = app
        .post("/api/v1/campaigns", json!({"name": "Calls", "channelId": channel["id"],
                                          "defaultTimeZone": "America/New_York", "maxAttempts": 1,
                                          "retryInterval": "Daily", "openingScript": "Hello {{firstName}}."}))
        .await;
    assert_eq!(status, 201, "{campaign}");
    Some((app, campaign["id"].as_str().unwrap().to_owned()))
}

/// Adds a lead with this cellphone to the campaign and activates it.
async fn add_and_activate(app: &TestApp, campaign: &str, phone: &str) {
    let response = app
        .request(Method::PUT, &format!("/v1/Outbound/{campaign}/Lead"))
        .json(&json!({"phoneNumber": phone, "callData": {"firstName": "Kim"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    app.post(&format!("/api/v1/campaigns/{campaign}/activate"), json!({}))
        .await;
}

fn scheduler(app: &TestApp) -> Scheduler {
    Scheduler::new(
        app.store.clone(),
        NumberPools::new(app.store.clone(), std::time::Duration::ZERO),
        Arc::new(tokio::sync::Notify::new()),
    )
}

async fn a_campaign_call_tells_its_outcome(kind: BackendKind) {
    let Some((app, campaign)) = voice_campaign(kind).await else {
        return;
    };
    let mut log = EventLog::new(&app);

    // The sandbox answers a number ending in 1.
    add_and_activate(&app, &campaign, "+12125550121").await;
    assert_eq!(
        log.step(&app).await.types(),
        ["contact.created", "lead.added", "campaign.activated"]
    );

    scheduler(&app).run_once().await.unwrap();
    let step = log.step(&app).await;
    assert_eq!(step.types(), ["conversation.opened", "lead.status_changed"]);
    assert_eq!(step.0[1].data["status"], "InCallQueue");
    step.assert_as_the_api_shows(&app).await;

    app.drain_dispatcher().await;
    let step = log.step(&app).await;
    assert_eq!(
        step.types(),
        [
            "message.sent",
            "call.completed",
            "lead.status_changed",
            "lead.completed",
            "message.delivered"
        ]
    );
    assert_eq!(step.0[1].data["type"], "CALL");
    assert_eq!(step.0[1].data["call"]["status"], "completed");
    assert_eq!(step.0[2].data["status"], "Success");
    step.assert_as_the_api_shows(&app).await;
    app.stop().await;
}

on_both_stores!(a_campaign_call_tells_its_outcome);

async fn a_voicemail_on_the_last_attempt_completes_the_lead(kind: BackendKind) {
    let Some((app, campaign)) = voice_campaign(kind).await else {
        return;
    };
    // The sandbox leaves a voicemail at a number ending in 6.
    add_and_activate(&app, &campaign, "+12125550126").await;
    scheduler(&app).run_once().await.unwrap();
    app.drain_dispatcher().await;
    let told: Vec<(String, Value)> = EventLog::new(&app)
        .all(&app)
        .await
        .into_iter()
        .filter(|e| e.event_type.starts_with("lead."))
        .map(|e| (e.event_type, e.data["status"].clone()))
        .collect();
    assert_eq!(
        told,
        [
            ("lead.added".to_owned(), json!("New")),
            ("lead.status_changed".to_owned(), json!("InCallQueue")),
            ("lead.status_changed".to_owned(), json!("VoiceMailLeft")),
            ("lead.completed".to_owned(), json!("VoiceMailLeft")),
        ]
    );
    app.stop().await;
}

on_both_stores!(a_voicemail_on_the_last_attempt_completes_the_lead);

both_stores!(a_call_logged_from_outside_is_told_once, |app| {
    let opened = app.open_leadscout("+14155553001").await;
    let mut log = EventLog::new(app);
    log.step(app).await;
    let body = json!({
        "type": "Call", "conversationId": opened.conversation_id,
        "conversationProviderId": "61d6d1f9cdac7612faf80753", "altId": "dialer-call-1",
        "date": "2026-11-20T15:04:05Z",
        "call": {"to": "+15037081210", "from": "+15037081211", "status": "completed"}
    });
    for _ in 0..2 {
        let response = app
            .anonymous(Method::POST, "/conversations/messages/outbound")
            .bearer_auth(&app.api_key)
            .header("Version", "2021-07-28")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    // The opening is sent meanwhile by the background dispatcher.
    let step = log.step(app).await.only("call.");
    assert_eq!(step.types(), ["call.logged"]);
    assert_eq!(step.0[0].data["altId"], "dialer-call-1");
    assert_eq!(step.0[0].data["call"]["status"], "completed");
    step.assert_as_the_api_shows(app).await;
});
