//! The rules of a pass before the agent speaks, in order:
//!
//! 1. **Opt-out handling**, on every inbound message not read yet, whoever controls
//!    the conversation: an opt-out records the evidence, closes the conversation
//!    OPTED_OUT and sends one confirmation (none when the contact had opted out
//!    already), and nothing else happens, not even the answer to a HELP written just
//!    before it; HELP gets the workspace's help reply; START
//!    or UNSTOP lifts an opt-out and confirms it.
//! 2. **Whether the agent may answer**: only while the conversation is active and
//!    AI-controlled and the contact has not opted out; then the guardrails (turn limit,
//!    quiet hours, minimum delay), WhatsApp's 24-hour window, and the LeadScout
//!    additional messages after the lead's first reply.
//! 3. Otherwise the agent's turn over the messages it has not answered, whose result
//!    [`after_turn`](crate::after_turn) turns into writes.

use chrono::{DateTime, Utc};
use leadline_core::agent::DecisionKind;
use leadline_core::agent::flow::FlowState;
use leadline_core::agent::guardrails::{self, GuardrailDecision, GuardrailInput};
use leadline_core::agent::writes::{NewDecision, OptOutChange, TaskNext};
use leadline_core::agent::{WHATSAPP_WINDOW, whatsapp_window_open};
use leadline_core::channel::MessageProviderType;
use leadline_core::conversation::ConversationStatus;
use leadline_core::message::Direction;
use leadline_core::opt_out::{InboundIntent, classify};
use leadline_core::template::TemplateStatus;
use serde_json::json;

use crate::loaded::{LoadedConversation, LoadedMessage};
use crate::plan::{Draft, PassEnd, PassPlan, TemplateRef, timestamp};
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
    let mut keywords = Vec::new();
    for message in &unread {
        let text = message.body.as_deref().unwrap_or("");
        match classify(text) {
            InboundIntent::OptOut { evidence } => {
                // Nothing goes out after an opt-out but its confirmation: a HELP or
                // START read before it in the same messages is not acted on.
                let mut plan = PassPlan::new(newest);
                for earlier in keywords {
                    plan.decide(NewDecision::new(
                        DecisionKind::Skipped,
                        format!("the lead wrote \"{earlier}\" and then opted out: not answered"),
                    ));
                }
                opt_out(&mut plan, loaded, &window, message, text, evidence);
                return BeforeTurn::Finished(plan.ending(PassEnd::OptedOut));
            }
            InboundIntent::Help if !plan.has_decided(DecisionKind::Help) => {
                keywords.push(text);
                let said = format!("the lead asked for help (\"{text}\")");
                let decision = match window.refusal() {
                    None => {
                        let index = plan.reply(loaded.settings.help_reply.clone());
                        NewDecision::new(
                            DecisionKind::Help,
                            format!("{said}: sent the workspace's help reply"),
                        )
                        .with_reply(index)
                    }
                    Some(refusal) => {
                        NewDecision::new(DecisionKind::Help, format!("{said}; {refusal}"))
                    }
                };
                plan.decide(decision);
            }
            InboundIntent::OptIn if loaded.opt_out.is_some() && plan.writes.opt_in.is_none() => {
                keywords.push(text);
                let carries = loaded.channel_type;
                plan.writes.opt_in = Some(carries);
                let said =
                    format!("the lead re-subscribed to {carries} (\"{text}\"): opt-out lifted");
                let decision = match window.refusal() {
                    None => {
                        let index = plan.reply(loaded.settings.opt_in_confirmation.clone());
                        NewDecision::new(DecisionKind::OptIn, format!("{said}, confirmation sent"))
                            .with_reply(index)
                    }
                    Some(refusal) => {
                        NewDecision::new(DecisionKind::OptIn, format!("{said}; {refusal}"))
                    }
                };
                plan.decide(decision);
            }
            _ => {}
        }
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

/// The opt-out of `message`: recorded with its evidence and confirmed once.
fn opt_out(
    plan: &mut PassPlan,
    loaded: &LoadedConversation,
    window: &FreeText,
    message: &LoadedMessage,
    text: &str,
    evidence: String,
) {
    let carries = loaded.channel_type;
    plan.writes.read_through = plan.writes.handled_through;
    if matches!(
        loaded.conversation.status,
        ConversationStatus::Active | ConversationStatus::HandedOff
    ) {
        plan.writes.change.status = Some(ConversationStatus::OptedOut);
    }
    match loaded
        .opt_out
        .as_ref()
        .filter(|p| p.message_id != Some(message.id))
    {
        Some(previous) => plan.decide(NewDecision::new(
            DecisionKind::Skipped,
            format!(
                "the lead wrote \"{text}\" but had opted out of {carries} already on {}; no second confirmation",
                timestamp(previous.opted_out_at)
            ),
        )),
        None => {
            plan.writes.opt_out = Some(OptOutChange {
                channel_type: carries,
                evidence: evidence.clone(),
                message_id: message.id,
            });
            let said = format!("the lead opted out of {carries} (\"{evidence}\" in \"{text}\"): queued sends canceled, conversation closed");
            let detail = json!({"evidence": evidence, "messageId": message.id.to_string()});
            let decision = match window.refusal() {
                None => {
                    let index = plan.push(Draft {
                        body: loaded.settings.opt_out_confirmation.clone(),
                        template: None,
                        essential: true,
                    });
                    NewDecision::new(
                        DecisionKind::OptOut,
                        format!("{said}, one confirmation sent"),
                    )
                    .with_reply(index)
                }
                Some(refusal) => NewDecision::new(DecisionKind::OptOut, format!("{said}; {refusal}")),
            };
            plan.decide(decision.with_detail(detail));
        }
    }
}

/// WhatsApp refuses free text 24 hours after the lead's last message: ask to reopen the
/// window with the workspace's template (approved, for WhatsApp, without parameters),
/// or hand off.
fn whatsapp_window_closed(
    loaded: &LoadedConversation,
    mut plan: PassPlan,
    closed: &str,
) -> PassPlan {
    let template = loaded.reopen_templates.iter().find(|t| {
        t.status == TemplateStatus::Approved && t.channel_type == MessageProviderType::Whatsapp
    });
    if let Some(template) = template
        && let Ok(body) = template.body.render(&[])
    {
        let index = plan.push(Draft {
            body,
            template: Some(TemplateRef {
                name: template.name.clone(),
                language: template.language.clone(),
            }),
            essential: false,
        });
        plan.decide(
            NewDecision::new(DecisionKind::Reply, format!("WhatsApp's 24-hour window closed at {closed}: sent template '{}' asking the lead to write again", template.name))
                .with_reply(index),
        );
        return plan.ending(PassEnd::Replied);
    }
    let reason = format!(
        "WhatsApp's 24-hour window closed at {closed} and no approved whatsappReopenTemplate without parameters is set"
    );
    plan.hand_off(&loaded.settings, reason, None, false);
    plan.ending(PassEnd::HandedOff)
}

/// Whether free text may be sent now: always, except on WhatsApp 24 hours after the
/// lead's last message, where only a template goes through (so neither the keyword
/// answers nor the hand-off message are sent then).
enum FreeText {
    Allowed,
    /// `closed` says when the window closed, for the decision log.
    WindowClosed {
        closed: String,
    },
}

impl FreeText {
    fn at(loaded: &LoadedConversation, now: DateTime<Utc>) -> Self {
        let last = loaded.conversation.last_inbound_at;
        if loaded.channel_type != MessageProviderType::Whatsapp || whatsapp_window_open(last, now) {
            return FreeText::Allowed;
        }
        FreeText::WindowClosed {
            closed: last
                .map(|at| timestamp(at + WHATSAPP_WINDOW))
                .unwrap_or_else(|| "before the lead ever wrote".into()),
        }
    }

    /// Why no free text may go out, when it may not.
    fn refusal(&self) -> Option<String> {
        match self {
            FreeText::Allowed => None,
            FreeText::WindowClosed { closed } => Some(format!(
                "nothing sent: WhatsApp's 24-hour window closed at {closed}"
            )),
        }
    }
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

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
