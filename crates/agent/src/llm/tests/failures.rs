//! Whatever goes wrong with the endpoint, the lead is handed to a person with the
//! failure as the reason.

use std::time::Duration;

use leadline_core::agent::{AgentAction, AgentTurn};
use leadline_core::custom_attribute::AttributeValue;
use leadline_providers::outbound::{ClientOptions, OutboundClient, OutboundPolicy};
use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

use super::{
    KEY, Workspace, agent, client, completion, hand_off_reason, mount, run, settings,
    text_completion, tool_completion,
};
use crate::llm::LlmAgent;

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
    let agent = LlmAgent::new(client(), &settings(&server, 1));

    let turn = run(&agent, &Workspace::new().context()).await;

    assert_eq!(
        turn,
        AgentTurn::hand_off("the LLM endpoint did not answer within 1 s")
    );
}

#[tokio::test]
async fn an_error_page_hands_off_naming_the_status_but_none_of_the_body() {
    let server = MockServer::start().await;
    let body = format!(
        "<html><h1>Internal admin</h1><pre>root:x:0:0</pre>{}</html>",
        "x".repeat(5000)
    );
    mount(
        &server,
        false,
        ResponseTemplate::new(500).set_body_string(body),
    )
    .await;

    let turn = run(&agent(&server), &Workspace::new().context()).await;

    assert_eq!(
        hand_off_reason(&turn),
        "the LLM endpoint answered HTTP 500: the endpoint failed"
    );
    assert_eq!(turn.actions.len(), 1);
}

#[tokio::test]
async fn an_openai_error_hands_off_with_its_code_and_the_start_of_its_message() {
    let server = MockServer::start().await;
    let message = format!(
        "The model `gpt-9` does not exist\nor you do not have access to it. {}",
        "z".repeat(300)
    );
    mount(
        &server,
        false,
        ResponseTemplate::new(404).set_body_json(json!({"error": {
            "message": message, "type": "invalid_request_error", "param": null,
            "code": "model_not_found"}})),
    )
    .await;

    let turn = run(&agent(&server), &Workspace::new().context()).await;

    let reason = hand_off_reason(&turn);
    let (head, detail) = reason.split_once("): ").unwrap();
    assert_eq!(
        head,
        "the LLM endpoint answered HTTP 404 (code model_not_found"
    );
    assert!(
        detail.starts_with("The model `gpt-9` does not exist or you do not have access"),
        "{reason}"
    );
    assert_eq!(detail.chars().count(), 121, "{reason}");
    assert!(!reason.contains(KEY));
}

#[tokio::test]
async fn a_completion_quoting_secrets_in_the_wrong_place_is_not_echoed() {
    let server = MockServer::start().await;
    // `choices` must be a list; serde's own message would quote the string.
    mount(
        &server,
        false,
        ResponseTemplate::new(200).set_body_json(json!({"choices": "AWS_SECRET_ACCESS_KEY=abc"})),
    )
    .await;

    let turn = run(&agent(&server), &Workspace::new().context()).await;

    assert_eq!(
        hand_off_reason(&turn),
        "the LLM endpoint sent something that is not a chat completion (at choices)"
    );
}

#[tokio::test]
async fn a_redirect_hands_off_and_is_not_followed() {
    let target = MockServer::start().await;
    mount(&target, false, text_completion("followed")).await;
    let server = MockServer::start().await;
    mount(
        &server,
        false,
        ResponseTemplate::new(307)
            .insert_header("location", format!("{}/v1/chat/completions", target.uri())),
    )
    .await;

    let turn = run(&agent(&server), &Workspace::new().context()).await;

    assert!(
        hand_off_reason(&turn).starts_with("the LLM endpoint answered HTTP 307: a redirect"),
        "{turn:?}"
    );
    assert!(target.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refused_endpoint_hands_off_without_a_call() {
    let server = MockServer::start().await;
    mount(&server, false, text_completion("should not be asked")).await;
    let guarded = OutboundClient::new(OutboundPolicy::default(), ClientOptions::default()).unwrap();
    for base_url in [
        format!("{}/v1", server.uri()),
        format!("http://localhost:{}/v1", server.address().port()),
    ] {
        let mut settings = settings(&server, 5);
        settings.base_url = base_url;

        let turn = run(
            &LlmAgent::new(guarded.clone(), &settings),
            &Workspace::new().context(),
        )
        .await;

        let reason = hand_off_reason(&turn);
        assert!(
            reason.starts_with("the LLM endpoint was refused by the outbound guard: ")
                && reason.contains(
                    "a loopback address; the operator can allow it with --allow-outbound"
                ),
            "{reason}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
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
        &LlmAgent::new(client(), &settings),
        &Workspace::new().context(),
    )
    .await;

    assert_eq!(
        hand_off_reason(&turn),
        "the LLM endpoint could not be reached"
    );
}
