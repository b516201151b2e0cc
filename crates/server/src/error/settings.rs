//! How a setting that was not saved is answered over HTTP: invalid fields are a 422
//! listing them, a missing reference a 404 and a taken value a 409, each naming its
//! field.

use super::ApiError;
use crate::usecases::settings::SettingsError;

impl From<SettingsError> for ApiError {
    fn from(error: SettingsError) -> Self {
        match error {
            SettingsError::Invalid(errors) => errors.into(),
            SettingsError::NotFound { field, detail } => ApiError::NotFound { detail, field },
            SettingsError::Conflict { field, detail } => ApiError::Conflict { detail, field },
            SettingsError::Store(error) => error.into(),
        }
    }
}
