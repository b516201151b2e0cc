//! Whatever goes wrong with the endpoint, the lead is handed to a person with the
//! failure as the reason.

use std::time::Duration;

use leadline_core::agent::{AgentAction, AgentTurn};
use leadline_core::custom_attribute::AttributeValue;
use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

use super::{
    KEY, Workspace, agent, completion, hand_off_reason, mount, run, settings, text_completion,
    tool_completion,
};
use crate::agent::llm::LlmAgent;

#[tokio::test]
async fn a_model_that_never_stops_calling_tools_hands_off_after_three_completions() {
    let server = MockServer::start().await;
    let call = (
        "call_1",
        "set_attribute",
        json!({ "key": "city", "value": "Madrid" }),
    );
    mount(
        &server,
        false,
        tool_completion(None, std::slice::from_ref(&call)),
    )
    .await;
    mount(&server, true, tool_completion(None, &[call])).await;

    let turn = run(&agent(&server), &Workspace::new().context()).await;

    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    // The answer is kept once, and the lead goes to a person.
    assert_eq!(
        turn.actions,
        [
            AgentAction::SetAttribute {
                key: "city".into(),
                value: AttributeValue::Open("Madrid".into()),
            },
            AgentAction::HandOff {
                reason: "the LLM endpoint gave no final answer in 3 completions".into()
            },
        ]
    );
}

#[tokio::test]
async fn a_timeout_hands_off() {
    let server = MockServer::start().await;
    mount(
        &server,
        false,
        text_completion("too late").set_delay(Duration::from_secs(3)),
    )
    .await;
    let agent = LlmAgent::new(reqwest::Client::new(), &settings(&server, 1));

    let turn = run(&agent, &Workspace::new().context()).await;

    assert_eq!(
        turn,
        AgentTurn::hand_off("the LLM endpoint did not answer within 1 s")
    );
}

#[tokio::test]
async fn an_error_status_hands_off_naming_the_status_and_the_start_of_the_body() {
    let server = MockServer::start().await;
    let body = format!("upstream exploded {}", "x".repeat(500));
    mount(
        &server,
        false,
        ResponseTemplate::new(500).set_body_string(body.clone()),
    )
    .await;

    let turn = run(&agent(&server), &Workspace::new().context()).await;

    let reason = hand_off_reason(&turn);
    let start: String = body.chars().take(200).collect();
    assert_eq!(
        reason,
        format!("the LLM endpoint answered HTTP 500: {start}")
    );
    assert_eq!(turn.actions.len(), 1);
    assert!(!reason.contains(KEY));
}

#[tokio::test]
async fn a_body_that_is_not_a_completion_hands_off() {
    let server = MockServer::start().await;
    mount(
        &server,
        false,
        ResponseTemplate::new(200).set_body_string("<html>Bad gateway</html>"),
    )
    .await;

    let turn = run(&agent(&server), &Workspace::new().context()).await;

    let reason = hand_off_reason(&turn);
    assert!(
        reason.starts_with("the LLM endpoint sent something that is not a chat completion"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_completion_with_neither_text_nor_tools_hands_off() {
    let server = MockServer::start().await;
    mount(
        &server,
        false,
        completion(json!({ "role": "assistant", "content": "  ", "tool_calls": null })),
    )
    .await;

    let turn = run(&agent(&server), &Workspace::new().context()).await;

    assert_eq!(
        turn,
        AgentTurn::hand_off("the LLM endpoint answered with neither text nor a tool call")
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_hands_off() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut settings = settings(&MockServer::start().await, 5);
    settings.base_url = format!("http://127.0.0.1:{port}/v1");

    let turn = run(
        &LlmAgent::new(reqwest::Client::new(), &settings),
        &Workspace::new().context(),
    )
    .await;

    let reason = hand_off_reason(&turn);
    assert!(
        reason.starts_with("the LLM endpoint could not be reached: "),
        "{reason}"
    );
}
