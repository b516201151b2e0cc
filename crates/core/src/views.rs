//! Resources as the API returns them: the response bodies of the HTTP handlers and the
//! `data` of the events about them, one type for both so they never drift apart. The
//! store builds them from its rows; handlers serialize them.

pub mod webhook_endpoint;

pub use webhook_endpoint::WebhookEndpointView;

use chrono::{DateTime, SecondsFormat, Utc};

/// A time as the API writes it: RFC 3339 in UTC with milliseconds.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
