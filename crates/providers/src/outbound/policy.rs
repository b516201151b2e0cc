//! The operator's outbound policy: which of the refused addresses (see
//! [`super::ranges`]) this deployment lets through after all, by network or by host
//! name, and the refusal a tenant sees otherwise.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

use super::ranges::{RefusedRange, refused_range};

/// One entry of the allow-list: `--allow-outbound 10.0.0.0/8`, `127.0.0.1`, `::1` or
/// `kannel.internal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    /// A network, or one address (a `/32` or `/128`).
    Network(IpNet),
    /// A host name, lower-case and without a trailing dot: every address it resolves
    /// to is allowed. The operator trusts that name's DNS.
    Host(String),
}

impl FromStr for Allowed {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let entry = text.trim();
        if let Ok(network) = entry.parse::<IpNet>() {
            return Ok(Self::Network(network.trunc()));
        }
        let bare = entry
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .unwrap_or(entry);
        if let Ok(address) = bare.parse::<IpAddr>() {
            return Ok(Self::Network(IpNet::from(address)));
        }
        let host = entry.trim_end_matches('.').to_ascii_lowercase();
        if is_host_name(&host) {
            return Ok(Self::Host(host));
        }
        Err(format!(
            "'{entry}' is neither an IP address, a CIDR network (10.0.0.0/8) nor a host name"
        ))
    }
}

impl fmt::Display for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network(network) => write!(f, "{network}"),
            Self::Host(host) => f.write_str(host),
        }
    }
}

/// A DNS name: dot-separated labels of at most 63 letters, digits, hyphens (not at
/// either end) and underscores (some internal zones use them); what `url` keeps as a
/// URL's domain after IDNA.
fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// What the operator lets through besides the public internet. The default allows
/// nothing more: every refused range stays refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    pub allow: Vec<Allowed>,
}

impl OutboundPolicy {
    pub fn new(allow: Vec<Allowed>) -> Self {
        Self { allow }
    }

    /// A policy from allow-list entries as typed, naming the first that does not parse.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| entry.as_ref().parse())
            .collect::<Result<_, _>>()
            .map(Self::new)
    }

    /// Whether the allow-list names `host` itself (case and a trailing dot ignored).
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.allow.iter().any(
            |entry| matches!(entry, Allowed::Host(allowed) if allowed.eq_ignore_ascii_case(host)),
        )
    }

    /// `Ok` when `address` is public or allowed, else why it is refused.
    ///
    /// A cloud metadata address passes only when the allow-list names it as a single
    /// address: allowing `169.254.0.0/16` for a link-local gateway must not hand the
    /// machine's credentials to every tenant by the way.
    pub fn check_address(&self, address: IpAddr) -> Result<(), RefusedRange> {
        // `::ffff:127.0.0.1` is matched against the allow-list as `127.0.0.1`.
        let address = address.to_canonical();
        let Some(range) = refused_range(address) else {
            return Ok(());
        };
        let allowed = self.allow.iter().any(|entry| match entry {
            Allowed::Network(network) => {
                network.contains(&address)
                    && (range != RefusedRange::CloudMetadata
                        || network.prefix_len() == network.max_prefix_len())
            }
            Allowed::Host(_) => false,
        });
        if allowed { Ok(()) } else { Err(range) }
    }
}

/// Why the guard refused a request. Its text is what a tenant sees: it names the
/// address only when the tenant typed it, never what a name resolved to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundRefusal {
    /// The URL's host is an IP address in a refused range.
    #[error(
        "refused by the outbound guard: {address} is {}; the operator can allow it with --allow-outbound",
        range.describe()
    )]
    Address {
        address: IpAddr,
        range: RefusedRange,
    },
    /// Every address the URL's host name resolves to is refused.
    #[error(
        "refused by the outbound guard: {host} resolves to {}; the operator can allow it with --allow-outbound",
        range.describe()
    )]
    Name { host: String, range: RefusedRange },
    /// Not an absolute http(s) URL with a host.
    #[error("refused by the outbound guard: only absolute http:// and https:// URLs are called")]
    NotHttp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        OutboundPolicy::parse(entries).unwrap()
    }

    fn check(policy: &OutboundPolicy, address: &str) -> Result<(), RefusedRange> {
        policy.check_address(address.parse().unwrap())
    }

    #[test]
    fn entries_parse_as_networks_addresses_or_hosts() {
        let parsed = policy(&[
            "10.0.0.0/8",
            " 127.0.0.1 ",
            "[::1]",
            "fd00::/8",
            "Kannel.Internal.",
            "10.1.2.3/16",
        ]);
        let shown: Vec<String> = parsed.allow.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "10.0.0.0/8",
                "127.0.0.1/32",
                "::1/128",
                "fd00::/8",
                "kannel.internal",
                "10.1.0.0/16"
            ]
        );
        for bad in ["", "10.0.0.0/33", "http://x", "a..b", "-x.internal", "x y"] {
            assert!(OutboundPolicy::parse(&[bad]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_default_policy_refuses_every_refused_range() {
        let guard = OutboundPolicy::default();
        assert_eq!(check(&guard, "8.8.8.8"), Ok(()));
        assert_eq!(check(&guard, "127.0.0.1"), Err(RefusedRange::Loopback));
        assert_eq!(check(&guard, "10.0.0.1"), Err(RefusedRange::Private));
        assert_eq!(check(&guard, "::ffff:10.0.0.1"), Err(RefusedRange::Private));
    }

    #[test]
    fn allowed_networks_let_their_addresses_through_in_every_form() {
        let guard = policy(&["127.0.0.0/8", "10.0.0.0/8"]);
        assert_eq!(check(&guard, "127.0.0.1"), Ok(()));
        assert_eq!(check(&guard, "::ffff:127.0.0.1"), Ok(()));
        assert_eq!(check(&guard, "10.20.30.40"), Ok(()));
        assert_eq!(check(&guard, "192.168.0.1"), Err(RefusedRange::Private));
        assert_eq!(check(&guard, "::1"), Err(RefusedRange::Loopback));
    }

    #[test]
    fn metadata_addresses_pass_only_when_named_exactly() {
        let broad = policy(&["169.254.0.0/16", "100.64.0.0/10", "fd00::/8"]);
        assert_eq!(check(&broad, "169.254.1.1"), Ok(()));
        for metadata in ["169.254.169.254", "100.100.100.200", "fd00:ec2::254"] {
            assert_eq!(
                check(&broad, metadata),
                Err(RefusedRange::CloudMetadata),
                "{metadata}"
            );
        }
        let exact = policy(&["169.254.169.254"]);
        assert_eq!(check(&exact, "169.254.169.254"), Ok(()));
    }

    #[test]
    fn hosts_match_without_case_or_trailing_dot() {
        let guard = policy(&["kannel.internal"]);
        assert!(guard.allows_host("KANNEL.internal."));
        assert!(!guard.allows_host("other.internal"));
        assert!(!guard.allows_host("x.kannel.internal"));
    }

    #[test]
    fn refusals_name_the_typed_address_but_not_a_resolved_one() {
        let typed = OutboundRefusal::Address {
            address: "10.0.0.1".parse().unwrap(),
            range: RefusedRange::Private,
        };
        assert_eq!(
            typed.to_string(),
            "refused by the outbound guard: 10.0.0.1 is a private address; the operator can allow it with --allow-outbound"
        );
        let resolved = OutboundRefusal::Name {
            host: "db.internal".into(),
            range: RefusedRange::Private,
        };
        assert_eq!(
            resolved.to_string(),
            "refused by the outbound guard: db.internal resolves to a private address; the operator can allow it with --allow-outbound"
        );
    }
}
