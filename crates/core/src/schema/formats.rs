//! Schemas of typed values: phone numbers, emails, ids, dates and times, time zones,
//! regions, weekdays and URLs.

use utoipa::openapi::schema::{
    AnyOfBuilder, Array, ArrayBuilder, KnownFormat, Object, ObjectBuilder, OneOfBuilder, Schema,
    SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};

use super::{WHITESPACE, any_case, string};

/// What [`crate::E164::parse`] needs of its input's shape: `+` and 8 to 15 digits.
pub const E164_PATTERN: &str = r"^\+[0-9]{8,15}$";

fn e164_description() -> Option<&'static str> {
    Some(
        "An E.164 phone number: `+`, the country code and the number, digits only \
         (`+14155552671`). It must also be a valid number of its country's numbering plan \
         (422 otherwise).",
    )
}

/// A required E.164 phone number.
pub fn e164() -> Object {
    string(false)
        .pattern(Some(E164_PATTERN))
        .description(e164_description())
        .examples(["+14155552671", "+447911123456"])
        .build()
}

/// An optional E.164 phone number.
pub fn optional_e164() -> Object {
    string(true)
        .pattern(Some(E164_PATTERN))
        .description(e164_description())
        .examples(["+14155552671"])
        .build()
}

fn email_description() -> Option<&'static str> {
    Some(
        "An email address with a top-level domain (`name@example.com`), at most 254 \
         characters; kept in lower case.",
    )
}

/// A required email address, as [`crate::Email::parse`] accepts it.
pub fn email() -> Object {
    string(false)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(254))
        .description(email_description())
        .build()
}

/// An optional email address.
pub fn optional_email() -> Object {
    string(true)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(254))
        .description(email_description())
        .build()
}

/// The spellings of a UUID that ids are read in (`Uuid::parse_str`): hyphenated
/// (as ids are shown), simple (32 digits), braced, or as a URN.
pub const UUID_PATTERN: &str = "^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|\\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\\}|urn:uuid:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$";

/// An id: a UUID (`0190a6e4-7e5a-7000-8000-000000000000`).
pub fn uuid() -> Object {
    string(false).pattern(Some(UUID_PATTERN)).build()
}

/// An optional id.
pub fn optional_uuid() -> Object {
    string(true).pattern(Some(UUID_PATTERN)).build()
}

fn uuid_array(max: usize, nullable: bool) -> Array {
    let schema_type = if nullable {
        SchemaType::from_iter([Type::Array, Type::Null])
    } else {
        SchemaType::new(Type::Array)
    };
    ArrayBuilder::new()
        .schema_type(schema_type)
        .items(uuid())
        .max_items(Some(max))
        .unique_items(true)
        .description(Some(format!("At most {max} ids, each once.")))
        .build()
}

/// A list of at most `MAX` distinct ids.
pub fn uuid_list<const MAX: usize>() -> Array {
    uuid_array(MAX, false)
}

/// A list of at most `MAX` distinct ids, or `null`.
pub fn optional_uuid_list<const MAX: usize>() -> Array {
    uuid_array(MAX, true)
}

/// A calendar day, `YYYY-MM-DD`.
pub fn optional_date() -> Object {
    string(true)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .build()
}

/// An instant, RFC 3339 (`2026-01-31T17:00:00Z`).
pub fn optional_date_time() -> Object {
    string(true)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .build()
}

/// The name of the component listing every time zone name [`crate::parse_zone`] takes.
pub const TIME_ZONE_COMPONENT: &str = "TimeZoneName";

/// Every time zone name [`crate::parse_zone`] accepts, exactly as spelled: the IANA
/// names of the zone database and the Windows names.
pub fn time_zone_names() -> Object {
    let mut names: Vec<&str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|zone| zone.name())
        .collect();
    names.extend(crate::time_zone::windows_zone_names());
    names.sort_unstable();
    names.dedup();
    string(false)
        .enum_values(Some(names))
        .description(Some(
            "An IANA time zone (`America/New_York`) or a Windows one (`Eastern Standard \
             Time`), spelled exactly (names are case-sensitive).",
        ))
        .build()
}

/// A time zone name: a reference to the [`TIME_ZONE_COMPONENT`] component.
pub fn time_zone() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(TIME_ZONE_COMPONENT))
}

/// A time zone name, or `null`.
pub fn optional_time_zone() -> RefOr<Schema> {
    RefOr::T(Schema::OneOf(
        OneOfBuilder::new()
            .item(Ref::from_schema_name(TIME_ZONE_COMPONENT))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .build(),
    ))
}

/// A user named by id or by email, as [`crate::user::UserRef::from_id_or_email`]
/// reads it.
pub fn user_reference() -> RefOr<Schema> {
    RefOr::T(Schema::AnyOf(
        AnyOfBuilder::new()
            .item(uuid())
            .item(email())
            .description(Some("A user id (a UUID) or a user's email address."))
            .build(),
    ))
}

/// A user by id or email, or `null`.
pub fn optional_user_reference() -> RefOr<Schema> {
    RefOr::T(Schema::AnyOf(
        AnyOfBuilder::new()
            .item(uuid())
            .item(email())
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .description(Some("A user id (a UUID) or a user's email address."))
            .build(),
    ))
}

/// An `http(s)://` base URL whose host is a DNS name of at most three labels, with an
/// optional port and path: a part of what the LLM settings' URL check accepts, chosen
/// so that every URL the schema admits passes it. (IP addresses and longer names are
/// accepted too; the description says so.)
pub fn base_url() -> Object {
    // The last label starts with a letter: a URL parser reads a host whose last label
    // is a number (`l.0`, `0x1`) as an IPv4 address, and refuses it when it is not one.
    let label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    let last = "[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    string(false)
        .pattern(Some(format!(
            "^[Hh][Tt][Tt][Pp][Ss]?://(?:{label}\\.){{0,2}}{last}(?::[1-9][0-9]{{0,3}})?(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$"
        )))
        .max_length(Some(2000))
        .build()
}

/// Text sent in a header: no control characters, at most `MAX` characters; or `null`.
pub fn optional_header_value<const MAX: usize>() -> Object {
    string(true)
        .pattern(Some("^[^\\x00-\\x1f\\x7f-\\x9f]*$"))
        .max_length(Some(MAX))
        .build()
}

/// An ISO 3166 region the phone metadata knows, in any case (`US`, `mx`), or `null`.
pub fn optional_region() -> Object {
    let mut codes = Vec::new();
    for first in b'A'..=b'Z' {
        for second in b'A'..=b'Z' {
            let code = String::from_utf8(vec![first, second]).expect("ASCII");
            if crate::E164::is_known_region(&code) {
                codes.push(code);
            }
        }
    }
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    string(true)
        .pattern(Some(any_case(&codes)))
        .description(Some(
            "An ISO 3166 region code such as US, CA or MX (any case).",
        ))
        .build()
}

/// A day of the week, `MONDAY` … `SUNDAY`, in any case.
pub fn weekday() -> Object {
    string(false)
        .pattern(Some(any_case(&[
            "MONDAY",
            "TUESDAY",
            "WEDNESDAY",
            "THURSDAY",
            "FRIDAY",
            "SATURDAY",
            "SUNDAY",
        ])))
        .build()
}

/// A time of day, `HH:MM`, 24-hour, `00:00` to `23:59`.
pub fn time_of_day() -> Object {
    string(false)
        .pattern(Some("^(?:[01][0-9]|2[0-3]):[0-5][0-9]$"))
        .build()
}

/// The end of a window of the day: `HH:MM` up to `24:00`.
pub fn window_end() -> Object {
    string(false)
        .pattern(Some("^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"))
        .build()
}

/// A lead's number as [`crate::E164::parse_in_region`] reads it: E.164, or national
/// digits (spaces, dashes, dots and parentheses allowed between them).
pub fn lead_phone() -> Object {
    let space = format!("[{WHITESPACE}]");
    string(false)
        .pattern(Some(format!(
            r"^{space}*(?:\+[0-9]{{8,15}}|[0-9 ().-]*[0-9][0-9 ().-]*){space}*$"
        )))
        .description(Some(
            "E.164 (`+14155552671`), or a national number of the campaign's default country \
             (`(415) 555-2671`). It must be a valid number of its numbering plan (422 \
             otherwise).",
        ))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pattern is the shape `E164::parse` checks first: every number it accepts
    /// matches, and a number that does not match is refused.
    #[test]
    fn the_e164_pattern_is_the_shape_of_valid_numbers() {
        let pattern = regex::Regex::new(E164_PATTERN).unwrap();
        for number in [
            "+14155552671",
            "+447911123456",
            "+5215512345678",
            "+12",
            "14155552671",
        ] {
            if crate::E164::parse(number).is_ok() {
                assert!(pattern.is_match(number), "{number}");
            }
            if !pattern.is_match(number) {
                assert!(crate::E164::parse(number).is_err(), "{number}");
            }
        }
    }
}
