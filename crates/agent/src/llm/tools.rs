//! The three tools the model may call and what each call means: `set_attribute`
//! resolved against the workspace's custom attributes, `hand_off` and
//! `end_conversation`. A call that cannot be applied becomes a tool result saying why,
//! so the model can correct itself in the next completion.

use std::collections::BTreeMap;

use leadline_core::agent::extract::extract_answer;
use leadline_core::custom_attribute::{
    AttributeDefinition, AttributeKind, AttributeValue, MAX_OPEN_VALUE_CHARS,
};
use leadline_core::opt_out::fold_letter;

use super::wire::{
    FunctionDefinition, ObjectSchema, ReasonArguments, SetAttributeArguments, StringProperty, Tool,
    ToolCall,
};

pub(super) const SET_ATTRIBUTE: &str = "set_attribute";
pub(super) const HAND_OFF: &str = "hand_off";
pub(super) const END_CONVERSATION: &str = "end_conversation";

/// The tools of every request. `set_attribute`'s key is limited to the workspace's
/// attribute keys when it has any (an empty `enum` is not a valid schema).
pub(super) fn definitions(attributes: &[AttributeDefinition]) -> Vec<Tool> {
    let keys: Vec<String> = attributes.iter().map(|d| d.key.clone()).collect();
    vec![
        function(
            SET_ATTRIBUTE,
            "Store an answer the lead gave on the contact. Use it for every attribute the lead answered, before replying.",
            [
                (
                    "key",
                    "The key of one of the contact's attributes, as listed in the system message.",
                    (!keys.is_empty()).then_some(keys),
                ),
                (
                    "value",
                    "The answer: free text for open attributes, exactly one option label for closed ones.",
                    None,
                ),
            ],
        ),
        function(
            HAND_OFF,
            "Give the conversation to a human advisor: the lead asks for a person, is qualified, or asks something you cannot answer. You will not speak again in this conversation.",
            [(
                "reason",
                "Why, in one short sentence for the advisor.",
                None,
            )],
        ),
        function(
            END_CONVERSATION,
            "Close the conversation because the lead is not interested. Nobody will answer the lead afterwards.",
            [("reason", "Why, in one short sentence.", None)],
        ),
    ]
}

/// A function tool whose arguments are all required strings.
fn function<const N: usize>(
    name: &'static str,
    description: &'static str,
    parameters: [(&'static str, &'static str, Option<Vec<String>>); N],
) -> Tool {
    let mut properties = BTreeMap::new();
    let mut required = Vec::with_capacity(N);
    for (parameter, about, allowed) in parameters {
        properties.insert(
            parameter,
            StringProperty {
                kind: "string",
                description: about.to_owned(),
                allowed,
            },
        );
        required.push(parameter);
    }
    Tool {
        kind: "function",
        function: FunctionDefinition {
            name,
            description,
            parameters: ObjectSchema {
                kind: "object",
                properties,
                required,
                additional_properties: false,
            },
        },
    }
}

/// A `hand_off` or `end_conversation` call: the model's reason, or a stand-in when its
/// arguments do not parse (the call is obeyed anyway: a lead who asked for a person
/// must not be kept with the agent because of a typo in the JSON).
pub(super) fn reason_of(call: &ToolCall) -> String {
    let reason = serde_json::from_str::<ReasonArguments>(&call.function.arguments)
        .unwrap_or_default()
        .reason;
    let reason = reason.trim();
    if reason.is_empty() {
        "no reason given".to_owned()
    } else {
        reason.to_owned()
    }
}

/// Reads a `set_attribute` call: the attribute key and its resolved value, or the
/// tool result telling the model what was wrong.
pub(super) fn resolve_set_attribute(
    call: &ToolCall,
    definitions: &[AttributeDefinition],
) -> Result<(String, AttributeValue), String> {
    let arguments: SetAttributeArguments =
        serde_json::from_str(&call.function.arguments).map_err(|error| {
            format!("the arguments are not {{\"key\": string, \"value\": string}}: {error}")
        })?;
    let value = arguments.value.into_text();
    resolve_value(arguments.key.trim(), value.trim(), definitions)
}

/// Resolves one answer against the attribute with `key`: free text for an OPEN
/// attribute, the option whose label matches for a CLOSED one.
pub(super) fn resolve_value(
    key: &str,
    value: &str,
    definitions: &[AttributeDefinition],
) -> Result<(String, AttributeValue), String> {
    let Some(definition) = definitions.iter().find(|d| d.key == key) else {
        let known: Vec<&str> = definitions.iter().map(|d| d.key.as_str()).collect();
        return Err(if known.is_empty() {
            format!("unknown attribute '{key}'; this workspace has no attributes")
        } else {
            format!("unknown attribute '{key}'; known: {}", known.join(", "))
        });
    };
    if value.is_empty() {
        return Err(format!("the value for {key} is empty"));
    }
    let resolved = match definition.kind {
        AttributeKind::Open if value.chars().count() > MAX_OPEN_VALUE_CHARS => {
            return Err(format!(
                "the value for {key} is longer than {MAX_OPEN_VALUE_CHARS} characters"
            ));
        }
        AttributeKind::Open => AttributeValue::Open(value.to_owned()),
        AttributeKind::Closed => {
            let wanted = comparable(value);
            let exact = definition
                .options
                .iter()
                .find(|option| comparable(&option.label) == wanted)
                .map(|option| AttributeValue::Closed(vec![option.id]));
            // The model was told to give a label; when it paraphrases ("yeah" for Yes,
            // "option 2", a label inside a sentence) the flow's answer reading, which
            // refuses anything ambiguous, gets a chance before the model is corrected.
            let Some(resolved) = exact.or_else(|| extract_answer(value, definition)) else {
                let labels: Vec<&str> = definition
                    .options
                    .iter()
                    .map(|o| o.label.as_str())
                    .collect();
                return Err(format!(
                    "'{value}' is not an option of {key}; options: {}",
                    labels.join(", ")
                ));
            };
            resolved
        }
    };
    Ok((definition.key.clone(), resolved))
}

/// A label as compared with the model's value: lower-case, without the accents of
/// Spanish and the Latin letters people type, with runs of spaces as one and the
/// quotes and final full stop a model may add dropped. Stricter than
/// [`extract_answer`], which reads a lead's free text: the model usually copies a
/// label, and an exact match never loses to a looser reading.
fn comparable(text: &str) -> String {
    let trimmed = text
        .trim()
        .trim_matches(|c| matches!(c, '"' | '\'' | '“' | '”' | '«' | '»'))
        .trim_end_matches('.');
    let mut out = String::with_capacity(trimmed.len());
    for word in trimmed.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars().flat_map(char::to_lowercase) {
            // A decomposed "é" is "e" plus a combining accent, which goes.
            if !matches!(c, '\u{0300}'..='\u{036f}') {
                out.push(fold_letter(c));
            }
        }
    }
    out
}
