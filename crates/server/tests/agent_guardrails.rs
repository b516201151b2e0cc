//! The agent's guardrails end to end on a simulated clock, on both stores: a reply
//! held through the lead's quiet hours and sent when they end, the turn limit handing
//! the conversation off, and the minimum delay between two replies.

mod common;

use chrono::Duration;
use common::agent::{BUDGET_QUESTION, TIMELINE_QUESTION, monday_at};
use serde_json::json;

/// The `until` of a DEFERRED decision.
fn until(decision: &serde_json::Value) -> &str {
    decision["detail"]["until"]
        .as_str()
        .unwrap_or_else(|| panic!("a DEFERRED decision says until when: {decision}"))
}

agent_stores!(replies_wait_for_the_end_of_quiet_hours, |app| {
    app.qualifying_attributes().await;
    app.workspace_script(json!({})).await;
    // 10:00 UTC is 02:00 in San Francisco.
    app.clock.set(monday_at(10, 0));
    let lead = app.open("+14155550301", json!({})).await;

    let mark = app.say(&lead, "Hi, who is this?").await;
    let deferred = app.assert_no_reply(&lead, &mark, "DEFERRED").await;
    assert_eq!(app.kinds_since(&lead, &mark).await, ["DEFERRED"]);
    assert!(
        deferred["reason"].as_str().unwrap().contains("quiet hours"),
        "{deferred}"
    );
    // 08:00 in San Francisco.
    assert_eq!(until(&deferred), "2026-11-23T16:00:00.000Z", "{deferred}");
    assert_eq!(app.conversation(&lead).await["agent"]["turns"], 0);

    // Morning: the reply goes out.
    app.clock.set(monday_at(16, 5));
    let reply = app.wait_for_decision(&lead, "REPLY", &mark).await;
    assert!(reply["messageId"].is_string(), "{reply}");
    assert_eq!(app.sent_since(&lead, &mark).await, [TIMELINE_QUESTION]);
    assert_eq!(app.conversation(&lead).await["status"], "ACTIVE");
});

agent_stores!(the_turn_limit_hands_off, |app| {
    app.qualifying_attributes().await;
    app.workspace_script(json!({})).await;
    let advisor = app.user_id("advisor@acme.com").await;
    let team = app.team("Closers", &[&advisor]).await;
    let settings = app
        .agent_settings(json!({"maxTurns": 2, "handoffTeamId": team,
                               "handoffMessage": "Let me get you a colleague."}))
        .await;
    assert_eq!(settings["maxTurns"], 2);
    let lead = app.open("+14155550302", json!({})).await;

    let mark = app.say(&lead, "Hi").await;
    app.wait_for_decision(&lead, "REPLY", &mark).await;
    assert_eq!(app.sent_since(&lead, &mark).await, [TIMELINE_QUESTION]);
    let mark = app.say(&lead, "Now").await;
    app.wait_for_decision(&lead, "REPLY", &mark).await;
    assert_eq!(app.sent_since(&lead, &mark).await, [BUDGET_QUESTION]);
    assert_eq!(app.conversation(&lead).await["agent"]["turns"], 2);

    // A third answer would be the agent's third reply: a person takes over instead.
    let mark = app.say(&lead, "500k").await;
    let hand_off = app.wait_for_decision(&lead, "HAND_OFF", &mark).await;
    assert_eq!(app.kinds_since(&lead, &mark).await, ["HAND_OFF"]);
    assert!(
        hand_off["reason"].as_str().unwrap().contains("limit"),
        "{hand_off}"
    );
    assert!(
        hand_off["reason"].as_str().unwrap().contains('2'),
        "{hand_off}"
    );
    assert_eq!(hand_off["detail"]["advisorId"], advisor.as_str());
    assert_eq!(
        app.sent_since(&lead, &mark).await,
        ["Let me get you a colleague."]
    );
    let conversation = app.conversation(&lead).await;
    assert_eq!(conversation["status"], "HANDED_OFF", "{conversation}");
    assert_eq!(conversation["controller"], "HUMAN");
    assert_eq!(conversation["assignedUserId"], advisor.as_str());
    assert_eq!(conversation["agent"]["turns"], 2);
    // The budget was not read: the agent did not take that turn.
    assert_eq!(app.attribute(&lead, "budget").await, None);
});

agent_stores!(a_minimum_delay_holds_the_next_reply, |app| {
    app.qualifying_attributes().await;
    app.workspace_script(json!({})).await;
    app.agent_settings(json!({"minReplyDelaySeconds": 60}))
        .await;
    let lead = app.open("+14155550303", json!({})).await;

    let mark = app.say(&lead, "Hi").await;
    app.wait_for_decision(&lead, "REPLY", &mark).await;
    assert_eq!(app.sent_since(&lead, &mark).await, [TIMELINE_QUESTION]);
    let replied_at = app.conversation(&lead).await["agent"]["lastReplyAt"].clone();
    assert_eq!(replied_at, "2026-11-23T18:00:00.000Z");

    // Right after the reply: held for the rest of the minute.
    let mark = app.say(&lead, "Now").await;
    let deferred = app.assert_no_reply(&lead, &mark, "DEFERRED").await;
    assert_eq!(app.kinds_since(&lead, &mark).await, ["DEFERRED"]);
    assert!(
        deferred["reason"].as_str().unwrap().contains("60 s"),
        "{deferred}"
    );
    assert_eq!(until(&deferred), "2026-11-23T18:01:00.000Z", "{deferred}");
    assert_eq!(app.attribute(&lead, "timeline").await, None);

    // 61 s later the answer is read and the reply goes.
    app.clock.advance(Duration::seconds(61));
    app.wait_for_decision(&lead, "REPLY", &mark).await;
    assert_eq!(
        app.kinds_since(&lead, &mark).await,
        ["DEFERRED", "SET_ATTRIBUTE", "REPLY"]
    );
    assert_eq!(app.sent_since(&lead, &mark).await, [BUDGET_QUESTION]);
    assert_eq!(
        app.attribute(&lead, "timeline").await,
        Some(vec!["Now".to_owned()])
    );
});
