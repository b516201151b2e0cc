//! Custom attributes: workspace-defined fields on contacts. An OPEN attribute holds free
//! text; a CLOSED one holds one or more of its fixed options, each with its own id.
//! This module validates definitions, resolves the values a client sends against the
//! definitions, and renders stored values for responses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{CustomAttributeId, OptionId};
use crate::validation::{self, FieldError, FieldErrors};

/// Longest open value accepted; long enough for notes, short enough to keep rows small.
pub const MAX_OPEN_VALUE_CHARS: usize = 2_000;
/// Options a CLOSED attribute may have.
pub const MAX_OPTIONS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum AttributeKind {
    Open,
    Closed,
}

impl AttributeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeKind::Open => "OPEN",
            AttributeKind::Closed => "CLOSED",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "OPEN" => Some(Self::Open),
            "CLOSED" => Some(Self::Closed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeOption {
    pub id: OptionId,
    pub label: String,
}

/// A validated attribute definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDefinition {
    pub id: CustomAttributeId,
    pub key: String,
    pub label: String,
    pub kind: AttributeKind,
    pub options: Vec<AttributeOption>,
    pub required: bool,
}

impl AttributeDefinition {
    /// Validates a new definition. `option_labels` must be empty for OPEN attributes
    /// and hold 1..=200 distinct labels for CLOSED ones; each option gets a fresh id.
    pub fn create(
        key: &str,
        label: &str,
        kind: AttributeKind,
        option_labels: &[String],
        required: bool,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let key = errors.check(validate_key(key));
        let label = errors.check(validation::text("label", label, 200));
        let mut options = Vec::new();
        match kind {
            AttributeKind::Open if !option_labels.is_empty() => {
                errors.push("options", "OPEN attributes take free text and have no options; remove `options` or use kind CLOSED");
            }
            AttributeKind::Open => {}
            AttributeKind::Closed if option_labels.is_empty() => {
                errors.push("options", "CLOSED attributes need at least one option");
            }
            AttributeKind::Closed if option_labels.len() > MAX_OPTIONS => {
                errors.push("options", format!("at most {MAX_OPTIONS} options"));
            }
            AttributeKind::Closed => {
                for (index, raw) in option_labels.iter().enumerate() {
                    let field = format!("options[{index}].label");
                    let Some(label) = errors.check(validation::text(&field, raw, 200)) else {
                        continue;
                    };
                    if options
                        .iter()
                        .any(|o: &AttributeOption| o.label.eq_ignore_ascii_case(&label))
                    {
                        errors.push(field, format!("duplicate option label '{label}'"));
                        continue;
                    }
                    options.push(AttributeOption {
                        id: OptionId::new(),
                        label,
                    });
                }
            }
        }
        let (Some(key), Some(label)) = (key, label) else {
            return Err(errors);
        };
        errors.finish(Self {
            id: CustomAttributeId::new(),
            key,
            label,
            kind,
            options,
            required,
        })
    }
}

/// Keys are used in exports and agent scripts, so they are identifier-like.
fn validate_key(key: &str) -> Result<String, FieldError> {
    let valid_start = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let valid_rest = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if key.is_empty() || key.len() > 64 || !valid_start || !valid_rest {
        return Err(FieldError::new(
            "key",
            "must be 1 to 64 characters: a letter, then letters, digits, '_', '-' or '.'",
        ));
    }
    Ok(key.to_owned())
}

/// A stored value: free text, or the chosen option ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AttributeValue {
    Open(String),
    Closed(Vec<OptionId>),
}

/// All custom attribute values of one contact, by attribute id.
pub type AttributeValues = BTreeMap<CustomAttributeId, AttributeValue>;

/// An open value as a client sends it (`customAttributes.openAttributes[i]`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenAttributeInput {
    pub custom_attribute_id: String,
    #[serde(default)]
    pub content: Option<String>,
}

/// A closed value as a client sends it (`customAttributes.closedAttributes[i]`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClosedAttributeInput {
    pub custom_attribute_id: String,
    #[serde(default)]
    pub closed_custom_attribute_ids: Vec<String>,
}

/// One resolved change: set the attribute to a value, or clear it (`None`).
pub type AttributeAssignment = (CustomAttributeId, Option<AttributeValue>);

/// Resolves what a client sent against the workspace's definitions. An attribute is
/// named by its id or its key. Open values go only to OPEN attributes and closed values
/// only to CLOSED ones with option ids of that attribute; empty content or an empty
/// option list clears the attribute. Every failure names its item.
pub fn resolve_assignments(
    open: &[OpenAttributeInput],
    closed: &[ClosedAttributeInput],
    definitions: &[AttributeDefinition],
) -> Result<Vec<AttributeAssignment>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut assignments = Vec::with_capacity(open.len() + closed.len());
    let find = |reference: &str| {
        definitions
            .iter()
            .find(|d| d.id.to_string() == reference || d.key == reference)
    };

    for (index, item) in open.iter().enumerate() {
        let field = format!("customAttributes.openAttributes[{index}].customAttributeId");
        let Some(definition) = find(&item.custom_attribute_id) else {
            errors.push(
                field,
                format!("unknown custom attribute '{}'", item.custom_attribute_id),
            );
            continue;
        };
        if definition.kind != AttributeKind::Open {
            errors.push(
                field,
                format!(
                    "attribute '{}' is CLOSED: send it in closedAttributes with option ids",
                    definition.key
                ),
            );
            continue;
        }
        let content = item.content.as_deref().map(str::trim).unwrap_or("");
        if content.chars().count() > MAX_OPEN_VALUE_CHARS {
            errors.push(
                format!("customAttributes.openAttributes[{index}].content"),
                format!("must be at most {MAX_OPEN_VALUE_CHARS} characters"),
            );
            continue;
        }
        let value = (!content.is_empty()).then(|| AttributeValue::Open(content.to_owned()));
        assignments.push((definition.id, value));
    }

    for (index, item) in closed.iter().enumerate() {
        let field = format!("customAttributes.closedAttributes[{index}].customAttributeId");
        let Some(definition) = find(&item.custom_attribute_id) else {
            errors.push(
                field,
                format!("unknown custom attribute '{}'", item.custom_attribute_id),
            );
            continue;
        };
        if definition.kind != AttributeKind::Closed {
            errors.push(
                field,
                format!(
                    "attribute '{}' is OPEN: send it in openAttributes with content",
                    definition.key
                ),
            );
            continue;
        }
        let mut chosen: Vec<OptionId> = Vec::with_capacity(item.closed_custom_attribute_ids.len());
        for (option_index, reference) in item.closed_custom_attribute_ids.iter().enumerate() {
            let option = definition
                .options
                .iter()
                .find(|o| o.id.to_string() == *reference);
            match option {
                Some(option) if !chosen.contains(&option.id) => chosen.push(option.id),
                Some(_) => {}
                None => errors.push(
                    format!("customAttributes.closedAttributes[{index}].closedCustomAttributeIds[{option_index}]"),
                    format!("'{reference}' is not an option id of attribute '{}'", definition.key),
                ),
            }
        }
        let value = (!chosen.is_empty()).then_some(AttributeValue::Closed(chosen));
        assignments.push((definition.id, value));
    }
    errors.finish(assignments)
}

/// Whether every required attribute has a value.
pub fn required_are_set(values: &AttributeValues, definitions: &[AttributeDefinition]) -> bool {
    definitions
        .iter()
        .filter(|d| d.required)
        .all(|d| values.contains_key(&d.id))
}

/// Values as responses show them: `[{key, values}]` in definition order, open values
/// as their text and closed values as their option labels.
pub fn display_values(
    values: &AttributeValues,
    definitions: &[AttributeDefinition],
) -> Vec<(String, Vec<String>)> {
    definitions
        .iter()
        .filter_map(|definition| {
            let shown = match values.get(&definition.id)? {
                AttributeValue::Open(text) => vec![text.clone()],
                AttributeValue::Closed(ids) => ids
                    .iter()
                    .filter_map(|id| definition.options.iter().find(|o| o.id == *id))
                    .map(|o| o.label.clone())
                    .collect(),
            };
            Some((definition.key.clone(), shown))
        })
        .collect()
}

#[cfg(test)]
mod tests;
