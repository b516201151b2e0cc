//! Reading answers of requests that carry an `Idempotency-Key`, byte for byte, and
//! whether they were replayed.

use reqwest::RequestBuilder;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// The header that marks a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";

/// Status, headers and the exact body bytes.
pub async fn send_raw(request: RequestBuilder) -> (u16, HeaderMap, Vec<u8>) {
    let response = request.send().await.expect("the request is sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("a body").to_vec();
    (status, headers, body)
}

pub fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

pub fn replayed(headers: &HeaderMap) -> bool {
    headers.get(REPLAYED).and_then(|v| v.to_str().ok()) == Some("true")
}
