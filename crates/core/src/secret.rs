//! Values that must not leak: a credential ([`Secret`]) and a channel's credentials by
//! name ([`SecretMap`]). Their `Debug` prints a placeholder (the map prints its names
//! only), so any struct holding one can derive `Debug` and be logged or shown in a
//! panic without showing the value. Neither has `Display` or `Deref`: reading the value
//! takes an explicit `expose`, easy to find in a review.
//!
//! A [`Secret`] serializes as `"<redacted>"`: the store never serializes one (it seals
//! the value itself, see the store's `secret_box`), so a struct holding a secret that
//! reaches a response by mistake shows the placeholder, not the credential.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

const REDACTED: &str = "<redacted>";

/// A credential: an API key, a token, a password.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The credential itself, for signing, authenticating or sealing only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// A channel's credentials by name (`authToken`, `webhookSecret`, …), as a client gave
/// them. `Debug` lists the names, never the values.
#[derive(Clone, PartialEq, Default)]
pub struct SecretMap(Map<String, Value>);

impl SecretMap {
    pub fn new(values: Map<String, Value>) -> Self {
        Self(values)
    }

    /// The credentials themselves, for the provider adapters and the store's sealing.
    pub fn expose(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The credentials, to change some (a rotated webhook secret).
    pub fn expose_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.0
    }

    /// The names of the credentials that are set, sorted: what answers may show.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.0.keys().cloned().collect();
        names.sort();
        names
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Map<String, Value>> for SecretMap {
    fn from(values: Map<String, Value>) -> Self {
        Self(values)
    }
}

impl<'de> Deserialize<'de> for SecretMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Map::deserialize(deserializer).map(SecretMap)
    }
}

impl std::fmt::Debug for SecretMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for name in self.names() {
            map.entry(&name, &format_args!("{REDACTED}"));
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_serialize_never_show_the_value() {
        let secret = Secret::new("sk-live-123");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(
            serde_json::to_string(&secret).unwrap(),
            "\"<redacted>\"",
            "a secret that reaches a response by mistake shows the placeholder"
        );
        let read: Secret = serde_json::from_str("\"sk-live-123\"").unwrap();
        assert_eq!(read.expose(), "sk-live-123");
        assert_eq!(format!("{:?}", Some(read)), "Some(Secret(<redacted>))");
    }

    #[test]
    fn a_map_shows_its_names_only() {
        let map: Map<String, Value> =
            serde_json::from_str(r#"{"authToken": "tok-1", "b": {"x": "tok-2"}}"#).unwrap();
        let shown = format!("{:?}", SecretMap::new(map));
        assert_eq!(shown, r#"{"authToken": <redacted>, "b": <redacted>}"#);
        assert!(!shown.contains("tok-"));
    }
}
