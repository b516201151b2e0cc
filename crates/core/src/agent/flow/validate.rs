//! Checking a flow script against the workspace's custom attributes before it is
//! stored, so a running conversation never meets a question it cannot store or a rule
//! it cannot read. Every failure is collected and names its field.

use super::FlowScript;
use crate::custom_attribute::{AttributeDefinition, AttributeKind, MAX_OPEN_VALUE_CHARS};
use crate::validation::{FieldErrors, text};

/// Questions one script may ask: far more than a lead answers by text.
pub const MAX_QUESTIONS: usize = 50;
/// Longest question or message: a few text messages.
pub const MAX_TEXT_CHARS: usize = 1_000;
/// Most unusable answers to one question before the agent hands off.
pub const MAX_RETRIES: u32 = 10;

/// How many option labels an error message lists before "…".
const LISTED_OPTIONS: usize = 10;

impl FlowScript {
    /// Checks the script against the workspace's attribute definitions; errors name
    /// fields like `questions[0].attribute`, `qualification[1].anyOf[0]`, `questions`.
    pub fn validate(&self, definitions: &[AttributeDefinition]) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        let find = |key: &str| definitions.iter().find(|d| d.key == key);

        if self.questions.len() > MAX_QUESTIONS {
            errors.push("questions", format!("at most {MAX_QUESTIONS} questions"));
        }
        for (index, question) in self.questions.iter().enumerate() {
            errors.check(text(
                &format!("questions[{index}].text"),
                &question.text,
                MAX_TEXT_CHARS,
            ));
            let field = format!("questions[{index}].attribute");
            let earlier = self.questions[..index]
                .iter()
                .position(|q| q.attribute == question.attribute);
            if find(&question.attribute).is_none() {
                errors.push(field, unknown(&question.attribute));
            } else if let Some(earlier) = earlier {
                errors.push(
                    field,
                    format!(
                        "'{}' is already asked by questions[{earlier}]; ask each attribute once",
                        question.attribute
                    ),
                );
            }
        }

        for (index, rule) in self.qualification.iter().enumerate() {
            let Some(definition) = find(&rule.attribute) else {
                errors.push(
                    format!("qualification[{index}].attribute"),
                    unknown(&rule.attribute),
                );
                continue;
            };
            for (entry, wanted) in rule.any_of.iter().enumerate() {
                let field = format!("qualification[{index}].anyOf[{entry}]");
                match definition.kind {
                    AttributeKind::Open => {
                        errors.check(text(&field, wanted, MAX_OPEN_VALUE_CHARS));
                    }
                    AttributeKind::Closed if !is_option(definition, wanted) => {
                        errors.push(
                            field,
                            format!(
                                "'{wanted}' is not an option of '{}'; its options are {}",
                                definition.key,
                                option_list(definition)
                            ),
                        );
                    }
                    AttributeKind::Closed => {}
                }
            }
        }

        for (field, message) in [
            ("qualifiedMessage", &self.qualified_message),
            ("notQualifiedMessage", &self.not_qualified_message),
            ("personRequestedMessage", &self.person_requested_message),
            ("retryPrefix", &self.retry_prefix),
        ] {
            errors.check(text(field, message, MAX_TEXT_CHARS));
        }
        if self.max_retries > MAX_RETRIES {
            errors.push("maxRetries", format!("must be between 0 and {MAX_RETRIES}"));
        }
        errors.finish(())
    }
}

fn unknown(key: &str) -> String {
    format!("'{key}' is not a custom attribute key of this workspace")
}

/// Whether `wanted` is one of the option labels, ignoring case.
fn is_option(definition: &AttributeDefinition, wanted: &str) -> bool {
    let wanted = wanted.trim().to_lowercase();
    definition
        .options
        .iter()
        .any(|o| o.label.to_lowercase() == wanted)
}

/// "'Now', '1-3 months', 'Just looking'", at most [`LISTED_OPTIONS`] of them.
fn option_list(definition: &AttributeDefinition) -> String {
    let mut listed: Vec<String> = definition
        .options
        .iter()
        .take(LISTED_OPTIONS)
        .map(|o| format!("'{}'", o.label))
        .collect();
    if definition.options.len() > LISTED_OPTIONS {
        listed.push("…".into());
    }
    listed.join(", ")
}

#[cfg(test)]
mod tests;
