//! Time of the pure part of one flow-script agent turn, as the server runs it on an
//! inbound reply: `opt_out::classify` of every new message, the guardrails (turn
//! limit, the send gate with reply hours, the minimum delay), and `flow_turn` on a
//! script of 10 questions over a workspace with 30 custom attributes (15 OPEN, 15
//! CLOSED with 5–8 options each).
//!
//! The mix cycles over 512 conversations at every stage of the script: a first reply,
//! an answer by label, by number, by yes/no synonym, a free-text answer, an unusable
//! answer (asked again, or handed off past the retry limit), a request for a person,
//! and the last answer (qualified or not), with one to three messages each and leads
//! in states with and without rules, inside and outside their hours.
//!
//! `cargo bench -p leadline-core --bench agent_turn` first prints how the mix's turns
//! end (asked, stored + asked, asked again, hand-off, end; proceed or defer); the
//! `median` of `flow_turn_varied` is the time of one turn, all three steps included.

use std::cell::Cell;
use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use leadline_core::agent::AgentAction;
use leadline_core::agent::flow::{
    FlowInput, FlowQuestion, FlowScript, FlowState, FlowTurn, QualificationRule, flow_turn,
};
use leadline_core::agent::guardrails::{self, GuardrailDecision, GuardrailInput};
use leadline_core::agent::settings::AgentSettings;
use leadline_core::calling_hours::CallingHours;
use leadline_core::custom_attribute::{
    AttributeDefinition, AttributeKind, AttributeValue, AttributeValues,
};
use leadline_core::opt_out;
use leadline_core::phone::E164;

const CASES: usize = 512;

/// 30 attributes: even ones OPEN, odd ones CLOSED with 5 to 8 options.
fn definitions() -> Vec<AttributeDefinition> {
    const WORDS: [&str; 8] = [
        "Now", "Soon", "Later", "Cash", "Mortgage", "Not sure", "Yes", "No",
    ];
    (0..30)
        .map(|n| {
            let key = format!("attr_{n}");
            if n % 2 == 0 {
                return AttributeDefinition::create(&key, &key, AttributeKind::Open, &[], false)
                    .unwrap();
            }
            let options: Vec<String> = match n % 4 {
                // Yes/no-like options, so synonyms are read too.
                1 => vec![
                    "Yes".into(),
                    "No".into(),
                    "Not sure".into(),
                    "Maybe later".into(),
                    "Already have one".into(),
                ],
                _ => (0..5 + n % 4)
                    .map(|k| format!("{} {}", WORDS[(n + k) % WORDS.len()], k + 1))
                    .collect(),
            };
            AttributeDefinition::create(&key, &key, AttributeKind::Closed, &options, false).unwrap()
        })
        .collect()
}

/// 10 questions over attributes spread across the workspace, two rules.
fn script(definitions: &[AttributeDefinition]) -> FlowScript {
    let mut script: FlowScript =
        serde_json::from_value(serde_json::json!({"questions": []})).unwrap();
    script.questions = (0..10)
        .map(|q| {
            let definition = &definitions[q * 3 % 30];
            FlowQuestion {
                attribute: definition.key.clone(),
                text: format!("Question {q}: tell us about {}?", definition.key),
            }
        })
        .collect();
    let closed: Vec<&AttributeDefinition> = script
        .questions
        .iter()
        .filter_map(|q| {
            definitions
                .iter()
                .find(|d| d.key == q.attribute && d.kind == AttributeKind::Closed)
        })
        .collect();
    script.qualification = closed
        .iter()
        .take(2)
        .map(|d| QualificationRule {
            attribute: d.key.clone(),
            any_of: d.options.iter().take(2).map(|o| o.label.clone()).collect(),
        })
        .collect();
    script.validate(definitions).unwrap();
    script
}

const PHONES: [&str; 4] = [
    "+14155550100",
    "+13055550100",
    "+12125550100",
    "+14015550100",
];

struct Case {
    messages: Vec<String>,
    values: AttributeValues,
    state: FlowState,
    phone: E164,
    now: DateTime<Utc>,
    last_reply_at: Option<DateTime<Utc>>,
    turns_taken: u32,
}

/// The `i`th conversation of the mix: how far it got, and what the lead wrote.
fn case(i: usize, definitions: &[AttributeDefinition], script: &FlowScript) -> Case {
    let stage = i % 11; // 0: first reply; 1..=10: answering question stage-1.
    let mut values = AttributeValues::new();
    for question in script.questions.iter().take(stage.saturating_sub(1)) {
        let definition = definitions
            .iter()
            .find(|d| d.key == question.attribute)
            .unwrap();
        let value = match definition.kind {
            AttributeKind::Open => AttributeValue::Open("earlier answer".into()),
            AttributeKind::Closed => AttributeValue::Closed(vec![definition.options[i % 3].id]),
        };
        values.insert(definition.id, value);
    }
    let awaited = stage.checked_sub(1).map(|q| {
        let key = &script.questions[q].attribute;
        definitions.iter().find(|d| d.key == *key).unwrap()
    });
    let answer = match (awaited, i % 7) {
        (_, 5) => "I'd rather talk to a real person".to_owned(),
        (_, 6) => "what do you mean by that? I'm not following, sorry".to_owned(),
        (Some(d), 0..=1) if d.kind == AttributeKind::Closed => {
            format!(
                "I think {}",
                d.options[i % d.options.len()].label.to_lowercase()
            )
        }
        (Some(d), 2) if d.kind == AttributeKind::Closed => format!("{}", 1 + i % d.options.len()),
        (Some(d), 3) if d.kind == AttributeKind::Closed => "yeah, of course".to_owned(),
        _ => "We're looking for a 3 bedroom house close to the schools, budget around 450k"
            .to_owned(),
    };
    let mut messages = vec![answer];
    if i.is_multiple_of(3) {
        messages.insert(0, "Hi! Thanks for reaching out.".to_owned());
    }
    if i.is_multiple_of(5) {
        messages.push("ok 👍".to_owned());
    }
    // Every hour of a day, so inside and outside the windows; every 9th reply comes
    // within the minimum delay of the agent's last one.
    let midnight: DateTime<Utc> = "2026-11-23T00:00:00Z".parse().unwrap();
    let now = midnight + TimeDelta::minutes((i * 47 % 1440) as i64);
    let since_last = TimeDelta::seconds(if i.is_multiple_of(9) { 1 } else { 60 });
    Case {
        messages,
        values,
        state: FlowState {
            awaiting: awaited.map(|d| d.key.clone()),
            retries: (i % 4) as u32,
        },
        phone: E164::parse(PHONES[i % PHONES.len()]).unwrap(),
        now,
        last_reply_at: (stage > 0).then(|| now - since_last),
        turns_taken: stage as u32,
    }
}

/// Prints what the mix exercises, then runs the benchmark.
fn main() {
    let definitions = definitions();
    let script = script(&definitions);
    let settings = AgentSettings::default();
    let reply_hours = settings.reply_hours();
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for i in 0..CASES {
        let (guardrail, turn) = run(
            &case(i, &definitions, &script),
            &definitions,
            &script,
            &settings,
            &reply_hours,
        );
        let action = turn.turn.actions.iter().rev().find_map(|a| match a {
            AgentAction::HandOff { .. } => Some("hand-off"),
            AgentAction::End { .. } => Some("end"),
            _ => None,
        });
        let stored = turn
            .turn
            .actions
            .iter()
            .any(|a| matches!(a, AgentAction::SetAttribute { .. }));
        let outcome = match (action, stored) {
            (Some(action), _) => action,
            (None, true) => "stored + asked",
            (None, false) if turn.state.retries > 0 => "asked again",
            (None, false) => "asked",
        };
        *outcomes.entry(outcome).or_default() += 1;
        let guardrail = match guardrail {
            GuardrailDecision::Proceed => "proceed",
            GuardrailDecision::Defer { .. } => "defer",
            GuardrailDecision::HandOff { .. } => "guardrail hand-off",
        };
        *outcomes.entry(guardrail).or_default() += 1;
    }
    println!("{CASES} turns, 10 questions over 30 attributes: {outcomes:?}");
    divan::main();
}

/// One turn's pure part: classify, guardrails, flow.
fn run(
    case: &Case,
    definitions: &[AttributeDefinition],
    script: &FlowScript,
    settings: &AgentSettings,
    reply_hours: &CallingHours,
) -> (GuardrailDecision, FlowTurn) {
    let intents: Vec<_> = case.messages.iter().map(|m| opt_out::classify(m)).collect();
    divan::black_box(intents);
    let guardrail = guardrails::check(
        settings,
        reply_hours,
        &GuardrailInput {
            now: case.now,
            turns_taken: case.turns_taken,
            last_reply_at: case.last_reply_at,
            phone: &case.phone,
            lead_zone: None,
            workspace_zone: None,
        },
    );
    let turn = flow_turn(
        script,
        &FlowInput {
            lead_messages: &case.messages,
            definitions,
            values: &case.values,
            state: &case.state,
        },
    );
    (guardrail, turn)
}

#[divan::bench(sample_count = 4096, sample_size = 8)]
fn flow_turn_varied(bencher: divan::Bencher) {
    let definitions = definitions();
    let script = script(&definitions);
    let settings = AgentSettings::default();
    let reply_hours = settings.reply_hours();
    let cases: Vec<Case> = (0..CASES).map(|i| case(i, &definitions, &script)).collect();
    let next = Cell::new(0);
    bencher.bench_local(|| {
        let i = next.get();
        next.set((i + 1) % cases.len());
        divan::black_box(run(
            &cases[i],
            &definitions,
            divan::black_box(&script),
            &settings,
            &reply_hours,
        ))
    });
}
