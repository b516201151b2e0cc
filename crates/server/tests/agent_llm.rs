//! The LLM agent end to end against a mock chat-completions server, on both stores: a
//! `set_attribute` tool call stored on the contact and followed by the model's text,
//! which is sent; a `hand_off` tool call handing the conversation to a person; and an
//! endpoint that fails or hangs, after which the lead gets the workspace's hand-off
//! message instead of silence.

mod common;

use std::time::Duration;

use common::agent::AgentApp;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const CONTEXT: &str = "Downloaded the Austin 3-bedroom brochure";
const LLM_REPLY: &str = "Thanks! When would you like to move?";
const HANDOFF_MESSAGE: &str = "An advisor will take it from here.";

fn body_of(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap_or(Value::Null)
}

/// The last chat message of a completion request.
fn last_message(request: &Request) -> Value {
    body_of(request)["messages"]
        .as_array()
        .and_then(|messages| messages.last().cloned())
        .unwrap_or(Value::Null)
}

fn completion(message: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "test-model",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]
    }))
}

fn tool_call(id: &str, name: &str, arguments: Value) -> Value {
    json!({"role": "assistant", "content": null, "tool_calls": [
        {"id": id, "type": "function",
         "function": {"name": name, "arguments": arguments.to_string()}}
    ]})
}

/// The agent settings of the LLM agent at `server`.
async fn use_llm(app: &AgentApp, server: &MockServer, extra: Value) {
    let mut llm = json!({"baseUrl": server.uri(), "model": "test-model", "apiKey": "sk-test"});
    common::agent::merge(&mut llm, extra);
    let settings = app
        .agent_settings(json!({"agent": "LLM", "llm": llm, "handoffMessage": HANDOFF_MESSAGE}))
        .await;
    assert_eq!(settings["llm"]["apiKeySet"], true, "{settings}");
}

agent_stores!(the_llm_stores_answers_replies_and_hands_off, |app| {
    app.qualifying_attributes().await;
    let server = MockServer::start().await;
    // The result of a tool call read back: the model answers with text.
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .and(|request: &Request| last_message(request)["role"] == "tool")
        .respond_with(completion(
            json!({"role": "assistant", "content": LLM_REPLY}),
        ))
        .mount(&server)
        .await;
    // The lead asks for a call: hand off.
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .and(|request: &Request| {
            let last = last_message(request);
            last["role"] == "user" && last["content"].as_str().unwrap_or("").contains("call me")
        })
        .respond_with(completion(tool_call(
            "call_2",
            "hand_off",
            json!({"reason": "the lead wants a phone call"}),
        )))
        .mount(&server)
        .await;
    // Anything else the lead says: store the budget.
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(completion(tool_call(
            "call_1",
            "set_attribute",
            json!({"key": "budget", "value": "about 300k"}),
        )))
        .mount(&server)
        .await;
    use_llm(app, &server, json!({})).await;
    let lead = app
        .open("+14155550401", json!({"agentContext": CONTEXT}))
        .await;

    let mark = app.say(&lead, "My budget is about 300k").await;
    let reply = app.wait_for_decision(&lead, "REPLY", &mark).await;
    assert_eq!(
        app.kinds_since(&lead, &mark).await,
        ["SET_ATTRIBUTE", "REPLY"]
    );
    assert_eq!(app.sent_since(&lead, &mark).await, [LLM_REPLY]);
    assert!(
        reply["reason"].as_str().unwrap().contains("budget"),
        "{reply}"
    );
    assert_eq!(
        app.attribute(&lead, "budget").await,
        Some(vec!["about 300k".to_owned()])
    );
    let conversation = app.conversation(&lead).await;
    assert_eq!(conversation["status"], "ACTIVE");
    assert_eq!(conversation["agent"]["turns"], 1);

    // What the endpoint received: two completions with the key, the model, the
    // LeadScout context and the lead's words; the second with the tool's result.
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2, "{requests:?}");
    for request in &requests {
        assert_eq!(
            request
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer sk-test")
        );
    }
    let first = body_of(&requests[0]);
    assert_eq!(first["model"], "test-model");
    let messages = first["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system", "{first}");
    assert!(
        messages[0]["content"].as_str().unwrap().contains(CONTEXT),
        "{first}"
    );
    assert_eq!(
        messages.last().unwrap(),
        &json!({"role": "user", "content": "My budget is about 300k"})
    );
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert!(tools.contains(&"set_attribute"), "{tools:?}");
    assert!(tools.contains(&"hand_off"), "{tools:?}");
    let second = body_of(&requests[1]);
    let tool_result = second["messages"].as_array().unwrap().last().unwrap();
    assert_eq!(tool_result["tool_call_id"], "call_1", "{second}");
    assert_eq!(tool_result["content"], "ok", "{second}");

    // The model hands off: the workspace's hand-off message, a person in charge.
    let mark = app.say(&lead, "Can someone call me tomorrow?").await;
    let hand_off = app.wait_for_decision(&lead, "HAND_OFF", &mark).await;
    assert!(
        hand_off["reason"]
            .as_str()
            .unwrap()
            .contains("the lead wants a phone call"),
        "{hand_off}"
    );
    assert_eq!(app.sent_since(&lead, &mark).await, [HANDOFF_MESSAGE]);
    let conversation = app.conversation(&lead).await;
    assert_eq!(conversation["status"], "HANDED_OFF", "{conversation}");
    assert_eq!(conversation["controller"], "HUMAN");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    // The transcript the model read holds the agent's earlier reply.
    let third = body_of(&requests[2]);
    assert!(
        third["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["role"] == "assistant" && m["content"] == LLM_REPLY),
        "{third}"
    );

    // Nothing more from the agent, and no more completions.
    let mark = app.say(&lead, "Hello?").await;
    app.assert_no_reply(&lead, &mark, "SKIPPED").await;
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
});

agent_stores!(a_failing_llm_hands_off_with_the_handoff_message, |app| {
    app.qualifying_attributes().await;

    // An endpoint answering 500.
    let broken = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream exploded"))
        .mount(&broken)
        .await;
    use_llm(app, &broken, json!({})).await;
    let lead = app.open("+14155550411", json!({})).await;
    let mark = app.say(&lead, "Hi, tell me more").await;
    let hand_off = app.wait_for_decision(&lead, "HAND_OFF", &mark).await;
    assert!(
        hand_off["reason"].as_str().unwrap().contains("HTTP 500"),
        "{hand_off}"
    );
    assert_eq!(app.kinds_since(&lead, &mark).await, ["HAND_OFF"]);
    assert_eq!(app.sent_since(&lead, &mark).await, [HANDOFF_MESSAGE]);
    let conversation = app.conversation(&lead).await;
    assert_eq!(conversation["status"], "HANDED_OFF", "{conversation}");
    assert_eq!(conversation["controller"], "HUMAN");
    assert_eq!(broken.received_requests().await.unwrap().len(), 1);

    // An endpoint that hangs past the one-second timeout.
    let hanging = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            completion(json!({"role": "assistant", "content": "Too late"}))
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&hanging)
        .await;
    use_llm(app, &hanging, json!({"timeoutSeconds": 1})).await;
    let lead = app.open("+14155550412", json!({})).await;
    let mark = app.say(&lead, "Hi, tell me more").await;
    let hand_off = app.wait_for_decision(&lead, "HAND_OFF", &mark).await;
    assert!(
        hand_off["reason"]
            .as_str()
            .unwrap()
            .contains("did not answer within 1 s"),
        "{hand_off}"
    );
    assert_eq!(app.sent_since(&lead, &mark).await, [HANDOFF_MESSAGE]);
    assert_eq!(app.conversation(&lead).await["status"], "HANDED_OFF");
    assert!(
        !app.outbound_texts(&lead)
            .await
            .iter()
            .any(|text| text == "Too late")
    );
});
