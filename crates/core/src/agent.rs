//! The AI agent's pure side (DESIGN §6): what an agent turn decides, the flow-script
//! agent itself, reading answers out of a lead's words, noticing a request for a
//! person, the guardrails that hold a reply back, and the workspace's agent settings.
//!
//! An agent turn reads the conversation and answers with [`AgentTurn`]: replies to
//! send, attributes to set on the contact, and at most one hand-off or end. The
//! `leadline-agent` crate's pass rules turn it into [`writes::TurnWrites`], which the
//! store applies in one transaction with every decision and its reason.

pub mod extract;
pub mod flow;
pub mod guardrails;
pub mod person;
pub mod settings;
pub mod writes;

use chrono::{DateTime, TimeDelta, Utc};

use crate::custom_attribute::AttributeValue;

/// One thing an agent turn does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentAction {
    /// Send this text to the lead.
    Reply { text: String },
    /// Store a value on the contact's custom attribute with this key.
    SetAttribute { key: String, value: AttributeValue },
    /// Give the conversation to a human advisor; the agent never speaks again in it.
    HandOff { reason: String },
    /// Close the conversation; nobody answers any more.
    End { reason: String },
}

/// What one agent turn decided, and why, in words a person reads in the conversation's
/// decision log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AgentTurn {
    pub actions: Vec<AgentAction>,
    pub reason: String,
}

impl AgentTurn {
    /// A turn that only hands the conversation off.
    pub fn hand_off(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self {
            actions: vec![AgentAction::HandOff {
                reason: reason.clone(),
            }],
            reason,
        }
    }

    /// The reason of the hand-off this turn asks for, if it asks for one.
    pub fn hand_off_reason(&self) -> Option<&str> {
        self.actions.iter().find_map(|action| match action {
            AgentAction::HandOff { reason } => Some(reason.as_str()),
            _ => None,
        })
    }

    /// The texts this turn sends, in order.
    pub fn replies(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().filter_map(|action| match action {
            AgentAction::Reply { text } => Some(text.as_str()),
            _ => None,
        })
    }
}

crate::wire_enum! {
    /// The kinds of decision stored on a conversation.
    pub enum DecisionKind {
        /// The agent answered the lead.
        Reply = "REPLY",
        /// The agent stored an answer on the contact.
        SetAttribute = "SET_ATTRIBUTE",
        /// The conversation went to a human advisor.
        HandOff = "HAND_OFF",
        /// The agent closed the conversation.
        End = "END",
        /// The lead opted out; one confirmation went out.
        OptOut = "OPT_OUT",
        /// The lead asked for help; the workspace's help reply went out.
        Help = "HELP",
        /// The lead re-subscribed.
        OptIn = "OPT_IN",
        /// A reply was held back (quiet hours, the minimum delay, the pool's capacity).
        Deferred = "DEFERRED",
        /// An inbound message the agent did not answer, and why.
        Skipped = "SKIPPED",
        /// The LeadScout additional messages went out after the lead's first reply.
        AdditionalMessages = "ADDITIONAL_MESSAGES",
        /// An advisor gave the conversation back to the agent.
        Released = "RELEASED",
    }
}

/// How long after the lead's last message WhatsApp lets a business send free text.
pub const WHATSAPP_WINDOW: TimeDelta = TimeDelta::hours(24);

/// Whether WhatsApp still allows free text: the lead wrote within the last 24 hours.
pub fn whatsapp_window_open(last_inbound_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_inbound_at.is_some_and(|at| now < at + WHATSAPP_WINDOW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whatsapp_window_closes_24_hours_after_the_last_inbound_message() {
        let at: DateTime<Utc> = "2026-11-20T10:00:00Z".parse().unwrap();
        assert!(whatsapp_window_open(Some(at), at));
        assert!(whatsapp_window_open(
            Some(at),
            at + TimeDelta::hours(23) + TimeDelta::minutes(59)
        ));
        assert!(!whatsapp_window_open(Some(at), at + TimeDelta::hours(24)));
        assert!(!whatsapp_window_open(None, at));
    }

    #[test]
    fn a_turn_names_its_hand_off_and_replies() {
        let turn = AgentTurn {
            actions: vec![
                AgentAction::Reply {
                    text: "Thanks".into(),
                },
                AgentAction::HandOff {
                    reason: "qualified".into(),
                },
            ],
            reason: "qualified".into(),
        };
        assert_eq!(turn.hand_off_reason(), Some("qualified"));
        assert_eq!(turn.replies().collect::<Vec<_>>(), ["Thanks"]);
        assert_eq!(AgentTurn::hand_off("x").hand_off_reason(), Some("x"));
    }
}
