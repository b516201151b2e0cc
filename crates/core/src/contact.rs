//! Contacts: the merge rule of a partial upsert and the PARTIAL/NORMAL classification.
//! The store applies these inside its write transaction, so concurrent upserts of one
//! cellphone are merged in the order they were accepted.

use serde::{Deserialize, Serialize};

use crate::custom_attribute::{self, AttributeAssignment, AttributeDefinition, AttributeValues};
use crate::email::Email;
use crate::ids::UserId;
use crate::patch::Patch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum LanguageCode {
    #[serde(rename = "EN")]
    En,
    #[serde(rename = "ES")]
    Es,
}

impl LanguageCode {
    pub fn as_str(self) -> &'static str {
        match self {
            LanguageCode::En => "EN",
            LanguageCode::Es => "ES",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "EN" => Some(Self::En),
            "ES" => Some(Self::Es),
            _ => None,
        }
    }
}

/// NORMAL when the contact is complete enough to be worked by an advisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ContactType {
    Partial,
    Normal,
}

impl ContactType {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactType::Partial => "PARTIAL",
            ContactType::Normal => "NORMAL",
        }
    }
}

/// The mutable fields of a contact (identity and timestamps live with the row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFields {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<Email>,
    pub language_code: Option<LanguageCode>,
    pub owner_id: Option<UserId>,
    pub attributes: AttributeValues,
}

/// What happens to the custom attributes in an upsert.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AttributesChange {
    /// `customAttributes` absent: keep every value.
    #[default]
    Keep,
    /// `customAttributes: null`: clear every value.
    ClearAll,
    /// Set or clear the listed attributes; others keep their values.
    Assign(Vec<AttributeAssignment>),
}

/// A validated partial update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactChanges {
    pub first_name: Patch<String>,
    pub last_name: Patch<String>,
    pub email: Patch<Email>,
    pub language_code: Patch<LanguageCode>,
    pub owner_id: Patch<UserId>,
    pub attributes: AttributesChange,
}

impl ContactFields {
    /// Applies a partial update: absent fields stay, `null` clears, values replace.
    pub fn apply(mut self, changes: ContactChanges) -> Self {
        self.first_name = changes.first_name.apply(self.first_name);
        self.last_name = changes.last_name.apply(self.last_name);
        self.email = changes.email.apply(self.email);
        self.language_code = changes.language_code.apply(self.language_code);
        self.owner_id = changes.owner_id.apply(self.owner_id);
        match changes.attributes {
            AttributesChange::Keep => {}
            AttributesChange::ClearAll => self.attributes.clear(),
            AttributesChange::Assign(assignments) => {
                for (id, value) in assignments {
                    match value {
                        Some(value) => self.attributes.insert(id, value),
                        None => self.attributes.remove(&id),
                    };
                }
            }
        }
        self
    }

    /// NORMAL when first name, last name, language and every required custom attribute
    /// are set; PARTIAL otherwise. Recomputed on every write, because a definition may
    /// have become required since the last one.
    pub fn classify(&self, definitions: &[AttributeDefinition]) -> ContactType {
        let identity_complete =
            self.first_name.is_some() && self.last_name.is_some() && self.language_code.is_some();
        if identity_complete && custom_attribute::required_are_set(&self.attributes, definitions) {
            ContactType::Normal
        } else {
            ContactType::Partial
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::custom_attribute::{AttributeKind, AttributeValue};
    use proptest::prelude::*;

    fn complete() -> ContactFields {
        ContactFields {
            first_name: Some("Maria".into()),
            last_name: Some("Lopez".into()),
            language_code: Some(LanguageCode::Es),
            ..ContactFields::default()
        }
    }

    #[test]
    fn classification_needs_names_language_and_required_attributes() {
        let required =
            AttributeDefinition::create("budget", "Budget", AttributeKind::Open, &[], true)
                .unwrap();
        let optional =
            AttributeDefinition::create("notes", "Notes", AttributeKind::Open, &[], false).unwrap();
        let defs = vec![required.clone(), optional];
        assert_eq!(complete().classify(&[]), ContactType::Normal);
        assert_eq!(complete().classify(&defs), ContactType::Partial);
        let mut with_budget = complete();
        with_budget
            .attributes
            .insert(required.id, AttributeValue::Open("10k".into()));
        assert_eq!(with_budget.classify(&defs), ContactType::Normal);
        for strip in 0..3 {
            let mut missing = with_budget.clone();
            match strip {
                0 => missing.first_name = None,
                1 => missing.last_name = None,
                _ => missing.language_code = None,
            }
            assert_eq!(missing.classify(&defs), ContactType::Partial);
        }
    }

    #[test]
    fn attribute_changes_keep_clear_or_assign() {
        let a = crate::CustomAttributeId::new();
        let b = crate::CustomAttributeId::new();
        let mut start = complete();
        start.attributes.insert(a, AttributeValue::Open("x".into()));
        start.attributes.insert(b, AttributeValue::Open("y".into()));

        let kept = start.clone().apply(ContactChanges::default());
        assert_eq!(kept, start);

        let cleared = start.clone().apply(ContactChanges {
            attributes: AttributesChange::ClearAll,
            ..Default::default()
        });
        assert!(cleared.attributes.is_empty());

        let assigned = start.apply(ContactChanges {
            attributes: AttributesChange::Assign(vec![
                (a, None),
                (b, Some(AttributeValue::Open("z".into()))),
            ]),
            ..Default::default()
        });
        assert_eq!(assigned.attributes.len(), 1);
        assert_eq!(assigned.attributes[&b], AttributeValue::Open("z".into()));
    }

    fn patch_strategy() -> impl Strategy<Value = Patch<String>> {
        prop_oneof![
            Just(Patch::Absent),
            Just(Patch::Clear),
            "[a-z]{1,8}".prop_map(Patch::Set)
        ]
    }

    proptest! {
        /// An empty update is the identity, and applying the same update twice is the
        /// same as applying it once (upserts are safe to retry).
        #[test]
        fn updates_are_idempotent(first in patch_strategy(), last in patch_strategy(),
                                  stored_first in proptest::option::of("[a-z]{1,8}")) {
            let stored = ContactFields { first_name: stored_first, ..complete() };
            prop_assert_eq!(stored.clone().apply(ContactChanges::default()), stored.clone());
            let changes = ContactChanges { first_name: first, last_name: last, ..Default::default() };
            let once = stored.apply(changes.clone());
            let twice = once.clone().apply(changes);
            prop_assert_eq!(once, twice);
        }
    }
}
