//! The events of a lead's whole story, on both stores: added to a campaign, the
//! campaign activated, the conversation opened and its first message sent, the lead's
//! replies, the agent qualifying and handing off, and the lead opting out. Each step
//! checks the exact event types it wrote and that each event's `data` is what the API
//! answers for that resource right after the step. A webhook endpoint subscribed to
//! every type receives every event of the story, each once, with the bytes the log
//! keeps. The workers are stepped, never awaited with a sleep.

mod common;

use std::sync::Arc;

use common::agent::{AgentApp, BUDGET_QUESTION, Lead, QUALIFIED, TIMELINE_QUESTION};
use common::event_log::EventLog;
use common::receiver::{Receiver, Reply};
use leadline_server::numbers::NumberPools;
use leadline_server::scheduler::Scheduler;
use leadline_store::events::EventQuery;
use reqwest::Method;
use serde_json::{Value, json};

const PHONE: &str = "+14155550301";

/// An SMS campaign on the app's sandbox channel, open every hour of every day in the
/// leads' zone, opening with `welcome`.
async fn campaign(app: &AgentApp) -> String {
    let days = [
        "MONDAY",
        "TUESDAY",
        "WEDNESDAY",
        "THURSDAY",
        "FRIDAY",
        "SATURDAY",
        "SUNDAY",
    ];
    let hours: Vec<Value> = days
        .iter()
        .map(|day| json!({"day": day, "start": "00:00", "end": "24:00"}))
        .collect();
    let (status, campaign) = app
        .post(
            "/api/v1/campaigns",
            json!({
                "name": "Spring", "channelId": app.channel_id, "defaultTimeZone": "America/Los_Angeles",
                "callingHours": hours, "maxAttempts": 1, "retryInterval": "Daily",
                "openingTemplate": "welcome", "openingTemplateParams": ["{{firstName}}", "Acme"]
            }),
        )
        .await;
    assert_eq!(status, 201, "{campaign}");
    campaign["id"].as_str().unwrap().to_owned()
}

fn scheduler(app: &AgentApp) -> Scheduler {
    Scheduler::new(
        app.store.clone(),
        NumberPools::new(app.store.clone(), std::time::Duration::ZERO),
        Arc::new(tokio::sync::Notify::new()),
    )
}

agent_stores!(a_leads_story_is_told_in_order, |app| {
    app.qualifying_attributes().await;
    let advisor = app.user_id("closer@acme.com").await;
    let team = app.team("Closers", &[&advisor]).await;
    app.agent_settings(json!({"handoffTeamId": team})).await;
    app.workspace_script(json!({})).await;
    let campaign = campaign(app).await;
    let receiver = Receiver::start(Reply::Accept).await;
    let (status, endpoint) = app
        .post("/api/v1/webhook-endpoints", json!({"url": receiver.url}))
        .await;
    assert_eq!(status, 201, "{endpoint}");
    let mut log = EventLog::new(app);
    assert_eq!(log.step(app).await.types(), Vec::<String>::new());

    // Added to the campaign: its contact is created with it.
    let response = app
        .request(Method::PUT, &format!("/v1/Outbound/{campaign}/Lead"))
        .json(&json!({"phoneNumber": PHONE, "callData": {"firstName": "Ana"}}))
        .send()
        .await
        .unwrap();
    let (status, added) = common::read(response).await;
    assert_eq!(status, 200, "{added}");
    let lead_id = added["leadId"].as_str().unwrap().to_owned();
    let step = log.step(app).await;
    assert_eq!(step.types(), ["contact.created", "lead.added"]);
    step.assert_as_the_api_shows(app).await;

    let (status, _) = app
        .post(&format!("/api/v1/campaigns/{campaign}/activate"), json!({}))
        .await;
    assert_eq!(status, 200);
    let step = log.step(app).await;
    assert_eq!(step.types(), ["campaign.activated"]);
    step.assert_as_the_api_shows(app).await;
    // Activating it again moves nothing, and tells nothing.
    app.post(&format!("/api/v1/campaigns/{campaign}/activate"), json!({}))
        .await;
    assert_eq!(log.step(app).await.types(), Vec::<String>::new());

    // The scheduler opens the conversation; the lead's campaign is over for it.
    scheduler(app).run_once().await.unwrap();
    let step = log.step(app).await;
    assert_eq!(
        step.types(),
        [
            "conversation.opened",
            "lead.status_changed",
            "lead.completed"
        ]
    );
    step.assert_as_the_api_shows(app).await;
    let (_, lead) = app.get(&format!("/api/v1/leads/{lead_id}")).await;
    let lead = Lead {
        phone: PHONE.to_owned(),
        contact_id: lead["contactId"].as_str().unwrap().to_owned(),
        conversation_id: lead["conversationId"].as_str().unwrap().to_owned(),
    };

    // The opening goes out and is delivered.
    app.wait_for_opening(&lead).await;
    let step = log.step(app).await;
    assert_eq!(step.types(), ["message.sent", "message.delivered"]);
    step.assert_as_the_api_shows(app).await;

    // The lead replies; the agent asks its first question.
    let mark = app.say(&lead, "Hi!").await;
    let step = log.step(app).await;
    assert_eq!(step.types(), ["message.received"]);
    step.assert_as_the_api_shows(app).await;
    app.wait_for_sent(&lead, &mark, 1).await;
    let step = log.step(app).await;
    assert_eq!(step.types(), ["agent.decision:REPLY"]);
    step.assert_as_the_api_shows(app).await;
    assert_eq!(app.sent_since(&lead, &mark).await, [TIMELINE_QUESTION]);
    app.drain_dispatcher().await;
    assert_eq!(
        log.step(app).await.types(),
        ["message.sent", "message.delivered"]
    );

    // An answer: stored on the contact, and the next question.
    let mark = app.say(&lead, "Now").await;
    app.wait_for_sent(&lead, &mark, 1).await;
    let step = log.step(app).await;
    assert_eq!(
        step.types(),
        [
            "message.received",
            "contact.updated",
            "agent.decision:SET_ATTRIBUTE",
            "agent.decision:REPLY"
        ]
    );
    step.assert_as_the_api_shows(app).await;
    assert_eq!(app.sent_since(&lead, &mark).await, [BUDGET_QUESTION]);
    app.drain_dispatcher().await;
    log.step(app).await;

    // The last answer qualifies the lead, who is handed to the advisor.
    let mark = app.say(&lead, "around 250k").await;
    app.wait_for_decision(&lead, "HAND_OFF", &mark).await;
    let step = log.step(app).await;
    assert_eq!(
        step.types(),
        [
            "message.received",
            "contact.updated",
            "agent.decision:SET_ATTRIBUTE",
            "agent.decision:REPLY",
            "agent.decision:HAND_OFF",
            "conversation.handed_off"
        ]
    );
    step.assert_as_the_api_shows(app).await;
    assert_eq!(app.sent_since(&lead, &mark).await, [QUALIFIED]);
    app.drain_dispatcher().await;
    log.step(app).await;

    // The lead opts out.
    let mark = app.say(&lead, "STOP").await;
    app.wait_for_decision(&lead, "OPT_OUT", &mark).await;
    let step = log.step(app).await;
    assert_eq!(
        step.types(),
        [
            "message.received",
            "opt_out.recorded",
            "agent.decision:OPT_OUT",
            "conversation.opted_out"
        ]
    );
    step.assert_as_the_api_shows(app).await;

    // The endpoint received the whole story: every event once, as the log keeps it.
    app.drain_dispatcher().await;
    let workspace = app.workspace_id.parse().unwrap();
    let query = EventQuery {
        limit: 1_000,
        ..EventQuery::default()
    };
    let story = app.store.list_events(workspace, &query).await.unwrap();
    receiver
        .until(
            "every event delivered",
            std::time::Duration::from_secs(30),
            |arrived| arrived.len() >= story.len(),
        )
        .await;
    let mut arrived: Vec<(String, Vec<u8>)> = receiver
        .arrivals()
        .into_iter()
        .map(|arrival| (arrival.webhook_id, arrival.body))
        .collect();
    arrived.sort();
    let mut told: Vec<(String, Vec<u8>)> = story
        .iter()
        .map(|event| (event.id.to_string(), event.payload.clone().into_bytes()))
        .collect();
    told.sort();
    assert_eq!(arrived, told);
});
