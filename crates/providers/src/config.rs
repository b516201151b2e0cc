//! Reading a channel's settings and secrets, with errors that name the field.

use leadline_core::FieldErrors;
use serde_json::{Map, Value};

/// A channel's settings and secrets, read field by field. Missing or mistyped fields
/// are collected so one answer lists them all. `Debug` shows the secrets' names only.
pub struct Settings<'a> {
    settings: &'a Map<String, Value>,
    secrets: &'a Map<String, Value>,
    errors: std::cell::RefCell<FieldErrors>,
}

impl std::fmt::Debug for Settings<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("settings", &self.settings)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("errors", &self.errors)
            .finish()
    }
}

impl<'a> Settings<'a> {
    pub fn new(settings: &'a Map<String, Value>, secrets: &'a Map<String, Value>) -> Self {
        Self {
            settings,
            secrets,
            errors: Default::default(),
        }
    }

    /// A required non-empty string setting.
    pub fn setting(&self, key: &str) -> String {
        self.required("settings", self.settings, key)
    }

    /// An optional string setting.
    pub fn optional_setting(&self, key: &str) -> Option<String> {
        self.optional("settings", self.settings, key)
    }

    /// A required non-empty secret.
    pub fn secret(&self, key: &str) -> String {
        self.required("secrets", self.secrets, key)
    }

    /// An optional secret.
    pub fn optional_secret(&self, key: &str) -> Option<String> {
        self.optional("secrets", self.secrets, key)
    }

    /// A setting as given, for adapters that read structured values.
    pub fn raw_setting(&self, key: &str) -> Option<&'a Value> {
        self.settings.get(key)
    }

    /// A secret as given, for adapters that keep structured secrets.
    pub(crate) fn raw_secret(&self, key: &str) -> Option<&'a Value> {
        self.secrets.get(key)
    }

    /// An optional non-negative integer setting.
    pub fn optional_u64(&self, key: &str) -> Option<u64> {
        match self.settings.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => value.as_u64().or_else(|| {
                self.fail(format!("settings.{key}"), "must be a non-negative integer");
                None
            }),
        }
    }

    /// An optional absolute http(s) URL setting.
    pub fn optional_url(&self, key: &str) -> Option<url::Url> {
        let raw = self.optional_setting(key)?;
        match url::Url::parse(&raw) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
            _ => {
                self.fail(
                    format!("settings.{key}"),
                    "must be an absolute http:// or https:// URL",
                );
                None
            }
        }
    }

    /// A required absolute http(s) URL setting.
    pub fn url(&self, key: &str) -> Option<url::Url> {
        if !self.settings.contains_key(key) {
            self.fail(
                format!("settings.{key}"),
                "is required: an absolute http:// or https:// URL",
            );
            return None;
        }
        self.optional_url(key)
    }

    /// Records a failure found by the adapter itself.
    pub fn fail(&self, field: String, message: impl Into<String>) {
        self.errors.borrow_mut().push(field, message);
    }

    /// Hands back `value` when no field failed, else every failure. Takes `&self`
    /// because adapters receive the settings by reference from [`crate::build`]; the
    /// collected errors are moved out, so a second call starts clean.
    pub fn finish<T>(&self, value: T) -> Result<T, FieldErrors> {
        self.errors.take().finish(value)
    }

    fn required(&self, section: &str, map: &Map<String, Value>, key: &str) -> String {
        match map.get(key) {
            Some(Value::String(value)) if !value.trim().is_empty() => value.clone(),
            Some(Value::String(_)) => {
                self.fail(format!("{section}.{key}"), "must not be empty");
                String::new()
            }
            Some(_) => {
                self.fail(format!("{section}.{key}"), "must be a string");
                String::new()
            }
            None => {
                self.fail(format!("{section}.{key}"), "is required for this provider");
                String::new()
            }
        }
    }

    fn optional(&self, section: &str, map: &Map<String, Value>, key: &str) -> Option<String> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(value)) => Some(value.clone()),
            Some(_) => {
                self.fail(format!("{section}.{key}"), "must be a string");
                None
            }
        }
    }
}

/// A credential held by an adapter: the shared redacting type, so deriving `Debug` on
/// an adapter (the [`crate::Provider`] trait requires it) cannot leak it into logs or
/// panics.
pub(crate) use leadline_core::Secret;
