//! The rules of a pass before the agent speaks, in order:
//!
//! 1. **Opt-out handling** ([`keywords`]), on every inbound message not read yet,
//!    whoever controls the conversation: STOP and its kind, HELP, START.
//! 2. **Whether the agent may answer**: only while the conversation is active and
//!    AI-controlled and the contact has not opted out; then the guardrails (turn limit,
//!    quiet hours, minimum delay), WhatsApp's 24-hour window ([`window`]), and the
//!    LeadScout additional messages after the lead's first reply.
//! 3. Otherwise the agent's turn over the messages it has not answered, whose result
//!    [`after_turn`](crate::after_turn) turns into writes.

use chrono::{DateTime, Utc};
use leadline_core::agent::DecisionKind;
use leadline_core::agent::flow::FlowState;
use leadline_core::agent::guardrails::{self, GuardrailDecision, GuardrailInput};
use leadline_core::agent::writes::{NewDecision, TaskNext};
use leadline_core::conversation::ConversationStatus;
use leadline_core::message::Direction;
use leadline_core::opt_out::{InboundIntent, classify};
use serde_json::json;

use self::keywords::read_keywords;
use self::window::{FreeText, whatsapp_window_closed};
use crate::loaded::{LoadedConversation, LoadedMessage};
use crate::plan::{PassEnd, PassPlan, timestamp};
use crate::turn::{Speaker, TranscriptLine, TurnContext};

/// What the rules decided before the agent's turn.
#[derive(Debug, Clone)]
pub enum BeforeTurn {
    /// No inbound message to read: the task ends and nothing is written.
    Nothing,
    /// The pass ends without the agent: write this plan.
    Finished(PassPlan),
    /// Run the agent over the turn's context, then give its result to
    /// [`after_turn`](crate::after_turn).
    RunAgent(PendingTurn),
}

/// An agent turn to run: its context, and the plan so far (the HELP reply or the
/// additional messages the turn's replies follow).
#[derive(Debug, Clone)]
pub struct PendingTurn {
    pub context: TurnContext,
    pub(crate) plan: PassPlan,
}

/// Decides a pass over `loaded` at `now`, up to the agent's turn.
pub fn before_turn(loaded: &LoadedConversation, now: DateTime<Utc>) -> BeforeTurn {
    let conversation = &loaded.conversation;
    let newest = loaded.newest_inbound();
    let unread: Vec<&LoadedMessage> = loaded.inbound_after(conversation.handled_through).collect();
    let answered = conversation.read_through;
    if unread.is_empty() && loaded.inbound_after(answered).next().is_none() {
        return BeforeTurn::Nothing;
    }
    let mut plan = PassPlan::new(newest);
    let window = FreeText::at(loaded, now);

    // 1. Opt-out handling, on every message not read yet.
    if let Some(opted_out) = read_keywords(&mut plan, loaded, &unread, &window) {
        return BeforeTurn::Finished(opted_out);
    }

    // 2. The agent, when the conversation is its and the contact may be written to.
    plan.writes.read_through = newest;
    if !loaded.is_the_agents() {
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
            plan.decide(NewDecision::new(
                DecisionKind::Skipped,
                format!("{} new message(s) not answered: {why}", unread.len()),
            ));
        }
        return BeforeTurn::Finished(plan.ending(PassEnd::Silent));
    }
    plan.writes.requires_agent_control = true;
    let opted_out = loaded.opt_out.is_some();
    if opted_out && plan.writes.opt_in.is_none() {
        plan.decide(NewDecision::new(
            DecisionKind::Skipped,
            format!(
                "the contact opted out of {}; the agent stays silent",
                loaded.channel_type
            ),
        ));
        return BeforeTurn::Finished(plan.ending(PassEnd::Silent));
    }
    // What the agent answers: the lead's words, not the keywords handled above.
    let pending: Vec<String> = loaded
        .inbound_after(answered)
        .filter_map(|m| m.body.clone())
        .filter(|text| match classify(text) {
            InboundIntent::None => true,
            InboundIntent::OptIn => !opted_out,
            _ => false,
        })
        .collect();
    if pending.is_empty() {
        let end = if plan.is_quiet() {
            PassEnd::Nothing
        } else {
            PassEnd::Replied
        };
        return BeforeTurn::Finished(plan.ending(end));
    }
    let guard = guardrails::check(
        &loaded.settings,
        &loaded.settings.reply_hours(),
        &GuardrailInput {
            now,
            turns_taken: conversation.turns,
            last_reply_at: conversation.replied_at,
            phone: &loaded.cellphone,
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
                NewDecision::new(
                    DecisionKind::Deferred,
                    format!("reply held until {}: {reason}", timestamp(until)),
                )
                .with_detail(json!({"until": timestamp(until)})),
            );
            plan.writes.next = TaskNext::Defer {
                until,
                waiting_for: reason,
            };
            return BeforeTurn::Finished(plan.ending(PassEnd::Deferred));
        }
        GuardrailDecision::HandOff { reason } => {
            let say_so = window.refusal().is_none();
            plan.hand_off(&loaded.settings, reason, None, say_so);
            return BeforeTurn::Finished(plan.ending(PassEnd::HandedOff));
        }
    }
    if let FreeText::WindowClosed { closed } = &window {
        return BeforeTurn::Finished(whatsapp_window_closed(loaded, plan, closed));
    }
    if !conversation.additional_sent && !conversation.additional_messages.is_empty() {
        let first = plan.drafts.len();
        for text in &conversation.additional_messages {
            plan.reply(text.clone());
        }
        plan.writes.change.additional_sent = true;
        plan.decide(
            NewDecision::new(
                DecisionKind::AdditionalMessages,
                format!("the lead replied for the first time: sent the {} LeadScout additional message(s)", conversation.additional_messages.len()),
            )
            .with_reply(first),
        );
    }
    BeforeTurn::RunAgent(PendingTurn {
        context: turn_context(loaded, pending),
        plan,
    })
}

/// What the agent reads: the transcript, the messages it answers, the contact's
/// attributes, the LeadScout context and the flow script's position.
fn turn_context(loaded: &LoadedConversation, new_messages: Vec<String>) -> TurnContext {
    let conversation = &loaded.conversation;
    TurnContext {
        conversation_id: conversation.id,
        channel_type: loaded.channel_type,
        transcript: loaded
            .messages
            .iter()
            .filter_map(|m| {
                Some(TranscriptLine {
                    speaker: match (m.direction, m.by_advisor) {
                        (Direction::Inbound, _) => Speaker::Lead,
                        (Direction::Outbound, true) => Speaker::Advisor,
                        (Direction::Outbound, false) => Speaker::Agent,
                    },
                    text: m.body.clone()?,
                    at: m.created_at,
                })
            })
            .collect(),
        new_messages,
        first_name: loaded.contact.first_name.clone(),
        language: loaded.contact.language_code,
        definitions: loaded.definitions.clone(),
        values: loaded.contact.attributes.clone(),
        agent_context: conversation.agent_context.clone(),
        flow_state: conversation
            .flow_state
            .as_deref()
            .and_then(|state| serde_json::from_str::<FlowState>(state).ok())
            .unwrap_or_default(),
    }
}

mod keywords;
#[cfg(test)]
mod proptests;
mod window;

#[cfg(test)]
mod tests;
