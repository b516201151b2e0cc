//! WhatsApp's 24-hour window end to end on a simulated clock, on both stores: a reply
//! held past the window (here by a one-day minimum delay) is not sent as free text;
//! the agent hands off, or sends the workspace's reopening template when one is set.

mod common;

use chrono::Duration;
use common::agent::{AgentApp, Lead, monday_daytime};
use serde_json::json;

/// A sandbox WhatsApp channel, its approved templates, and a LeadScout conversation
/// with the lead on it.
async fn whatsapp_lead(app: &AgentApp, phone: &str) -> (String, Lead) {
    let channel = app
        .create_channel(json!({
            "name": "Sandbox WhatsApp", "messageProviderType": "WHATSAPP", "sender": "+14155550199",
            "settings": {"deliveryDelaySeconds": 0}
        }))
        .await;
    let channel_id = channel["id"].as_str().unwrap().to_owned();
    for (name, body) in [
        ("welcome_wa", "Hi {{1}}, this is {{2}}."),
        (
            "write_again",
            "Are you still there? Reply to keep talking with us.",
        ),
    ] {
        app.create_template(json!({
            "name": name, "language": "en", "body": body, "channelType": "WHATSAPP",
            "providerChannelId": channel_id
        }))
        .await;
    }
    let contact_id = app.contact(phone, json!({})).await;
    let (status, response) = app
        .post(
            &app.leadscout_path(),
            json!({
                "contact": {"identifier": phone, "identifierType": "CELLPHONE",
                            "messageProviderType": "WHATSAPP", "providerChannelId": channel_id},
                "template": {"name": "welcome_wa", "orderedParams": ["Ana", "Leo"]}
            }),
        )
        .await;
    assert_eq!(status, 200, "{response}");
    let lead = Lead {
        phone: phone.to_owned(),
        contact_id,
        conversation_id: response["conversation"]["id"].as_str().unwrap().to_owned(),
    };
    (channel_id, lead)
}

/// The lead replies once (answered at once), then writes again; the second answer is
/// held a day by the minimum delay, and the clock moves past the 24-hour window.
async fn answer_after_the_window(
    app: &AgentApp,
    channel: &str,
    lead: &Lead,
) -> common::agent::Mark {
    let mark = app.say_on(channel, lead, "Hi").await;
    app.wait_for_decision(lead, "REPLY", &mark).await;
    let mark = app.say_on(channel, lead, "Now").await;
    let deferred = app.wait_for_decision(lead, "DEFERRED", &mark).await;
    assert!(
        deferred["reason"]
            .as_str()
            .unwrap()
            .contains("one reply every"),
        "{deferred}"
    );
    app.clock
        .set(monday_daytime() + Duration::hours(24) + Duration::minutes(5));
    mark
}

agent_stores!(outside_the_window_the_agent_hands_off, |app| {
    app.qualifying_attributes().await;
    app.workspace_script(json!({})).await;
    app.agent_settings(json!({"minReplyDelaySeconds": 86400,
                              "handoffMessage": "Let me get you a colleague."}))
        .await;
    let (channel, lead) = whatsapp_lead(app, "+14155550401").await;
    let mark = answer_after_the_window(app, &channel, &lead).await;

    let hand_off = app.wait_for_decision(&lead, "HAND_OFF", &mark).await;
    assert!(
        hand_off["reason"]
            .as_str()
            .unwrap()
            .contains("24-hour window"),
        "{hand_off}"
    );
    assert_eq!(
        app.sent_since(&lead, &mark).await,
        Vec::<String>::new(),
        "no free text after the window"
    );
    let conversation = app.conversation(&lead).await;
    assert_eq!(conversation["status"], "HANDED_OFF");
    assert_eq!(conversation["controller"], "HUMAN");
});

agent_stores!(outside_the_window_the_reopening_template_goes_out, |app| {
    app.qualifying_attributes().await;
    app.workspace_script(json!({})).await;
    let (channel, lead) = whatsapp_lead(app, "+14155550402").await;
    app.agent_settings(
        json!({"minReplyDelaySeconds": 86400, "whatsappReopenTemplate": "write_again"}),
    )
    .await;
    let mark = answer_after_the_window(app, &channel, &lead).await;

    let reply = app.wait_for_decision(&lead, "REPLY", &mark).await;
    assert!(
        reply["reason"].as_str().unwrap().contains("write_again"),
        "{reply}"
    );
    assert_eq!(
        app.wait_for_sent(&lead, &mark, 1).await,
        ["Are you still there? Reply to keep talking with us."]
    );
    let sent = app.outbound(&lead).await;
    assert_eq!(
        sent.last().unwrap()["template"]["name"],
        "write_again",
        "{sent:?}"
    );
    assert_eq!(app.conversation(&lead).await["status"], "ACTIVE");
});
