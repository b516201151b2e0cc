//! The flow-script agent: a workspace's questions, asked in order, each answer read
//! into a custom attribute, then the qualification rules, then a hand-off or an end.
//!
//! [`flow_turn`] is deterministic and pure; one turn answers the lead's messages since
//! the agent last spoke, in this order:
//!
//! 1. **A person asked for** in any of them ([`person::asks_for_person`]): the
//!    `personRequestedMessage` and a hand-off, whatever the script was waiting for.
//!    The state is kept, so if an advisor gives the conversation back, the agent picks
//!    up the question it was waiting on.
//! 2. **The answer to the question awaited**, read by [`extract_answer`] from the
//!    newest message back (the latest word wins when a lead corrects themselves). Found:
//!    stored with `SetAttribute`. Not found: asked again behind `retryPrefix`, until
//!    more than `maxRetries` answers did not fit, and then a hand-off — a lead who
//!    keeps answering is worth a person, not an end. A turn with no message, or whose
//!    awaited attribute got a value meanwhile (an advisor set it), just goes on.
//! 3. **The next question** whose attribute has no value, in script order (values the
//!    contact already had are never asked again). Closed questions carry their options
//!    as a hint, " (Now, 1-3 months or Just looking)", so a lead can answer with a
//!    label or a number; more than ten options make the hint too long for a text
//!    message and it is left out.
//! 4. **No question left**: every qualification rule holds → `qualifiedMessage` and a
//!    hand-off; else → `notQualifiedMessage` and an end. A script with no questions
//!    and no rules therefore hands off at the lead's first reply: it is a "route every
//!    reply to an advisor" script.
//!
//! Only the first answer is read from a turn's messages: a lead who answers two
//! questions at once is asked the second one anyway, which costs a message but never
//! stores an answer to a question the lead has not seen. A question or rule whose
//! attribute was deleted after the script was saved (`validate` refuses them at save
//! time) is skipped for a question, and makes a rule hand off: a person should look
//! at a script that can no longer decide.

mod validate;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::extract_answer;
use super::{AgentAction, AgentTurn, person};
use crate::custom_attribute::{
    AttributeDefinition, AttributeKind, AttributeValue, AttributeValues,
};
use crate::ids::TeamId;

/// A flow script as clients send it and as it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlowScript {
    /// Asked in order; a question whose attribute the contact already has is skipped.
    /// At most 50, each attribute once.
    #[schema(max_items = 50)]
    pub questions: Vec<FlowQuestion>,
    /// All must hold for the lead to be qualified.
    #[serde(default)]
    pub qualification: Vec<QualificationRule>,
    /// Sent with the hand-off when the lead qualifies.
    #[serde(default = "default_qualified_message")]
    #[schema(schema_with = crate::schema::text::<1000>)]
    pub qualified_message: String,
    /// Sent when the lead answered everything but does not qualify; the conversation
    /// then ends.
    #[serde(default = "default_not_qualified_message")]
    #[schema(schema_with = crate::schema::text::<1000>)]
    pub not_qualified_message: String,
    /// Sent with the hand-off when the lead asks for a person.
    #[serde(default = "default_person_message")]
    #[schema(schema_with = crate::schema::text::<1000>)]
    pub person_requested_message: String,
    /// Put before a question asked again after an answer that did not fit.
    #[serde(default = "default_retry_prefix")]
    #[schema(schema_with = crate::schema::text::<1000>)]
    pub retry_prefix: String,
    /// Unrecognised answers to one question before the agent hands off (0 to 10).
    #[serde(
        default = "default_max_retries",
        deserialize_with = "crate::integral::u32"
    )]
    #[schema(maximum = 10)]
    pub max_retries: u32,
    /// The team whose advisors take this script's hand-offs (else the workspace's); a
    /// team of the workspace (422 otherwise).
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_uuid)]
    pub handoff_team_id: Option<TeamId>,
}

/// No questions and no rules, every message its default: the lead qualifies, and is
/// handed off, at its first reply.
impl Default for FlowScript {
    fn default() -> Self {
        Self {
            questions: Vec::new(),
            qualification: Vec::new(),
            qualified_message: default_qualified_message(),
            not_qualified_message: default_not_qualified_message(),
            person_requested_message: default_person_message(),
            retry_prefix: default_retry_prefix(),
            max_retries: default_max_retries(),
            handoff_team_id: None,
        }
    }
}

/// One question and the custom attribute its answer goes into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlowQuestion {
    /// The key of a custom attribute of the workspace (422 otherwise).
    pub attribute: String,
    #[schema(schema_with = crate::schema::text::<1000>)]
    pub text: String,
}

/// The attribute must hold one of `anyOf` (option labels for CLOSED attributes, texts
/// compared without case for OPEN ones); an empty `anyOf` only needs a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QualificationRule {
    pub attribute: String,
    #[serde(default)]
    pub any_of: Vec<String>,
}

/// Where the script stands in one conversation (stored with it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowState {
    /// The attribute key of the question last asked, awaiting its answer.
    pub awaiting: Option<String>,
    /// Answers to that question that did not fit.
    pub retries: u32,
}

fn default_qualified_message() -> String {
    "Thank you! An advisor will contact you shortly.".into()
}

fn default_not_qualified_message() -> String {
    "Thank you for your answers! We will be in touch if we have something for you.".into()
}

fn default_person_message() -> String {
    "Of course, an advisor will continue this conversation with you shortly.".into()
}

fn default_retry_prefix() -> String {
    "Sorry, I did not understand.".into()
}

fn default_max_retries() -> u32 {
    2
}

/// Everything one turn reads; the caller loads it from the conversation and the contact.
#[derive(Debug, Clone, Copy)]
pub struct FlowInput<'a> {
    /// The inbound texts this turn answers, oldest first.
    pub lead_messages: &'a [String],
    /// The workspace's custom attributes.
    pub definitions: &'a [AttributeDefinition],
    /// The contact's current values.
    pub values: &'a AttributeValues,
    pub state: &'a FlowState,
}

/// What a turn decided, and the state to store with the conversation for the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowTurn {
    pub turn: AgentTurn,
    pub state: FlowState,
}

/// More options than this and the question goes without its options hint.
const MAX_HINTED_OPTIONS: usize = 10;

/// How much of a lead's text or a value a reason quotes.
const QUOTE_CHARS: usize = 60;

/// Runs one turn of `script`; see the module documentation for the order of the rules.
pub fn flow_turn(script: &FlowScript, input: &FlowInput<'_>) -> FlowTurn {
    if let Some(evidence) = input
        .lead_messages
        .iter()
        .find_map(|message| person::asks_for_person(message))
    {
        let reason = format!("the lead asked for a person: \"{evidence}\"");
        return hand_off(
            &script.person_requested_message,
            reason,
            input.state.clone(),
        );
    }

    let definition = |key: &str| input.definitions.iter().find(|d| d.key == key);
    let mut stored: Option<(&AttributeDefinition, AttributeValue)> = None;
    let awaited = input.state.awaiting.as_deref().and_then(|key| {
        let question = script.questions.iter().find(|q| q.attribute == key)?;
        Some((question, definition(key)?))
    });
    if let Some((question, awaited)) = awaited {
        let answer = input
            .lead_messages
            .iter()
            .rev()
            .find_map(|message| extract_answer(message, awaited));
        match answer {
            Some(value) => stored = Some((awaited, value)),
            None if input.lead_messages.is_empty() || input.values.contains_key(&awaited.id) => {}
            None => return unusable_answer(script, input, question, awaited),
        }
    }

    let value_of = |d: &AttributeDefinition| match &stored {
        Some((set, value)) if set.id == d.id => Some(value),
        _ => input.values.get(&d.id),
    };
    let next = script.questions.iter().find_map(|question| {
        let definition = definition(&question.attribute)?;
        value_of(definition)
            .is_none()
            .then_some((question, definition))
    });
    let said = stored
        .as_ref()
        .map_or(String::new(), |(definition, value)| {
            format!("stored {} = {}; ", definition.key, shown(definition, value))
        });

    let (reply, last, reason, state) = match next {
        Some((question, next)) => (
            format!("{}{}", question.text.trim(), options_hint(next)),
            None,
            format!("{said}asking {}", next.key),
            FlowState {
                awaiting: Some(next.key.clone()),
                retries: 0,
            },
        ),
        None => {
            let (message, verdict, ends) = match qualification(script, input.definitions, value_of)
            {
                Verdict::Qualified(reason) => (&script.qualified_message, reason, false),
                Verdict::Undecidable(reason) => (&script.person_requested_message, reason, false),
                Verdict::NotQualified(reason) => (&script.not_qualified_message, reason, true),
            };
            let outcome = if ends { "ending" } else { "handing off" };
            let reason = format!("{said}{verdict}; {outcome}");
            let last = if ends {
                AgentAction::End { reason: verdict }
            } else {
                AgentAction::HandOff { reason: verdict }
            };
            (message.clone(), Some(last), reason, FlowState::default())
        }
    };

    let mut actions = Vec::with_capacity(3);
    if let Some((definition, value)) = stored {
        actions.push(AgentAction::SetAttribute {
            key: definition.key.clone(),
            value,
        });
    }
    actions.push(AgentAction::Reply { text: reply });
    actions.extend(last);
    FlowTurn {
        turn: AgentTurn { actions, reason },
        state,
    }
}

/// The awaited question got no usable answer: ask again, or hand off past the limit.
fn unusable_answer(
    script: &FlowScript,
    input: &FlowInput<'_>,
    question: &FlowQuestion,
    definition: &AttributeDefinition,
) -> FlowTurn {
    let key = &definition.key;
    let retries = input.state.retries.saturating_add(1);
    let state = FlowState {
        awaiting: Some(key.clone()),
        retries,
    };
    if retries > script.max_retries {
        let tries = if retries == 1 { "try" } else { "tries" };
        let reason = format!("no usable answer to '{key}' after {retries} {tries}");
        return hand_off(&script.person_requested_message, reason, state);
    }
    let newest = input.lead_messages.last().map_or("", String::as_str);
    let text = format!(
        "{} {}{}",
        script.retry_prefix.trim(),
        question.text.trim(),
        options_hint(definition)
    );
    let reason = format!(
        "no usable answer to {key} in \"{}\" (unusable answer {retries} of at most {}); asking again",
        quote(newest),
        script.max_retries
    );
    FlowTurn {
        turn: AgentTurn {
            actions: vec![AgentAction::Reply {
                text: text.trim_start().to_owned(),
            }],
            reason,
        },
        state,
    }
}

/// A turn that replies `message` and hands off for `reason`.
fn hand_off(message: &str, reason: String, state: FlowState) -> FlowTurn {
    FlowTurn {
        turn: AgentTurn {
            reason: format!("{reason}; handing off"),
            actions: vec![
                AgentAction::Reply {
                    text: message.to_owned(),
                },
                AgentAction::HandOff { reason },
            ],
        },
        state,
    }
}

/// " (Now, 1-3 months or Just looking)" for a CLOSED attribute with few enough options.
fn options_hint(definition: &AttributeDefinition) -> String {
    let labels: Vec<&str> = definition
        .options
        .iter()
        .map(|o| o.label.as_str())
        .collect();
    if definition.kind != AttributeKind::Closed
        || labels.is_empty()
        || labels.len() > MAX_HINTED_OPTIONS
    {
        return String::new();
    }
    match labels.split_last() {
        Some((last, [])) => format!(" ({last})"),
        Some((last, rest)) => format!(" ({} or {last})", rest.join(", ")),
        None => String::new(),
    }
}

/// How the decision log shows a value: its text, or its option labels.
fn shown(definition: &AttributeDefinition, value: &AttributeValue) -> String {
    match value {
        AttributeValue::Open(text) => quote(text),
        AttributeValue::Closed(ids) => labels(definition, ids).join(", "),
    }
}

fn labels<'d>(definition: &'d AttributeDefinition, ids: &[crate::ids::OptionId]) -> Vec<&'d str> {
    ids.iter()
        .filter_map(|id| definition.options.iter().find(|o| o.id == *id))
        .map(|o| o.label.as_str())
        .collect()
}

/// The first [`QUOTE_CHARS`] characters of `text`, on one line.
fn quote(text: &str) -> String {
    let mut quoted: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(QUOTE_CHARS + 1)
        .collect();
    if quoted.chars().count() > QUOTE_CHARS {
        quoted = quoted.chars().take(QUOTE_CHARS).collect::<String>() + "…";
    }
    quoted
}

/// The outcome of the qualification rules, each with its reason.
enum Verdict {
    Qualified(String),
    NotQualified(String),
    /// A rule names an attribute that no longer exists.
    Undecidable(String),
}

fn qualification<'a>(
    script: &FlowScript,
    definitions: &[AttributeDefinition],
    value_of: impl Fn(&AttributeDefinition) -> Option<&'a AttributeValue>,
) -> Verdict {
    let definition = |key: &str| definitions.iter().find(|d| d.key == key);
    let mut held = Vec::new();
    let mut failed = Vec::new();
    for rule in &script.qualification {
        let Some(definition) = definition(&rule.attribute) else {
            return Verdict::Undecidable(format!(
                "the qualification rule on '{}' names no custom attribute of the workspace",
                rule.attribute
            ));
        };
        let Some(value) = value_of(definition) else {
            failed.push(format!("{} has no value", rule.attribute));
            continue;
        };
        if rule_holds(rule, definition, value) {
            held.push(format!("{}={}", definition.key, shown(definition, value)));
        } else {
            failed.push(format!(
                "{} is {}, expected one of {}",
                definition.key,
                shown(definition, value),
                rule.any_of.join(", ")
            ));
        }
    }
    if !failed.is_empty() {
        return Verdict::NotQualified(format!("not qualified: {}", failed.join("; ")));
    }
    if script.qualification.is_empty() {
        // No rules: show what the questions gathered.
        held = script
            .questions
            .iter()
            .filter_map(|q| {
                let definition = definition(&q.attribute)?;
                let value = value_of(definition)?;
                Some(format!("{}={}", definition.key, shown(definition, value)))
            })
            .collect();
    }
    if held.is_empty() {
        return Verdict::Qualified("qualified: the script has no questions or rules".into());
    }
    Verdict::Qualified(format!("qualified: {}", held.join(", ")))
}

/// Whether `value` satisfies `rule`: any value when `anyOf` is empty, else one of its
/// entries, compared without case (option labels for CLOSED attributes).
fn rule_holds(
    rule: &QualificationRule,
    definition: &AttributeDefinition,
    value: &AttributeValue,
) -> bool {
    if rule.any_of.is_empty() {
        return true;
    }
    let matches = |text: &str| rule.any_of.iter().any(|wanted| same_text(wanted, text));
    match value {
        AttributeValue::Open(text) => matches(text),
        AttributeValue::Closed(ids) => labels(definition, ids).into_iter().any(matches),
    }
}

/// Equal ignoring surrounding space and case (Unicode-aware, so "SÍ" is "sí").
fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    a.eq_ignore_ascii_case(b) || a.to_lowercase() == b.to_lowercase()
}
