//! Whole numbers as JSON may spell them. JSON has one number type, so `590` and
//! `590.0` are the same value to a JSON Schema (both are integers) and to most JSON
//! writers (Python's `json` writes floats with `.0`); serde's integer types refuse the
//! second. Counts and limits in request bodies read through these accept either, and
//! refuse fractions, negatives and values out of range by name.
//!
//! Use with `#[serde(deserialize_with = "crate::integral::u32")]` (or `option_u32`,
//! `vec_u32`).

use serde::Deserialize as _;
use serde::de::{Deserializer, Error, Visitor};

/// A `u32` written as an integer or as a float with no fraction.
pub fn u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    deserializer.deserialize_any(WholeNumber)
}

/// An optional `u32` (`null` or absent is `None`; pair with `#[serde(default)]`).
pub fn option_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Whole(#[serde(deserialize_with = "crate::integral::u32")] u32);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|Whole(n)| n))
}

/// A list of `u32`s, each written as an integer or as a float with no fraction.
pub fn vec_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u32>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Whole(#[serde(deserialize_with = "crate::integral::u32")] u32);
    Ok(Vec::<Whole>::deserialize(deserializer)?
        .into_iter()
        .map(|Whole(n)| n)
        .collect())
}

struct WholeNumber;

impl<'de> Visitor<'de> for WholeNumber {
    type Value = u32;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a whole number from 0 to 4294967295")
    }

    fn visit_u64<E: Error>(self, value: u64) -> Result<u32, E> {
        u32::try_from(value)
            .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(value), &self))
    }

    fn visit_i64<E: Error>(self, value: i64) -> Result<u32, E> {
        u32::try_from(value)
            .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(value), &self))
    }

    fn visit_f64<E: Error>(self, value: f64) -> Result<u32, E> {
        let whole = value.is_finite()
            && value.fract() == 0.0
            && (0.0..=f64::from(u32::MAX)).contains(&value);
        if whole {
            // In range and without a fraction, so the conversion is exact.
            Ok(value as u32)
        } else {
            Err(E::invalid_value(serde::de::Unexpected::Float(value), &self))
        }
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize)]
    struct Body {
        #[serde(deserialize_with = "super::u32")]
        n: u32,
        #[serde(default, deserialize_with = "super::option_u32")]
        m: Option<u32>,
        #[serde(default, deserialize_with = "super::vec_u32")]
        v: Vec<u32>,
    }

    fn read(json: &str) -> Result<Body, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn integers_and_whole_floats_are_read_alike() {
        let body = read(r#"{"n": 590.0, "m": 3, "v": [1, 2.0, 4294967295]}"#).unwrap();
        assert_eq!(
            (body.n, body.m, body.v),
            (590, Some(3), vec![1, 2, u32::MAX])
        );
        let body = read(r#"{"n": 0, "m": null}"#).unwrap();
        assert_eq!((body.n, body.m, body.v), (0, None, vec![]));
    }

    #[test]
    fn fractions_negatives_and_out_of_range_values_are_refused() {
        for json in [
            r#"{"n": 1.5}"#,
            r#"{"n": -1}"#,
            r#"{"n": -1.0}"#,
            r#"{"n": 4294967296}"#,
            r#"{"n": 1e300}"#,
            r#"{"n": "1"}"#,
            r#"{"n": 1, "m": 0.5}"#,
            r#"{"n": 1, "v": [1, -2]}"#,
        ] {
            let error = read(json).unwrap_err();
            assert!(
                error.contains("whole number") || error.contains("invalid type"),
                "{json}: {error}"
            );
        }
    }
}
