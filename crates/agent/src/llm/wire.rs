//! The OpenAI chat-completions wire format, as far as the LLM agent uses it: the request
//! (model, messages, function tools) and the first choice of the response. Only the
//! fields we read are declared, so the extra fields every provider adds are ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST …/chat/completions`.
#[derive(Debug, Serialize)]
pub(super) struct ChatRequest<'a> {
    pub model: &'a str,
    pub messages: &'a [Message],
    pub tools: &'a [Tool],
    /// Always `auto`: the model decides between text and tools.
    pub tool_choice: &'static str,
}

/// One message of the chat, tagged by its `role`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub(super) enum Message {
    System {
        content: String,
    },
    User {
        content: String,
    },
    /// The agent's earlier words, or a completion echoed back with its tool calls so
    /// the model can read their results.
    Assistant {
        #[serde(skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    /// The result of one tool call: `ok` or what went wrong.
    Tool {
        tool_call_id: String,
        content: String,
    },
}

/// A tool the model may call; only functions exist.
#[derive(Debug, Serialize)]
pub(super) struct Tool {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionDefinition,
}

#[derive(Debug, Serialize)]
pub(super) struct FunctionDefinition {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters: ObjectSchema,
}

/// The JSON schema of a function's arguments: an object of string properties.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ObjectSchema {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub properties: BTreeMap<&'static str, StringProperty>,
    pub required: Vec<&'static str>,
    pub additional_properties: bool,
}

/// One string property of a function's arguments.
#[derive(Debug, Serialize)]
pub(super) struct StringProperty {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub description: String,
    /// The allowed values, when they are known in advance (the attribute keys).
    #[serde(rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

/// The response; only the first choice is read.
#[derive(Debug, Deserialize)]
pub(super) struct ChatResponse {
    pub choices: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Choice {
    pub message: ResponseMessage,
}

/// What the model answered: text, tool calls, or both. Both fields may be `null` or
/// missing.
#[derive(Debug, Deserialize)]
pub(super) struct ResponseMessage {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCall>>,
}

/// An error answer in OpenAI's shape: `{"error": {"message", "type", "param",
/// "code"}}`; `code` is a string, a number or null depending on the server.
#[derive(Debug, Deserialize)]
pub(super) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
pub(super) struct ErrorDetail {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub code: Option<serde_json::Value>,
}

/// A call the model asks for; echoed back verbatim in the assistant message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct ToolCall {
    pub id: String,
    /// Always `function`; some servers leave it out of the response.
    #[serde(rename = "type", default = "function_kind")]
    pub kind: String,
    pub function: FunctionCall,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct FunctionCall {
    pub name: String,
    /// The arguments as a JSON text (not an object): the model wrote it and it may
    /// not parse.
    #[serde(default)]
    pub arguments: String,
}

fn function_kind() -> String {
    "function".into()
}

/// `set_attribute`'s arguments.
#[derive(Debug, Deserialize)]
pub(super) struct SetAttributeArguments {
    pub key: String,
    pub value: Scalar,
}

/// `hand_off`'s and `end_conversation`'s arguments.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ReasonArguments {
    #[serde(default)]
    pub reason: String,
}

/// A value the model was asked to give as a string but may give as a number or a
/// boolean ("budget": 5000); all three read as text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Scalar {
    Text(String),
    Number(serde_json::Number),
    Bool(bool),
}

impl Scalar {
    pub fn into_text(self) -> String {
        match self {
            Scalar::Text(text) => text,
            Scalar::Number(number) => number.to_string(),
            Scalar::Bool(flag) => flag.to_string(),
        }
    }
}
