//! A campaign's opening as stored: the voice script, and the opening template's
//! parameters, each a text with `{{variable}}` placeholders filled from a lead's
//! callData. Shared by the campaign endpoints (which write it), lead intake (which
//! checks a lead carries its variables) and the scheduler (which fills it in).

use serde::{Deserialize, Serialize};

use crate::script::Script;

/// The opening's texts, as kept in the campaign's `opening` JSON column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Opening {
    #[serde(default)]
    pub script: Option<String>,
    #[serde(default)]
    pub template_params: Vec<String>,
}

impl Opening {
    /// Every piece of text filled from a lead's callData.
    pub fn scripts(&self) -> Vec<Script> {
        self.script
            .iter()
            .chain(self.template_params.iter())
            .filter_map(|text| Script::parse("opening", text).ok())
            .collect()
    }

    /// The variables a lead must carry, sorted and without repeats.
    pub fn required_variables(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .scripts()
            .iter()
            .flat_map(|s| s.variables().iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_json_round_trips_and_lists_every_variable_once() {
        let opening = Opening {
            script: Some("Hi {{firstName}}, about your {{car}}".into()),
            template_params: vec!["{{firstName}}".into(), "{{city}}".into()],
        };
        let stored = serde_json::to_value(&opening).expect("plain strings");
        assert_eq!(
            stored,
            serde_json::json!({"script": "Hi {{firstName}}, about your {{car}}",
                               "templateParams": ["{{firstName}}", "{{city}}"]})
        );
        assert_eq!(
            serde_json::from_value::<Opening>(stored).expect("reads"),
            opening
        );
        assert_eq!(opening.required_variables(), ["car", "city", "firstName"]);
    }
}
