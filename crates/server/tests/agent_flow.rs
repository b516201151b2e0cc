//! The flow-script agent end to end, over real HTTP with its workers running, on both
//! stores: leads answer LeadScout conversations through the sandbox channel, the agent
//! asks the script's questions, stores the answers on the contact, qualifies and hands
//! off to the right advisor; a person asked for, an advisor taking over and giving
//! back, a lead who does not qualify; and the opt-out handling (STOP, free text, HELP,
//! START), whose decisions and replies are checked one by one.

mod common;

use common::agent::{
    AgentApp, BUDGET_QUESTION, Lead, NOT_QUALIFIED, PERSON_REQUESTED, QUALIFIED, TIMELINE_QUESTION,
};
use serde_json::{Value, json};

const ADDITIONAL: &str = "By the way, we have new listings in your area every week.";

/// Takes a lead through both questions with qualifying answers, and returns the
/// HAND_OFF decision.
async fn qualify(app: &AgentApp, lead: &Lead) -> Value {
    let mark = app.say(lead, "Hi!").await;
    app.wait_for_decision(lead, "REPLY", &mark).await;
    let mark = app.say(lead, "Now").await;
    app.wait_for_decision(lead, "REPLY", &mark).await;
    let mark = app.say(lead, "around 250k").await;
    let hand_off = app.wait_for_decision(lead, "HAND_OFF", &mark).await;
    assert_eq!(app.sent_since(lead, &mark).await, [QUALIFIED]);
    hand_off
}

agent_stores!(qualified_leads_are_handed_to_the_right_advisor, |app| {
    app.qualifying_attributes().await;
    let first = app.user_id("first@acme.com").await;
    let second = app.user_id("second@acme.com").await;
    let team = app.team("Closers", &[&first, &second]).await;
    app.agent_settings(json!({"handoffTeamId": team})).await;
    app.workspace_script(json!({})).await;

    let lead = app
        .open(
            "+14155550201",
            json!({"additionalMessages": [ADDITIONAL],
                   "agentContext": "Asked about 3-bedroom homes"}),
        )
        .await;
    // The additional messages wait for the lead's first reply.
    app.wait_for_opening(&lead).await;
    assert_eq!(app.outbound(&lead).await.len(), 1);
    assert_eq!(app.decisions(&lead).await, Vec::<Value>::new());
    assert_eq!(
        app.conversation(&lead).await["agent"]["additionalMessagesSent"],
        false
    );

    // The first reply: the additional message, then the first question.
    let mark = app.say(&lead, "Hi!").await;
    let additional = app
        .wait_for_decision(&lead, "ADDITIONAL_MESSAGES", &mark)
        .await;
    let reply = app.wait_for_decision(&lead, "REPLY", &mark).await;
    assert_eq!(
        app.sent_since(&lead, &mark).await,
        [ADDITIONAL, TIMELINE_QUESTION]
    );
    assert!(additional["messageId"].is_string(), "{additional}");
    assert!(
        reply["reason"].as_str().unwrap().contains("timeline"),
        "{reply}"
    );
    let conversation = app.conversation(&lead).await;
    assert_eq!(conversation["agent"]["additionalMessagesSent"], true);
    assert_eq!(conversation["agent"]["turns"], 1, "{conversation}");

    // An answer to the closed question, stored; the second question.
    let mark = app.say(&lead, "1-3 months").await;
    let stored = app.wait_for_decision(&lead, "SET_ATTRIBUTE", &mark).await;
    app.wait_for_decision(&lead, "REPLY", &mark).await;
    assert_eq!(stored["detail"]["attribute"], "timeline", "{stored}");
    assert_eq!(stored["detail"]["value"], "1-3 months", "{stored}");
    assert_eq!(app.sent_since(&lead, &mark).await, [BUDGET_QUESTION]);
    assert_eq!(
        app.attribute(&lead, "timeline").await,
        Some(vec!["1-3 months".to_owned()])
    );

    // The last answer: qualified, handed off to the team's first advisor.
    let mark = app.say(&lead, "about 300k").await;
    let hand_off = app.wait_for_decision(&lead, "HAND_OFF", &mark).await;
    assert_eq!(
        app.kinds_since(&lead, &mark).await,
        ["SET_ATTRIBUTE", "REPLY", "HAND_OFF"]
    );
    assert_eq!(app.sent_since(&lead, &mark).await, [QUALIFIED]);
    assert_eq!(
        hand_off["detail"]["advisorId"],
        first.as_str(),
        "{hand_off}"
    );
    assert_eq!(hand_off["detail"]["rule"], "round-robin", "{hand_off}");
    assert!(
        hand_off["reason"].as_str().unwrap().contains("qualified"),
        "{hand_off}"
    );
    let conversation = app.conversation(&lead).await;
    assert_eq!(conversation["status"], "HANDED_OFF", "{conversation}");
    assert_eq!(conversation["controller"], "HUMAN", "{conversation}");
    assert_eq!(conversation["assignedUserId"], first.as_str());
    assert!(
        app.internals(&lead).await.contains(&first),
        "{conversation}"
    );
    assert_eq!(
        app.attribute(&lead, "timeline").await,
        Some(vec!["1-3 months".to_owned()])
    );
    assert_eq!(
        app.attribute(&lead, "budget").await,
        Some(vec!["about 300k".to_owned()])
    );

    // The agent never answers a handed-off conversation again.
    let mark = app.say(&lead, "Thanks, when will they call?").await;
    let skipped = app.assert_no_reply(&lead, &mark, "SKIPPED").await;
    assert!(
        skipped["reason"].as_str().unwrap().contains("handed off"),
        "{skipped}"
    );
    assert_eq!(app.conversation(&lead).await["status"], "HANDED_OFF");

    // The next qualified lead goes to the team's second advisor.
    let lead = app.open("+14155550202", json!({})).await;
    let hand_off = qualify(app, &lead).await;
    assert_eq!(
        hand_off["detail"]["advisorId"],
        second.as_str(),
        "{hand_off}"
    );
    assert_eq!(
        app.conversation(&lead).await["assignedUserId"],
        second.as_str()
    );
    assert!(app.internals(&lead).await.contains(&second));

    // A user pre-assigned by LeadScout takes the conversation, whatever the team.
    let pre_assigned = app.user_id("pre@acme.com").await;
    let lead = app
        .open(
            "+14155550203",
            json!({"handoffOverride": {"preAssignedUser":
                {"identifier": pre_assigned, "identifierType": "ID"}}}),
        )
        .await;
    let hand_off = qualify(app, &lead).await;
    assert_eq!(hand_off["detail"]["advisorId"], pre_assigned.as_str());
    assert_eq!(hand_off["detail"]["rule"], "pre-assigned", "{hand_off}");
    let conversation = app.conversation(&lead).await;
    assert_eq!(conversation["assignedUserId"], pre_assigned.as_str());
    assert_eq!(conversation["status"], "HANDED_OFF");
    assert!(app.internals(&lead).await.contains(&pre_assigned));

    // A contact with an owner goes to its owner.
    let owner = app.user_id("owner@acme.com").await;
    app.contact(
        "+14155550204",
        json!({"ownerIdentifier": {"identifier": "owner@acme.com", "identifierType": "EMAIL"}}),
    )
    .await;
    let lead = app.open("+14155550204", json!({})).await;
    let hand_off = qualify(app, &lead).await;
    assert_eq!(
        hand_off["detail"]["advisorId"],
        owner.as_str(),
        "{hand_off}"
    );
    assert_eq!(hand_off["detail"]["rule"], "owner", "{hand_off}");
    assert_eq!(
        app.conversation(&lead).await["assignedUserId"],
        owner.as_str()
    );
    assert!(app.internals(&lead).await.contains(&owner));

    // The round-robin was not consumed by them: the next team lead goes to the first.
    let lead = app.open("+14155550205", json!({})).await;
    let hand_off = qualify(app, &lead).await;
    assert_eq!(
        hand_off["detail"]["advisorId"],
        first.as_str(),
        "{hand_off}"
    );
});

agent_stores!(a_lead_asking_for_a_person_is_handed_off_at_once, |app| {
    app.qualifying_attributes().await;
    let advisor = app.user_id("advisor@acme.com").await;
    let team = app.team("Spanish desk", &[&advisor]).await;
    // This time the team comes from the script.
    app.workspace_script(json!({"handoffTeamId": team})).await;

    for (phone, words) in [
        ("+14155550211", "Can I talk to a person?"),
        ("+14155550212", "quiero hablar con un asesor"),
    ] {
        let lead = app.open(phone, json!({})).await;
        let mark = app.say(&lead, "Hi").await;
        app.wait_for_decision(&lead, "REPLY", &mark).await;
        assert_eq!(app.sent_since(&lead, &mark).await, [TIMELINE_QUESTION]);

        let mark = app.say(&lead, words).await;
        let hand_off = app.wait_for_decision(&lead, "HAND_OFF", &mark).await;
        assert_eq!(app.kinds_since(&lead, &mark).await, ["REPLY", "HAND_OFF"]);
        assert_eq!(app.sent_since(&lead, &mark).await, [PERSON_REQUESTED]);
        assert!(
            hand_off["reason"]
                .as_str()
                .unwrap()
                .contains("asked for a person"),
            "{hand_off}"
        );
        assert_eq!(hand_off["detail"]["advisorId"], advisor.as_str());
        let conversation = app.conversation(&lead).await;
        assert_eq!(conversation["status"], "HANDED_OFF", "{conversation}");
        assert_eq!(conversation["controller"], "HUMAN");
        assert_eq!(conversation["assignedUserId"], advisor.as_str());
        assert_eq!(app.attribute(&lead, "timeline").await, None);
    }
});

agent_stores!(retries_take_over_release_and_not_qualified, |app| {
    app.qualifying_attributes().await;
    let advisor = app.user_id("advisor@acme.com").await;
    app.workspace_script(json!({})).await;

    let lead = app.open("+14155550221", json!({})).await;
    let mark = app.say(&lead, "Hello").await;
    app.wait_for_decision(&lead, "REPLY", &mark).await;

    // An answer that is none of the options: asked again, with the options.
    let mark = app.say(&lead, "purple, probably").await;
    let reply = app.wait_for_decision(&lead, "REPLY", &mark).await;
    assert_eq!(
        app.sent_since(&lead, &mark).await,
        [format!("Sorry, I did not get that. {TIMELINE_QUESTION}")]
    );
    assert!(
        reply["reason"].as_str().unwrap().contains("asking again"),
        "{reply}"
    );
    assert_eq!(app.attribute(&lead, "timeline").await, None);

    // An advisor takes over: the agent stops answering.
    let (status, conversation) = app
        .post(
            &format!("/api/v1/conversations/{}/handoff", lead.conversation_id),
            json!({"userId": advisor, "reason": "I know this lead"}),
        )
        .await;
    assert_eq!(status, 200, "{conversation}");
    assert_eq!(conversation["status"], "HANDED_OFF");
    assert_eq!(conversation["controller"], "HUMAN");
    assert_eq!(conversation["assignedUserId"], advisor.as_str());
    let decisions = app.decisions(&lead).await;
    let manual = decisions.last().unwrap();
    assert_eq!(manual["kind"], "HAND_OFF", "{manual}");
    assert!(
        manual["reason"]
            .as_str()
            .unwrap()
            .contains("I know this lead"),
        "{manual}"
    );
    let mark = app.say(&lead, "Are you still there?").await;
    app.assert_no_reply(&lead, &mark, "SKIPPED").await;

    // Given back: the agent answers the next message, still awaiting the timeline.
    let (status, conversation) = app
        .post(
            &format!("/api/v1/conversations/{}/release", lead.conversation_id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{conversation}");
    assert_eq!(conversation["status"], "ACTIVE");
    assert_eq!(conversation["controller"], "AI");
    assert_eq!(
        app.decisions(&lead).await.last().unwrap()["kind"],
        "RELEASED"
    );
    let mark = app.say(&lead, "Now").await;
    app.wait_for_decision(&lead, "REPLY", &mark).await;
    assert_eq!(
        app.kinds_since(&lead, &mark).await,
        ["SET_ATTRIBUTE", "REPLY"]
    );
    assert_eq!(app.sent_since(&lead, &mark).await, [BUDGET_QUESTION]);
    assert_eq!(
        app.attribute(&lead, "timeline").await,
        Some(vec!["Now".to_owned()])
    );

    // A lead who does not qualify: the not-qualified message, and the end.
    let lead = app.open("+14155550222", json!({})).await;
    let mark = app.say(&lead, "hi there").await;
    app.wait_for_decision(&lead, "REPLY", &mark).await;
    let mark = app.say(&lead, "just looking").await;
    app.wait_for_decision(&lead, "REPLY", &mark).await;
    assert_eq!(app.sent_since(&lead, &mark).await, [BUDGET_QUESTION]);
    let mark = app.say(&lead, "100k").await;
    let end = app.wait_for_decision(&lead, "END", &mark).await;
    assert_eq!(
        app.kinds_since(&lead, &mark).await,
        ["SET_ATTRIBUTE", "REPLY", "END"]
    );
    assert_eq!(app.sent_since(&lead, &mark).await, [NOT_QUALIFIED]);
    assert!(
        end["reason"].as_str().unwrap().contains("not qualified"),
        "{end}"
    );
    let conversation = app.conversation(&lead).await;
    assert_eq!(conversation["status"], "CLOSED", "{conversation}");
    assert_eq!(conversation["assignedUserId"], Value::Null);
    assert_eq!(
        app.attribute(&lead, "timeline").await,
        Some(vec!["Just looking".to_owned()])
    );
    assert_eq!(
        app.attribute(&lead, "budget").await,
        Some(vec!["100k".to_owned()])
    );
    let mark = app.say(&lead, "ok bye").await;
    app.assert_no_reply(&lead, &mark, "SKIPPED").await;
});

const OPT_OUT_CONFIRMATION: &str = "You will hear no more from us. Reply START to come back.";
const OPT_IN_CONFIRMATION: &str = "Welcome back! Reply STOP to leave.";
const HELP_REPLY: &str = "This is Sunny Homes. Reply STOP to stop.";

/// The lead opts out with `words`: one confirmation, the conversation OPTED_OUT, the
/// opt-out listed with `evidence`; then nothing more is ever sent in it.
async fn opts_out(app: &AgentApp, lead: &Lead, words: &str, evidence: &str) {
    let mark = app.say(lead, words).await;
    let decision = app.wait_for_decision(lead, "OPT_OUT", &mark).await;
    assert_eq!(app.kinds_since(lead, &mark).await, ["OPT_OUT"]);
    assert_eq!(app.sent_since(lead, &mark).await, [OPT_OUT_CONFIRMATION]);
    assert!(
        decision["detail"]["evidence"]
            .as_str()
            .is_some_and(|said| said.contains(evidence)),
        "{decision}"
    );
    assert_eq!(decision["detail"]["messageId"], mark.message_id.as_str());
    assert!(decision["messageId"].is_string(), "{decision}");
    let conversation = app.conversation(lead).await;
    assert_eq!(conversation["status"], "OPTED_OUT", "{conversation}");

    let opt_outs = app.opt_outs(lead).await;
    assert_eq!(opt_outs.len(), 1, "{opt_outs:?}");
    let opt_out = &opt_outs[0];
    assert_eq!(opt_out["messageProviderType"], "SMS", "{opt_out}");
    assert_eq!(opt_out["source"], "message", "{opt_out}");
    assert_eq!(opt_out["messageId"], mark.message_id.as_str(), "{opt_out}");
    assert!(
        opt_out["evidence"].as_str().unwrap().contains(evidence),
        "{opt_out}"
    );

    // More messages, a second STOP among them: nothing at all is sent.
    for text in ["Hello?", "STOP"] {
        let mark = app.say(lead, text).await;
        app.assert_no_reply(lead, &mark, "SKIPPED").await;
    }
    assert_eq!(app.opt_outs(lead).await.len(), 1);
    let confirmations = app
        .outbound_texts(lead)
        .await
        .iter()
        .filter(|text| *text == OPT_OUT_CONFIRMATION)
        .count();
    assert_eq!(confirmations, 1, "exactly one confirmation");

    // Nothing can be sent to the contact on SMS: not a new LeadScout conversation,
    // not an advisor's message.
    let (status, problem) = app
        .post(
            &app.leadscout_path(),
            app.leadscout_request(&lead.phone, json!({})),
        )
        .await;
    assert_eq!(status, 409, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("opted out"),
        "{problem}"
    );
    let (status, problem) = app
        .post(
            &format!("/api/v1/conversations/{}/messages", lead.conversation_id),
            json!({"userId": "advisor@acme.com", "text": "Sorry to hear that!"}),
        )
        .await;
    assert_eq!(status, 409, "{problem}");
}

agent_stores!(opt_out_help_and_opt_in, |app| {
    app.qualifying_attributes().await;
    app.workspace_script(json!({})).await;
    app.user_id("advisor@acme.com").await;
    app.agent_settings(json!({
        "optOutConfirmation": OPT_OUT_CONFIRMATION,
        "optInConfirmation": OPT_IN_CONFIRMATION,
        "helpReply": HELP_REPLY
    }))
    .await;

    // By keyword, in the middle of the questions.
    let by_keyword = app.open("+14155550231", json!({})).await;
    let mark = app.say(&by_keyword, "Hi").await;
    app.wait_for_decision(&by_keyword, "REPLY", &mark).await;
    opts_out(app, &by_keyword, "STOP", "stop").await;

    // By free text, in English and in Spanish, as the first reply.
    let in_english = app.open("+14155550232", json!({})).await;
    opts_out(
        app,
        &in_english,
        "please stop texting me",
        "stop texting me",
    )
    .await;
    let in_spanish = app.open("+14155550233", json!({})).await;
    opts_out(app, &in_spanish, "no me escriban más", "no me escriban").await;

    // HELP gets the help reply, and nothing else.
    let helped = app.open("+14155550234", json!({})).await;
    let mark = app.say(&helped, "HELP").await;
    let help = app.wait_for_decision(&helped, "HELP", &mark).await;
    assert_eq!(app.kinds_since(&helped, &mark).await, ["HELP"]);
    assert_eq!(app.sent_since(&helped, &mark).await, [HELP_REPLY]);
    assert!(help["messageId"].is_string(), "{help}");
    assert_eq!(app.conversation(&helped).await["status"], "ACTIVE");
    assert_eq!(app.opt_outs(&helped).await, Vec::<Value>::new());

    // START lifts the opt-out and confirms it; the contact can be written to again.
    let mark = app.say(&by_keyword, "START").await;
    let opt_in = app.wait_for_decision(&by_keyword, "OPT_IN", &mark).await;
    assert!(opt_in["messageId"].is_string(), "{opt_in}");
    assert_eq!(
        app.sent_since(&by_keyword, &mark).await,
        [OPT_IN_CONFIRMATION]
    );
    assert_eq!(app.opt_outs(&by_keyword).await, Vec::<Value>::new());
    let (status, reopened) = app
        .post(
            &app.leadscout_path(),
            app.leadscout_request(&by_keyword.phone, json!({})),
        )
        .await;
    assert_eq!(status, 200, "{reopened}");
    assert_ne!(
        reopened["conversation"]["id"],
        by_keyword.conversation_id.as_str()
    );
});
