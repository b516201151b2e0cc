//! Validity of `+1` numbers: libphonenumber's own answer, computed without its regex
//! cache. The `phonenumber` crate looks up every pattern it matches in one LRU cache of
//! compiled regexes behind a global mutex, hashing the pattern's source (kilobytes for
//! the US) on each use; under load that lock and those hashes were most of the cost of
//! validating a contact's cellphone. Here the same patterns, read from the crate's
//! metadata once, are compiled once and matched without a lock.
//!
//! Exactness rests on reproducing `phonenumber::is_valid_with` for country code 1 (the
//! order of regions, the leading-digit and number-type checks, each descriptor's length
//! and prefix match) and on `phonenumber::parse` leaving a national number that starts
//! with 2–9 untouched (no NANP region's national-prefix rule can match it at position 0:
//! the rules are `1` or seven digits to the end, and the number has ten). A property test
//! in `phone.rs` compares this path with libphonenumber's over generated numbers.

use std::sync::LazyLock;

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::Regex;

/// One of libphonenumber's number descriptors: the lengths it allows and its pattern.
struct CompiledDescriptor {
    possible_lengths: Vec<u16>,
    national_number: Regex,
}

/// Compiles a metadata pattern to match where libphonenumber accepts a match: the crate
/// asks for the leftmost match and wants it to start at the first digit, which is
/// exactly "some match starts at the first digit", so the pattern is anchored there
/// and only asked whether it matches. The crate compiles with `ignore_whitespace`; so
/// must this (the newline keeps the closing parenthesis out of any trailing comment).
fn compile_from_start(pattern: &str) -> Regex {
    regex::RegexBuilder::new(&format!("^(?:{pattern}\n)"))
        .ignore_whitespace(true)
        .build()
        .expect("libphonenumber's metadata patterns compile")
}

impl CompiledDescriptor {
    fn compile(descriptor: &Descriptor) -> Self {
        Self {
            possible_lengths: descriptor.possible_length().to_vec(),
            national_number: compile_from_start(descriptor.national_number().as_str()),
        }
    }

    /// `Descriptor::is_match`: an allowed length, and a match starting at the first digit.
    fn is_match(&self, national: &str) -> bool {
        let length_allowed = self.possible_lengths.is_empty()
            || u16::try_from(national.len()).is_ok_and(|len| self.possible_lengths.contains(&len));
        length_allowed && self.national_number.is_match(national)
    }
}

/// The patterns of one NANP region that validity depends on.
struct CompiledRegion {
    leading_digits: Option<Regex>,
    general: CompiledDescriptor,
    /// Premium rate, toll free, shared cost, VoIP, personal, pager, UAN, voicemail, fixed
    /// line, mobile: `number_type` is known when any of them matches.
    typed: Vec<CompiledDescriptor>,
}

impl CompiledRegion {
    fn compile(metadata: &Metadata) -> Self {
        let descriptors = metadata.descriptors();
        let typed = [
            descriptors.premium_rate(),
            descriptors.toll_free(),
            descriptors.shared_cost(),
            descriptors.voip(),
            descriptors.personal_number(),
            descriptors.pager(),
            descriptors.uan(),
            descriptors.voicemail(),
            descriptors.fixed_line(),
            descriptors.mobile(),
        ]
        .into_iter()
        .flatten()
        .map(CompiledDescriptor::compile)
        .collect();
        Self {
            leading_digits: metadata
                .leading_digits()
                .map(|pattern| compile_from_start(pattern.as_str())),
            general: CompiledDescriptor::compile(descriptors.general()),
            typed,
        }
    }

    /// `number_type(meta, national) != Type::Unknown`.
    fn has_known_type(&self, national: &str) -> bool {
        self.general.is_match(national)
            && self
                .typed
                .iter()
                .any(|descriptor| descriptor.is_match(national))
    }

    /// Whether the region's leading digits start `national`; `None` when the region
    /// has none (it is then chosen by the number's type).
    fn leading_digits_match(&self, national: &str) -> Option<bool> {
        self.leading_digits
            .as_ref()
            .map(|pattern| pattern.is_match(national))
    }
}

/// The NANP regions in libphonenumber's order (the main country, the US, first).
static NANP_REGIONS: LazyLock<Vec<CompiledRegion>> = LazyLock::new(|| {
    DATABASE
        .region(&1)
        .expect("libphonenumber knows country code 1")
        .into_iter()
        .map(|id| CompiledRegion::compile(DATABASE.by_id(id).expect("a listed region")))
        .collect()
});

/// Compiles the patterns now instead of on the first request.
pub(super) fn warm_up() {
    LazyLock::force(&NANP_REGIONS);
}

/// The ten national digits of `input` when it is `+1` and a number this module decides:
/// ten digits, the first 2–9. Other input goes the general way.
pub(super) fn nanp_national(input: &str) -> Option<&str> {
    let national = input.strip_prefix("+1")?;
    let bytes = national.as_bytes();
    (bytes.len() == 10 && matches!(bytes[0], b'2'..=b'9') && bytes.iter().all(u8::is_ascii_digit))
        .then_some(national)
}

/// `phonenumber::is_valid` for country code 1 and these national digits: the region is
/// the first whose leading digits match, or, for regions without them, the first where
/// the number has a known type; the number is valid when it has a type in that region.
pub(super) fn is_valid_nanp(national: &str) -> bool {
    for region in NANP_REGIONS.iter() {
        match region.leading_digits_match(national) {
            Some(true) => return region.has_known_type(national),
            Some(false) => continue,
            None if region.has_known_type(national) => return true,
            None => continue,
        }
    }
    false
}
