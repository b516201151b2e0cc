//! Step 1 of a pass: the lead's keywords, on every inbound message not read yet,
//! whoever controls the conversation. An opt-out records the evidence, closes the
//! conversation OPTED_OUT and sends one confirmation (none when the contact had opted
//! out already), and ends the pass: nothing else goes out after it, not even the
//! answer to a HELP written just before. HELP gets the workspace's help reply (once a
//! pass); START or UNSTOP lifts a standing opt-out and confirms it. Outside WhatsApp's
//! window the keywords are acted on but not answered.

use leadline_core::agent::DecisionKind;
use leadline_core::agent::writes::{NewDecision, OptOutChange};
use leadline_core::conversation::ConversationStatus;
use leadline_core::opt_out::{InboundIntent, classify};
use serde_json::json;

use super::window::FreeText;
use crate::loaded::{LoadedConversation, LoadedMessage};
use crate::plan::{Draft, PassEnd, PassPlan, timestamp};

/// Reads the keywords of `unread` into `plan`; when one is an opt-out, the pass ends
/// with the plan returned instead.
pub(super) fn read_keywords(
    plan: &mut PassPlan,
    loaded: &LoadedConversation,
    unread: &[&LoadedMessage],
    window: &FreeText,
) -> Option<PassPlan> {
    let mut keywords = Vec::new();
    for message in unread {
        let text = message.body.as_deref().unwrap_or("");
        match classify(text) {
            InboundIntent::OptOut { evidence } => {
                // Nothing goes out after an opt-out but its confirmation: a HELP or
                // START read before it in the same messages is not acted on.
                let mut ended = PassPlan::new(plan.writes.handled_through);
                for earlier in keywords {
                    ended.decide(NewDecision::new(
                        DecisionKind::Skipped,
                        format!("the lead wrote \"{earlier}\" and then opted out: not answered"),
                    ));
                }
                opt_out(&mut ended, loaded, window, message, text, evidence);
                return Some(ended.ending(PassEnd::OptedOut));
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
    None
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
