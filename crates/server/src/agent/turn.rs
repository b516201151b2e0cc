//! One agent turn inside a pass: the context the agent reads (the transcript, the
//! contact's attributes, the flow script's position, the LeadScout `agentContext`), the
//! workspace's agent run over it, and its actions turned into the pass's writes.

use std::time::{Duration, Instant};

use leadline_core::TeamId;
use leadline_core::agent::flow::FlowState;
use leadline_core::agent::settings::AgentKind;
use leadline_core::agent::{AgentAction, AgentTurn, DecisionKind};
use leadline_core::conversation::ConversationStatus;
use leadline_core::custom_attribute::{AttributeDefinition, display_values};
use leadline_core::message::Direction;
use leadline_store::StoreError;
use serde_json::json;

use super::flow::FlowAgent;
use super::llm::LlmAgent;
use super::pass::{PassEnd, Scene, hand_off};
use super::plan::{Plan, decision};
use super::runner::RunnerDeps;
use super::{Agent, Speaker, TranscriptLine, TurnContext, TurnResult};

/// Runs the workspace's agent over the unanswered messages.
pub(super) async fn agent_turn(
    deps: &RunnerDeps,
    scene: &Scene,
    pending: Vec<String>,
    definitions: &[AttributeDefinition],
    waited: &mut Duration,
) -> Result<(TurnResult, Vec<TeamId>), StoreError> {
    let store = &deps.store;
    let conversation = &scene.conversation;
    let context = TurnContext {
        conversation_id: conversation.id,
        channel_type: scene.channel.carries,
        transcript: scene
            .messages
            .iter()
            .filter_map(|m| {
                Some(TranscriptLine {
                    speaker: match (m.direction, m.author_user_id) {
                        (Direction::Inbound, _) => Speaker::Lead,
                        (Direction::Outbound, Some(_)) => Speaker::Advisor,
                        (Direction::Outbound, None) => Speaker::Agent,
                    },
                    text: m.body.clone()?,
                    at: m.created_at,
                })
            })
            .collect(),
        new_messages: pending,
        first_name: scene.contact.fields.first_name.clone(),
        language: scene.contact.fields.language_code,
        definitions: definitions.to_vec(),
        values: scene.contact.fields.attributes.clone(),
        agent_context: conversation.agent_context.clone(),
        flow_state: conversation
            .agent
            .flow_state
            .as_deref()
            .and_then(|state| serde_json::from_str::<FlowState>(state).ok())
            .unwrap_or_default(),
    };
    match scene.settings.agent {
        AgentKind::Flow => {
            let script = store
                .agent_script_for(
                    conversation.workspace_id,
                    conversation.campaign_id.as_deref(),
                    conversation.channel_id,
                )
                .await?;
            let teams: Vec<TeamId> = script
                .as_ref()
                .and_then(|s| s.script.handoff_team_id)
                .into_iter()
                .collect();
            let agent = match script {
                Some(script) => FlowAgent {
                    script: script.script,
                },
                None => FlowAgent::without_script(),
            };
            Ok((agent.decide(&context), teams))
        }
        AgentKind::Llm => {
            let Some(llm) = &scene.settings.llm else {
                let turn = AgentTurn::hand_off(
                    "the LLM agent is chosen but the agent settings have no llm endpoint",
                );
                return Ok((
                    TurnResult {
                        turn,
                        flow_state: None,
                    },
                    Vec::new(),
                ));
            };
            let started = Instant::now();
            let result = LlmAgent::new(deps.http.clone(), llm).turn(&context).await;
            *waited += started.elapsed();
            Ok((result, Vec::new()))
        }
    }
}

/// Turns the agent's decisions into the plan's writes.
pub(super) async fn apply_turn(
    deps: &RunnerDeps,
    scene: &Scene,
    mut plan: Plan,
    result: TurnResult,
    definitions: &[AttributeDefinition],
    teams: &[TeamId],
) -> Result<(Option<Plan>, PassEnd), StoreError> {
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
                    plan.decide(decision(DecisionKind::Skipped, format!("the agent set '{key}', which is not a custom attribute of the workspace")));
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
                    decision(
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
            decision(DecisionKind::Reply, result.turn.reason.clone()).with_reply(first_reply),
        );
    }
    if let Some(state) = result.flow_state {
        plan.writes.change.flow_state =
            Some(serde_json::to_string(&state).expect("flow state serializes"));
    }
    if let Some(reason) = hand_off_reason {
        hand_off(deps, scene, &mut plan, &reason, teams, !replied).await?;
        return Ok((Some(plan), PassEnd::HandedOff));
    }
    if let Some(reason) = end_reason {
        plan.writes.change.status = Some(ConversationStatus::Closed);
        plan.decide(decision(DecisionKind::End, reason));
        return Ok((Some(plan), PassEnd::Ended));
    }
    if !replied {
        plan.decide(decision(
            DecisionKind::Skipped,
            format!("the agent chose not to answer: {}", result.turn.reason),
        ));
    }
    Ok((Some(plan), PassEnd::Replied))
}
