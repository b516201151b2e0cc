//! Readers for the parts of a webhook call the adapters share: form bodies, query
//! strings, headers and Unix timestamps. They never fail on odd input by themselves;
//! the adapter decides what is malformed for its provider.

use chrono::{DateTime, Utc};

use crate::{WebhookError, WebhookRequest};

/// Decoded `key=value` pairs in their order, `+` read as a space.
pub(crate) type Pairs = Vec<(String, String)>;

/// The pairs of an `application/x-www-form-urlencoded` body.
pub(crate) fn form_pairs(body: &[u8]) -> Pairs {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The pairs of the request URL's query string (none when there is no `?`).
pub(crate) fn query_pairs(request: &WebhookRequest<'_>) -> Pairs {
    match request.url.split_once('?') {
        Some((_, query)) => {
            let query = query.split_once('#').map_or(query, |(query, _)| query);
            form_pairs(query.as_bytes())
        }
        None => Vec::new(),
    }
}

/// The first value of `key`.
pub(crate) fn value<'a>(pairs: &'a Pairs, key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The first value of `key` when it is not blank.
pub(crate) fn non_empty<'a>(pairs: &'a Pairs, key: &str) -> Option<&'a str> {
    value(pairs, key).filter(|v| !v.trim().is_empty())
}

/// A header as text; a header that is not visible ASCII counts as absent.
pub(crate) fn header<'a>(request: &WebhookRequest<'a>, name: &str) -> Option<&'a str> {
    request.headers.get(name)?.to_str().ok()
}

/// A required header, or `BadSignature` naming it: every header read this way carries
/// a signature or token.
pub(crate) fn signature_header<'a>(
    request: &WebhookRequest<'a>,
    name: &str,
) -> Result<&'a str, WebhookError> {
    header(request, name)
        .ok_or_else(|| WebhookError::BadSignature(format!("missing {name} header")))
}

/// Unix seconds (as the providers send them: a decimal string) to a time.
pub(crate) fn unix_seconds(text: &str) -> Option<DateTime<Utc>> {
    let seconds = text.trim().parse::<i64>().ok()?;
    DateTime::from_timestamp(seconds, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_decode_plus_and_percent() {
        let headers = http::HeaderMap::new();
        let request = WebhookRequest {
            method: &http::Method::GET,
            url: "https://x.test/hook?text=hello+world&to=%2B1415#frag",
            headers: &headers,
            body: b"",
            peer: None,
            received_at: Utc::now(),
        };
        let pairs = query_pairs(&request);
        assert_eq!(value(&pairs, "text"), Some("hello world"));
        assert_eq!(value(&pairs, "to"), Some("+1415"));
        assert_eq!(non_empty(&pairs, "missing"), None);
    }

    #[test]
    fn unix_seconds_reads_decimal_strings() {
        assert_eq!(
            unix_seconds("1700000000").unwrap().timestamp(),
            1_700_000_000
        );
        assert_eq!(unix_seconds("soon"), None);
    }
}
