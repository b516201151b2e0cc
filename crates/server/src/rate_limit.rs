//! Rate limits: token buckets ([governor]'s GCRA) kept by each node.
//!
//! - **Per API key**, with the workspace's [`RateLimitSettings`] (default 100 requests a
//!   second, bursts of 200), changed through `PUT /api/v1/settings/rate-limits`.
//! - **Per client address** for requests that present no key in force (no key, an
//!   unknown, revoked or expired one), and for the store read of a key this node has not
//!   verified yet, so a flood of made-up keys costs a bounded number of reads. IPv6
//!   addresses count by their /64, which one client usually holds whole.
//! - **Per channel** for provider webhooks, generously: a provider that does not retry
//!   a refused report loses it.
//!
//! Over a limit: 429 with `Retry-After` (whole seconds) and the `RateLimit-Policy` and
//! `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers; a problem document, or
//! the LeadConnector error shape on that path ([`response`]). Every 429 is counted in
//! `leadline_rate_limited_total{scope}` and logged at debug with its reason.
//!
//! Buckets live in the node's memory: with N nodes behind a balancer a client may get up
//! to N times its limit. An idle bucket is dropped after ten minutes (it would be full
//! again by then at any rate it is likely to have), and at most 100,000 are kept per
//! kind; a dropped bucket starts full.

pub mod clock;
pub mod guard;
pub mod response;

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderName;
use governor::clock::Clock;
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use leadline_core::rate_limit::{Bucket, RateLimitSettings};
use leadline_core::{ApiKeyId, ChannelId};

pub use clock::{LimiterClock, ManualLimiterClock};
pub use guard::guard;

/// How the server's own buckets are set.
#[derive(Debug, Clone)]
pub struct RateLimitOptions {
    /// Requests without a key in force, per client address.
    pub per_address: Bucket,
    /// Provider webhook calls, per channel.
    pub per_channel: Bucket,
    /// A request header naming the client's address (e.g. `x-forwarded-for`, whose
    /// last entry is taken) for a server behind a proxy; `None` uses the connection's.
    pub client_address_header: Option<HeaderName>,
    pub clock: LimiterClock,
}

/// 50 requests a second per address, bursts of 100: health probes and metric scrapes
/// need a few a second; a client that has lost its key needs none.
pub const DEFAULT_PER_ADDRESS: Bucket = Bucket {
    per_second: 50,
    burst: 100,
};

/// 5,000 reports a second per channel, bursts of 20,000: a send produces up to four
/// reports (queued, sent, delivered, read), so this follows a channel sending over 1,000
/// messages a second (a Kannel gateway in front of several SMPP binds does), and the
/// burst takes a provider's backlog after an outage of its own. Some providers (Twilio's
/// status callbacks) do not retry a refused report, so the default stays well above
/// any real channel's traffic and only stops a flood.
pub const DEFAULT_PER_CHANNEL: Bucket = Bucket {
    per_second: 5_000,
    burst: 20_000,
};

impl Default for RateLimitOptions {
    fn default() -> Self {
        Self {
            per_address: DEFAULT_PER_ADDRESS,
            per_channel: DEFAULT_PER_CHANNEL,
            client_address_header: None,
            clock: LimiterClock::monotonic(),
        }
    }
}

/// Which bucket a decision was made by; also the policy's name in the headers and the
/// `scope` label of the metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Key,
    Address,
    Channel,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Key => "key",
            Scope::Address => "address",
            Scope::Channel => "channel",
        }
    }
}

/// A request admitted by a bucket, with what is left of it.
#[derive(Debug, Clone)]
pub struct Admitted {
    pub scope: Scope,
    pub bucket: Bucket,
    pub remaining: u32,
    /// The `RateLimit-Policy` field of the bucket, made once with the bucket rather
    /// than formatted for every answer.
    pub policy: axum::http::HeaderValue,
}

/// A request refused by a bucket.
#[derive(Debug, Clone)]
pub struct Limited {
    pub scope: Scope,
    pub bucket: Bucket,
    /// Whole seconds until the bucket admits a request again (at least 1).
    pub retry_after: u64,
    /// Who was limited, for the log: a key id, an address or a channel id.
    pub subject: String,
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, LimiterClock, StateInformationMiddleware>;

/// One bucket and the settings it was made with.
struct Held {
    bucket: Bucket,
    limiter: Limiter,
    policy: axum::http::HeaderValue,
}

/// Buckets of one kind, by whom they limit.
struct Buckets<K: Hash + Eq + Send + Sync + 'static> {
    scope: Scope,
    held: moka::sync::Cache<K, Arc<Held>>,
}

impl<K: Hash + Eq + Clone + Send + Sync + std::fmt::Display + 'static> Buckets<K> {
    fn new(scope: Scope) -> Self {
        Self {
            scope,
            held: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
        }
    }

    /// Takes one token from `who`'s bucket, made with `bucket` (a bucket whose settings
    /// changed starts again, full, with the new ones).
    fn take(&self, who: &K, bucket: Bucket, clock: &LimiterClock) -> Result<Admitted, Limited> {
        let make = || {
            Arc::new(Held {
                bucket,
                limiter: RateLimiter::direct_with_clock(quota(bucket), clock.clone())
                    .with_middleware::<StateInformationMiddleware>(),
                policy: response::policy(self.scope, bucket),
            })
        };
        let mut held = self.held.get_with_by_ref(who, make);
        if held.bucket != bucket {
            held = make();
            self.held.insert(who.clone(), held.clone());
        }
        match held.limiter.check() {
            Ok(snapshot) => Ok(Admitted {
                scope: self.scope,
                bucket,
                remaining: snapshot.remaining_burst_capacity(),
                policy: held.policy.clone(),
            }),
            Err(not_until) => {
                let wait = not_until.wait_time_from(clock.now());
                Err(Limited {
                    scope: self.scope,
                    bucket,
                    retry_after: whole_seconds(wait),
                    subject: who.to_string(),
                })
            }
        }
    }
}

fn quota(bucket: Bucket) -> Quota {
    let positive = |n: u32| NonZeroU32::new(n.max(1)).expect("at least 1");
    Quota::per_second(positive(bucket.per_second)).allow_burst(positive(bucket.burst))
}

/// Seconds to wait, rounded up, at least 1: a client told 0 would retry at once.
fn whole_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

/// A client's address as limits count it: IPv4 whole, IPv6 by its /64.
fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                IpAddr::V6(Ipv6Addr::new(
                    segments[0],
                    segments[1],
                    segments[2],
                    segments[3],
                    0,
                    0,
                    0,
                    0,
                ))
            }
        },
    }
}

/// Every bucket of the node; cheap to clone.
#[derive(Clone)]
pub struct RateLimits(Arc<Inner>);

struct Inner {
    options: RateLimitOptions,
    keys: Buckets<ApiKeyId>,
    addresses: Buckets<IpAddr>,
    channels: Buckets<ChannelId>,
}

impl RateLimits {
    pub fn new(options: RateLimitOptions) -> Self {
        Self(Arc::new(Inner {
            options,
            keys: Buckets::new(Scope::Key),
            addresses: Buckets::new(Scope::Address),
            channels: Buckets::new(Scope::Channel),
        }))
    }

    /// A request made with `key`, limited by its workspace's `settings`.
    pub fn take_for_key(
        &self,
        key: ApiKeyId,
        settings: &RateLimitSettings,
    ) -> Result<Admitted, Limited> {
        counted(
            self.0
                .keys
                .take(&key, settings.bucket(), &self.0.options.clock),
        )
    }

    /// A request from `address` without a key in force (or before its key is read).
    pub fn take_for_address(&self, address: IpAddr) -> Result<Admitted, Limited> {
        let bucket = self.0.options.per_address;
        counted(
            self.0
                .addresses
                .take(&address_key(address), bucket, &self.0.options.clock),
        )
    }

    /// A provider webhook call for `channel`.
    pub fn take_for_channel(&self, channel: ChannelId) -> Result<Admitted, Limited> {
        let bucket = self.0.options.per_channel;
        counted(
            self.0
                .channels
                .take(&channel, bucket, &self.0.options.clock),
        )
    }

    /// The client's address: the configured header's last entry when there is one
    /// that parses, else the connection's peer, else the unspecified address (a router
    /// served without connection info shares one bucket).
    pub fn client_address(
        &self,
        headers: &axum::http::HeaderMap,
        peer: Option<SocketAddr>,
    ) -> IpAddr {
        let forwarded = self
            .0
            .options
            .client_address_header
            .as_ref()
            .and_then(|name| {
                let value = headers.get_all(name).iter().next_back()?.to_str().ok()?;
                value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
            });
        forwarded
            .or(peer.map(|p| p.ip()))
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }
}

/// Counts and logs a refusal on its way out.
fn counted(decision: Result<Admitted, Limited>) -> Result<Admitted, Limited> {
    if let Err(limited) = &decision {
        metrics::counter!("leadline_rate_limited_total", "scope" => limited.scope.as_str())
            .increment(1);
        tracing::debug!(
            scope = limited.scope.as_str(),
            subject = %limited.subject,
            limit = %limited.bucket,
            retry_after = limited.retry_after,
            "rate limited: over the bucket's rate and burst"
        );
    }
    decision
}

#[cfg(test)]
mod tests;
