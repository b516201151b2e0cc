//! One test per branch of a turn, and per rule of `validate`, over a real-estate script:
//! timeline and financing (CLOSED), notes (OPEN).

use super::*;
use crate::custom_attribute::AttributeOption;

fn closed(key: &str, labels: &[&str]) -> AttributeDefinition {
    let labels: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
    AttributeDefinition::create(key, key, AttributeKind::Closed, &labels, false).unwrap()
}

fn open(key: &str) -> AttributeDefinition {
    AttributeDefinition::create(key, key, AttributeKind::Open, &[], false).unwrap()
}

pub(super) fn definitions() -> Vec<AttributeDefinition> {
    vec![
        closed(
            "timeline",
            &["Now", "1-3 months", "3-6 months", "Just looking"],
        ),
        closed("financing", &["Cash", "Mortgage", "Not sure"]),
        open("notes"),
        open("budget"),
    ]
}

pub(super) fn script() -> FlowScript {
    serde_json::from_value(serde_json::json!({
        "questions": [
            {"attribute": "timeline", "text": "When are you planning to buy?"},
            {"attribute": "financing", "text": "How will you pay?"},
            {"attribute": "notes", "text": "Anything else we should know?"},
        ],
        "qualification": [
            {"attribute": "timeline", "anyOf": ["now", "1-3 months"]},
            {"attribute": "financing", "anyOf": ["Cash", "Mortgage"]},
        ],
    }))
    .unwrap()
}

fn option(definitions: &[AttributeDefinition], key: &str, label: &str) -> AttributeValue {
    let definition = definitions.iter().find(|d| d.key == key).unwrap();
    let option: &AttributeOption = definition
        .options
        .iter()
        .find(|o| o.label == label)
        .unwrap();
    AttributeValue::Closed(vec![option.id])
}

/// The contact's values, by key and option label (or text for OPEN attributes).
fn values(definitions: &[AttributeDefinition], set: &[(&str, &str)]) -> AttributeValues {
    set.iter()
        .map(|(key, value)| {
            let definition = definitions.iter().find(|d| d.key == *key).unwrap();
            let value = match definition.kind {
                AttributeKind::Open => AttributeValue::Open((*value).to_owned()),
                AttributeKind::Closed => option(definitions, key, value),
            };
            (definition.id, value)
        })
        .collect()
}

fn awaiting(key: &str, retries: u32) -> FlowState {
    FlowState {
        awaiting: Some(key.into()),
        retries,
    }
}

fn turn(
    script: &FlowScript,
    definitions: &[AttributeDefinition],
    values: &AttributeValues,
    state: &FlowState,
    messages: &[&str],
) -> FlowTurn {
    let messages: Vec<String> = messages.iter().map(|m| (*m).to_owned()).collect();
    flow_turn(
        script,
        &FlowInput {
            lead_messages: &messages,
            definitions,
            values,
            state,
        },
    )
}

fn reply(text: &str) -> AgentAction {
    AgentAction::Reply { text: text.into() }
}

const ASK_TIMELINE: &str =
    "When are you planning to buy? (Now, 1-3 months, 3-6 months or Just looking)";
const ASK_FINANCING: &str = "How will you pay? (Cash, Mortgage or Not sure)";

#[test]
fn the_first_reply_of_the_lead_gets_the_first_question_with_its_options() {
    let defs = definitions();
    let got = turn(
        &script(),
        &defs,
        &AttributeValues::new(),
        &FlowState::default(),
        &["Hi, yes that's me"],
    );
    assert_eq!(got.turn.actions, [reply(ASK_TIMELINE)]);
    assert_eq!(got.turn.reason, "asking timeline");
    assert_eq!(got.state, awaiting("timeline", 0));
}

#[test]
fn questions_whose_attribute_has_a_value_are_skipped() {
    let defs = definitions();
    let known = values(&defs, &[("timeline", "Now")]);
    let got = turn(&script(), &defs, &known, &FlowState::default(), &["hello"]);
    assert_eq!(got.turn.actions, [reply(ASK_FINANCING)]);
    assert_eq!(got.state, awaiting("financing", 0));
}

#[test]
fn an_answer_is_stored_and_the_next_question_asked() {
    let defs = definitions();
    let got = turn(
        &script(),
        &defs,
        &AttributeValues::new(),
        &awaiting("timeline", 1),
        &["1-3 months probably"],
    );
    assert_eq!(
        got.turn.actions,
        [
            AgentAction::SetAttribute {
                key: "timeline".into(),
                value: option(&defs, "timeline", "1-3 months"),
            },
            reply(ASK_FINANCING),
        ]
    );
    assert_eq!(
        got.turn.reason,
        "stored timeline = 1-3 months; asking financing"
    );
    assert_eq!(got.state, awaiting("financing", 0), "retries reset");
}

#[test]
fn the_newest_message_with_an_answer_wins() {
    let defs = definitions();
    let got = turn(
        &script(),
        &defs,
        &AttributeValues::new(),
        &awaiting("financing", 0),
        &["cash", "sorry, mortgage", "lol"],
    );
    assert_eq!(
        got.turn.actions[0],
        AgentAction::SetAttribute {
            key: "financing".into(),
            value: option(&defs, "financing", "Mortgage"),
        }
    );
}

#[test]
fn an_open_question_is_asked_without_options_and_takes_the_text() {
    let defs = definitions();
    let known = values(&defs, &[("timeline", "Now"), ("financing", "Cash")]);
    let got = turn(&script(), &defs, &known, &FlowState::default(), &["ok"]);
    assert_eq!(got.turn.actions, [reply("Anything else we should know?")]);

    let got = turn(
        &script(),
        &defs,
        &known,
        &awaiting("notes", 0),
        &["  We have a dog  "],
    );
    assert_eq!(
        got.turn.actions[0],
        AgentAction::SetAttribute {
            key: "notes".into(),
            value: AttributeValue::Open("We have a dog".into()),
        }
    );
}

#[test]
fn an_unusable_answer_asks_again_with_the_retry_prefix() {
    let defs = definitions();
    let got = turn(
        &script(),
        &defs,
        &AttributeValues::new(),
        &awaiting("timeline", 0),
        &["what do you mean"],
    );
    assert_eq!(
        got.turn.actions,
        [reply(&format!(
            "Sorry, I did not understand. {ASK_TIMELINE}"
        ))]
    );
    assert_eq!(got.state, awaiting("timeline", 1));
    assert_eq!(
        got.turn.reason,
        "no usable answer to timeline in \"what do you mean\" (unusable answer 1 of at most 2); asking again"
    );
}

#[test]
fn past_max_retries_the_agent_hands_off() {
    let defs = definitions();
    let script = script();
    let got = turn(
        &script,
        &defs,
        &AttributeValues::new(),
        &awaiting("timeline", 2),
        &["banana"],
    );
    let reason = "no usable answer to 'timeline' after 3 tries";
    assert_eq!(
        got.turn.actions,
        [
            reply(&script.person_requested_message),
            AgentAction::HandOff {
                reason: reason.into()
            },
        ]
    );
    assert_eq!(got.turn.reason, format!("{reason}; handing off"));

    let strict = FlowScript {
        max_retries: 0,
        ..script
    };
    let got = turn(
        &strict,
        &defs,
        &AttributeValues::new(),
        &awaiting("timeline", 0),
        &["banana"],
    );
    assert_eq!(
        got.turn.hand_off_reason(),
        Some("no usable answer to 'timeline' after 1 try")
    );
}

#[test]
fn a_request_for_a_person_hands_off_before_anything_else() {
    let defs = definitions();
    let script = script();
    let state = awaiting("timeline", 1);
    // The older message asks; the newer one would be an answer.
    let got = turn(
        &script,
        &defs,
        &AttributeValues::new(),
        &state,
        &["can I speak with a human?", "now"],
    );
    let reason = "the lead asked for a person: \"can i speak with a human\"";
    assert_eq!(
        got.turn.actions,
        [
            reply(&script.person_requested_message),
            AgentAction::HandOff {
                reason: reason.into()
            },
        ]
    );
    assert_eq!(
        got.state, state,
        "kept for when the conversation comes back"
    );
}

#[test]
fn the_last_answer_qualifies_and_hands_off() {
    let defs = definitions();
    let script = script();
    let known = values(&defs, &[("timeline", "Now"), ("notes", "x")]);
    let got = turn(&script, &defs, &known, &awaiting("financing", 0), &["Cash"]);
    let reason = "qualified: timeline=Now, financing=Cash";
    assert_eq!(
        got.turn.actions,
        [
            AgentAction::SetAttribute {
                key: "financing".into(),
                value: option(&defs, "financing", "Cash"),
            },
            reply(&script.qualified_message),
            AgentAction::HandOff {
                reason: reason.into()
            },
        ]
    );
    assert_eq!(
        got.turn.reason,
        format!("stored financing = Cash; {reason}; handing off")
    );
    assert_eq!(got.state, FlowState::default());
}

#[test]
fn a_failed_rule_ends_the_conversation() {
    let defs = definitions();
    let script = script();
    let known = values(&defs, &[("timeline", "Now"), ("notes", "x")]);
    let got = turn(
        &script,
        &defs,
        &known,
        &awaiting("financing", 0),
        &["not sure"],
    );
    let reason = "not qualified: financing is Not sure, expected one of Cash, Mortgage";
    assert_eq!(got.turn.actions[1], reply(&script.not_qualified_message));
    assert_eq!(
        got.turn.actions[2],
        AgentAction::End {
            reason: reason.into()
        }
    );
    assert_eq!(
        got.turn.reason,
        format!("stored financing = Not sure; {reason}; ending")
    );
}

#[test]
fn open_rules_compare_without_case_and_empty_any_of_needs_a_value() {
    let defs = definitions();
    let script: FlowScript = serde_json::from_value(serde_json::json!({
        "questions": [{"attribute": "notes", "text": "Notes?"}],
        "qualification": [
            {"attribute": "notes", "anyOf": ["Ready To Buy"]},
            {"attribute": "budget"},
        ],
    }))
    .unwrap();
    let known = values(&defs, &[("budget", "500k")]);
    let got = turn(
        &script,
        &defs,
        &known,
        &awaiting("notes", 0),
        &["ready to buy"],
    );
    assert_eq!(
        got.turn.hand_off_reason(),
        Some("qualified: notes=ready to buy, budget=500k")
    );

    let got = turn(
        &script,
        &defs,
        &AttributeValues::new(),
        &awaiting("notes", 0),
        &["ready to buy"],
    );
    let ended = got.turn.actions.last().unwrap();
    assert_eq!(
        ended,
        &AgentAction::End {
            reason: "not qualified: budget has no value".into()
        }
    );
}

#[test]
fn a_script_without_questions_or_rules_hands_off_at_the_first_reply() {
    let script: FlowScript = serde_json::from_value(serde_json::json!({"questions": []})).unwrap();
    let got = turn(
        &script,
        &definitions(),
        &AttributeValues::new(),
        &FlowState::default(),
        &["hi"],
    );
    assert_eq!(
        got.turn.hand_off_reason(),
        Some("qualified: the script has no questions or rules")
    );
    assert_eq!(
        got.turn.replies().collect::<Vec<_>>(),
        [script.qualified_message.as_str()]
    );
}

#[test]
fn rules_absent_the_questions_answers_are_shown() {
    let script = FlowScript {
        qualification: Vec::new(),
        ..script()
    };
    let defs = definitions();
    let known = values(
        &defs,
        &[("timeline", "Now"), ("financing", "Cash"), ("notes", "Dog")],
    );
    let got = turn(&script, &defs, &known, &FlowState::default(), &["hi"]);
    assert_eq!(
        got.turn.hand_off_reason(),
        Some("qualified: timeline=Now, financing=Cash, notes=Dog")
    );
}

#[test]
fn an_awaited_question_gone_from_the_script_is_forgotten() {
    let defs = definitions();
    let got = turn(
        &script(),
        &defs,
        &AttributeValues::new(),
        &awaiting("budget", 2),
        &["500k"],
    );
    assert_eq!(got.turn.actions, [reply(ASK_TIMELINE)]);
    assert_eq!(got.state, awaiting("timeline", 0));
}

#[test]
fn no_message_or_a_value_set_meanwhile_moves_on_without_counting() {
    let defs = definitions();
    let got = turn(
        &script(),
        &defs,
        &AttributeValues::new(),
        &awaiting("timeline", 1),
        &[],
    );
    assert_eq!(got.turn.actions, [reply(ASK_TIMELINE)]);
    assert_eq!(got.state, awaiting("timeline", 0));

    let known = values(&defs, &[("timeline", "Now")]);
    let got = turn(&script(), &defs, &known, &awaiting("timeline", 1), &["hmm"]);
    assert_eq!(got.turn.actions, [reply(ASK_FINANCING)]);
}

#[test]
fn deleted_attributes_skip_their_question_and_make_rules_hand_off() {
    let defs: Vec<_> = definitions()
        .into_iter()
        .filter(|d| d.key != "timeline")
        .collect();
    let got = turn(
        &script(),
        &defs,
        &AttributeValues::new(),
        &FlowState::default(),
        &["hi"],
    );
    assert_eq!(got.turn.actions, [reply(ASK_FINANCING)]);

    let known = values(&defs, &[("financing", "Cash"), ("notes", "x")]);
    let got = turn(&script(), &defs, &known, &FlowState::default(), &["hi"]);
    assert_eq!(
        got.turn.hand_off_reason(),
        Some("the qualification rule on 'timeline' names no custom attribute of the workspace")
    );
}

#[test]
fn many_options_go_without_a_hint() {
    let labels: Vec<String> = (1..=11).map(|n| format!("Zone {n}")).collect();
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let defs = vec![closed("zone", &labels), closed("yes", &["Yes"])];
    let script: FlowScript = serde_json::from_value(serde_json::json!({
        "questions": [{"attribute": "zone", "text": "Which zone?"}, {"attribute": "yes", "text": "OK?"}],
    }))
    .unwrap();
    let got = turn(
        &script,
        &defs,
        &AttributeValues::new(),
        &FlowState::default(),
        &["hi"],
    );
    assert_eq!(got.turn.actions, [reply("Which zone?")]);
    let got = turn(
        &script,
        &defs,
        &AttributeValues::new(),
        &awaiting("zone", 0),
        &["11"],
    );
    assert_eq!(got.turn.actions[1], reply("OK? (Yes)"));
}
