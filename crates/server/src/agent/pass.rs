//! One pass over a conversation with unread inbound messages, in order:
//!
//! 1. **Opt-out handling**, on every inbound message whoever controls the conversation:
//!    an opt-out records the evidence, cancels the queued sends to the contact on that
//!    channel type, closes the conversation OPTED_OUT and sends one confirmation (none
//!    when the contact had opted out already); HELP gets the workspace's help reply;
//!    START or UNSTOP lifts an opt-out and confirms it.
//! 2. **The agent**, only while the conversation is active and AI-controlled and the
//!    contact may be written to: the guardrails (turn limit, quiet hours, minimum
//!    delay), WhatsApp's 24-hour window, the LeadScout additional messages after the
//!    lead's first reply, then one agent turn over the messages it has not answered.
//! 3. **The outcome**: sending numbers reserved for the replies, then everything written
//!    in one transaction, which an advisor taking over meanwhile voids.

use std::time::Duration;

use leadline_core::agent::guardrails::{self, GuardrailDecision, GuardrailInput};
use leadline_core::agent::settings::AgentSettings;
use leadline_core::agent::{DecisionKind, whatsapp_window_open};
use leadline_core::channel::MessageProviderType;
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::message::Direction;
use leadline_core::opt_out::{InboundIntent, classify};
use leadline_core::template::TemplateStatus;
use leadline_core::{MessageId, TeamId};
use leadline_store::StoreError;
use leadline_store::agent::{AgentTask, Applied, OptOutChange, TaskNext};
use leadline_store::channels::Channel;
use leadline_store::contacts::ContactRecord;
use leadline_store::conversations::{Conversation, OutboundSender};
use leadline_store::messages::{Message, MessageTemplate};
use serde_json::json;

use super::advisor::choose_advisor;
use super::plan::{Draft, Plan, decision};
use super::runner::RunnerDeps;
use super::turn::{agent_turn, apply_turn};
use crate::numbers::assign::Exclusions;
use crate::numbers::{Assigned, SenderRequest};

/// Messages of the conversation an agent turn sees.
const TRANSCRIPT: u32 = 50;

/// How a pass ended, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassEnd {
    Nothing,
    OptedOut,
    Replied,
    HandedOff,
    Ended,
    Deferred,
    Silent,
    Overtaken,
}

impl PassEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            PassEnd::Nothing => "nothing",
            PassEnd::OptedOut => "opted_out",
            PassEnd::Replied => "replied",
            PassEnd::HandedOff => "handed_off",
            PassEnd::Ended => "ended",
            PassEnd::Deferred => "deferred",
            PassEnd::Silent => "silent",
            PassEnd::Overtaken => "overtaken",
        }
    }
}

/// What a pass reads.
pub(super) struct Scene {
    pub conversation: Conversation,
    pub channel: Channel,
    pub contact: ContactRecord,
    pub messages: Vec<Message>,
    pub settings: AgentSettings,
}

impl Scene {
    /// Inbound messages after `marker`, oldest first.
    fn inbound_after(&self, marker: Option<MessageId>) -> impl Iterator<Item = &Message> {
        self.messages.iter().filter(move |m| {
            m.direction == Direction::Inbound && marker.is_none_or(|seen| m.id > seen)
        })
    }

    fn newest_inbound(&self) -> Option<MessageId> {
        self.inbound_after(None).last().map(|m| m.id)
    }
}

/// Runs one pass for a leased task. Time spent waiting for an LLM is returned apart, so
/// the turn's own cost can be measured without it.
pub async fn run(deps: &RunnerDeps, task: &AgentTask) -> Result<(PassEnd, Duration), StoreError> {
    let store = &deps.store;
    let workspace = task.workspace_id;
    let Some(conversation) = store.conversation(workspace, task.conversation_id).await? else {
        store.finish_agent_task(task.reference).await?;
        return Ok((PassEnd::Nothing, Duration::ZERO));
    };
    let (channel, contact, messages, settings) = tokio::try_join!(
        store.channel(workspace, conversation.channel_id),
        store.contact(workspace, conversation.contact_id),
        store.recent_messages(conversation.id, TRANSCRIPT),
        store.agent_settings(workspace),
    )?;
    let (Some(channel), Some(contact)) = (channel, contact) else {
        store.finish_agent_task(task.reference).await?;
        return Ok((PassEnd::Nothing, Duration::ZERO));
    };
    let scene = Scene {
        conversation,
        channel,
        contact,
        messages,
        settings,
    };
    let mut waited = Duration::ZERO;
    let (plan, end) = plan_pass(deps, &scene, &mut waited).await?;
    let Some(plan) = plan else {
        store.finish_agent_task(task.reference).await?;
        return Ok((end, waited));
    };
    // Every reply needs its sender before anything is written.
    let mut senders = Vec::with_capacity(plan.drafts.len());
    let mut exclusions = Exclusions::default();
    for draft in &plan.drafts {
        match assign_sender(deps, &scene, &mut exclusions, draft).await? {
            Ok(sender) => senders.push(sender),
            Err((retry_at, reason)) => {
                let wait = format!("no phone number can send now ({reason})");
                tracing::info!(conversation = %scene.conversation.id, %retry_at, %reason, "agent pass held: no number can send");
                store
                    .defer_agent_task(task.reference, retry_at, &wait)
                    .await?;
                return Ok((PassEnd::Deferred, waited));
            }
        }
    }
    if let TaskNext::Defer { until, waiting_for } = &plan.writes.next {
        tracing::info!(conversation = %scene.conversation.id, %until, reason = %waiting_for, "agent reply deferred");
    }
    plan.writes.decisions.iter().for_each(|d| {
        tracing::info!(conversation = %scene.conversation.id, kind = %d.kind, reason = %d.reason, "agent decision");
    });
    let carries = scene.channel.carries;
    let queued = plan.drafts.len();
    let outcome = plan.into_outcome(task, scene.conversation.clone(), carries, senders);
    match store.apply_agent_outcome(outcome).await? {
        Applied::Written(_) => {
            if queued > 0 {
                deps.outbox_wake.notify_one();
            }
            Ok((end, waited))
        }
        Applied::NotTheAgents => {
            tracing::info!(conversation = %scene.conversation.id,
                "an advisor took the conversation over during the agent's turn; the turn was dropped");
            Ok((PassEnd::Overtaken, waited))
        }
    }
}

/// The sender of one reply: `Ok(None)` for the channel's own, `Err` when no number can
/// send now (essential replies then go from the channel's sender).
async fn assign_sender(
    deps: &RunnerDeps,
    scene: &Scene,
    exclusions: &mut Exclusions,
    draft: &Draft,
) -> Result<Result<Option<OutboundSender>, (chrono::DateTime<chrono::Utc>, String)>, StoreError> {
    let request = SenderRequest {
        workspace_id: scene.conversation.workspace_id,
        channel: &scene.channel,
        conversation: Some(&scene.conversation),
        contact_id: scene.contact.id,
        recipient: &scene.contact.cellphone,
        campaign_id: scene
            .conversation
            .campaign_id
            .as_deref()
            .and_then(|id| id.parse().ok()),
    };
    Ok(match deps.senders.assign(&request, exclusions).await? {
        Assigned::ChannelSender => Ok(None),
        Assigned::Number { sender, .. } => Ok(Some(sender)),
        Assigned::Unavailable { .. } if draft.essential => Ok(None),
        Assigned::Unavailable { retry_at, reason } => Err((retry_at, reason)),
    })
}

/// Decides the pass; `None` when there is nothing to write.
async fn plan_pass(
    deps: &RunnerDeps,
    scene: &Scene,
    waited: &mut Duration,
) -> Result<(Option<Plan>, PassEnd), StoreError> {
    let store = &deps.store;
    let conversation = &scene.conversation;
    let carries = scene.channel.carries;
    let newest = scene.newest_inbound();
    let unread: Vec<&Message> = scene
        .inbound_after(conversation.agent.handled_through)
        .collect();
    let answered = conversation.agent.read_through;
    let pending_exists = scene.inbound_after(answered).next().is_some();
    if unread.is_empty() && !pending_exists {
        return Ok((None, PassEnd::Nothing));
    }
    let prior_opt_out = store.opt_out(scene.contact.id, carries).await?;
    let mut plan = Plan::new(newest);

    // 1. Opt-out handling, on every message not read yet.
    for message in &unread {
        let text = message.body.as_deref().unwrap_or("");
        match classify(text) {
            InboundIntent::OptOut { evidence } => {
                opt_out(
                    &mut plan,
                    scene,
                    message,
                    text,
                    evidence,
                    prior_opt_out.as_ref(),
                );
                return Ok((Some(plan), PassEnd::OptedOut));
            }
            InboundIntent::Help
                if !plan
                    .writes
                    .decisions
                    .iter()
                    .any(|d| d.kind == DecisionKind::Help) =>
            {
                let index = plan.reply(scene.settings.help_reply.clone());
                plan.decide(
                    decision(
                        DecisionKind::Help,
                        format!(
                            "the lead asked for help (\"{text}\"): sent the workspace's help reply"
                        ),
                    )
                    .with_reply(index),
                );
            }
            InboundIntent::OptIn if prior_opt_out.is_some() && plan.writes.opt_in.is_none() => {
                plan.writes.opt_in = Some(carries);
                let index = plan.reply(scene.settings.opt_in_confirmation.clone());
                plan.decide(
                    decision(DecisionKind::OptIn, format!("the lead re-subscribed to {carries} (\"{text}\"): opt-out lifted, confirmation sent"))
                        .with_reply(index),
                );
            }
            _ => {}
        }
    }

    // 2. The agent, when the conversation is its and the contact may be written to.
    plan.writes.read_through = newest;
    if conversation.status != ConversationStatus::Active
        || conversation.controller != Controller::Ai
    {
        if conversation.status != ConversationStatus::Active && !unread.is_empty() {
            let why = match conversation.status {
                ConversationStatus::HandedOff => {
                    "the conversation was handed off to an advisor; the agent never answers again"
                }
                ConversationStatus::OptedOut => {
                    "the lead opted out; nothing is sent in this conversation"
                }
                _ => "the conversation is closed",
            };
            plan.decide(decision(
                DecisionKind::Skipped,
                format!("{} new message(s) not answered: {why}", unread.len()),
            ));
        }
        return Ok((Some(plan), PassEnd::Silent));
    }
    plan.writes.requires_agent_control = true;
    if prior_opt_out.is_some() && plan.writes.opt_in.is_none() {
        plan.decide(decision(
            DecisionKind::Skipped,
            format!("the contact opted out of {carries}; the agent stays silent"),
        ));
        return Ok((Some(plan), PassEnd::Silent));
    }
    let pending: Vec<String> = scene
        .inbound_after(answered)
        .filter_map(|m| m.body.clone())
        .filter(|text| match classify(text) {
            InboundIntent::None => true,
            InboundIntent::OptIn => prior_opt_out.is_none(),
            _ => false,
        })
        .collect();
    if pending.is_empty() {
        let end = if plan.is_quiet() {
            PassEnd::Nothing
        } else {
            PassEnd::Replied
        };
        return Ok((Some(plan), end));
    }
    let now = store.clock().now();
    let guard = guardrails::check(
        &scene.settings,
        &scene.settings.reply_hours(),
        &GuardrailInput {
            now,
            turns_taken: conversation.agent.turns,
            last_reply_at: conversation.agent.replied_at,
            phone: &scene.contact.cellphone,
            lead_zone: None,
            workspace_zone: None,
        },
    );
    match guard {
        GuardrailDecision::Proceed => {}
        GuardrailDecision::Defer { until, reason } => {
            // The answer waits; the messages stay unanswered until then.
            plan.writes.read_through = answered;
            plan.decide(
                decision(
                    DecisionKind::Deferred,
                    format!(
                        "reply held until {}: {reason}",
                        crate::extract::timestamp(until)
                    ),
                )
                .with_detail(json!({"until": crate::extract::timestamp(until)})),
            );
            plan.writes.next = TaskNext::Defer {
                until,
                waiting_for: reason,
            };
            return Ok((Some(plan), PassEnd::Deferred));
        }
        GuardrailDecision::HandOff { reason } => {
            hand_off(deps, scene, &mut plan, &reason, &[], true).await?;
            return Ok((Some(plan), PassEnd::HandedOff));
        }
    }
    if carries == MessageProviderType::Whatsapp
        && !whatsapp_window_open(conversation.agent.last_inbound_at, now)
    {
        return whatsapp_window_closed(deps, scene, plan).await;
    }
    if !conversation.agent.additional_sent && !conversation.additional_messages.is_empty() {
        let first = plan.drafts.len();
        for text in &conversation.additional_messages {
            plan.reply(text.clone());
        }
        plan.writes.change.additional_sent = true;
        plan.decide(
            decision(
                DecisionKind::AdditionalMessages,
                format!("the lead replied for the first time: sent the {} LeadScout additional message(s)", conversation.additional_messages.len()),
            )
            .with_reply(first),
        );
    }
    let definitions = store.custom_attributes(conversation.workspace_id).await?;
    let (result, teams) = agent_turn(deps, scene, pending, &definitions, waited).await?;
    apply_turn(deps, scene, plan, result, &definitions, &teams).await
}

/// The opt-out of `message`: recorded with its evidence and confirmed once.
fn opt_out(
    plan: &mut Plan,
    scene: &Scene,
    message: &Message,
    text: &str,
    evidence: String,
    prior: Option<&leadline_store::opt_outs::OptOut>,
) {
    let carries = scene.channel.carries;
    plan.writes.read_through = plan.writes.handled_through;
    if matches!(
        scene.conversation.status,
        ConversationStatus::Active | ConversationStatus::HandedOff
    ) {
        plan.writes.change.status = Some(ConversationStatus::OptedOut);
    }
    match prior.filter(|p| p.message_id != Some(message.id)) {
        Some(previous) => plan.decide(decision(
            DecisionKind::Skipped,
            format!(
                "the lead wrote \"{text}\" but had opted out of {carries} already on {}; no second confirmation",
                crate::extract::timestamp(previous.opted_out_at)
            ),
        )),
        None => {
            plan.writes.opt_out = Some(OptOutChange {
                channel_type: carries,
                evidence: evidence.clone(),
                message_id: message.id,
            });
            plan.drafts.push(Draft {
                body: scene.settings.opt_out_confirmation.clone(),
                template: None,
                essential: true,
            });
            let index = plan.drafts.len() - 1;
            plan.decide(
                decision(
                    DecisionKind::OptOut,
                    format!("the lead opted out of {carries} (\"{evidence}\" in \"{text}\"): queued sends canceled, conversation closed, one confirmation sent"),
                )
                .with_detail(json!({"evidence": evidence, "messageId": message.id.to_string()}))
                .with_reply(index),
            );
        }
    }
}

/// Hands the conversation to an advisor; with `say_so`, tells the lead (when the turn
/// has not already said something).
pub(super) async fn hand_off(
    deps: &RunnerDeps,
    scene: &Scene,
    plan: &mut Plan,
    reason: &str,
    teams: &[TeamId],
    say_so: bool,
) -> Result<(), StoreError> {
    let mut teams = teams.to_vec();
    teams.extend(scene.settings.handoff_team_id);
    let chosen = choose_advisor(&deps.store, &scene.conversation, &scene.contact, &teams).await?;
    if say_so && !scene.settings.handoff_message.is_empty() {
        plan.reply(scene.settings.handoff_message.clone());
    }
    plan.writes.change.status = Some(ConversationStatus::HandedOff);
    plan.writes.change.controller = Some(Controller::Human);
    plan.writes.change.advisor = chosen.advisor;
    plan.decide(
        decision(
            DecisionKind::HandOff,
            format!("{reason}; handed off {}", chosen.explanation),
        )
        .with_detail(chosen.detail()),
    );
    Ok(())
}

/// WhatsApp refuses free text 24 hours after the lead's last message: ask to reopen the
/// window with the workspace's template, or hand off.
async fn whatsapp_window_closed(
    deps: &RunnerDeps,
    scene: &Scene,
    mut plan: Plan,
) -> Result<(Option<Plan>, PassEnd), StoreError> {
    let closed = scene
        .conversation
        .agent
        .last_inbound_at
        .map(|at| crate::extract::timestamp(at + leadline_core::agent::WHATSAPP_WINDOW))
        .unwrap_or_else(|| "before the lead ever wrote".into());
    if let Some(name) = &scene.settings.whatsapp_reopen_template {
        let template = deps
            .store
            .templates_named(scene.conversation.workspace_id, name)
            .await?
            .into_iter()
            .find(|t| {
                t.status == TemplateStatus::Approved
                    && t.channel_type == MessageProviderType::Whatsapp
            });
        if let Some(template) = template
            && let Ok(body) = template.body.render(&[])
        {
            plan.drafts.push(Draft {
                body,
                template: Some(MessageTemplate {
                    name: template.name.clone(),
                    language: template.language.clone(),
                    params: Vec::new(),
                }),
                essential: false,
            });
            let index = plan.drafts.len() - 1;
            plan.decide(
                decision(DecisionKind::Reply, format!("WhatsApp's 24-hour window closed at {closed}: sent template '{name}' asking the lead to write again"))
                    .with_reply(index),
            );
            return Ok((Some(plan), PassEnd::Replied));
        }
    }
    let reason = format!(
        "WhatsApp's 24-hour window closed at {closed} and no approved whatsappReopenTemplate without parameters is set"
    );
    hand_off(deps, scene, &mut plan, &reason, &[], false).await?;
    Ok((Some(plan), PassEnd::HandedOff))
}
