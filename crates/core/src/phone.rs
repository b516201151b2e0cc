//! E.164 phone numbers. A contact is keyed by its cellphone, so the stored form must be
//! canonical: `+` followed by the country code and national number, digits only. Input
//! in any other form (spaces, dashes, national digits) is rejected here rather than
//! silently reformatted, because two spellings of one number must never become two
//! contacts, and a client should learn that its data is not E.164.

mod nanp_validity;

use std::fmt;
use std::sync::LazyLock;

use phonenumber::{Mode, PhoneNumber};
use serde::Serialize;

use crate::validation::FieldError;

/// A phone number in canonical E.164 form that libphonenumber's metadata says is valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct E164(String);

/// libphonenumber loads its metadata on first use (about 90 ms in release builds);
/// touching it once at start-up keeps that cost off the first request.
static METADATA_WARM: LazyLock<()> = LazyLock::new(|| {
    let _ = phonenumber::parse(None, "+14155552671");
});

impl E164 {
    /// Loads the phone number metadata now instead of on the first request.
    pub fn warm_up() {
        LazyLock::force(&METADATA_WARM);
        nanp_validity::warm_up();
    }

    /// Parses a number that must already be in E.164 form. `+1` numbers, most of what
    /// a sender sees, are decided by [`nanp_validity`], which gives libphonenumber's
    /// answer at a fraction of its cost; the rest go through libphonenumber.
    pub fn parse(input: &str) -> Result<Self, InvalidPhone> {
        match nanp_validity::nanp_national(input) {
            Some(national) if nanp_validity::is_valid_nanp(national) => Ok(Self(input.to_owned())),
            Some(_) => Err(InvalidPhone::NotAssigned),
            None => Self::parse_with_libphonenumber(input),
        }
    }

    /// The general way: libphonenumber parses, validates and formats the number, which
    /// must come back unchanged.
    fn parse_with_libphonenumber(input: &str) -> Result<Self, InvalidPhone> {
        let digits = input.strip_prefix('+').ok_or(InvalidPhone::NotE164)?;
        if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidPhone::NotE164);
        }
        let number = phonenumber::parse(None, input).map_err(|_| InvalidPhone::NotE164)?;
        if !phonenumber::is_valid(&number) {
            return Err(InvalidPhone::NotAssigned);
        }
        let canonical = number.format().mode(Mode::E164).to_string();
        if canonical != input {
            return Err(InvalidPhone::NotE164);
        }
        Ok(Self(canonical))
    }

    /// Parses `input` and names `field` in the error.
    pub fn parse_field(field: &str, input: &str) -> Result<Self, FieldError> {
        Self::parse(input).map_err(|error| FieldError::new(field, error.to_string()))
    }

    /// Parses an E.164 number, or national digits read as a number of `region` (an ISO
    /// 3166 code such as `US`); naming `field` in the error. Spaces, dashes, dots and
    /// parentheses between digits are allowed in the national form.
    pub fn parse_in_region(field: &str, input: &str, region: &str) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        if trimmed.starts_with('+') {
            return Self::parse_field(field, trimmed);
        }
        let national_form = !trimmed.is_empty()
            && trimmed.chars().any(|c| c.is_ascii_digit())
            && trimmed
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'));
        let country: Option<phonenumber::country::Id> = region.parse().ok();
        let invalid = || {
            FieldError::new(
                field,
                format!(
                    "must be an E.164 number (+14155552671) or a valid {region} national number"
                ),
            )
        };
        let (true, Some(country)) = (national_form, country) else {
            return Err(invalid());
        };
        let number = phonenumber::parse(Some(country), trimmed).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid());
        }
        Ok(Self(number.format().mode(Mode::E164).to_string()))
    }

    /// Whether `region` is an ISO 3166 region the phone metadata knows.
    pub fn is_known_region(region: &str) -> bool {
        region.parse::<phonenumber::country::Id>().is_ok()
    }

    /// Rebuilds a number read back from the store, where only valid numbers are written.
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parsed form, for country and area-code lookups.
    pub fn parsed(&self) -> PhoneNumber {
        phonenumber::parse(None, &self.0).expect("E164 holds only parseable numbers")
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a phone number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPhone {
    #[error(
        "must be an E.164 phone number: '+', the country code and the number, digits only (e.g. +14155552671)"
    )]
    NotE164,
    #[error("is not a valid phone number for its country code (check the area code and length)")]
    NotAssigned,
}

#[cfg(test)]
mod region_tests {
    use super::*;

    #[test]
    fn national_digits_are_read_in_the_region() {
        let number = E164::parse_in_region("phoneNumber", "(415) 555-2671", "US").unwrap();
        assert_eq!(number.as_str(), "+14155552671");
        assert_eq!(
            E164::parse_in_region("phoneNumber", "+14155552671", "GB")
                .unwrap()
                .as_str(),
            "+14155552671"
        );
        assert_eq!(
            E164::parse_in_region("phoneNumber", "020 7946 0958", "GB")
                .unwrap()
                .as_str(),
            "+442079460958"
        );
        assert!(E164::parse_in_region("phoneNumber", "12", "US").is_err());
        assert!(E164::parse_in_region("phoneNumber", "call me", "US").is_err());
        assert!(E164::parse_in_region("phoneNumber", "4155552671", "ZZ").is_err());
        assert!(E164::is_known_region("US") && !E164::is_known_region("ZZ"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_canonical_numbers_of_several_countries() {
        for ok in [
            "+14155552671",
            "+14084029292",
            "+34612345678",
            "+447911123456",
        ] {
            assert_eq!(E164::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn refuses_everything_that_is_not_canonical_e164() {
        for bad in [
            "",
            "+",
            "14155552671",
            "+1 415 555 2671",
            "+1-415-555-2671",
            "(415) 555-2671",
            "+1415555267",
            "+141555526711",
            "+1415555267a",
            "++14155552671",
            "+00000000",
            "+1234567890123456",
        ] {
            assert!(E164::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn field_errors_name_the_field() {
        let error = E164::parse_field("cellphone", "123").unwrap_err();
        assert_eq!(error.field, "cellphone");
        assert!(error.message.contains("E.164"));
    }
}

#[cfg(test)]
mod nanp_fast_path_tests {
    use super::*;
    use proptest::prelude::*;

    /// The answer `E164::parse` gave before `+1` numbers had a path of their own.
    fn libphonenumber_answer(input: &str) -> Result<E164, InvalidPhone> {
        E164::parse_with_libphonenumber(input)
    }

    /// Area codes whose patterns in the metadata go past the exchange (`3052(?:0[0-8]…`)
    /// or that belong to regions chosen by leading digits, where a mistake would hide.
    const TRICKY_PREFIXES: &[&str] = &[
        "3052", "3053", "5056", "5052", "2742", "4722", "9832", "268", "264", "684", "246", "441",
        "242", "767", "8001", "809", "829", "849", "473", "671", "658", "876", "869", "345", "758",
        "670", "664", "787", "939", "721", "649", "868", "784", "284", "340", "800", "833", "844",
        "855", "866", "877", "888", "900", "500", "533", "700", "710",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn any_plus_one_number_gets_libphonenumbers_answer(national in 0u64..10_000_000_000) {
            let input = format!("+1{national:010}");
            prop_assert_eq!(E164::parse(&input), libphonenumber_answer(&input), "{}", input);
        }

        #[test]
        fn tricky_prefixes_get_libphonenumbers_answer(
            prefix in proptest::sample::select(TRICKY_PREFIXES),
            rest in 0u64..10_000_000,
        ) {
            let input = format!("+1{prefix}{rest:0width$}", width = 10 - prefix.len());
            prop_assert_eq!(E164::parse(&input), libphonenumber_answer(&input), "{}", input);
        }

        #[test]
        fn near_misses_of_the_nanp_shape_get_libphonenumbers_answer(
            digits in "[0-9]{8,12}",
        ) {
            let input = format!("+1{digits}");
            prop_assert_eq!(E164::parse(&input), libphonenumber_answer(&input), "{}", input);
        }
    }

    #[test]
    fn every_area_code_gets_libphonenumbers_answer() {
        for npa in 200..=999 {
            for (exchange, line) in [(0, 0), (100, 1234), (200, 0), (555, 2671), (958, 9999)] {
                let input = format!("+1{npa}{exchange:03}{line:04}");
                assert_eq!(
                    E164::parse(&input),
                    libphonenumber_answer(&input),
                    "{input}"
                );
            }
        }
    }

    #[test]
    fn the_fast_path_decides_both_ways() {
        for (input, expected) in [
            ("+14155552671", Ok(E164("+14155552671".into()))),
            ("+19995552671", Err(InvalidPhone::NotAssigned)),
        ] {
            assert!(nanp_validity::nanp_national(input).is_some(), "{input}");
            assert_eq!(E164::parse(input), expected);
            assert_eq!(libphonenumber_answer(input), expected);
        }
        assert_eq!(nanp_validity::nanp_national("+11155552671"), None);
        assert_eq!(nanp_validity::nanp_national("+1415555267"), None);
        assert_eq!(nanp_validity::nanp_national("+441415555267"), None);
    }
}
