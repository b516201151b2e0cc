//! The flow script the benchmark's leads go through, their answers, and the flow
//! decision alone: `flow_turn`, no store, no HTTP.

use super::*;

pub(crate) fn script_json(questions: usize) -> Value {
    let questions: Vec<Value> = (1..=questions)
        .map(|q| json!({"attribute": format!("q{q}"), "text": format!("Question {q}: what is your answer?")}))
        .collect();
    json!({ "questions": questions })
}

pub(crate) fn lead_text(lead: usize, k: usize) -> String {
    if k == 1 {
        format!("Hello, this is lead {lead}, I got your message")
    } else {
        format!("My answer number {} is blue {lead}", k - 1)
    }
}

pub(crate) fn flow_decision_alone(messages: usize) {
    let script: FlowScript =
        serde_json::from_value(script_json(messages - 1)).expect("the script parses");
    let definitions: Vec<AttributeDefinition> = (1..=messages)
        .map(|q| {
            AttributeDefinition::create(
                &format!("q{q}"),
                &format!("Q{q}"),
                AttributeKind::Open,
                &[],
                false,
            )
            .expect("a definition")
        })
        .collect();
    let conversations = 2_000;
    let mut turns = 0usize;
    let started = Instant::now();
    for lead in 0..conversations {
        let mut values = AttributeValues::new();
        let mut state = FlowState::default();
        for k in 1..=messages {
            let said = [lead_text(lead, k)];
            let turn = flow_turn(
                &script,
                &FlowInput {
                    lead_messages: &said,
                    definitions: &definitions,
                    values: &values,
                    state: &state,
                },
            );
            turns += 1;
            for action in &turn.turn.actions {
                if let AgentAction::SetAttribute { key, value } = action {
                    let id = definitions
                        .iter()
                        .find(|d| &d.key == key)
                        .expect("a question's attribute")
                        .id;
                    values.insert(id, value.clone());
                }
            }
            assert!(
                (k == messages)
                    == turn
                        .turn
                        .actions
                        .iter()
                        .any(|a| matches!(a, AgentAction::HandOff { .. })),
                "the flow hands off exactly at the last message: {:?}",
                turn.turn
            );
            state = std::hint::black_box(turn.state);
        }
        let _: &AttributeValue = values.values().next().expect("answers stored");
    }
    let elapsed = started.elapsed();
    println!(
        "flow decision alone (flow_turn, no store): {turns} turns in {:.1} ms = {:.2} us per turn",
        ms(elapsed),
        elapsed.as_secs_f64() * 1e6 / turns as f64
    );
}
