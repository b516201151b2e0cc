//! Partial-update fields. Upsert endpoints distinguish a field that is absent from the
//! body (leave it as it is) from one that is explicitly `null` (clear it); a plain
//! `Option` cannot tell the two apart.

use serde::{Deserialize, Deserializer};

/// The three states of a field in a partial update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Not in the body: keep the stored value.
    #[default]
    Absent,
    /// Explicit `null`: clear the stored value.
    Clear,
    /// A new value.
    Set(T),
}

impl<T> Patch<T> {
    /// Applies this patch to the stored value.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Absent => current,
            Patch::Clear => None,
            Patch::Set(value) => Some(value),
        }
    }

    /// Transforms the value, keeping Absent and Clear as they are.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Patch<U>, E> {
        Ok(match self {
            Patch::Absent => Patch::Absent,
            Patch::Clear => Patch::Clear,
            Patch::Set(value) => Patch::Set(f(value)?),
        })
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }
}

/// Use with `#[serde(default)]`: serde only calls this when the field is present, so a
/// missing field stays [`Patch::Absent`] and `null` becomes [`Patch::Clear`].
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => Patch::Clear,
            Some(value) => Patch::Set(value),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        name: Patch<String>,
    }

    #[test]
    fn absent_null_and_value_are_told_apart() {
        let absent: Body = serde_json::from_str("{}").unwrap();
        let null: Body = serde_json::from_str(r#"{"name":null}"#).unwrap();
        let set: Body = serde_json::from_str(r#"{"name":"Ana"}"#).unwrap();
        assert_eq!(absent.name, Patch::Absent);
        assert_eq!(null.name, Patch::Clear);
        assert_eq!(set.name, Patch::Set("Ana".to_owned()));
    }

    #[test]
    fn apply_keeps_clears_or_replaces() {
        let stored = Some("old".to_owned());
        assert_eq!(Patch::Absent.apply(stored.clone()), stored);
        assert_eq!(Patch::<String>::Clear.apply(stored.clone()), None);
        assert_eq!(
            Patch::Set("new".to_owned()).apply(stored),
            Some("new".to_owned())
        );
    }
}
