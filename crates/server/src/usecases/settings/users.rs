//! Users: the fields of a new user, and a user of the workspace found by id.

use leadline_core::user::UserRef;
use leadline_core::validation::text;
use leadline_core::{Email, FieldErrors, UserId, WorkspaceId};
use leadline_store::Store;
use leadline_store::users::User;

use super::SettingsError;

/// Longest first or last name.
pub const MAX_NAME: usize = 100;

/// A new user's email and names, read and checked.
#[derive(Debug, Clone)]
pub struct UserFields {
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// Checks a new user's `email`, `firstName` and `lastName`; an empty name is none.
pub fn checked(
    email: &str,
    first_name: Option<String>,
    last_name: Option<String>,
) -> Result<UserFields, FieldErrors> {
    let mut errors = FieldErrors::new();
    let email = errors.check(Email::parse_field("email", email));
    let first_name = optional_name(&mut errors, "firstName", first_name);
    let last_name = optional_name(&mut errors, "lastName", last_name);
    errors.finish(())?;
    Ok(UserFields {
        email: email.expect("an invalid email was reported above"),
        first_name,
        last_name,
    })
}

fn optional_name(errors: &mut FieldErrors, field: &str, value: Option<String>) -> Option<String> {
    value.and_then(|v| errors.check(text(field, &v, MAX_NAME)))
}

/// The user `user_id` of the workspace, or a refusal naming `field`.
pub async fn user_of(
    store: &Store,
    workspace: WorkspaceId,
    field: &str,
    user_id: UserId,
) -> Result<User, SettingsError> {
    store
        .user(workspace, &UserRef::Id(user_id))
        .await?
        .ok_or_else(|| SettingsError::missing(field, "user", user_id))
}
