//! Name resolution under the guard. The guarded client resolves every host name
//! through [`GuardedResolver`], which drops the addresses the policy refuses before
//! reqwest may connect to them: the addresses checked are the addresses connected to,
//! so a name that answered with a public address when the channel was saved and with
//! `10.0.0.1` at send time (DNS rebinding) is still refused.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::policy::{OutboundPolicy, OutboundRefusal};

/// The system's resolver (`getaddrinfo`, on tokio's blocking pool): what reqwest uses
/// by default, which it does not export.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let addresses: Addrs = Box::new(found.collect::<Vec<_>>().into_iter());
            Ok(addresses)
        })
    }
}

/// Resolves with `inner` and keeps only the addresses `policy` allows; refuses the
/// name when none is left. Every address of a host the allow-list names is kept.
pub(crate) struct GuardedResolver {
    pub(crate) inner: Arc<dyn Resolve>,
    pub(crate) policy: Arc<OutboundPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let lookup = self.inner.resolve(name);
        let policy = self.policy.clone();
        Box::pin(async move {
            let found = lookup.await?;
            let kept: Addrs = Box::new(usable_addresses(&policy, &host, found)?.into_iter());
            Ok(kept)
        })
    }
}

/// The addresses of `host` that may be connected to, or the refusal when there were
/// addresses and `policy` refused them all. A name that resolved to nothing is left
/// for the connector to report.
pub(crate) fn usable_addresses(
    policy: &OutboundPolicy,
    host: &str,
    found: impl Iterator<Item = SocketAddr>,
) -> Result<Vec<SocketAddr>, OutboundRefusal> {
    if policy.allows_host(host) {
        return Ok(found.collect());
    }
    let mut first_refusal = None;
    let kept: Vec<SocketAddr> = found
        .filter(|address| match policy.check_address(address.ip()) {
            Ok(()) => true,
            Err(range) => {
                first_refusal.get_or_insert(range);
                false
            }
        })
        .collect();
    match first_refusal {
        Some(range) if kept.is_empty() => Err(OutboundRefusal::Name {
            host: host.to_owned(),
            range,
        }),
        _ => Ok(kept),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::outbound::RefusedRange;
    use crate::outbound::tests::FixedResolver;

    fn guarded(allow: &[&str]) -> GuardedResolver {
        let table = HashMap::from([
            ("rebind.example", vec!["10.0.0.1"]),
            ("metadata.example", vec!["169.254.169.254", "fd00:ec2::254"]),
            ("mixed.example", vec!["127.0.0.1", "93.184.215.14"]),
            ("public.example", vec!["93.184.215.14"]),
            ("kannel.internal", vec!["10.1.2.3"]),
        ]);
        GuardedResolver {
            inner: Arc::new(FixedResolver(table)),
            policy: Arc::new(OutboundPolicy::parse(allow).unwrap()),
        }
    }

    async fn resolve(resolver: &GuardedResolver, host: &str) -> Result<Vec<String>, String> {
        match resolver.resolve(host.parse().unwrap()).await {
            Ok(addresses) => Ok(addresses.map(|a| a.ip().to_string()).collect()),
            Err(error) => Err(error.to_string()),
        }
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_private_address_is_refused_at_resolution() {
        let resolver = guarded(&[]);
        assert_eq!(
            resolve(&resolver, "rebind.example").await,
            Err("refused by the outbound guard: rebind.example resolves to a private address; the operator can allow it with --allow-outbound".into())
        );
        let refusal = resolver
            .resolve("metadata.example".parse().unwrap())
            .await
            .err()
            .unwrap();
        assert_eq!(
            refusal.downcast_ref::<OutboundRefusal>(),
            Some(&OutboundRefusal::Name {
                host: "metadata.example".into(),
                range: RefusedRange::CloudMetadata
            })
        );
    }

    #[tokio::test]
    async fn only_the_allowed_addresses_of_a_name_are_kept() {
        let resolver = guarded(&[]);
        assert_eq!(
            resolve(&resolver, "mixed.example").await,
            Ok(vec!["93.184.215.14".into()])
        );
        assert_eq!(
            resolve(&resolver, "public.example").await,
            Ok(vec!["93.184.215.14".into()])
        );
        assert_eq!(resolve(&resolver, "unknown.example").await, Ok(vec![]));
    }

    #[tokio::test]
    async fn the_allow_list_lets_networks_and_named_hosts_through() {
        let by_network = guarded(&["10.0.0.0/8"]);
        assert_eq!(
            resolve(&by_network, "rebind.example").await,
            Ok(vec!["10.0.0.1".into()])
        );
        let by_name = guarded(&["kannel.internal"]);
        assert_eq!(
            resolve(&by_name, "kannel.internal").await,
            Ok(vec!["10.1.2.3".into()])
        );
        assert!(resolve(&by_name, "rebind.example").await.is_err());
    }
}
