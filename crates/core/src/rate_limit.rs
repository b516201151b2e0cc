//! Rate limits as token buckets: a sustained rate and the burst a full bucket lets
//! through at once. The workspace's [`RateLimitSettings`] bound each of its API keys;
//! the server's own buckets (per client address, per webhook channel) use the same
//! [`Bucket`]. Counting requests against a bucket is the server's job; this module only
//! says what a valid bucket is.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::FieldErrors;

/// Highest sustained rate a workspace may give its keys. Above what one node serves
/// (about 13,000 contact upserts a second on SQLite, 65,000 health checks), so it never
/// stands in anyone's way, yet it keeps a typo from turning the limit into "none".
pub const MAX_REQUESTS_PER_SECOND: u32 = 100_000;

/// Highest burst a workspace may give its keys: ten seconds of the highest rate.
pub const MAX_BURST: u32 = 1_000_000;

/// A token bucket: `per_second` tokens added each second, at most `burst` kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub per_second: u32,
    pub burst: u32,
}

impl Bucket {
    /// Parses `RATE/BURST` (e.g. `50/100`) or a bare `RATE` (burst twice the rate), as
    /// the server's command-line flags take it.
    pub fn parse(value: &str) -> Result<Self, String> {
        let number = |part: &str, what: &str| {
            part.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{what} must be a whole number above 0, not '{part}'"))
        };
        match value.split_once('/') {
            Some((rate, burst)) => Ok(Self {
                per_second: number(rate, "the rate")?,
                burst: number(burst, "the burst")?,
            }),
            None => {
                let per_second = number(value, "the rate")?;
                Ok(Self {
                    per_second,
                    burst: per_second.saturating_mul(2),
                })
            }
        }
    }
}

impl std::fmt::Display for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.per_second, self.burst)
    }
}

/// How fast each API key of a workspace may send requests. Every field has a default,
/// so a PUT of `{}` restores them; unknown fields are refused by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Requests per second each key may sustain (1 to 100000; default 100).
    #[serde(deserialize_with = "crate::integral::u32")]
    #[schema(minimum = 1, maximum = 100_000)]
    pub requests_per_second: u32,
    /// Requests a key may send at once after a quiet spell (1 to 1000000; default 200).
    #[serde(deserialize_with = "crate::integral::u32")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub burst: u32,
}

/// 100 requests a second per key, bursts of 200. A key is one integration; at 100 a
/// second it makes 360,000 requests an hour, and bulk work has bulk endpoints (5,000
/// leads a request), so only a runaway loop meets the limit. That is the same order as
/// the vendors whose APIs leadline stands in for (Twilio allows 100 requests a second
/// per account). The burst of two seconds' worth absorbs a client that starts many
/// requests together after a pause, such as a sync job waking up.
impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            requests_per_second: 100,
            burst: 200,
        }
    }
}

impl RateLimitSettings {
    /// Every out-of-range field, by name.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if !(1..=MAX_REQUESTS_PER_SECOND).contains(&self.requests_per_second) {
            errors.push(
                "requestsPerSecond",
                format!("must be between 1 and {MAX_REQUESTS_PER_SECOND}"),
            );
        }
        if !(1..=MAX_BURST).contains(&self.burst) {
            errors.push("burst", format!("must be between 1 and {MAX_BURST}"));
        }
        errors.finish(())
    }

    /// The bucket each key of the workspace gets.
    pub fn bucket(&self) -> Bucket {
        Bucket {
            per_second: self.requests_per_second,
            burst: self.burst,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(settings: RateLimitSettings) -> Vec<String> {
        settings
            .validate()
            .err()
            .map(|e| e.into_vec().into_iter().map(|e| e.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_defaults_are_valid_and_every_bound_is_named() {
        assert!(fields(RateLimitSettings::default()).is_empty());
        let zero = RateLimitSettings {
            requests_per_second: 0,
            burst: 0,
        };
        assert_eq!(fields(zero), ["requestsPerSecond", "burst"]);
        let huge = RateLimitSettings {
            requests_per_second: MAX_REQUESTS_PER_SECOND + 1,
            burst: MAX_BURST + 1,
        };
        assert_eq!(fields(huge), ["requestsPerSecond", "burst"]);
        let edges = RateLimitSettings {
            requests_per_second: MAX_REQUESTS_PER_SECOND,
            burst: 1,
        };
        assert!(fields(edges).is_empty());
    }

    #[test]
    fn buckets_parse_from_flags() {
        let bucket = |per_second, burst| Bucket { per_second, burst };
        assert_eq!(Bucket::parse("50/100"), Ok(bucket(50, 100)));
        assert_eq!(Bucket::parse(" 20 / 5 "), Ok(bucket(20, 5)));
        assert_eq!(Bucket::parse("30"), Ok(bucket(30, 60)));
        for bad in ["", "0", "5/0", "x/2", "-1", "1.5/3"] {
            assert!(Bucket::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(bucket(7, 9).to_string(), "7/9");
    }

    #[test]
    fn unknown_and_absent_fields() {
        let partial: RateLimitSettings = serde_json::from_str(r#"{"burst": 5}"#).unwrap();
        assert_eq!(partial.requests_per_second, 100);
        assert_eq!(partial.burst, 5);
        assert!(serde_json::from_str::<RateLimitSettings>(r#"{"rate": 5}"#).is_err());
    }
}
