//! Text holding the NUL character (U+0000) is refused at the edge, naming its field.
//! JSON may carry it (`"\u0000"`) and SQLite stores it, but PostgreSQL's `TEXT` cannot:
//! without this check such a value would reach the database and fail there with a
//! 500 on one store and be kept on the other.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// What the check says of a value holding U+0000.
pub const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// Any JSON value, read only to find text holding U+0000 (an error naming its path).
pub struct NulFree;

impl<'de> Deserialize<'de> for NulFree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NulFreeVisitor)
    }
}

struct NulFreeVisitor;

impl<'de> Visitor<'de> for NulFreeVisitor {
    type Value = NulFree;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<NulFree, E> {
        Ok(NulFree)
    }

    fn visit_i64<E>(self, _: i64) -> Result<NulFree, E> {
        Ok(NulFree)
    }

    fn visit_u64<E>(self, _: u64) -> Result<NulFree, E> {
        Ok(NulFree)
    }

    fn visit_f64<E>(self, _: f64) -> Result<NulFree, E> {
        Ok(NulFree)
    }

    fn visit_unit<E>(self) -> Result<NulFree, E> {
        Ok(NulFree)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<NulFree, E> {
        if value.contains('\0') {
            Err(E::custom(NUL_MESSAGE))
        } else {
            Ok(NulFree)
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<NulFree, A::Error> {
        while items.next_element::<NulFree>()?.is_some() {}
        Ok(NulFree)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<NulFree, A::Error> {
        while let Some(key) = entries.next_key::<std::borrow::Cow<'de, str>>()? {
            if key.contains('\0') {
                return Err(de::Error::custom(format!("a field name {NUL_MESSAGE}")));
            }
            entries.next_value::<NulFree>()?;
        }
        Ok(NulFree)
    }
}

/// The name of the first query parameter whose name or value holds an encoded U+0000
/// (`%00`), if any.
pub fn query_parameter_with_nul(query: &str) -> Option<String> {
    query
        .split('&')
        .find(|pair| pair.contains("%00") || pair.contains('\0'))
        .map(|pair| pair.split('=').next().unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(body: &str) -> Option<String> {
        let mut deserializer = serde_json::Deserializer::from_str(body);
        match serde_path_to_error::deserialize::<_, NulFree>(&mut deserializer) {
            Ok(NulFree) => None,
            Err(error) => Some(error.path().to_string()),
        }
    }

    #[test]
    fn text_with_nul_is_found_by_its_path() {
        assert_eq!(path_of(r#"{"a": "x", "b": [1, "ok"]}"#), None);
        assert_eq!(path_of(r#"{"name": "a\u0000b"}"#).as_deref(), Some("name"));
        assert_eq!(
            path_of(r#"{"a": {"b": ["x", "\u0000"]}}"#).as_deref(),
            Some("a.b[1]")
        );
        // An escaped backslash before `u0000` is text, not NUL.
        assert_eq!(path_of(r#"{"a": "\\u0000"}"#), None);
        assert!(path_of(r#"{"a\u0000": 1}"#).is_some());
    }

    #[test]
    fn encoded_nul_in_a_query_names_its_parameter() {
        assert_eq!(
            query_parameter_with_nul("limit=5&cursor=a%00b").as_deref(),
            Some("cursor")
        );
        assert_eq!(query_parameter_with_nul("limit=5&name=%2500"), None);
        assert_eq!(query_parameter_with_nul("limit=5"), None);
    }
}
