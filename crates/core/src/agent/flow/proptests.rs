//! Property tests over random scripts, contacts, states and replies (validated or not):
//! a turn sets only the attribute it was waiting for, which is one of the script's; it
//! never both hands off and ends; it always says something; and when it goes on, it
//! waits for a question of the script that has no value yet.

use proptest::prelude::*;

use super::*;

const KEYS: &[&str] = &["timeline", "financing", "notes", "budget", "owner", "gone"];

fn definitions() -> Vec<AttributeDefinition> {
    let closed = |key: &str, labels: &[&str]| {
        let labels: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
        AttributeDefinition::create(key, key, AttributeKind::Closed, &labels, false).unwrap()
    };
    let open =
        |key: &str| AttributeDefinition::create(key, key, AttributeKind::Open, &[], false).unwrap();
    // "gone" has no definition: a question or rule on a deleted attribute.
    vec![
        closed(
            "timeline",
            &["Now", "1-3 months", "3-6 months", "Just looking"],
        ),
        closed("financing", &["Cash", "Mortgage", "Not sure"]),
        open("notes"),
        open("budget"),
        closed("owner", &["Yes", "No"]),
    ]
}

/// Replies of every kind: answers, numbers, requests for a person, noise.
const REPLIES: &[&str] = &[
    "now",
    "2",
    "option 9",
    "cash",
    "Not sure",
    "yes",
    "nope",
    "agent",
    "quiero hablar con un asesor",
    "I am a real estate agent",
    "",
    "   ",
    "🙂",
    "cash or mortgage",
    "500k",
    "1-3 months",
    "STOP",
];

fn any_reply() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(REPLIES).prop_map(str::to_owned),
        1 => ".{0,40}",
    ]
}

fn any_script() -> impl Strategy<Value = FlowScript> {
    (
        prop::sample::subsequence(KEYS, 0..=KEYS.len()).prop_shuffle(),
        prop::collection::vec(
            (
                prop::sample::select(KEYS),
                prop::collection::vec(prop::sample::select(REPLIES), 0..3),
            ),
            0..3,
        ),
        0u32..4,
    )
        .prop_map(|(keys, rules, max_retries)| {
            let mut script: FlowScript =
                serde_json::from_value(serde_json::json!({"questions": []})).unwrap();
            script.questions = keys
                .into_iter()
                .map(|key| FlowQuestion {
                    attribute: key.to_owned(),
                    text: format!("What about {key}?"),
                })
                .collect();
            script.qualification = rules
                .into_iter()
                .map(|(key, any_of)| QualificationRule {
                    attribute: key.to_owned(),
                    any_of: any_of.into_iter().map(str::to_owned).collect(),
                })
                .collect();
            script.max_retries = max_retries;
            script
        })
}

/// Values for a random subset of the definitions: an option index or a text.
fn any_values(definitions: &[AttributeDefinition]) -> impl Strategy<Value = AttributeValues> {
    let definitions = definitions.to_vec();
    prop::collection::vec(prop::option::of(0usize..4), definitions.len()).prop_map(move |picks| {
        definitions
            .iter()
            .zip(picks)
            .filter_map(|(definition, pick)| {
                let pick = pick?;
                let value = match definition.kind {
                    AttributeKind::Open => AttributeValue::Open(format!("text {pick}")),
                    AttributeKind::Closed => AttributeValue::Closed(vec![
                        definition.options[pick % definition.options.len()].id,
                    ]),
                };
                Some((definition.id, value))
            })
            .collect()
    })
}

fn any_state() -> impl Strategy<Value = FlowState> {
    (prop::option::of(prop::sample::select(KEYS)), 0u32..5).prop_map(|(awaiting, retries)| {
        FlowState {
            awaiting: awaiting.map(str::to_owned),
            retries,
        }
    })
}

proptest! {
    #[test]
    fn a_turn_keeps_to_its_script(
        script in any_script(),
        values in any_values(&definitions()),
        state in any_state(),
        messages in prop::collection::vec(any_reply(), 0..4),
    ) {
        let definitions = definitions();
        let got = flow_turn(&script, &FlowInput {
            lead_messages: &messages,
            definitions: &definitions,
            values: &values,
            state: &state,
        });
        let actions = &got.turn.actions;
        let asked: Vec<&str> = script.questions.iter().map(|q| q.attribute.as_str()).collect();

        for action in actions {
            if let AgentAction::SetAttribute { key, .. } = action {
                prop_assert!(asked.contains(&key.as_str()), "set {key}, not in the script");
                prop_assert_eq!(Some(key), state.awaiting.as_ref(), "set what was not awaited");
            }
        }
        let hand_offs = actions.iter().filter(|a| matches!(a, AgentAction::HandOff { .. })).count();
        let ends = actions.iter().filter(|a| matches!(a, AgentAction::End { .. })).count();
        prop_assert!(hand_offs + ends <= 1, "{actions:?}");
        prop_assert!(got.turn.replies().count() == 1, "{actions:?}");
        prop_assert!(!got.turn.reason.is_empty());

        if hand_offs + ends == 0 {
            let key = got.state.awaiting.as_deref();
            prop_assert!(key.is_some_and(|key| asked.contains(&key)), "{:?}", got.state);
            let definition = definitions.iter().find(|d| Some(d.key.as_str()) == key).unwrap();
            prop_assert!(!values.contains_key(&definition.id), "asked again for a known value");
        }
    }
}
