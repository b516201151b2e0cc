//! Property tests over random conversations (what the lead wrote and how much of it
//! was read, the conversation's status and controller, a standing opt-out, the turns
//! taken, SMS or WhatsApp, any time over two days) and random agent turns:
//!
//! - an opt-out among the unread messages always closes and never runs the agent;
//! - a conversation past the turn limit never runs the agent and never replies;
//! - outside WhatsApp's window nothing but a template is planned;
//! - a conversation that is not the agent's never runs it;
//! - after the turn, a hand-off is planned exactly when the agent asked for one, the
//!   lead is told only when the turn said nothing, and one turn is counted exactly
//!   when the agent replied.

use chrono::{TimeDelta, Utc};
use leadline_core::agent::{AgentAction, AgentTurn, DecisionKind};
use leadline_core::channel::MessageProviderType;
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::custom_attribute::AttributeValue;
use leadline_core::opt_out::{InboundIntent, classify};
use proptest::prelude::*;

use super::*;
use crate::after_turn;
use crate::fixtures::{conversation, monday_daytime};
use crate::loaded::PriorOptOut;
use crate::turn::TurnResult;

/// What leads write: keywords of every kind and ordinary words.
const TEXTS: &[&str] = &[
    "Hello",
    "Now",
    "What is the price?",
    "STOP",
    "stop texting me",
    "no me escriban",
    "HELP",
    "info",
    "START",
    "unstop",
    "",
    "I want to talk to a person",
];

/// What the agent answers: no keyword among them.
const ORDINARY: &[&str] = &["Hello", "Now", "What is the price?"];

/// An attribute of the workspace and one it does not have.
const KEYS: &[&str] = &["budget", "unknown"];

/// The settings' hand-off message: none, or one.
const HAND_OFF_MESSAGES: &[&str] = &["", "An advisor will write to you."];

const STATUSES: &[ConversationStatus] = &[
    ConversationStatus::Active,
    ConversationStatus::HandedOff,
    ConversationStatus::Closed,
    ConversationStatus::OptedOut,
];

#[derive(Debug, Clone)]
struct Scenario {
    texts: Vec<&'static str>,
    handled: usize,
    read: usize,
    status: ConversationStatus,
    human: bool,
    opted_out: bool,
    turns: u32,
    whatsapp: bool,
    minutes_later: i64,
    additional: usize,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(prop::sample::select(TEXTS), 0..5),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        prop::sample::select(STATUSES),
        any::<bool>(),
        any::<bool>(),
        0u32..40,
        any::<bool>(),
        0i64..(48 * 60),
        0usize..3,
    )
        .prop_map(
            |(
                texts,
                handled,
                read,
                status,
                human,
                opted_out,
                turns,
                whatsapp,
                minutes,
                additional,
            )| {
                let handled = handled.index(texts.len() + 1);
                let read = read.index(handled + 1);
                Scenario {
                    texts,
                    handled,
                    read,
                    status,
                    human,
                    opted_out,
                    turns,
                    whatsapp,
                    minutes_later: minutes,
                    additional,
                }
            },
        )
}

impl Scenario {
    fn loaded(&self) -> LoadedConversation {
        let mut loaded = conversation(&self.texts);
        let inbound: Vec<_> = loaded.inbound_after(None).map(|m| m.id).collect();
        let marker = |count: usize| count.checked_sub(1).map(|i| inbound[i]);
        loaded.conversation.handled_through = marker(self.handled);
        loaded.conversation.read_through = marker(self.read);
        loaded.conversation.status = self.status;
        loaded.conversation.controller = if self.human {
            Controller::Human
        } else {
            Controller::Ai
        };
        loaded.conversation.turns = self.turns;
        loaded.conversation.additional_messages =
            (0..self.additional).map(|i| format!("extra {i}")).collect();
        if self.opted_out {
            loaded.opt_out = Some(PriorOptOut {
                message_id: None,
                opted_out_at: monday_daytime() - TimeDelta::days(2),
            });
        }
        if self.whatsapp {
            loaded.channel_type = MessageProviderType::Whatsapp;
        }
        loaded
    }

    fn now(&self) -> chrono::DateTime<Utc> {
        monday_daytime() + TimeDelta::minutes(self.minutes_later)
    }

    fn unread_opt_out(&self) -> bool {
        self.texts[self.handled..]
            .iter()
            .any(|text| matches!(classify(text), InboundIntent::OptOut { .. }))
    }
}

/// Every plan is coherent: decisions point at drafts it has, nothing is read beyond
/// the newest message, and a hand-off and an end never go together.
fn assert_coherent(plan: &PassPlan, loaded: &LoadedConversation) {
    for decision in &plan.writes.decisions {
        if let Some(index) = decision.reply {
            assert!(
                index < plan.drafts.len(),
                "{decision:?} points past the drafts"
            );
        }
    }
    let newest = loaded.newest_inbound();
    assert!(plan.writes.read_through <= newest);
    assert!(plan.writes.handled_through <= newest);
    assert!(
        !(plan.hand_off.is_some() && plan.writes.change.status == Some(ConversationStatus::Closed))
    );
}

fn plan_of(outcome: &BeforeTurn) -> Option<&PassPlan> {
    match outcome {
        BeforeTurn::Nothing => None,
        BeforeTurn::Finished(plan) => Some(plan),
        BeforeTurn::RunAgent(pending) => Some(&pending.plan),
    }
}

/// Turns an agent may answer: replies, attributes (known or not), a hand-off, an end.
fn agent_turn() -> impl Strategy<Value = TurnResult> {
    let action = prop_oneof![
        "[a-z ]{1,20}".prop_map(|text| AgentAction::Reply { text }),
        prop::sample::select(KEYS).prop_map(|key| {
            AgentAction::SetAttribute {
                key: key.to_owned(),
                value: AttributeValue::Open("about 300k".into()),
            }
        }),
        Just(AgentAction::HandOff {
            reason: "qualified".into()
        }),
        Just(AgentAction::End {
            reason: "not interested".into()
        }),
    ];
    prop::collection::vec(action, 0..5).prop_map(|actions| TurnResult {
        turn: AgentTurn {
            actions,
            reason: "the agent's reason".into(),
        },
        flow_state: None,
    })
}

proptest! {
    #[test]
    fn an_unread_opt_out_always_closes_and_never_runs_the_agent(scenario in scenario()) {
        let loaded = scenario.loaded();
        let outcome = before_turn(&loaded, scenario.now());
        if let Some(plan) = plan_of(&outcome) {
            assert_coherent(plan, &loaded);
        }
        if scenario.unread_opt_out() {
            let plan = match outcome {
                BeforeTurn::Finished(plan) => plan,
                other => panic!("an opt-out ends the pass: {other:?}"),
            };
            prop_assert_eq!(plan.end, PassEnd::OptedOut);
            prop_assert!(plan.hand_off.is_none());
            prop_assert!(plan.drafts.iter().all(|d| d.essential), "only the confirmation: {:?}", plan.drafts);
            prop_assert!(plan.drafts.len() <= 1);
            if matches!(scenario.status, ConversationStatus::Active | ConversationStatus::HandedOff) {
                prop_assert_eq!(plan.writes.change.status, Some(ConversationStatus::OptedOut));
            }
        }
    }

    #[test]
    fn past_the_turn_limit_the_agent_never_replies(scenario in scenario()) {
        let loaded = scenario.loaded();
        prop_assume!(scenario.turns >= loaded.settings.max_turns);
        let outcome = before_turn(&loaded, scenario.now());
        prop_assert!(!matches!(outcome, BeforeTurn::RunAgent(_)), "{:?}", outcome);
        if let Some(plan) = plan_of(&outcome) {
            prop_assert!(!plan.writes.decisions.iter().any(|d| d.kind == DecisionKind::Reply));
            prop_assert_eq!(plan.writes.change.turns, 0);
        }
    }

    #[test]
    fn outside_whatsapps_window_only_a_template_is_planned(scenario in scenario()) {
        let loaded = scenario.loaded();
        let closes = loaded.conversation.last_inbound_at.map(|at| at + TimeDelta::hours(24));
        prop_assume!(scenario.whatsapp && closes.is_none_or(|at| scenario.now() >= at));
        let outcome = before_turn(&loaded, scenario.now());
        prop_assert!(!matches!(outcome, BeforeTurn::RunAgent(_)), "{:?}", outcome);
        if let Some(plan) = plan_of(&outcome) {
            prop_assert!(plan.drafts.iter().all(|d| d.template.is_some()), "free text planned: {:?}", plan.drafts);
        }
    }

    #[test]
    fn a_conversation_not_the_agents_never_runs_it(scenario in scenario()) {
        let loaded = scenario.loaded();
        prop_assume!(!loaded.is_the_agents());
        let outcome = before_turn(&loaded, scenario.now());
        prop_assert!(!matches!(outcome, BeforeTurn::RunAgent(_)), "{:?}", outcome);
        if let Some(plan) = plan_of(&outcome) {
            prop_assert!(plan.hand_off.is_none());
            prop_assert_eq!(plan.writes.change.turns, 0);
        }
    }

    #[test]
    fn after_the_turn_the_agents_actions_are_written_as_asked(
        texts in prop::collection::vec(prop::sample::select(ORDINARY), 1..4),
        result in agent_turn(),
        message in prop::sample::select(HAND_OFF_MESSAGES),
    ) {
        let mut loaded = conversation(&texts);
        loaded.settings.handoff_message = message.to_owned();
        let BeforeTurn::RunAgent(pending) = before_turn(&loaded, monday_daytime()) else {
            panic!("the agent answers ordinary messages");
        };
        let replies = result.turn.replies().count();
        let asks_hand_off = result.turn.hand_off_reason().is_some();
        let plan = after_turn(&loaded, pending, result.clone(), None);
        assert_coherent(&plan, &loaded);
        prop_assert_eq!(plan.hand_off.is_some(), asks_hand_off);
        let told = usize::from(asks_hand_off && replies == 0 && !message.is_empty());
        prop_assert_eq!(plan.drafts.len(), replies + told);
        prop_assert_eq!(plan.writes.change.turns, u32::from(replies > 0));
        prop_assert!(plan.writes.attributes.iter().all(|(id, _)| loaded.definitions.iter().any(|d| d.id == *id && d.key == "budget")));
        if !asks_hand_off && result.turn.actions.iter().any(|a| matches!(a, AgentAction::End { .. })) {
            prop_assert_eq!(plan.writes.change.status, Some(ConversationStatus::Closed));
            prop_assert_eq!(plan.end, PassEnd::Ended);
        }
    }
}
