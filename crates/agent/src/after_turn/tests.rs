//! The agent's actions as writes, case by case.

use leadline_core::TeamId;
use leadline_core::agent::flow::FlowState;
use leadline_core::agent::{AgentAction, AgentTurn, DecisionKind};
use leadline_core::custom_attribute::AttributeValue;

use super::*;
use crate::fixtures::{conversation, monday_daytime};
use crate::{BeforeTurn, before_turn};

fn turn(actions: Vec<AgentAction>) -> TurnResult {
    TurnResult {
        turn: AgentTurn {
            actions,
            reason: "asked the next question".into(),
        },
        flow_state: None,
    }
}

fn plan_after(loaded: &LoadedConversation, result: TurnResult, team: Option<TeamId>) -> PassPlan {
    let BeforeTurn::RunAgent(pending) = before_turn(loaded, monday_daytime()) else {
        panic!("the agent answers");
    };
    after_turn(loaded, pending, result, team)
}

fn reply(text: &str) -> AgentAction {
    AgentAction::Reply { text: text.into() }
}

#[test]
fn replies_and_known_attributes_are_written_and_unknown_ones_refused() {
    let loaded = conversation(&["About 300k, soon"]);
    let mut result = turn(vec![
        AgentAction::SetAttribute {
            key: "budget".into(),
            value: AttributeValue::Open("300k".into()),
        },
        AgentAction::SetAttribute {
            key: "pets".into(),
            value: AttributeValue::Open("a cat".into()),
        },
        reply("When are you planning to move?"),
    ]);
    result.flow_state = Some(FlowState::default());
    let plan = plan_after(&loaded, result, None);
    let budget = loaded
        .definitions
        .iter()
        .find(|d| d.key == "budget")
        .unwrap();
    assert_eq!(
        plan.writes.attributes,
        [(budget.id, AttributeValue::Open("300k".into()))]
    );
    let kinds: Vec<_> = plan.writes.decisions.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        [
            DecisionKind::SetAttribute,
            DecisionKind::Skipped,
            DecisionKind::Reply
        ]
    );
    assert_eq!(plan.writes.decisions[0].reason, "stored budget = 300k");
    assert_eq!(plan.writes.decisions[2].reply, Some(0));
    assert_eq!(plan.writes.change.turns, 1);
    assert!(plan.writes.change.flow_state.is_some());
    assert_eq!(plan.end, PassEnd::Replied);
}

#[test]
fn a_hand_off_prefers_the_scripts_team_and_says_so_only_when_the_turn_was_silent() {
    let mut loaded = conversation(&["I want to buy now"]);
    let (script_team, settings_team) = (TeamId::new(), TeamId::new());
    loaded.settings.handoff_team_id = Some(settings_team);
    let hand_off = AgentAction::HandOff {
        reason: "qualified".into(),
    };

    let silent = plan_after(&loaded, turn(vec![hand_off.clone()]), Some(script_team));
    assert_eq!(silent.end, PassEnd::HandedOff);
    let request = silent.hand_off.as_ref().unwrap();
    assert_eq!(request.teams, [script_team, settings_team]);
    assert_eq!(request.reason, "qualified");
    let bodies: Vec<_> = silent.drafts.iter().map(|d| d.body.as_str()).collect();
    assert_eq!(bodies, [loaded.settings.handoff_message.as_str()]);

    let spoken = plan_after(&loaded, turn(vec![reply("Great news!"), hand_off]), None);
    let bodies: Vec<_> = spoken.drafts.iter().map(|d| d.body.as_str()).collect();
    assert_eq!(bodies, ["Great news!"]);
    assert_eq!(spoken.hand_off.unwrap().teams, [settings_team]);
}

#[test]
fn an_end_closes_and_a_silent_turn_is_logged() {
    let loaded = conversation(&["Not interested"]);
    let ended = plan_after(
        &loaded,
        turn(vec![AgentAction::End {
            reason: "the lead is not interested".into(),
        }]),
        None,
    );
    assert_eq!(ended.end, PassEnd::Ended);
    assert_eq!(
        ended.writes.change.status,
        Some(leadline_core::conversation::ConversationStatus::Closed)
    );
    let silent = plan_after(&loaded, turn(Vec::new()), None);
    assert_eq!(silent.writes.decisions[0].kind, DecisionKind::Skipped);
    assert!(
        silent.writes.decisions[0]
            .reason
            .contains("chose not to answer")
    );
    assert_eq!(silent.writes.change.turns, 0);
}
