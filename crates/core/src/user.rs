//! Users of a workspace (advisors and admins) and the ways requests refer to them.

use serde::{Deserialize, Serialize};

use crate::email::Email;
use crate::ids::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    /// Works leads handed off by the agent.
    #[default]
    Advisor,
    /// Manages the workspace.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Advisor => "ADVISOR",
            Role::Admin => "ADMIN",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "ADVISOR" => Some(Role::Advisor),
            "ADMIN" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A reference to a user as the seed endpoints send it: `{identifier, identifierType}`
/// with identifierType `ID` or `EMAIL`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserRef {
    Id(UserId),
    Email(Email),
}

impl UserRef {
    /// Reads a path segment that is either a user id or an email address.
    pub fn from_id_or_email(value: &str) -> Option<Self> {
        if let Ok(id) = value.parse() {
            return Some(UserRef::Id(id));
        }
        Email::parse(value).ok().map(UserRef::Email)
    }
}
