//! Which IP addresses the outbound guard refuses, and why: a pure classification of an
//! address, with no policy in it (the operator's allow-list is applied by
//! [`super::OutboundPolicy`]).
//!
//! Refused are the addresses a tenant has no business reaching through the operator's
//! machine: this host, the operator's own networks, and the special-purpose ranges of
//! the IANA registries (RFC 6890 and its updates) that are not the public internet.
//! IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, compatible
//! `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`) are judged by the
//! IPv4 address they carry, so `[::ffff:127.0.0.1]` is loopback like `127.0.0.1`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusedRange {
    /// `0.0.0.0/8`, `::`: "this host"; connecting there reaches the local machine.
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`), unique local `fc00::/7`,
    /// deprecated site-local `fec0::/10`, local-use NAT64 `64:ff9b:1::/48`.
    Private,
    /// `100.64.0.0/10`, the carrier-grade NAT space (RFC 6598).
    SharedAddressSpace,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// The instance-metadata services of the clouds: `169.254.169.254` (AWS, GCP,
    /// Azure, OpenStack…), `fd00:ec2::254` (AWS over IPv6), `100.100.100.200`
    /// (Alibaba). They hand out the machine's credentials.
    CloudMetadata,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking,
    /// Everything else that is not public unicast: `192.0.0/24` (IETF protocol
    /// assignments), `192.88.99/24` (6to4 relays), `240/4` (future use), `100::/64`
    /// (discard), `2001::/23` (IETF protocol assignments, Teredo among them).
    Reserved,
}

impl RefusedRange {
    /// The range in words, as it completes "10.0.0.1 is …".
    pub fn describe(self) -> &'static str {
        match self {
            Self::Unspecified => "an unspecified (this-host) address",
            Self::Loopback => "a loopback address",
            Self::Private => "a private address",
            Self::SharedAddressSpace => "a shared (carrier-grade NAT) address",
            Self::LinkLocal => "a link-local address",
            Self::CloudMetadata => "a cloud metadata address",
            Self::Multicast => "a multicast address",
            Self::Broadcast => "the broadcast address",
            Self::Documentation => "a documentation address",
            Self::Benchmarking => "a benchmarking address",
            Self::Reserved => "a reserved address",
        }
    }
}

const METADATA_V4: [Ipv4Addr; 2] = [
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(100, 100, 100, 200),
];
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(segments: [u16; 8], prefix: u8) -> Ipv6Net {
    let [a, b, c, d, e, f, g, h] = segments;
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), prefix)
}

/// The refused IPv4 ranges. None overlaps another, so the order does not matter.
const REFUSED_V4: [(Ipv4Net, RefusedRange); 15] = [
    (v4(0, 0, 0, 0, 8), RefusedRange::Unspecified),
    (v4(10, 0, 0, 0, 8), RefusedRange::Private),
    (v4(100, 64, 0, 0, 10), RefusedRange::SharedAddressSpace),
    (v4(127, 0, 0, 0, 8), RefusedRange::Loopback),
    (v4(169, 254, 0, 0, 16), RefusedRange::LinkLocal),
    (v4(172, 16, 0, 0, 12), RefusedRange::Private),
    (v4(192, 0, 0, 0, 24), RefusedRange::Reserved),
    (v4(192, 0, 2, 0, 24), RefusedRange::Documentation),
    (v4(192, 88, 99, 0, 24), RefusedRange::Reserved),
    (v4(192, 168, 0, 0, 16), RefusedRange::Private),
    (v4(198, 18, 0, 0, 15), RefusedRange::Benchmarking),
    (v4(198, 51, 100, 0, 24), RefusedRange::Documentation),
    (v4(203, 0, 113, 0, 24), RefusedRange::Documentation),
    (v4(224, 0, 0, 0, 4), RefusedRange::Multicast),
    (v4(240, 0, 0, 0, 4), RefusedRange::Reserved),
];

/// The refused IPv6 ranges, most specific first (`2001:2::/48` lies in `2001::/23`).
const REFUSED_V6: [(Ipv6Net, RefusedRange); 10] = [
    (
        v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48),
        RefusedRange::Private,
    ),
    (v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), RefusedRange::Reserved),
    (
        v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48),
        RefusedRange::Benchmarking,
    ),
    (
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),
        RefusedRange::Reserved,
    ),
    (
        v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32),
        RefusedRange::Documentation,
    ),
    (
        v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),
        RefusedRange::Documentation,
    ),
    (v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), RefusedRange::Private),
    (
        v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
        RefusedRange::LinkLocal,
    ),
    (v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), RefusedRange::Private),
    (
        v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),
        RefusedRange::Multicast,
    ),
];

/// Why `address` is refused, or `None` for a public unicast address.
pub fn refused_range(address: IpAddr) -> Option<RefusedRange> {
    match address {
        IpAddr::V4(address) => refused_v4(address),
        IpAddr::V6(address) => refused_v6(address),
    }
}

fn refused_v4(address: Ipv4Addr) -> Option<RefusedRange> {
    if METADATA_V4.contains(&address) {
        return Some(RefusedRange::CloudMetadata);
    }
    if address == Ipv4Addr::BROADCAST {
        return Some(RefusedRange::Broadcast);
    }
    REFUSED_V4
        .iter()
        .find(|(net, _)| net.contains(&address))
        .map(|(_, range)| *range)
}

fn refused_v6(address: Ipv6Addr) -> Option<RefusedRange> {
    if address == METADATA_V6 {
        return Some(RefusedRange::CloudMetadata);
    }
    if address == Ipv6Addr::UNSPECIFIED {
        return Some(RefusedRange::Unspecified);
    }
    if address == Ipv6Addr::LOCALHOST {
        return Some(RefusedRange::Loopback);
    }
    if let Some(carried) = embedded_v4(address) {
        return refused_v4(carried);
    }
    REFUSED_V6
        .iter()
        .find(|(net, _)| net.contains(&address))
        .map(|(_, range)| *range)
}

/// The IPv4 address an IPv6 address stands for, in the forms that route to it.
pub(crate) fn embedded_v4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let segments = address.segments();
    let octets = address.octets();
    let last_four = || Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]);
    match segments {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated but still
        // routed to the IPv4 address by some stacks).
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => Some(last_four()),
        // 64:ff9b::a.b.c.d: the well-known NAT64 prefix (RFC 6052).
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(last_four()),
        // 2002:aabb:ccdd::/48: 6to4 (RFC 3056) carries a.b.c.d in its second and third
        // segments.
        [0x2002, high, low, ..] => Some(Ipv4Addr::from((u32::from(high) << 16) | u32::from(low))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> Option<RefusedRange> {
        refused_range(text.parse().unwrap())
    }

    #[test]
    fn public_addresses_pass() {
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.169.0.1",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "2002:0808:0808::1",
            "64:ff9b::808:808",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(range(public), None, "{public}");
        }
    }

    #[test]
    fn every_refused_range_is_named() {
        use RefusedRange::*;
        for (address, expected) in [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("::", Unspecified),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("::1", Loopback),
            ("10.0.0.1", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("fc00::1", Private),
            ("fd12:3456::1", Private),
            ("fec0::1", Private),
            ("64:ff9b:1::a00:1", Private),
            ("100.64.0.1", SharedAddressSpace),
            ("100.127.255.255", SharedAddressSpace),
            ("169.254.0.1", LinkLocal),
            ("fe80::1", LinkLocal),
            ("169.254.169.254", CloudMetadata),
            ("fd00:ec2::254", CloudMetadata),
            ("100.100.100.200", CloudMetadata),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("ff02::1", Multicast),
            ("255.255.255.255", Broadcast),
            ("192.0.2.1", Documentation),
            ("198.51.100.7", Documentation),
            ("203.0.113.9", Documentation),
            ("2001:db8::1", Documentation),
            ("3fff::1", Documentation),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.255", Benchmarking),
            ("2001:2::1", Benchmarking),
            ("192.0.0.8", Reserved),
            ("192.88.99.1", Reserved),
            ("240.0.0.1", Reserved),
            ("100::1", Reserved),
            ("2001::1", Reserved),
        ] {
            assert_eq!(range(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn ipv6_forms_of_ipv4_addresses_are_judged_by_the_ipv4_address() {
        use RefusedRange::*;
        for (address, expected) in [
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:169.254.169.254", CloudMetadata),
            ("::127.0.0.1", Loopback),
            ("::10.1.2.3", Private),
            ("64:ff9b::a9fe:a9fe", CloudMetadata),
            ("64:ff9b::192.168.0.1", Private),
            ("2002:7f00:0001::", Loopback),
            ("2002:0a00:0001:1::5", Private),
            ("2002:a9fe:a9fe::", CloudMetadata),
        ] {
            assert_eq!(range(address), Some(expected), "{address}");
        }
    }
}
