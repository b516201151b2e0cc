//! Buckets on a manual clock: bursts, refills, settings changes, client addresses.

use super::*;

fn limits(clock: &ManualLimiterClock) -> RateLimits {
    RateLimits::new(RateLimitOptions {
        per_address: Bucket {
            per_second: 2,
            burst: 3,
        },
        clock: clock.clock(),
        ..RateLimitOptions::default()
    })
}

#[test]
fn a_bucket_admits_its_burst_then_refuses_until_a_token_returns() {
    let clock = ManualLimiterClock::new();
    let limits = limits(&clock);
    let address: IpAddr = "192.0.2.7".parse().unwrap();
    let remaining: Vec<u32> = (0..3)
        .map(|_| limits.take_for_address(address).unwrap().remaining)
        .collect();
    assert_eq!(remaining, [2, 1, 0]);
    let refused = limits.take_for_address(address).unwrap_err();
    assert_eq!((refused.scope, refused.retry_after), (Scope::Address, 1));
    // Another address has its own bucket.
    assert!(
        limits
            .take_for_address("192.0.2.8".parse().unwrap())
            .is_ok()
    );
    clock.advance(Duration::from_millis(500));
    assert!(limits.take_for_address(address).is_ok());
    assert!(limits.take_for_address(address).is_err());
}

#[test]
fn a_key_whose_settings_change_gets_a_new_bucket() {
    let clock = ManualLimiterClock::new();
    let limits = limits(&clock);
    let key = ApiKeyId::new();
    let one = RateLimitSettings {
        requests_per_second: 1,
        burst: 1,
    };
    assert!(limits.take_for_key(key, &one).is_ok());
    let refused = limits.take_for_key(key, &one).unwrap_err();
    assert_eq!(refused.retry_after, 1);
    assert_eq!(refused.subject, key.to_string());
    let more = RateLimitSettings {
        requests_per_second: 1,
        burst: 5,
    };
    assert_eq!(limits.take_for_key(key, &more).unwrap().remaining, 4);
}

#[test]
fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
    let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
    let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
    let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
    assert_eq!(address_key(a), address_key(b));
    assert_ne!(address_key(a), address_key(c));
    let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
    assert_eq!(address_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
}

#[test]
fn the_client_address_comes_from_the_configured_header_only() {
    let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        "203.0.113.9, 198.51.100.4".parse().unwrap(),
    );
    let direct = RateLimits::new(RateLimitOptions::default());
    assert_eq!(direct.client_address(&headers, Some(peer)), peer.ip());
    let proxied = RateLimits::new(RateLimitOptions {
        client_address_header: Some(HeaderName::from_static("x-forwarded-for")),
        ..RateLimitOptions::default()
    });
    let expected: IpAddr = "198.51.100.4".parse().unwrap();
    assert_eq!(proxied.client_address(&headers, Some(peer)), expected);
    headers.insert("x-forwarded-for", "garbage".parse().unwrap());
    assert_eq!(proxied.client_address(&headers, Some(peer)), peer.ip());
    assert!(proxied.client_address(&headers, None).is_unspecified());
}

#[test]
fn waits_round_up_to_whole_seconds() {
    assert_eq!(whole_seconds(Duration::ZERO), 1);
    assert_eq!(whole_seconds(Duration::from_millis(10)), 1);
    assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
    assert_eq!(whole_seconds(Duration::from_millis(2001)), 3);
}
