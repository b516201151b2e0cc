//! What a pass decided, before anything is written: the replies (drafts until the
//! worker reserves their sending numbers), the [`TurnWrites`] (read markers, opt-out,
//! attributes, the conversation's changes, the decisions, the task's next step), the
//! hand-off to resolve (who takes it needs the store's round-robin), and how the pass
//! ended.

use chrono::{DateTime, Utc};
use leadline_core::agent::DecisionKind;
use leadline_core::agent::settings::AgentSettings;
use leadline_core::agent::writes::{NewDecision, TurnWrites};
use leadline_core::{MessageId, TeamId};

/// A reply before its sending number is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub body: String,
    /// Set when the reply is a template (the one reopening WhatsApp's window).
    pub template: Option<TemplateRef>,
    /// Sent from the channel's own sender when no pool number can send it now (the
    /// opt-out confirmation), instead of holding the whole pass back.
    pub essential: bool,
}

/// A template by name and language, sent without parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRef {
    pub name: String,
    pub language: String,
}

/// The conversation goes to a human advisor; the worker picks who (see the server's
/// `usecases::hand_off`) and writes the hand-off with the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandOffRequest {
    /// Why, for the decision log.
    pub reason: String,
    /// The teams whose advisors may take it, in order of preference: the flow script's,
    /// then the agent settings' `handoffTeamId`.
    pub teams: Vec<TeamId>,
}

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
    /// An advisor took the conversation over during the turn (known only once the
    /// store refuses to write it).
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

/// Everything one pass writes, in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct PassPlan {
    pub drafts: Vec<Draft>,
    pub writes: TurnWrites,
    pub hand_off: Option<HandOffRequest>,
    pub end: PassEnd,
}

impl PassPlan {
    /// A plan that has read everything up to `handled_through` and changes nothing yet.
    pub(crate) fn new(handled_through: Option<MessageId>) -> Self {
        Self {
            drafts: Vec::new(),
            writes: TurnWrites {
                handled_through,
                ..TurnWrites::default()
            },
            hand_off: None,
            end: PassEnd::Nothing,
        }
    }

    /// Queues a text reply; returns its index.
    pub(crate) fn reply(&mut self, body: impl Into<String>) -> usize {
        self.push(Draft {
            body: body.into(),
            template: None,
            essential: false,
        })
    }

    /// Queues a draft; returns its index.
    pub(crate) fn push(&mut self, draft: Draft) -> usize {
        self.drafts.push(draft);
        self.drafts.len() - 1
    }

    pub(crate) fn decide(&mut self, decision: NewDecision) {
        self.writes.decisions.push(decision);
    }

    /// Whether the plan has decided something of this kind already.
    pub(crate) fn has_decided(&self, kind: DecisionKind) -> bool {
        self.writes.decisions.iter().any(|d| d.kind == kind)
    }

    /// Whether the plan writes anything besides moving the read markers.
    pub fn is_quiet(&self) -> bool {
        self.drafts.is_empty()
            && self.writes.decisions.is_empty()
            && self.writes.opt_out.is_none()
            && self.hand_off.is_none()
    }

    /// Hands the conversation to an advisor (see [`HandOffRequest`]); with `say_so`,
    /// tells the lead with the settings' hand-off message, when there is one.
    pub(crate) fn hand_off(
        &mut self,
        settings: &AgentSettings,
        reason: String,
        script_team: Option<TeamId>,
        say_so: bool,
    ) {
        if say_so && !settings.handoff_message.is_empty() {
            self.reply(settings.handoff_message.clone());
        }
        self.hand_off = Some(HandOffRequest {
            reason,
            teams: script_team
                .into_iter()
                .chain(settings.handoff_team_id)
                .collect(),
        });
    }

    pub(crate) fn ending(mut self, end: PassEnd) -> Self {
        self.end = end;
        self
    }
}

/// Timestamps in reasons: RFC 3339, UTC, milliseconds, as the API shows them.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
