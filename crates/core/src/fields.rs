//! Reading the fields of requests and forms: ids (one, optional, lists), optional
//! text, PATCH fields, and the names and descriptions of teams and sources. Every
//! fault goes into the caller's [`FieldErrors`] naming its field, so a request or a
//! form is answered with all of them at once. The API and the console both read their
//! input with these.

use std::collections::HashSet;
use std::hash::Hash;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::validation::text;
use crate::{FieldErrors, Patch};

/// Most ids one list field may hold: each is looked up before the write.
pub const MAX_IDS: usize = 200;

/// An id of `what`, or an error naming `field`.
pub fn parse_id<T: FromStr>(
    errors: &mut FieldErrors,
    field: &str,
    value: &str,
    what: &str,
) -> Option<T> {
    let parsed = value.trim().parse().ok();
    if parsed.is_none() {
        errors.push(field, format!("must be a {what} id (a UUID)"));
    }
    parsed
}

pub fn optional_id<T: FromStr>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<String>,
    what: &str,
) -> Option<T> {
    value.and_then(|value| parse_id(errors, field, &value, what))
}

/// Ids of `what`, each named `field[i]` when it is not one or is listed twice.
pub fn id_list<T: FromStr + Eq + Hash + Copy>(
    errors: &mut FieldErrors,
    field: &str,
    values: &[String],
    what: &str,
) -> Vec<T> {
    if values.len() > MAX_IDS {
        errors.push(field, format!("lists at most {MAX_IDS} ids"));
        return Vec::new();
    }
    let mut seen = HashSet::new();
    let mut ids = Vec::with_capacity(values.len());
    for (n, value) in values.iter().enumerate() {
        let item = format!("{field}[{n}]");
        if let Some(id) = parse_id::<T>(errors, &item, value, what) {
            if seen.insert(id) {
                ids.push(id);
            } else {
                errors.push(item, "is listed twice");
            }
        }
    }
    ids
}

/// Optional free text: trimmed, not empty (send `null` or leave it out instead).
pub fn optional_text(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<String>,
    max: usize,
) -> Option<String> {
    value.and_then(|value| errors.check(text(field, &value, max)))
}

/// An optional calendar day written `YYYY-MM-DD`.
pub fn optional_day(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<String>,
) -> Option<NaiveDate> {
    let value = value?;
    let parsed = (value.len() == 10)
        .then(|| NaiveDate::parse_from_str(&value, "%Y-%m-%d").ok())
        .flatten();
    if parsed.is_none() {
        errors.push(field, "must be a date written YYYY-MM-DD");
    }
    parsed
}

/// The value of a PATCH field that may not be null.
pub fn required<T>(errors: &mut FieldErrors, field: &str, patch: Patch<T>) -> Option<T> {
    match patch {
        Patch::Clear => {
            errors.push(field, "cannot be null; leave it out to keep it");
            None
        }
        Patch::Set(value) => Some(value),
        Patch::Absent => None,
    }
}

/// A PATCH id field: absent, `null` or an id of `what`.
pub fn patch_id<T: std::str::FromStr>(
    errors: &mut FieldErrors,
    field: &str,
    patch: Patch<String>,
    what: &str,
) -> Patch<T> {
    match patch {
        Patch::Absent => Patch::Absent,
        Patch::Clear => Patch::Clear,
        Patch::Set(value) => {
            parse_id(errors, field, &value, what).map_or(Patch::Absent, Patch::Set)
        }
    }
}

/// A PATCH list of ids: `None` when absent, empty for `null`, else the parsed ids.
pub fn patch_list<T: std::str::FromStr + Eq + std::hash::Hash + Copy>(
    errors: &mut FieldErrors,
    field: &str,
    patch: Patch<Vec<String>>,
    what: &str,
) -> Option<Vec<T>> {
    match patch {
        Patch::Absent => None,
        Patch::Clear => Some(Vec::new()),
        Patch::Set(values) => Some(id_list(errors, field, &values, what)),
    }
}

/// Longest name of a team or source, and of its description.
pub const MAX_NAME: usize = 100;
pub const MAX_DESCRIPTION: usize = 1000;

/// A new name of a team or source.
pub fn checked_name(errors: &mut FieldErrors, value: &str) -> Option<String> {
    errors.check(text("name", value, MAX_NAME))
}

/// A new description of a team or source.
pub fn checked_description(errors: &mut FieldErrors, value: Option<String>) -> Option<String> {
    optional_text(errors, "description", value, MAX_DESCRIPTION)
}

/// A PATCH of a team's or source's name: kept when absent, never null.
pub fn patch_name(
    errors: &mut FieldErrors,
    current: String,
    patch: Patch<String>,
) -> Option<String> {
    match patch {
        Patch::Absent => Some(current),
        patch => required(errors, "name", patch).and_then(|value| checked_name(errors, &value)),
    }
}

/// A PATCH of a team's or source's description: kept when absent, cleared by null.
pub fn patch_description(
    errors: &mut FieldErrors,
    current: Option<String>,
    patch: Patch<String>,
) -> Option<String> {
    match patch {
        Patch::Absent => current,
        Patch::Clear => None,
        Patch::Set(value) => checked_description(errors, Some(value)),
    }
}
