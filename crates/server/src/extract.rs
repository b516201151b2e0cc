//! Request extractors that answer in problem details instead of axum's plain-text
//! rejections: JSON bodies (syntax errors are 400 with line and column; wrong types,
//! missing fields and unknown enum values are 422 naming the field by its JSON path;
//! text holding U+0000 is a 422 too, see [`nul`]), query strings, and path ids.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

mod nul;

/// Largest JSON body accepted, in bytes (bulk endpoints set their own).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Largest body of a bulk route (its path ends in `:bulk`): room for 50,000 leads with
/// some callData each.
pub const BULK_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The body limit of the route matched as `route` (its template, e.g.
/// `/api/v1/campaigns/{id}/leads:bulk`), for layers that read the body before the
/// route does (the `Idempotency-Key` layer). Bulk routes are the ones named `…:bulk`
/// and set [`BULK_BODY_LIMIT`] with `DefaultBodyLimit`; every other route keeps
/// [`BODY_LIMIT`].
pub fn body_limit_of(route: &str) -> usize {
    if route.ends_with(":bulk") {
        BULK_BODY_LIMIT
    } else {
        BODY_LIMIT
    }
}

/// A JSON body, parsed with the field path kept for errors.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(BODY_LIMIT)
                } else {
                    ApiError::BadRequest(format!("could not read the body: {rejection}"))
                }
            })?;
        parse_json(&body).map(ApiJson)
    }
}

/// Parses JSON, classifying failures as 400 (not JSON) or 422 (JSON of the wrong shape).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(
            "the body is empty; send a JSON object".to_owned(),
        ));
    }
    // Syntax first, over the whole body: a typed parse stops at the first field of the
    // wrong shape and would answer 422 for a body that is not even JSON (`{} trailing`,
    // a truncated document). The same pass refuses text holding U+0000 by its path.
    //
    // Both passes run first without tracking the path: tracking allocates for every key
    // and every element, and only a refusal needs to say where it is. A refused body is
    // read again with tracking, which refuses it the same way and names the path.
    let mut checker = serde_json::Deserializer::from_slice(body);
    if nul::NulFree::deserialize(&mut checker).is_ok() {
        checker.end().map_err(|error| not_json(&error))?;
    } else {
        check_syntax_tracked(body)?;
    }
    // Every endpoint takes an object; serde would otherwise read an array field by field.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    if let Ok(value) = T::deserialize(&mut deserializer) {
        deserializer.end().map_err(|error| not_json(&error))?;
        return Ok(value);
    }
    parse_tracked(body)
}

/// The syntax and U+0000 pass of [`parse_json`], naming the path of what it refuses.
fn check_syntax_tracked(body: &[u8]) -> Result<(), ApiError> {
    let mut checker = serde_json::Deserializer::from_slice(body);
    if let Err(error) = serde_path_to_error::deserialize::<_, nul::NulFree>(&mut checker) {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.classify() != serde_json::error::Category::Data {
            return Err(not_json(&inner));
        }
        let field = if path == "." { "body".to_owned() } else { path };
        return Err(ApiError::field(&field, strip_position(&inner.to_string())));
    }
    checker.end().map_err(|error| not_json(&error))
}

/// The typed pass of [`parse_json`], naming the field it refuses by its JSON path.
fn parse_tracked<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        // The body is JSON (checked above), so anything refused now is a field of the
        // wrong shape, even where serde_json files it as syntax (`"languageCode": true`
        // is "expected value" to its enum parser).
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = match inner.classify() {
            serde_json::error::Category::Data => strip_position(&inner.to_string()),
            _ => "has the wrong type or value for this field".to_owned(),
        };
        let field = match missing_field(&message) {
            Some(name) if path == "." => name.to_owned(),
            Some(name) => format!("{path}.{name}"),
            None if path == "." => "body".to_owned(),
            None => path,
        };
        ApiError::Validation(vec![name_unknown_field(leadline_core::FieldError::new(
            field, message,
        ))])
    })?;
    deserializer.end().map_err(|error| not_json(&error))?;
    Ok(value)
}

/// Rewrites serde's "unknown field `x`, expected …" at `path` to name `path.x`.
fn name_unknown_field(mut error: leadline_core::FieldError) -> leadline_core::FieldError {
    let Some(name) = error
        .message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
    else {
        return error;
    };
    let last_segment = error.field.rsplit('.').next().unwrap_or_default();
    if last_segment != name {
        error.field = match error.field.as_str() {
            "body" | "." | "" => name.to_owned(),
            parent => format!("{parent}.{name}"),
        };
    }
    error.message = format!("is not a field here ({})", error.message);
    error
}

/// 400 for a body that is not JSON, with where the parser gave up.
fn not_json(error: &serde_json::Error) -> ApiError {
    ApiError::BadRequest(format!(
        "the body is not valid JSON: {} (line {}, column {})",
        strip_position(&error.to_string()),
        error.line(),
        error.column()
    ))
}

/// serde_json appends " at line L column C"; the field path says more to a client.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// The name in "missing field `name`".
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

/// Parses a path segment as an id, answering 404 (an id that cannot exist names
/// nothing) with the parameter named.
pub fn path_id<T: std::str::FromStr>(
    parameter: &str,
    value: &str,
    what: &str,
) -> Result<T, ApiError> {
    value.parse().map_err(|_| ApiError::NotFound {
        detail: format!("no {what} '{value}'"),
        field: Some(parameter.to_owned()),
    })
}

/// For a nested object field in a partial update (`#[serde(default, deserialize_with =
/// "patch_object")]`): absent, `null` or a JSON object. serde's derived struct impls
/// would also take an array of the fields in order, so `"customAttributes": []` or
/// `"ownerIdentifier": ["a@b.co", "EMAIL"]` would pass as objects; a client sending
/// those has the shape wrong and gets a 422 naming the field.
pub fn patch_object<'de, D, T>(deserializer: D) -> Result<leadline_core::Patch<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    struct ObjectOnly<T>(T);

    impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for ObjectOnly<T> {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Object<T>(std::marker::PhantomData<T>);
            impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Object<T> {
                type Value = T;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                    T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                }
            }
            deserializer
                .deserialize_map(Object(std::marker::PhantomData))
                .map(ObjectOnly)
        }
    }

    Ok(
        match <Option<ObjectOnly<T>> as serde::Deserialize>::deserialize(deserializer)? {
            None => leadline_core::Patch::Clear,
            Some(ObjectOnly(value)) => leadline_core::Patch::Set(value),
        },
    )
}

/// Query-string parameters, with failures answered as problem details.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        if let Some(name) = parts.uri.query().and_then(nul::query_parameter_with_nul) {
            return Err(ApiError::field(&name, nul::NUL_MESSAGE));
        }
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|rejection| {
                ApiError::BadRequest(format!("invalid query string: {}", rejection.body_text()))
            })
    }
}

/// Timestamps in answers: RFC 3339, UTC, milliseconds (`2003-04-10T08:00:00.000Z`).
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        cellphone: String,
        #[serde(default)]
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        count: u32,
    }

    fn field_of(body: &str) -> String {
        match parse_json::<Body>(body.as_bytes()) {
            Err(ApiError::Validation(errors)) => errors[0].field.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn data_errors_name_the_field() {
        assert_eq!(field_of("{}"), "cellphone");
        assert_eq!(field_of(r#"{"cellphone": 5}"#), "cellphone");
        assert_eq!(
            field_of(r#"{"cellphone": "x", "items": [{"count": 1}, {"count": -1}]}"#),
            "items[1].count"
        );
        assert_eq!(
            field_of(r#"{"cellphone": "x", "items": [{}]}"#),
            "items[0].count"
        );
        assert_eq!(field_of("[]"), "body");
    }

    #[test]
    fn bulk_routes_take_the_bulk_limit() {
        assert_eq!(
            body_limit_of("/api/v1/campaigns/{id}/leads:bulk"),
            BULK_BODY_LIMIT
        );
        assert_eq!(body_limit_of("/api/v1/users"), BODY_LIMIT);
        assert_eq!(body_limit_of(""), BODY_LIMIT);
    }

    #[test]
    fn syntax_errors_are_bad_requests_with_a_position() {
        for body in ["{", "{\"cellphone\": }", "not json", "{} trailing", "   "] {
            match parse_json::<Body>(body.as_bytes()) {
                Err(ApiError::BadRequest(detail)) => assert!(
                    detail.contains("JSON") || detail.contains("empty"),
                    "{detail}"
                ),
                other => panic!("{body:?}: expected 400, got {other:?}"),
            }
        }
    }
}
