//! Configuring a workspace: its users and teams, channels, message templates, the
//! agent, webhook endpoints and API keys. The API's handlers and the console's settings
//! pages both read their input with these functions and store it through them, so each
//! rule (what a field may hold, which references must exist, what is never shown back)
//! is written once. Every refusal names the field it is about.

pub mod agent;
pub mod agent_scripts;
pub mod api_keys;
pub mod channels;
pub mod teams;
pub mod templates;
pub mod users;
pub mod webhook_endpoints;

use leadline_core::{FieldError, FieldErrors};
use leadline_store::StoreError;

/// Why a setting was not saved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Fields with invalid values, every one of them.
    #[error("{}", describe(.0))]
    Invalid(FieldErrors),
    /// A reference names nothing in the workspace.
    #[error("{detail}")]
    NotFound {
        field: Option<String>,
        detail: String,
    },
    /// A unique value (a name, a scope) is taken.
    #[error("{detail}")]
    Conflict {
        field: Option<String>,
        detail: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn describe(errors: &FieldErrors) -> String {
    errors
        .as_slice()
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl SettingsError {
    /// One invalid field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        SettingsError::Invalid(FieldError::new(field, message).into())
    }

    /// `field` names no `what` of the workspace.
    pub fn missing(field: impl Into<String>, what: &str, id: impl std::fmt::Display) -> Self {
        SettingsError::NotFound {
            field: Some(field.into()),
            detail: format!("no {what} '{id}' in this workspace"),
        }
    }

    /// The faults a form shows beside its fields: every invalid field, or the one
    /// field a missing reference or a taken value is about. `None` for a failure of the
    /// store, which is no fault of the input.
    pub fn into_field_errors(self) -> Result<Vec<FieldError>, StoreError> {
        match self {
            SettingsError::Invalid(errors) => Ok(errors.into_vec()),
            SettingsError::NotFound { field, detail }
            | SettingsError::Conflict { field, detail } => {
                Ok(vec![FieldError::new(field.unwrap_or_default(), detail)])
            }
            SettingsError::Store(error) => Err(error),
        }
    }
}

impl From<FieldErrors> for SettingsError {
    fn from(errors: FieldErrors) -> Self {
        SettingsError::Invalid(errors)
    }
}

impl From<FieldError> for SettingsError {
    fn from(error: FieldError) -> Self {
        SettingsError::Invalid(error.into())
    }
}
