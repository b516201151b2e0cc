//! Reading a provider's HTTP answer into accepted, retryable, uncertain or permanent,
//! the same way for every adapter: 429, 5xx and connections that could not be made are
//! worth another try (with the provider's `Retry-After` when it sends one), a request
//! that got no answer may have been accepted, other 4xx are final. Each adapter
//! adds only what is its own: where the message id is, which error codes it uses.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{HeaderMap, StatusCode};

use crate::SendError;

/// Upper bound for one send, a backstop only: the dispatcher gives every call its own,
/// shorter deadline, inside the lease it holds. A send cut off after its request was
/// written ends [`SendError::Uncertain`].
pub(crate) const SEND_TIMEOUT: Duration = Duration::from_secs(120);

/// How much of a provider's error body goes into a reason: enough to read, not a page.
const REASON_CHARS: usize = 300;

/// A provider's answer, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub retry_after: Option<Duration>,
    pub body: String,
}

impl Answer {
    /// Sends `request` and reads the answer. Transport failures are already classified.
    pub async fn fetch(request: reqwest::RequestBuilder) -> Result<Answer, SendError> {
        let response = request
            .timeout(SEND_TIMEOUT)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let retry_after = retry_after(response.headers(), Utc::now());
        let body = response.text().await.map_err(transport_error)?;
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }

    /// Whether a retry may succeed, judged by the status alone.
    pub fn is_retryable_status(&self) -> bool {
        self.status == StatusCode::TOO_MANY_REQUESTS || self.status.is_server_error()
    }

    /// The error for a non-2xx answer, with `code` and `message` from the provider's
    /// error body when the adapter found them.
    pub fn failure(
        &self,
        provider: &str,
        code: Option<String>,
        message: Option<&str>,
    ) -> SendError {
        let detail = message
            .map(str::to_owned)
            .unwrap_or_else(|| excerpt(&self.body));
        let reason = match &code {
            Some(code) => format!(
                "{provider} answered HTTP {} (code {code}): {detail}",
                self.status.as_u16()
            ),
            None => format!(
                "{provider} answered HTTP {}: {detail}",
                self.status.as_u16()
            ),
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

/// Classifies a failure to get an answer at all. A request that never left (it could
/// not be built, or no connection was made) is permanent or retryable; one that may
/// have reached the provider (a timeout, a connection dropped mid-call) is uncertain.
/// The URL is dropped from the error first: Kannel's carries the password in its query.
pub(crate) fn transport_error(error: reqwest::Error) -> SendError {
    let (builder, connect) = (error.is_builder(), error.is_connect());
    let reason = error.without_url().to_string();
    if builder {
        SendError::Permanent {
            code: None,
            reason: format!("the request could not be built: {reason}"),
        }
    } else if connect {
        SendError::Retryable {
            reason: format!("the provider could not be reached: {reason}"),
            retry_after: None,
        }
    } else {
        SendError::Uncertain {
            reason: format!("no answer from the provider: {reason}"),
        }
    }
}

/// `Retry-After` as delay-seconds or as an HTTP date (RFC 9110 §10.2.3).
pub(crate) fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
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

/// The start of a body, for error reasons.
pub(crate) fn excerpt(body: &str) -> String {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return "(empty body)".into();
    }
    match trimmed.char_indices().nth(REASON_CHARS) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
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
    fn excerpt_cuts_long_bodies_on_a_char_boundary() {
        let long = "é".repeat(1000);
        assert_eq!(excerpt(&long).chars().count(), REASON_CHARS + 1);
        assert_eq!(excerpt("  "), "(empty body)");
    }
}
