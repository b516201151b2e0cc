//! Why a completion gave no usable answer, in the words the decision log shows: the
//! hand-off reason a tenant reads. Fixed phrases and the short, cleaned code and
//! message of an OpenAI-shaped error body; never the body itself.

use leadline_providers::outbound::{OutboundRefusal, clean_code, clean_message};

use super::{MAX_COMPLETIONS, wire};

/// Why the endpoint gave no usable answer; the text is the hand-off reason.
#[derive(Debug, thiserror::Error)]
pub(super) enum CompletionError {
    #[error("the LLM endpoint did not answer within {0} s")]
    Timeout(u64),
    /// The outbound guard refused the endpoint's address.
    #[error("the LLM endpoint was {0}")]
    Refused(OutboundRefusal),
    #[error("the LLM endpoint could not be reached")]
    Unreachable,
    /// `detail` starts with ": " or " (code …): ".
    #[error("the LLM endpoint answered HTTP {status}{detail}")]
    Status { status: u16, detail: String },
    /// The detail, when there is one, starts with " (".
    #[error("the LLM endpoint sent something that is not a chat completion{0}")]
    Malformed(String),
    #[error("the LLM endpoint answered with no choices")]
    NoChoices,
    #[error("the LLM endpoint answered with neither text nor a tool call")]
    Empty,
    #[error("the LLM endpoint gave no final answer in {MAX_COMPLETIONS} completions")]
    NoFinalAnswer,
}

/// What an error answer says, for the hand-off reason: the code and the start of the
/// message of OpenAI's error shape (`{"error": {"message", "code"}}`), which the
/// compatible servers share, else a fixed phrase for the status.
pub(super) fn error_detail(status: reqwest::StatusCode, body: &[u8]) -> String {
    let error = serde_json::from_slice::<wire::ErrorBody>(body)
        .ok()
        .map(|body| body.error);
    let code = error
        .as_ref()
        .and_then(|error| error.code.as_ref())
        .and_then(|code| match code {
            serde_json::Value::String(text) => clean_code(text),
            serde_json::Value::Number(number) => clean_code(&number.to_string()),
            _ => None,
        });
    let message = error
        .as_ref()
        .and_then(|error| error.message.as_deref())
        .and_then(clean_message)
        .unwrap_or_else(|| status_phrase(status).to_owned());
    match code {
        Some(code) => format!(" (code {code}): {message}"),
        None => format!(": {message}"),
    }
}

/// What a status means, in the words the decision log shows instead of the body.
fn status_phrase(status: reqwest::StatusCode) -> &'static str {
    match status.as_u16() {
        300..=399 => "a redirect, which is not followed; use the final URL as llm.baseUrl",
        400 => "the request was refused as malformed",
        401 => "the API key was refused",
        403 => "the request is not allowed for this API key",
        404 => "nothing there; check llm.baseUrl and llm.model",
        429 => "too many requests",
        500..=599 => "the endpoint failed",
        _ => "the request was refused",
    }
}
