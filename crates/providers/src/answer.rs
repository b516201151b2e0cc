//! Reading a provider's HTTP answer into accepted, retryable, uncertain or permanent,
//! the same way for every adapter: 429, 5xx and connections that could not be made are
//! worth another try (with the provider's `Retry-After` when it sends one), a request
//! that got no answer may have been accepted, other 4xx and 3xx (redirects are not
//! followed) are final, and so is an address the outbound guard refuses. Each adapter
//! adds only what is its own: where the message id is, which error codes it uses.
//!
//! What a tenant reads of a failure (a message's `errorMessage`, a circuit's reason)
//! is the provider's error code and a short cleaned message where the provider's
//! documented error shape has them, else the status and a fixed phrase; connection
//! failures are fixed phrases. Never the raw body, never a connection error's causes:
//! a tenant may point a provider URL anywhere the guard allows, and the answer must
//! not become a way to read it. The operator's log gets the details.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{HeaderMap, StatusCode};

use crate::SendError;
use crate::outbound::{
    ANSWER_LIMIT, OutboundRefusal, clean_code, clean_message, error_chain, excerpt, read_capped,
    refusal_of,
};

/// Upper bound for one send, a backstop only: the dispatcher gives every call its own,
/// shorter deadline, inside the lease it holds. A send cut off after its request was
/// written ends [`SendError::Uncertain`].
pub(crate) const SEND_TIMEOUT: Duration = Duration::from_secs(120);

/// The longest provider id kept: Twilio's SIDs have 34 characters, WhatsApp's wamids
/// about 60.
const PROVIDER_ID_CHARS: usize = 128;

/// How much of an error body goes to the operator's log.
const LOG_CHARS: usize = 300;

/// A provider's answer, read up to [`ANSWER_LIMIT`].
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub retry_after: Option<Duration>,
    pub body: String,
}

impl Answer {
    /// Sends `request` (or reports the guard's refusal of it) and reads the answer.
    /// Transport failures are already classified.
    pub async fn fetch(
        request: Result<reqwest::RequestBuilder, OutboundRefusal>,
    ) -> Result<Answer, SendError> {
        let response = request?
            .timeout(SEND_TIMEOUT)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let retry_after = retry_after(response.headers(), Utc::now());
        let body = read_capped(response, ANSWER_LIMIT)
            .await
            .map_err(transport_error)?;
        Ok(Answer {
            status,
            retry_after,
            body: body.text(),
        })
    }

    /// Whether a retry may succeed, judged by the status alone.
    pub fn is_retryable_status(&self) -> bool {
        self.status == StatusCode::TOO_MANY_REQUESTS || self.status.is_server_error()
    }

    /// The error for a non-2xx answer, with `code` and `message` from the provider's
    /// documented error body when the adapter found them; both are cleaned and cut
    /// short. Without a message, a fixed phrase for the status stands in.
    pub fn failure(
        &self,
        provider: &str,
        code: Option<String>,
        message: Option<&str>,
    ) -> SendError {
        let status = self.status.as_u16();
        tracing::info!(provider, status, body = %excerpt(&self.body, LOG_CHARS), "provider answered with an error");
        let code = code.as_deref().and_then(clean_code);
        let detail = message
            .and_then(clean_message)
            .unwrap_or_else(|| status_phrase(self.status).to_owned());
        let reason = match &code {
            Some(code) => format!("{provider} answered HTTP {status} (code {code}): {detail}"),
            None => format!("{provider} answered HTTP {status}: {detail}"),
        };
        if self.is_retryable_status() {
            SendError::Retryable {
                reason,
                retry_after: self.retry_after,
            }
        } else {
            SendError::Permanent { code, reason }
        }
    }
}

/// What a status means, in the words a tenant reads instead of the body.
fn status_phrase(status: StatusCode) -> &'static str {
    match status.as_u16() {
        300..=399 => "a redirect, which is not followed; use the final URL",
        400 => "the request was refused as malformed",
        401 => "the credentials were refused",
        403 => "the request is not allowed for these credentials",
        404 => "nothing there; check the URL",
        429 => "too many requests",
        500..=599 => "the gateway failed",
        _ => "the request was refused",
    }
}

/// Classifies a failure to get an answer at all. A request that never left (it could
/// not be built, no connection was made, the guard refused the address) is permanent
/// or retryable; one that may have reached the provider (a timeout, a connection
/// dropped mid-call) is uncertain. The tenant reads a fixed phrase; the causes, without
/// the URL (Kannel's carries the password in its query), go to the log.
pub(crate) fn transport_error(error: reqwest::Error) -> SendError {
    if let Some(refusal) = refusal_of(&error) {
        return refusal.clone().into();
    }
    let error = error.without_url();
    tracing::warn!(cause = %error_chain(&error), "a provider call got no answer");
    if error.is_builder() {
        SendError::Permanent {
            code: None,
            reason: "the request could not be built".into(),
        }
    } else if error.is_connect() {
        SendError::Retryable {
            reason: "could not connect to the provider".into(),
            retry_after: None,
        }
    } else if error.is_timeout() {
        SendError::Uncertain {
            reason: "the provider did not answer in time".into(),
        }
    } else {
        SendError::Uncertain {
            reason: "the connection ended before the provider answered".into(),
        }
    }
}

/// A provider's id of an accepted send when it looks like one: an answer that is not
/// the provider's (a tenant's URL pointing elsewhere) must not pass a page through it.
pub(crate) fn clean_provider_id(id: String) -> Option<String> {
    let plausible = !id.is_empty()
        && id.chars().count() <= PROVIDER_ID_CHARS
        && !id.chars().any(char::is_control);
    if !plausible {
        tracing::warn!(
            "a provider answered with an id that is empty, too long or not printable; it is not kept"
        );
    }
    plausible.then_some(id)
}

/// `Retry-After` as delay-seconds or as an HTTP date (RFC 9110 §10.2.3), as a wait
/// from `now`.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, value.parse().unwrap());
        headers
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 27, 0).unwrap();
        assert_eq!(
            retry_after(&headers("120"), now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT"), now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn provider_ids_must_look_like_ids() {
        assert_eq!(clean_provider_id("SM123".into()).as_deref(), Some("SM123"));
        assert_eq!(clean_provider_id(String::new()), None);
        assert_eq!(clean_provider_id("x".repeat(PROVIDER_ID_CHARS + 1)), None);
        assert_eq!(clean_provider_id("a\nb".into()), None);
    }

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: None,
            body: body.to_owned(),
        }
    }

    #[test]
    fn failures_show_no_body_text() {
        let page = format!(
            "<html><body>internal admin {}</body></html>",
            "x".repeat(500)
        );
        match answer(500, &page).failure("the gateway", None, None) {
            SendError::Retryable { reason, .. } => {
                assert_eq!(reason, "the gateway answered HTTP 500: the gateway failed")
            }
            other => panic!("{other:?}"),
        }
        match answer(302, "").failure("Kannel", None, None) {
            SendError::Permanent { code: None, reason } => assert_eq!(
                reason,
                "Kannel answered HTTP 302: a redirect, which is not followed; use the final URL"
            ),
            other => panic!("{other:?}"),
        }
        match answer(400, "{}").failure("Twilio", Some("21211".into()), Some("Invalid 'To'\n")) {
            SendError::Permanent { code, reason } => {
                assert_eq!(code.as_deref(), Some("21211"));
                assert_eq!(
                    reason,
                    "Twilio answered HTTP 400 (code 21211): Invalid 'To'"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
