//! What the model reads: the system message (the workspace's instructions, or ours, and
//! a context block on the lead and its attributes), then the transcript as chat turns.

use std::fmt::Write as _;

use leadline_core::channel::MessageProviderType;
use leadline_core::contact::LanguageCode;
use leadline_core::custom_attribute::{AttributeKind, display_values};

use super::wire::Message;
use crate::{Speaker, TurnContext};

/// The instructions when the workspace gave none.
pub(super) const DEFAULT_SYSTEM_PROMPT: &str = "\
You are a polite assistant for a sales team, qualifying a lead who asked to be contacted. \
You write over SMS or WhatsApp: keep every message short (one to three sentences), friendly \
and plain, and write in the same language as the lead. Ask for the information still unknown, \
one question at a time, and store every answer the lead gives with set_attribute. \
Never invent prices, availability, conditions or promises; if the lead asks something you \
cannot answer from this context, say an advisor will answer and call hand_off. \
Call hand_off when the lead asks for a person, or when everything required is known and the \
lead is qualified. Call end_conversation when the lead says they are not interested.";

/// The messages of the first completion: the system message, then the transcript.
/// Lead lines are the user; the agent's and the advisors' lines are the assistant.
/// Empty lines (a media message without text) are left out: some endpoints refuse
/// empty content.
pub(super) fn messages(context: &TurnContext, system_prompt: Option<&str>) -> Vec<Message> {
    let mut messages = Vec::with_capacity(context.transcript.len() + 1);
    messages.push(Message::System {
        content: system_message(context, system_prompt),
    });
    for line in &context.transcript {
        let content = line.text.trim();
        if content.is_empty() {
            continue;
        }
        let content = content.to_owned();
        messages.push(match line.speaker {
            Speaker::Lead => Message::User { content },
            Speaker::Agent | Speaker::Advisor => Message::Assistant {
                content: Some(content),
                tool_calls: Vec::new(),
            },
        });
    }
    messages
}

/// The instructions followed by what we know about this lead. A blank workspace
/// prompt counts as none.
fn system_message(context: &TurnContext, system_prompt: Option<&str>) -> String {
    let instructions = system_prompt
        .map(str::trim)
        .filter(|prompt| !prompt.is_empty())
        .unwrap_or(DEFAULT_SYSTEM_PROMPT);
    let mut out = String::with_capacity(instructions.len() + 1024);
    out.push_str(instructions);
    // `write!` to a String cannot fail; the results are ignored below for that reason.
    let _ = write!(
        out,
        "\n\n# Context\nChannel: {}\n",
        channel_name(context.channel_type)
    );
    match context.first_name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => {
            let _ = writeln!(out, "Lead's first name: {name}");
        }
        _ => out.push_str("Lead's first name: unknown\n"),
    }
    match context.language {
        Some(language) => {
            let _ = writeln!(out, "Lead's language: {}", language_name(language));
        }
        None => out.push_str("Lead's language: unknown (use the language the lead writes in)\n"),
    }
    if let Some(notes) = context
        .agent_context
        .as_deref()
        .map(str::trim)
        .filter(|notes| !notes.is_empty())
    {
        let _ = writeln!(out, "Notes from whoever opened this conversation:\n{notes}");
    }

    let known = display_values(&context.values, &context.definitions);
    out.push_str("\n# What we know about the lead\n");
    if known.is_empty() {
        out.push_str("Nothing yet.\n");
    }
    for (key, shown) in &known {
        let label = context
            .definitions
            .iter()
            .find(|d| &d.key == key)
            .map_or(key.as_str(), |d| d.label.as_str());
        let _ = writeln!(out, "- {key} ({label}): {}", shown.join(", "));
    }

    let unknown: Vec<_> = context
        .definitions
        .iter()
        .filter(|d| !context.values.contains_key(&d.id))
        .collect();
    out.push_str("\n# What we still need to find out\n");
    if unknown.is_empty() {
        out.push_str("Nothing: every attribute is known.\n");
    }
    for definition in unknown {
        let _ = write!(out, "- {} ({})", definition.key, definition.label);
        if definition.required {
            out.push_str(", required");
        }
        match definition.kind {
            AttributeKind::Open => out.push_str(": free text\n"),
            AttributeKind::Closed => {
                let labels: Vec<String> = definition
                    .options
                    .iter()
                    .map(|o| format!("\"{}\"", o.label))
                    .collect();
                let _ = writeln!(out, ": one of {}", labels.join(", "));
            }
        }
    }
    out
}

fn channel_name(channel: MessageProviderType) -> &'static str {
    match channel {
        MessageProviderType::Sms => "SMS",
        MessageProviderType::Whatsapp => "WhatsApp",
        MessageProviderType::Voice => "voice",
    }
}

fn language_name(language: LanguageCode) -> &'static str {
    match language {
        LanguageCode::En => "English",
        LanguageCode::Es => "Spanish",
    }
}
