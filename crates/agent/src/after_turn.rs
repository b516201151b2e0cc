//! The rules of a pass after the agent spoke: its actions become writes. Replies are
//! queued (one REPLY decision for them, and one more turn counted against the limit),
//! attributes the workspace defines are stored (others are refused in the decision
//! log), the flow script's new position is kept, and a hand-off or an end closes the
//! agent's part of the conversation — a hand-off tells the lead only when the turn said
//! nothing itself.

use leadline_core::TeamId;
use leadline_core::agent::writes::NewDecision;
use leadline_core::agent::{AgentAction, DecisionKind};
use leadline_core::conversation::ConversationStatus;
use leadline_core::custom_attribute::display_values;
use serde_json::json;

use crate::before_turn::PendingTurn;
use crate::loaded::LoadedConversation;
use crate::plan::{PassEnd, PassPlan};
use crate::turn::TurnResult;

/// The plan of a pass whose agent turn answered `result`. `script_team` is the hand-off
/// team of the flow script that answered, if any (preferred over the settings').
pub fn after_turn(
    loaded: &LoadedConversation,
    pending: PendingTurn,
    result: TurnResult,
    script_team: Option<TeamId>,
) -> PassPlan {
    let definitions = &pending.context.definitions;
    let mut plan = pending.plan;
    let first_reply = plan.drafts.len();
    let mut hand_off_reason = None;
    let mut end_reason = None;
    for action in result.turn.actions {
        match action {
            AgentAction::Reply { text } => {
                plan.reply(text);
            }
            AgentAction::SetAttribute { key, value } => {
                let Some(definition) = definitions.iter().find(|d| d.key == key) else {
                    plan.decide(NewDecision::new(
                        DecisionKind::Skipped,
                        format!(
                            "the agent set '{key}', which is not a custom attribute of the workspace"
                        ),
                    ));
                    continue;
                };
                let values = [(definition.id, value.clone())].into_iter().collect();
                let shown = display_values(&values, std::slice::from_ref(definition))
                    .into_iter()
                    .flat_map(|(_, shown)| shown)
                    .collect::<Vec<_>>()
                    .join(", ");
                plan.writes.attributes.push((definition.id, value));
                plan.decide(
                    NewDecision::new(
                        DecisionKind::SetAttribute,
                        format!("stored {key} = {shown}"),
                    )
                    .with_detail(json!({"attribute": key, "value": shown})),
                );
            }
            AgentAction::HandOff { reason } => hand_off_reason = Some(reason),
            AgentAction::End { reason } => end_reason = Some(reason),
        }
    }
    let replied = plan.drafts.len() > first_reply;
    if replied {
        plan.writes.change.turns = 1;
        plan.decide(
            NewDecision::new(DecisionKind::Reply, result.turn.reason.clone())
                .with_reply(first_reply),
        );
    }
    if let Some(state) = result.flow_state {
        plan.writes.change.flow_state =
            Some(serde_json::to_string(&state).expect("flow state serializes"));
    }
    if let Some(reason) = hand_off_reason {
        plan.hand_off(&loaded.settings, reason, script_team, !replied);
        return plan.ending(PassEnd::HandedOff);
    }
    if let Some(reason) = end_reason {
        plan.writes.change.status = Some(ConversationStatus::Closed);
        plan.decide(NewDecision::new(DecisionKind::End, reason));
        return plan.ending(PassEnd::Ended);
    }
    if !replied {
        plan.decide(NewDecision::new(
            DecisionKind::Skipped,
            format!("the agent chose not to answer: {}", result.turn.reason),
        ));
    }
    plan.ending(PassEnd::Replied)
}

#[cfg(test)]
mod tests;
