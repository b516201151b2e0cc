//! One signed POST of an event to an endpoint, per the Standard Webhooks
//! specification, and what its answer means: the payload bytes exactly as the log keeps
//! them, `webhook-id` (the event's id, the same on every retry and replay),
//! `webhook-timestamp` (this attempt's unix seconds) and `webhook-signature` (one `v1,`
//! signature per secret that signs now, space separated).

use std::time::Duration;

use chrono::{DateTime, Utc};
use leadline_core::event::signature::signature_header;
use leadline_providers::outbound::{OutboundClient, error_chain, read_capped, refusal_of};
use leadline_store::webhook_endpoints::SigningSecrets;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderValue};

/// How much of an answer's body the attempt log keeps.
pub const EXCERPT_BYTES: usize = 1024;

/// What one attempt got.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub kind: AnswerKind,
    /// The HTTP status, when the endpoint answered.
    pub status: Option<u16>,
    /// How long the endpoint asked to be left alone (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// The first bytes of the body, or why there was no answer.
    pub excerpt: Option<String>,
}

/// How an attempt went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    /// 2xx: delivered.
    Accepted,
    /// 410 Gone: the endpoint asks never to be called again.
    Gone,
    /// Any other status: try again later. 429 and 5xx also say the endpoint is unwell.
    Refused,
    /// No answer: no connection, a timeout, a connection dropped mid-answer.
    Unreachable,
    /// The outbound guard refused the URL: a configuration fault, not the endpoint's
    /// health.
    Forbidden,
}

impl Answer {
    /// An attempt that got no HTTP answer, for `why`.
    pub fn unreachable(why: String) -> Self {
        Self {
            kind: AnswerKind::Unreachable,
            status: None,
            retry_after: None,
            excerpt: Some(why),
        }
    }

    /// Whether the endpoint itself looks unwell (for its lane's circuit breaker).
    pub fn is_unwell(&self) -> bool {
        match self.kind {
            AnswerKind::Unreachable => true,
            AnswerKind::Refused => self
                .status
                .is_some_and(|status| status == 429 || status >= 500),
            AnswerKind::Accepted | AnswerKind::Gone | AnswerKind::Forbidden => false,
        }
    }

    /// A few words on a failed attempt, for the job's last error and the logs.
    pub fn summary(&self) -> String {
        match (self.status, &self.excerpt) {
            (Some(status), _) => format!("the endpoint answered HTTP {status}"),
            (None, Some(why)) => why.clone(),
            (None, None) => "no answer".to_owned(),
        }
    }
}

/// What one delivery sends.
pub struct Delivery<'a> {
    pub url: &'a str,
    pub secrets: &'a SigningSecrets,
    /// The event's id: `webhook-id`.
    pub message_id: &'a str,
    /// The payload exactly as stored.
    pub payload: &'a str,
    /// This attempt's time: `webhook-timestamp`, and the base of an HTTP-date
    /// `Retry-After`.
    pub now: DateTime<Utc>,
}

/// POSTs `delivery` through the guarded client and reads up to [`EXCERPT_BYTES`] of
/// the answer (reading it lets the connection serve the next delivery).
pub async fn post(client: &OutboundClient, delivery: Delivery<'_>) -> Answer {
    let request = match client.post(delivery.url) {
        Ok(request) => request,
        Err(refusal) => return forbidden(refusal.to_string()),
    };
    let timestamp = delivery.now.timestamp();
    let signature = signature_header(
        &delivery.secrets.all(),
        delivery.message_id,
        timestamp,
        delivery.payload.as_bytes(),
    );
    let sent = request
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header("webhook-id", delivery.message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.payload.to_owned())
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(error) => return transport_failure(error),
    };
    let status = response.status();
    let retry_after = leadline_providers::retry_after(response.headers(), delivery.now);
    let excerpt = match read_capped(response, EXCERPT_BYTES).await {
        Ok(body) if body.bytes.is_empty() => None,
        Ok(body) if body.cut => Some(format!("{}…", body.text())),
        Ok(body) => Some(body.text()),
        Err(error) => {
            tracing::debug!(cause = %error_chain(&error.without_url()), "reading a webhook answer's body failed");
            Some("(the body could not be read)".to_owned())
        }
    };
    let kind = if status.is_success() {
        AnswerKind::Accepted
    } else if status == StatusCode::GONE {
        AnswerKind::Gone
    } else {
        AnswerKind::Refused
    };
    Answer {
        kind,
        status: Some(status.as_u16()),
        retry_after,
        excerpt,
    }
}

fn forbidden(why: String) -> Answer {
    Answer {
        kind: AnswerKind::Forbidden,
        status: None,
        retry_after: None,
        excerpt: Some(why),
    }
}

/// A request that got no answer, in fixed words: the endpoint's owner reads them in the
/// attempt log, the operator reads the causes (without the URL) in the log.
fn transport_failure(error: reqwest::Error) -> Answer {
    if let Some(refusal) = refusal_of(&error) {
        return forbidden(refusal.to_string());
    }
    let error = error.without_url();
    tracing::debug!(cause = %error_chain(&error), "a webhook delivery got no answer");
    let why = if error.is_timeout() {
        "no answer in time"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the connection ended before an answer"
    };
    Answer::unreachable(why.to_owned())
}
