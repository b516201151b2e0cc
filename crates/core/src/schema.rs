//! JSON Schemas of this crate's validators, for the OpenAPI document. Each says in
//! schema terms what its validator accepts, so a request the document calls valid
//! passes the field's check, and one it calls invalid is refused. Where a validator
//! knows more than a schema can say (a phone number's numbering plan, an email's
//! grammar), the schema states the shape and the field's description says the rest.
//!
//! Fields use them with `#[schema(schema_with = leadline_core::schema::text::<100>)]`.
//! Free text and choices are here; the `formats` submodule holds the typed values (phone
//! numbers, emails, ids, dates, zones, URLs).

use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};

mod formats;

pub use formats::*;

/// The characters `str::trim` removes (Unicode `White_Space`), as a regex class body.
/// Spelled out because `\s` differs between regex dialects (ECMA, Python, Rust).
pub const WHITESPACE: &str =
    r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// A string that, trimmed, holds 1 to `max` characters: what
/// [`crate::validation::text`] accepts.
pub fn trimmed_text_pattern(max: usize) -> String {
    let (space, solid) = (format!("[{WHITESPACE}]"), format!("[^{WHITESPACE}]"));
    match max {
        0 => "^[^\\s\\S]$".to_owned(),
        1 => format!("^{space}*{solid}{space}*$"),
        _ => format!(
            "^{space}*{solid}(?:[\\s\\S]{{0,{middle}}}{solid})?{space}*$",
            middle = max - 2
        ),
    }
}

fn string(nullable: bool) -> ObjectBuilder {
    let schema_type = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::new(Type::String)
    };
    ObjectBuilder::new().schema_type(schema_type)
}

/// Required free text: 1 to `MAX` characters once trimmed.
pub fn text<const MAX: usize>() -> Object {
    string(false)
        .pattern(Some(trimmed_text_pattern(MAX)))
        .description(Some(format!(
            "Free text, 1 to {MAX} characters once leading and trailing spaces are trimmed."
        )))
        .build()
}

/// Optional free text: `null`, or 1 to `MAX` characters once trimmed.
pub fn optional_text<const MAX: usize>() -> Object {
    string(true)
        .pattern(Some(trimmed_text_pattern(MAX)))
        .description(Some(format!(
            "Free text, 1 to {MAX} characters once leading and trailing spaces are trimmed."
        )))
        .build()
}

/// Optional free text: `null`, or 1 to `MAX` characters once trimmed, with no control
/// characters (such as line breaks) inside: what [`crate::api_key::key_name`] accepts.
pub fn optional_single_line<const MAX: usize>() -> Object {
    const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";
    let (space, solid) = (
        format!("[{WHITESPACE}]"),
        format!("[^{WHITESPACE}{CONTROL}]"),
    );
    let pattern = match MAX {
        0 | 1 => format!("^{space}*{solid}{space}*$"),
        _ => format!(
            "^{space}*{solid}(?:[^{CONTROL}]{{0,{middle}}}{solid})?{space}*$",
            middle = MAX - 2
        ),
    };
    string(true)
        .pattern(Some(pattern))
        .description(Some(format!(
            "One line of 1 to {MAX} characters once leading and trailing spaces are trimmed."
        )))
        .build()
}

/// Text that is not only whitespace, of any length the body limit allows.
pub fn not_blank() -> Object {
    string(false)
        .pattern(Some(format!("[^{WHITESPACE}]")))
        .build()
}

/// A string that, trimmed, holds at most `max` characters (empty allowed).
pub fn trimmed_up_to_pattern(max: usize) -> String {
    let (space, solid) = (format!("[{WHITESPACE}]"), format!("[^{WHITESPACE}]"));
    match max {
        0 => format!("^{space}*$"),
        1 => format!("^{space}*{solid}?{space}*$"),
        _ => format!(
            "^{space}*(?:{solid}(?:[\\s\\S]{{0,{middle}}}{solid})?)?{space}*$",
            middle = max - 2
        ),
    }
}

/// Optional text of at most `MAX` characters once trimmed; empty or `null` means none.
pub fn optional_text_up_to<const MAX: usize>() -> Object {
    string(true)
        .pattern(Some(trimmed_up_to_pattern(MAX)))
        .description(Some(format!(
            "At most {MAX} characters once leading and trailing spaces are trimmed."
        )))
        .build()
}

/// Text that is not only whitespace, of at most `MAX` characters (not trimmed).
pub fn bounded_text<const MAX: usize>() -> Object {
    string(false)
        .pattern(Some(format!("[^{WHITESPACE}]")))
        .max_length(Some(MAX))
        .description(Some(format!(
            "Not only whitespace; at most {MAX} characters."
        )))
        .build()
}

/// Like [`bounded_text`], or `null`.
pub fn optional_bounded_text<const MAX: usize>() -> Object {
    string(true)
        .pattern(Some(format!("[^{WHITESPACE}]")))
        .max_length(Some(MAX))
        .description(Some(format!(
            "Not only whitespace; at most {MAX} characters."
        )))
        .build()
}

/// Empty (send nothing), or text that is not only whitespace, of at most `MAX`
/// characters.
pub fn empty_or_bounded_text<const MAX: usize>() -> Object {
    string(false)
        .pattern(Some(format!("^(?:|[\\s\\S]*[^{WHITESPACE}][\\s\\S]*)$")))
        .max_length(Some(MAX))
        .description(Some(format!(
            "Empty, or not only whitespace; at most {MAX} characters."
        )))
        .build()
}

/// One of `values`, exactly as spelled.
pub fn one_of(values: &[&str]) -> Object {
    string(false)
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// A list of at most `max_items` strings of at most `max_length` characters each.
pub fn strings(max_items: Option<usize>, max_length: usize) -> Array {
    ArrayBuilder::new()
        .items(string(false).max_length(Some(max_length)))
        .max_items(max_items)
        .build()
}

/// A list of at most `max_items` texts, each 1 to `max_length` characters once trimmed.
pub fn texts(max_items: usize, max_length: usize) -> Array {
    ArrayBuilder::new()
        .items(string(false).pattern(Some(trimmed_text_pattern(max_length))))
        .max_items(Some(max_items))
        .build()
}

/// `words`, matched without regard to ASCII case, as a regex (`[Mm][Oo]…`): the
/// `(?i)` flag is not in every dialect a schema is read with.
fn any_case(words: &[&str]) -> String {
    let spelled: Vec<String> = words
        .iter()
        .map(|word| {
            word.chars()
                .map(|c| {
                    if c.is_ascii_alphabetic() {
                        format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        })
        .collect();
    format!("^(?:{})$", spelled.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed text of at most `max` characters, empty allowed, as the optional notes
    /// and reasons are read (`trim`, then count).
    #[test]
    fn the_up_to_pattern_accepts_exactly_short_trimmed_text() {
        for max in [1, 2, 5] {
            let pattern = regex::Regex::new(&trimmed_up_to_pattern(max)).unwrap();
            for value in [
                "",
                " ",
                "a",
                " ab ",
                "abcde",
                "abcdef",
                "\u{3000}a b\u{85}",
                "\n\n",
            ] {
                assert_eq!(
                    pattern.is_match(value),
                    value.trim().chars().count() <= max,
                    "max {max}, {value:?}"
                );
            }
        }
    }

    /// The pattern, read by a real regex engine, agrees with the validator, whitespace
    /// of every kind `trim` knows included.
    #[test]
    fn the_text_pattern_accepts_exactly_what_text_accepts() {
        for max in [1, 2, 5] {
            let pattern = regex::Regex::new(&trimmed_text_pattern(max)).unwrap();
            for value in [
                "",
                " ",
                "a",
                "ab",
                "abcde",
                "abcdef",
                "  abcde \n",
                " a ",
                "\u{3000}a b\u{85}",
                "\u{2028}\u{a0}",
                "a\u{1680}b",
                "\u{feff}",
                "\u{1c}",
                "x\ny",
                "\u{0}",
            ] {
                assert_eq!(
                    pattern.is_match(value),
                    crate::validation::text("f", value, max).is_ok(),
                    "max {max}, {value:?}"
                );
            }
        }
    }
}
