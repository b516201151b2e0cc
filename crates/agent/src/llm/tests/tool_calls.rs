//! The tool calls: answers stored on the contact and reported back to the model, and
//! the two ways out of a conversation.

use leadline_core::agent::AgentAction;
use leadline_core::custom_attribute::AttributeValue;
use serde_json::json;
use wiremock::MockServer;

use super::{
    Workspace, agent, mount, request_bodies, run, text_completion, tool_completion, tool_results,
};

#[tokio::test]
async fn answers_are_stored_and_their_results_read_by_a_second_completion() {
    let server = MockServer::start().await;
    mount(
        &server,
        false,
        tool_completion(
            None,
            &[
                (
                    "call_1",
                    "set_attribute",
                    json!({ "key": "city", "value": "  Madrid " }),
                ),
                (
                    "call_2",
                    "set_attribute",
                    json!({ "key": "budget", "value": "MAS DE 10K" }),
                ),
            ],
        ),
    )
    .await;
    mount(&server, true, text_completion("¡Gracias! ¿Para cuándo?")).await;
    let workspace = Workspace::new();

    let turn = run(&agent(&server), &workspace.context()).await;

    assert_eq!(
        turn.actions,
        [
            AgentAction::SetAttribute {
                key: "city".into(),
                value: AttributeValue::Open("Madrid".into()),
            },
            AgentAction::SetAttribute {
                key: "budget".into(),
                value: workspace.option(&workspace.budget, "Más de 10k"),
            },
            AgentAction::Reply {
                text: "¡Gracias! ¿Para cuándo?".into()
            },
        ]
    );
    assert_eq!(
        turn.reason,
        "LLM (model gpt-4o-mini) replied and set city, budget; 2 completions"
    );

    let bodies = request_bodies(&server).await;
    assert_eq!(bodies.len(), 2);
    let messages = bodies[1]["messages"].as_array().unwrap();
    let echoed = &messages[messages.len() - 3];
    assert_eq!(echoed["role"], "assistant");
    assert_eq!(echoed["tool_calls"][0]["id"], "call_1");
    assert_eq!(echoed["tool_calls"][1]["function"]["name"], "set_attribute");
    assert_eq!(
        tool_results(&bodies[1]),
        [
            ("call_1".to_owned(), "ok".to_owned()),
            ("call_2".to_owned(), "ok".to_owned())
        ]
    );
}

#[tokio::test]
async fn an_unknown_attribute_or_option_is_reported_back_and_not_applied() {
    let server = MockServer::start().await;
    mount(
        &server,
        false,
        tool_completion(
            None,
            &[
                (
                    "call_1",
                    "set_attribute",
                    json!({ "key": "colour", "value": "blue" }),
                ),
                (
                    "call_2",
                    "set_attribute",
                    json!({ "key": "budget", "value": "maybe" }),
                ),
                ("call_3", "set_attribute", json!({ "key": "budget" })),
            ],
        ),
    )
    .await;
    mount(&server, true, text_completion("¿Cuál es tu presupuesto?")).await;

    let turn = run(&agent(&server), &Workspace::new().context()).await;

    assert_eq!(
        turn.actions,
        [AgentAction::Reply {
            text: "¿Cuál es tu presupuesto?".into()
        }]
    );
    assert_eq!(
        turn.reason,
        "LLM (model gpt-4o-mini) replied; 3 tool calls refused; 2 completions"
    );
    let results = tool_results(&request_bodies(&server).await[1]);
    assert_eq!(
        results[0].1,
        "unknown attribute 'colour'; known: city, budget, timeline, company"
    );
    assert_eq!(
        results[1].1,
        "'maybe' is not an option of budget; options: Under 5k, 5k-10k, Más de 10k"
    );
    assert!(
        results[2].1.starts_with("the arguments are not"),
        "{}",
        results[2].1
    );
}

#[tokio::test]
async fn hand_off_sends_the_text_first_and_keeps_the_answers_of_the_same_completion() {
    let server = MockServer::start().await;
    mount(
        &server,
        false,
        tool_completion(
            Some("Te paso con un asesor ahora mismo."),
            &[
                (
                    "call_1",
                    "set_attribute",
                    json!({ "key": "budget", "value": "5k-10k" }),
                ),
                (
                    "call_2",
                    "hand_off",
                    json!({ "reason": "lead wants a call" }),
                ),
            ],
        ),
    )
    .await;
    let workspace = Workspace::new();

    let turn = run(&agent(&server), &workspace.context()).await;

    assert_eq!(
        turn.actions,
        [
            AgentAction::SetAttribute {
                key: "budget".into(),
                value: workspace.option(&workspace.budget, "5k-10k"),
            },
            AgentAction::Reply {
                text: "Te paso con un asesor ahora mismo.".into()
            },
            AgentAction::HandOff {
                reason: "lead wants a call".into()
            },
        ]
    );
    assert_eq!(
        turn.reason,
        "LLM asked to hand off: lead wants a call; set budget; 1 completion"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn end_conversation_ends_it() {
    let server = MockServer::start().await;
    mount(
        &server,
        false,
        tool_completion(
            None,
            &[(
                "call_1",
                "end_conversation",
                json!({ "reason": "lead is not interested" }),
            )],
        ),
    )
    .await;

    let turn = run(&agent(&server), &Workspace::new().context()).await;

    assert_eq!(
        turn.actions,
        [AgentAction::End {
            reason: "lead is not interested".into()
        }]
    );
    assert_eq!(
        turn.reason,
        "LLM ended the conversation: lead is not interested; 1 completion"
    );
}
