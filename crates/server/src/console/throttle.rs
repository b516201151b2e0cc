//! Login attempts, limited per email and per client address so a password cannot be
//! guessed at speed: each may try [`PER_EMAIL`]/[`PER_ADDRESS`] times at once, then
//! once per [`REFILL_EMAIL`]/[`REFILL_ADDRESS`]. Buckets live in the node's memory (a
//! cluster of N nodes allows N times as many), forgotten after an hour idle.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota};

/// Attempts an email may make at once.
pub const PER_EMAIL: u32 = 10;
/// Then one more each this often.
pub const REFILL_EMAIL: Duration = Duration::from_secs(60);
/// Attempts an address may make at once (several people may share one).
pub const PER_ADDRESS: u32 = 30;
/// Then one more each this often.
pub const REFILL_ADDRESS: Duration = Duration::from_secs(10);

/// The node's login buckets.
#[derive(Clone)]
pub struct LoginThrottle {
    emails: moka::sync::Cache<String, Arc<DefaultDirectRateLimiter>>,
    addresses: moka::sync::Cache<IpAddr, Arc<DefaultDirectRateLimiter>>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginThrottle")
    }
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            emails: idle_cache(),
            addresses: idle_cache(),
        }
    }
}

fn idle_cache<K: std::hash::Hash + Eq + Send + Sync + 'static>()
-> moka::sync::Cache<K, Arc<DefaultDirectRateLimiter>> {
    moka::sync::Cache::builder()
        .max_capacity(100_000)
        .time_to_idle(Duration::from_secs(3600))
        .build()
}

fn limiter(burst: u32, refill: Duration) -> Arc<DefaultDirectRateLimiter> {
    let quota = Quota::with_period(refill)
        .expect("a refill period above zero")
        .allow_burst(NonZeroU32::new(burst).expect("a burst above zero"));
    Arc::new(DefaultDirectRateLimiter::direct(quota))
}

impl LoginThrottle {
    /// Takes one attempt for `email` from `address`; `Err` with the seconds to wait
    /// when either has none left.
    pub fn attempt(&self, email: &str, address: Option<IpAddr>) -> Result<(), u64> {
        let by_email = self
            .emails
            .get_with(email.to_lowercase(), || limiter(PER_EMAIL, REFILL_EMAIL));
        let mut checks = vec![by_email];
        if let Some(address) = address {
            checks.push(
                self.addresses
                    .get_with(address, || limiter(PER_ADDRESS, REFILL_ADDRESS)),
            );
        }
        for check in checks {
            if let Err(not_until) = check.check() {
                let wait = not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ));
                return Err(wait.as_secs().max(1));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_stopped_after_its_burst_whatever_the_address() {
        let throttle = LoginThrottle::default();
        for n in 0..PER_EMAIL {
            let address = IpAddr::from([10, 0, 0, n as u8]);
            assert!(throttle.attempt("Ana@Example.com", Some(address)).is_ok());
        }
        let wait = throttle.attempt("ana@example.com", None).unwrap_err();
        assert!(wait >= 1 && wait <= REFILL_EMAIL.as_secs());
        assert!(
            throttle.attempt("bo@example.com", None).is_ok(),
            "another email"
        );
    }

    #[test]
    fn an_address_is_stopped_after_its_burst_whatever_the_email() {
        let throttle = LoginThrottle::default();
        let address = Some(IpAddr::from([192, 0, 2, 1]));
        for n in 0..PER_ADDRESS {
            assert!(
                throttle
                    .attempt(&format!("user{n}@example.com"), address)
                    .is_ok()
            );
        }
        assert!(throttle.attempt("new@example.com", address).is_err());
    }
}
