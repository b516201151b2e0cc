//! The rules before the agent's turn, case by case.

use chrono::TimeDelta;
use leadline_core::TeamId;
use leadline_core::agent::DecisionKind;
use leadline_core::agent::writes::TaskNext;
use leadline_core::channel::MessageProviderType;
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::template::{TemplateBody, TemplateStatus};

use super::*;
use crate::fixtures::{conversation, monday_daytime};
use crate::loaded::{PriorOptOut, ReopenCandidate};

fn finished(outcome: BeforeTurn) -> PassPlan {
    match outcome {
        BeforeTurn::Finished(plan) => plan,
        other => panic!("the pass should end before the agent: {other:?}"),
    }
}

fn pending(outcome: BeforeTurn) -> PendingTurn {
    match outcome {
        BeforeTurn::RunAgent(pending) => pending,
        other => panic!("the agent should run: {other:?}"),
    }
}

fn kinds(plan: &PassPlan) -> Vec<DecisionKind> {
    plan.writes.decisions.iter().map(|d| d.kind).collect()
}

fn bodies(plan: &PassPlan) -> Vec<&str> {
    plan.drafts.iter().map(|d| d.body.as_str()).collect()
}

#[test]
fn nothing_unread_is_nothing_to_do() {
    let mut loaded = conversation(&["Hello"]);
    let newest = loaded.newest_inbound();
    loaded.conversation.handled_through = newest;
    loaded.conversation.read_through = newest;
    assert!(matches!(
        before_turn(&loaded, monday_daytime()),
        BeforeTurn::Nothing
    ));
}

#[test]
fn an_opt_out_closes_the_conversation_and_confirms_once() {
    let loaded = conversation(&["When can we talk?", "STOP"]);
    let plan = finished(before_turn(&loaded, monday_daytime()));
    assert_eq!(plan.end, PassEnd::OptedOut);
    assert_eq!(
        plan.writes.change.status,
        Some(ConversationStatus::OptedOut)
    );
    let opt_out = plan
        .writes
        .opt_out
        .as_ref()
        .expect("the opt-out is recorded");
    assert_eq!(opt_out.evidence, "stop");
    assert_eq!(Some(opt_out.message_id), loaded.newest_inbound());
    assert_eq!(
        bodies(&plan),
        [loaded.settings.opt_out_confirmation.as_str()]
    );
    assert!(
        plan.drafts[0].essential,
        "the confirmation never waits for a number"
    );
    assert_eq!(kinds(&plan), [DecisionKind::OptOut]);
    assert_eq!(plan.writes.decisions[0].reply, Some(0));
    // The question before the STOP is never answered.
    assert_eq!(plan.writes.read_through, plan.writes.handled_through);
    assert!(!plan.writes.requires_agent_control);
}

#[test]
fn a_second_opt_out_is_not_confirmed_again() {
    let mut loaded = conversation(&["stop"]);
    loaded.opt_out = Some(PriorOptOut {
        message_id: None,
        opted_out_at: monday_daytime() - TimeDelta::days(3),
    });
    let plan = finished(before_turn(&loaded, monday_daytime()));
    assert_eq!(plan.end, PassEnd::OptedOut);
    assert!(plan.drafts.is_empty());
    assert!(plan.writes.opt_out.is_none());
    assert_eq!(kinds(&plan), [DecisionKind::Skipped]);
    assert!(
        plan.writes.decisions[0]
            .reason
            .contains("already on 2026-11-20T18:00:00.000Z")
    );
}

#[test]
fn help_is_answered_once_and_the_agent_answers_the_rest() {
    let loaded = conversation(&["HELP", "help", "Is the flat still free?"]);
    let pending = pending(before_turn(&loaded, monday_daytime()));
    assert_eq!(bodies(&pending.plan), [loaded.settings.help_reply.as_str()]);
    assert_eq!(kinds(&pending.plan), [DecisionKind::Help]);
    assert_eq!(pending.context.new_messages, ["Is the flat still free?"]);
    assert_eq!(pending.context.transcript.len(), 4);
    assert_eq!(pending.context.first_name.as_deref(), Some("Ana"));
}

#[test]
fn start_lifts_an_opt_out_and_is_not_an_answer_for_the_agent() {
    let mut loaded = conversation(&["START"]);
    loaded.opt_out = Some(PriorOptOut {
        message_id: None,
        opted_out_at: monday_daytime() - TimeDelta::days(1),
    });
    let plan = finished(before_turn(&loaded, monday_daytime()));
    assert_eq!(plan.writes.opt_in, Some(MessageProviderType::Sms));
    assert_eq!(
        bodies(&plan),
        [loaded.settings.opt_in_confirmation.as_str()]
    );
    assert_eq!(kinds(&plan), [DecisionKind::OptIn]);
    assert_eq!(plan.end, PassEnd::Replied);
}

#[test]
fn an_opted_out_contact_gets_no_answer() {
    let mut loaded = conversation(&["Hello?"]);
    loaded.opt_out = Some(PriorOptOut {
        message_id: None,
        opted_out_at: monday_daytime() - TimeDelta::days(1),
    });
    let plan = finished(before_turn(&loaded, monday_daytime()));
    assert_eq!(plan.end, PassEnd::Silent);
    assert!(plan.drafts.is_empty());
    assert_eq!(kinds(&plan), [DecisionKind::Skipped]);
}

#[test]
fn a_handed_off_conversation_is_the_advisors() {
    let mut loaded = conversation(&["Are you there?"]);
    loaded.conversation.status = ConversationStatus::HandedOff;
    loaded.conversation.controller = Controller::Human;
    let plan = finished(before_turn(&loaded, monday_daytime()));
    assert_eq!(plan.end, PassEnd::Silent);
    assert!(plan.drafts.is_empty());
    assert!(!plan.writes.requires_agent_control);
    assert!(
        plan.writes.decisions[0]
            .reason
            .contains("handed off to an advisor")
    );
}

#[test]
fn the_turn_limit_hands_off_with_the_hand_off_message() {
    let mut loaded = conversation(&["One more thing"]);
    let team = TeamId::new();
    loaded.settings.handoff_team_id = Some(team);
    loaded.conversation.turns = loaded.settings.max_turns;
    let plan = finished(before_turn(&loaded, monday_daytime()));
    assert_eq!(plan.end, PassEnd::HandedOff);
    assert_eq!(bodies(&plan), [loaded.settings.handoff_message.as_str()]);
    let hand_off = plan.hand_off.expect("a hand-off");
    assert!(hand_off.reason.contains("limit of 20 replies"));
    assert_eq!(hand_off.teams, [team]);
}

#[test]
fn quiet_hours_hold_the_reply_and_leave_the_message_unanswered() {
    let loaded = conversation(&["Hello"]);
    // 02:00 in San Francisco.
    let night = monday_daytime() + TimeDelta::hours(16);
    let plan = finished(before_turn(&loaded, night));
    assert_eq!(plan.end, PassEnd::Deferred);
    assert_eq!(plan.writes.read_through, None);
    assert_eq!(plan.writes.handled_through, loaded.newest_inbound());
    let TaskNext::Defer { until, .. } = plan.writes.next else {
        panic!("the task waits: {:?}", plan.writes.next);
    };
    assert!(until > night);
    assert_eq!(kinds(&plan), [DecisionKind::Deferred]);
}

fn whatsapp_after_the_window() -> (LoadedConversation, chrono::DateTime<chrono::Utc>) {
    let mut loaded = conversation(&["Now"]);
    loaded.channel_type = MessageProviderType::Whatsapp;
    // Read by an earlier pass, answered by none yet (held by the minimum delay).
    loaded.conversation.handled_through = loaded.newest_inbound();
    (loaded, monday_daytime() + TimeDelta::hours(25))
}

#[test]
fn after_whatsapps_window_the_agent_hands_off_without_free_text() {
    let (loaded, later) = whatsapp_after_the_window();
    let plan = finished(before_turn(&loaded, later));
    assert_eq!(plan.end, PassEnd::HandedOff);
    assert!(plan.drafts.is_empty());
    assert!(
        plan.hand_off
            .unwrap()
            .reason
            .contains("24-hour window closed at")
    );
}

#[test]
fn after_whatsapps_window_the_reopening_template_goes_out() {
    let (mut loaded, later) = whatsapp_after_the_window();
    let template = |status, body: &str| ReopenCandidate {
        name: "write_again".into(),
        language: "en".into(),
        body: TemplateBody::parse("body", body).unwrap(),
        channel_type: MessageProviderType::Whatsapp,
        status,
    };
    loaded.reopen_templates = vec![
        template(TemplateStatus::Rejected, "Rejected"),
        template(TemplateStatus::Approved, "Still there?"),
    ];
    let plan = finished(before_turn(&loaded, later));
    assert_eq!(plan.end, PassEnd::Replied);
    assert_eq!(bodies(&plan), ["Still there?"]);
    let template = plan.drafts[0]
        .template
        .as_ref()
        .expect("sent as a template");
    assert_eq!(template.name, "write_again");
    assert!(plan.hand_off.is_none());
}

#[test]
fn after_whatsapps_window_help_is_noted_but_not_answered() {
    let (mut loaded, later) = whatsapp_after_the_window();
    loaded.conversation.handled_through = None;
    loaded.messages.last_mut().unwrap().body = Some("HELP".into());
    let plan = finished(before_turn(&loaded, later));
    assert!(plan.drafts.is_empty(), "{:?}", plan.drafts);
    assert_eq!(kinds(&plan), [DecisionKind::Help]);
    assert!(plan.writes.decisions[0].reason.contains("window closed"));
}

#[test]
fn the_additional_messages_go_before_the_agents_first_answer() {
    let mut loaded = conversation(&["Yes, tell me more"]);
    loaded.conversation.additional_messages = vec!["Here is the brochure".into()];
    let pending = pending(before_turn(&loaded, monday_daytime()));
    assert_eq!(bodies(&pending.plan), ["Here is the brochure"]);
    assert!(pending.plan.writes.change.additional_sent);
    assert_eq!(kinds(&pending.plan), [DecisionKind::AdditionalMessages]);

    loaded.conversation.additional_sent = true;
    let pending = before_turn(&loaded, monday_daytime());
    assert!(matches!(pending, BeforeTurn::RunAgent(p) if p.plan.drafts.is_empty()));
}

#[test]
fn help_written_just_before_an_opt_out_is_not_answered() {
    let loaded = conversation(&["HELP", "STOP"]);
    let plan = finished(before_turn(&loaded, monday_daytime()));
    assert_eq!(
        bodies(&plan),
        [loaded.settings.opt_out_confirmation.as_str()]
    );
    assert_eq!(kinds(&plan), [DecisionKind::Skipped, DecisionKind::OptOut]);
    assert_eq!(plan.writes.decisions[1].reply, Some(0));
}
