//! Opening scripts: text with `{{variable}}` placeholders filled from a lead's
//! callData. The variables a script uses are known when the campaign is saved, so a
//! lead that lacks one is refused when it is added, not discovered at send time.

use std::collections::{BTreeMap, BTreeSet};

use crate::validation::FieldError;

/// A script whose placeholders are well formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    text: String,
    variables: BTreeSet<String>,
}

impl Script {
    /// Parses `text`; a `{{` that does not open `{{name}}` (letters, digits, `_`, `.`,
    /// `-`) is an error naming `field`.
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let mut variables = BTreeSet::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or_else(|| {
                FieldError::new(field, "a {{ is never closed: write {{variable}}")
            })?;
            let name = after[..end].trim();
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'));
            if !valid {
                return Err(FieldError::new(
                    field,
                    format!(
                        "'{{{{{}}}}}' is not a variable name: use letters, digits, _ . or -",
                        &after[..end]
                    ),
                ));
            }
            variables.insert(name.to_owned());
            rest = &after[end + 2..];
        }
        Ok(Self {
            text: text.to_owned(),
            variables,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The variables the script uses.
    pub fn variables(&self) -> &BTreeSet<String> {
        &self.variables
    }

    /// The variables of the script that `data` lacks.
    pub fn missing<'a>(&'a self, data: &BTreeMap<String, String>) -> Vec<&'a str> {
        self.variables
            .iter()
            .filter(|v| !data.contains_key(v.as_str()))
            .map(String::as_str)
            .collect()
    }

    /// The text with every variable filled from `data`; a missing one stays as written
    /// (callers check [`Script::missing`] first).
    pub fn render(&self, data: &BTreeMap<String, String>) -> String {
        let mut out = String::with_capacity(self.text.len());
        let mut rest = self.text.as_str();
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find("}}").expect("checked by parse");
            let name = after[..end].trim();
            match data.get(name) {
                Some(value) => out.push_str(value),
                None => out.push_str(&rest[start..start + end + 4]),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn finds_variables_and_renders_them() {
        let script = Script::parse(
            "openingScript",
            "Hi {{ firstName }}, about {{car.model}}? {{firstName}}!",
        )
        .unwrap();
        assert_eq!(
            script.variables().iter().collect::<Vec<_>>(),
            ["car.model", "firstName"]
        );
        let values = data(&[("firstName", "Ana"), ("car.model", "Model 3")]);
        assert!(script.missing(&values).is_empty());
        assert_eq!(script.render(&values), "Hi Ana, about Model 3? Ana!");
        assert_eq!(
            script.missing(&data(&[("firstName", "Ana")])),
            ["car.model"]
        );
    }

    #[test]
    fn malformed_placeholders_are_refused() {
        assert!(Script::parse("s", "Hi {{name").is_err());
        assert!(Script::parse("s", "Hi {{}}").is_err());
        assert!(Script::parse("s", "Hi {{two words}}").is_err());
        assert!(
            Script::parse("s", "no variables at all")
                .unwrap()
                .variables()
                .is_empty()
        );
    }
}
