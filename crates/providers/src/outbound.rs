//! The outbound guard: every request leadline makes to a URL a tenant typed (a
//! provider's `url`, `apiBaseUrl` or `sendsmsUrl`, the LLM's `baseUrl`, later event
//! webhooks) goes through an [`OutboundClient`], so a tenant cannot use leadline to
//! reach the operator's own network and read the answers.
//!
//! What the guard does:
//! * **Refuses addresses** that are not the public internet (loopback, private,
//!   link-local, shared, multicast, cloud metadata and the other special-purpose
//!   ranges in [`ranges`], in their IPv6 forms too) unless the operator's
//!   [`OutboundPolicy`] allows them. Host names are checked **when connecting**: the
//!   client's resolver drops refused addresses before reqwest sees them, so a name
//!   that changes its answer after it was checked (DNS rebinding) is still refused.
//!   IP-literal URLs never reach a resolver, so [`OutboundClient::request`] checks
//!   them when the request is made; the inner `reqwest::Client` is never handed out,
//!   so no request skips that check.
//! * **Follows no redirect**: a 3xx answer is the answer. Otherwise an allowed
//!   address could send the request on to a refused one.
//! * **Ignores proxy settings** of the environment (`HTTP_PROXY`…): through a proxy
//!   the guard would check the proxy's address, not the target's.
//! * **Reads answers up to a cap** ([`read_capped`]), so a gateway cannot make the
//!   process buffer an endless body.
//!
//! Configuration time: [`OutboundClient::check_url`] tells at once whether a URL's
//! host is refused, for the API to answer 422 instead of failing every send later.

mod policy;
pub mod ranges;
mod resolver;
mod text;

use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::Resolve;
use reqwest::{Method, RequestBuilder, Response};
use url::{Host, Url};

pub use policy::{Allowed, OutboundPolicy, OutboundRefusal};
pub use ranges::RefusedRange;
pub use resolver::SystemResolver;
use resolver::{GuardedResolver, usable_addresses};
pub use text::{CODE_CHARS, MESSAGE_CHARS, clean_code, clean_message, error_chain, excerpt};

/// How much of a provider's answer is read: far more than any documented answer,
/// little enough to hold for every send in flight.
pub const ANSWER_LIMIT: usize = 64 * 1024;

/// How long [`OutboundClient::check_url`] waits for a name to resolve before it
/// leaves the check to send time.
const CHECK_RESOLVE_LIMIT: Duration = Duration::from_secs(3);

/// The settings of a guarded client that callers may choose. Whatever they choose,
/// the guard's resolver, the redirect policy and the proxy settings are the guard's.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Ends a whole request, answer included.
    pub timeout: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    /// Idle keep-alive connections kept per host (reqwest's default when `None`).
    pub pool_max_idle_per_host: Option<usize>,
}

/// An HTTP client that calls only what the [`OutboundPolicy`] allows. Cheap to clone:
/// clones share one connection pool.
#[derive(Clone)]
pub struct OutboundClient {
    http: reqwest::Client,
    resolver: Arc<GuardedResolver>,
}

impl std::fmt::Debug for OutboundClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundClient")
            .field("policy", &self.resolver.policy)
            .finish_non_exhaustive()
    }
}

impl OutboundClient {
    /// A client resolving names with the system's resolver.
    pub fn new(policy: OutboundPolicy, options: ClientOptions) -> Result<Self, reqwest::Error> {
        Self::with_resolver(policy, Arc::new(SystemResolver), options)
    }

    /// A client resolving names with `resolver` (a fake one in tests), under the guard.
    pub fn with_resolver(
        policy: OutboundPolicy,
        resolver: Arc<dyn Resolve>,
        options: ClientOptions,
    ) -> Result<Self, reqwest::Error> {
        let resolver = Arc::new(GuardedResolver {
            inner: resolver,
            policy: Arc::new(policy),
        });
        let mut builder = reqwest::Client::builder()
            .dns_resolver(resolver.clone())
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .tcp_nodelay(true);
        if let Some(timeout) = options.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(timeout) = options.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        if let Some(idle) = options.pool_max_idle_per_host {
            builder = builder.pool_max_idle_per_host(idle);
        }
        Ok(Self {
            http: builder.build()?,
            resolver,
        })
    }

    pub fn policy(&self) -> &OutboundPolicy {
        &self.resolver.policy
    }

    /// A request to `url`, or the guard's refusal when its host is a refused IP
    /// address. A host name is checked when the request connects.
    pub fn request(&self, method: Method, url: &str) -> Result<RequestBuilder, OutboundRefusal> {
        let url = Url::parse(url).map_err(|_| OutboundRefusal::NotHttp)?;
        self.check_literal(&url)?;
        Ok(self.http.request(method, url))
    }

    pub fn post(&self, url: &str) -> Result<RequestBuilder, OutboundRefusal> {
        self.request(Method::POST, url)
    }

    pub fn get(&self, url: &str) -> Result<RequestBuilder, OutboundRefusal> {
        self.request(Method::GET, url)
    }

    /// Whether a URL typed by a tenant may be called, for a 422 when it is saved: an
    /// IP-literal host is judged as it is, a name by what it resolves to now (refused
    /// when every address is). A name that does not resolve within a few seconds is
    /// accepted: it may resolve only where the workers run, or later, and every send
    /// is checked again when it connects.
    pub async fn check_url(&self, url: &str) -> Result<(), OutboundRefusal> {
        let url = Url::parse(url.trim()).map_err(|_| OutboundRefusal::NotHttp)?;
        self.check_literal(&url)?;
        let Some(Host::Domain(host)) = url.host() else {
            return Ok(());
        };
        let policy = &self.resolver.policy;
        if policy.allows_host(host) {
            return Ok(());
        }
        let Ok(name) = host.parse() else {
            return Ok(());
        };
        let lookup = self.resolver.inner.resolve(name);
        match tokio::time::timeout(CHECK_RESOLVE_LIMIT, lookup).await {
            Ok(Ok(found)) => usable_addresses(policy, host, found).map(drop),
            Ok(Err(_)) | Err(_) => Ok(()),
        }
    }

    /// Refuses a URL that is not http(s) with a host, or whose host is a refused IP
    /// address. Names pass here: the resolver judges them when connecting.
    fn check_literal(&self, url: &Url) -> Result<(), OutboundRefusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OutboundRefusal::NotHttp);
        }
        let address = match url.host() {
            None => return Err(OutboundRefusal::NotHttp),
            Some(Host::Domain(_)) => return Ok(()),
            Some(Host::Ipv4(address)) => address.into(),
            Some(Host::Ipv6(address)) => address.into(),
        };
        self.resolver
            .policy
            .check_address(address)
            .map_err(|range| OutboundRefusal::Address { address, range })
    }
}

/// The guard's refusal among the causes of a failed request, when the guard is why
/// it failed (the resolver refused every address of the host).
pub fn refusal_of(error: &reqwest::Error) -> Option<&OutboundRefusal> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(refusal) = current.downcast_ref::<OutboundRefusal>() {
            return Some(refusal);
        }
        cause = current.source();
    }
    None
}

/// An answer's body, read up to a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CappedBody {
    pub bytes: Vec<u8>,
    /// The answer went on past the limit; the rest was not read.
    pub cut: bool,
}

impl CappedBody {
    /// The body as text, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Reads `response`'s body until its end or `limit` bytes, whichever comes first. The
/// connection of a cut answer is dropped, not drained.
pub async fn read_capped(
    mut response: Response,
    limit: usize,
) -> Result<CappedBody, reqwest::Error> {
    let declared = response.content_length();
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok(CappedBody { bytes, cut: true });
        }
        bytes.extend_from_slice(&chunk);
        if bytes.len() == limit {
            // Full: whether more follows is not worth reading to find out.
            let cut = declared != Some(limit as u64);
            return Ok(CappedBody { bytes, cut });
        }
    }
    Ok(CappedBody { bytes, cut: false })
}

#[cfg(test)]
pub(crate) mod tests;
