//! Email addresses, validated by the `email_address` crate (RFC 5322 addr-spec) and kept
//! in lower case: users are looked up by email, and `Jane@Acme.com` and `jane@acme.com`
//! reach the same person.

use std::fmt;

use serde::Serialize;

use crate::validation::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        let trimmed = input.trim();
        if trimmed.len() > 254 {
            return Err("must be at most 254 characters".to_owned());
        }
        let parsed = email_address::EmailAddress::parse_with_options(
            trimmed,
            email_address::Options::default().with_required_tld(),
        )
        .map_err(|error| format!("must be an email address like name@example.com ({error})"))?;
        Ok(Self(parsed.as_str().to_lowercase()))
    }

    pub fn parse_field(field: &str, input: &str) -> Result<Self, FieldError> {
        Self::parse(input).map_err(|message| FieldError::new(field, message))
    }

    /// Rebuilds an address read back from the store.
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_and_trims() {
        assert_eq!(
            Email::parse(" Jane@Acme.COM ").unwrap().as_str(),
            "jane@acme.com"
        );
    }

    #[test]
    fn refuses_non_addresses() {
        for bad in [
            "",
            "jane",
            "jane@",
            "@acme.com",
            "jane@acme",
            "ja ne@acme.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
