//! The LLM agent against a mock chat-completions endpoint holding the documented
//! OpenAI request and response shapes.

use chrono::{DateTime, Utc};
use leadline_core::ConversationId;
use leadline_core::agent::flow::FlowState;
use leadline_core::agent::settings::LlmSettings;
use leadline_core::agent::{AgentAction, AgentTurn};
use leadline_core::channel::MessageProviderType;
use leadline_core::contact::LanguageCode;
use leadline_core::custom_attribute::{
    AttributeDefinition, AttributeKind, AttributeValue, AttributeValues,
};
use leadline_providers::outbound::{ClientOptions, OutboundClient, OutboundPolicy};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

use super::{LlmAgent, MAX_REPLY_CHARS, cap_reply, tools};
use crate::{Agent, Speaker, TranscriptLine, TurnContext};

mod failures;
mod tool_calls;

const KEY: &str = "sk-test-secret";
const MODEL: &str = "gpt-4o-mini";
const COMPLETIONS: &str = "/v1/chat/completions";

/// The workspace of every test: two unknown attributes (an open one and a closed one
/// with an accented option) and two the contact already has.
struct Workspace {
    city: AttributeDefinition,
    budget: AttributeDefinition,
    timeline: AttributeDefinition,
    company: AttributeDefinition,
}

impl Workspace {
    fn new() -> Self {
        let labels = |labels: &[&str]| labels.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        Self {
            city: AttributeDefinition::create("city", "City", AttributeKind::Open, &[], false)
                .unwrap(),
            budget: AttributeDefinition::create(
                "budget",
                "Budget",
                AttributeKind::Closed,
                &labels(&["Under 5k", "5k-10k", "Más de 10k"]),
                true,
            )
            .unwrap(),
            timeline: AttributeDefinition::create(
                "timeline",
                "Timeline",
                AttributeKind::Closed,
                &labels(&["This month", "Later"]),
                false,
            )
            .unwrap(),
            company: AttributeDefinition::create(
                "company",
                "Company",
                AttributeKind::Open,
                &[],
                false,
            )
            .unwrap(),
        }
    }

    fn option(&self, definition: &AttributeDefinition, label: &str) -> AttributeValue {
        let option = definition
            .options
            .iter()
            .find(|o| o.label == label)
            .unwrap();
        AttributeValue::Closed(vec![option.id])
    }

    /// A turn answering the lead's "Hola, sí, me interesa".
    fn context(&self) -> TurnContext {
        let mut values = AttributeValues::new();
        values.insert(self.timeline.id, self.option(&self.timeline, "This month"));
        values.insert(self.company.id, AttributeValue::Open("Acme".into()));
        let at: DateTime<Utc> = "2026-11-20T10:00:00Z".parse().unwrap();
        TurnContext {
            conversation_id: ConversationId::new(),
            channel_type: MessageProviderType::Whatsapp,
            transcript: vec![
                TranscriptLine {
                    speaker: Speaker::Agent,
                    text: "Hi Ana, thanks for your interest!".into(),
                    at,
                },
                TranscriptLine {
                    speaker: Speaker::Lead,
                    text: "Hola, sí, me interesa".into(),
                    at,
                },
            ],
            new_messages: vec!["Hola, sí, me interesa".into()],
            first_name: Some("Ana".into()),
            language: Some(LanguageCode::Es),
            definitions: vec![
                self.city.clone(),
                self.budget.clone(),
                self.timeline.clone(),
                self.company.clone(),
            ],
            values,
            agent_context: Some("Wants a 3-bedroom house near the beach".into()),
            flow_state: FlowState::default(),
        }
    }
}

fn settings(server: &MockServer, timeout_seconds: u32) -> LlmSettings {
    LlmSettings {
        // The trailing slash is dropped before `/chat/completions` is appended.
        base_url: format!("{}/v1/", server.uri()),
        model: MODEL.into(),
        api_key: Some(KEY.into()),
        api_key_set: true,
        timeout_seconds,
        system_prompt: None,
    }
}

/// A guarded client that lets the mock endpoint on 127.0.0.1 through, as an operator
/// allows a self-hosted LLM.
fn client() -> OutboundClient {
    OutboundClient::new(
        OutboundPolicy::parse(&["127.0.0.0/8"]).unwrap(),
        ClientOptions::default(),
    )
    .unwrap()
}

fn agent(server: &MockServer) -> LlmAgent {
    LlmAgent::new(client(), &settings(server, 5))
}

async fn run(agent: &LlmAgent, context: &TurnContext) -> AgentTurn {
    let result = agent.turn(context).await;
    assert_eq!(result.flow_state, None, "the LLM agent keeps no flow state");
    result.turn
}

/// A completion answering text.
fn text_completion(text: &str) -> ResponseTemplate {
    completion(json!({ "role": "assistant", "content": text }))
}

/// A completion calling tools: `(id, name, arguments)`, with optional text.
fn tool_completion(content: Option<&str>, calls: &[(&str, &str, Value)]) -> ResponseTemplate {
    let calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, arguments)| {
            json!({
                "id": id,
                "type": "function",
                "function": { "name": name, "arguments": arguments.to_string() }
            })
        })
        .collect();
    completion(json!({ "role": "assistant", "content": content, "tool_calls": calls }))
}

fn completion(message: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_763_632_800,
        "model": MODEL,
        "choices": [{ "index": 0, "message": message, "finish_reason": "stop" }],
        "usage": { "prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120 }
    }))
}

/// Tells the first completion of a turn from the ones that read tool results.
struct CarriesToolResults(bool);

impl Match for CarriesToolResults {
    fn matches(&self, request: &Request) -> bool {
        String::from_utf8_lossy(&request.body).contains(r#""role":"tool""#) == self.0
    }
}

async fn mount(server: &MockServer, tool_results: bool, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .and(CarriesToolResults(tool_results))
        .respond_with(response)
        .mount(server)
        .await;
}

async fn request_bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| request.body_json().unwrap())
        .collect()
}

/// The tool messages of a request: `(tool_call_id, content)`.
fn tool_results(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| {
            (
                m["tool_call_id"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn hand_off_reason(turn: &AgentTurn) -> &str {
    turn.hand_off_reason().expect("the turn hands off")
}

#[tokio::test]
async fn a_text_answer_is_the_reply() {
    let server = MockServer::start().await;
    mount(
        &server,
        false,
        text_completion("¡Hola Ana! ¿Cuál es tu presupuesto?"),
    )
    .await;

    let turn = run(&agent(&server), &Workspace::new().context()).await;

    assert_eq!(
        turn.actions,
        [AgentAction::Reply {
            text: "¡Hola Ana! ¿Cuál es tu presupuesto?".into()
        }]
    );
    assert_eq!(turn.reason, "LLM (model gpt-4o-mini) replied; 1 completion");
}

#[tokio::test]
async fn the_request_carries_the_key_the_model_the_tools_and_the_lead() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(text_completion("Hola"))
        .expect(1)
        .mount(&server)
        .await;

    let turn = run(&agent(&server), &Workspace::new().context()).await;
    assert_eq!(turn.replies().collect::<Vec<_>>(), ["Hola"]);

    let body = &request_bodies(&server).await[0];
    assert_eq!(body["model"], MODEL);
    assert_eq!(body["tool_choice"], "auto");
    let tools = body["tools"].as_array().unwrap();
    let names: Vec<&str> = tools
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["set_attribute", "hand_off", "end_conversation"]);
    assert!(tools.iter().all(|t| t["type"] == "function"));
    let set_attribute = &tools[0]["function"]["parameters"];
    assert_eq!(set_attribute["type"], "object");
    assert_eq!(set_attribute["required"], json!(["key", "value"]));
    assert_eq!(
        set_attribute["properties"]["key"]["enum"],
        json!(["city", "budget", "timeline", "company"])
    );
    assert!(set_attribute["properties"]["value"]["description"].is_string());
    assert_eq!(
        tools[1]["function"]["parameters"]["required"],
        json!(["reason"])
    );

    let messages = body["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "assistant", "user"]);
    assert_eq!(messages[1]["content"], "Hi Ana, thanks for your interest!");
    assert_eq!(messages[2]["content"], "Hola, sí, me interesa");
    let system = messages[0]["content"].as_str().unwrap();
    for expected in [
        "same language as the lead",
        "Channel: WhatsApp",
        "Lead's first name: Ana",
        "Lead's language: Spanish",
        "Wants a 3-bedroom house near the beach",
        "- timeline (Timeline): This month",
        "- company (Company): Acme",
        "- city (City): free text",
        r#"- budget (Budget), required: one of "Under 5k", "5k-10k", "Más de 10k""#,
    ] {
        assert!(
            system.contains(expected),
            "{expected:?} missing from:\n{system}"
        );
    }
}

#[tokio::test]
async fn without_a_key_no_authorization_is_sent_and_the_workspace_prompt_is_used() {
    let server = MockServer::start().await;
    mount(&server, false, text_completion("Hi")).await;
    let mut settings = settings(&server, 5);
    settings.api_key = None;
    settings.system_prompt = Some("You sell boats.".into());

    run(
        &LlmAgent::new(client(), &settings),
        &Workspace::new().context(),
    )
    .await;

    let request = &server.received_requests().await.unwrap()[0];
    assert!(!request.headers.contains_key("authorization"));
    let body: Value = request.body_json().unwrap();
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.starts_with("You sell boats.\n\n# Context"),
        "{system}"
    );
}

#[test]
fn a_long_reply_is_cut_to_1600_characters() {
    let reply = cap_reply(&"é".repeat(2_000));
    assert_eq!(reply.chars().count(), MAX_REPLY_CHARS);
    assert!(reply.ends_with('…'));
    assert_eq!(cap_reply("short"), "short");
}

#[test]
fn option_labels_match_without_case_accents_or_quotes_and_paraphrases_are_read() {
    let workspace = Workspace::new();
    let definitions = [workspace.budget.clone()];
    let expected = workspace.option(&workspace.budget, "Más de 10k");
    for value in [
        "Más de 10k",
        "mas de 10K",
        "\"MÁS  DE 10K.\"",
        "ma\u{301}s de 10k",
    ] {
        assert_eq!(
            tools::resolve_value("budget", value, &definitions),
            Ok(("budget".to_owned(), expected.clone())),
            "{value}"
        );
    }
    // A paraphrase is read as the flow reads a lead's answer.
    let second = workspace.option(&workspace.budget, "5k-10k");
    for value in ["option 2", "around 5k-10k I think"] {
        assert_eq!(
            tools::resolve_value("budget", value, &definitions),
            Ok(("budget".to_owned(), second.clone())),
            "{value}"
        );
    }
    assert!(tools::resolve_value("budget", "", &definitions).is_err());
}
