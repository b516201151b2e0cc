//! When a failed send is tried again: exponential backoff with jitter, capped, and a
//! limit on attempts after which the failure is final.

use std::time::Duration;

/// The retry policy of the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(600),
            max_attempts: 8,
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempts + 1` after `attempts` failed ones, or `None`
    /// when no attempt is left. `jitter` in [0, 1) spreads retries of many jobs that
    /// failed together over the upper half of the delay; a provider's own `Retry-After`
    /// wins when it is longer.
    pub fn next_delay(
        &self,
        attempts: u32,
        jitter: f64,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exponent = attempts.saturating_sub(1).min(30);
        let full = self
            .first_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let jittered = full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        Some(retry_after.map_or(jittered, |after| after.max(jittered)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_then_stop() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.next_delay(1, 1.0, None),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            policy.next_delay(2, 1.0, None),
            Some(Duration::from_secs(4))
        );
        assert_eq!(
            policy.next_delay(7, 1.0, None),
            Some(Duration::from_secs(128))
        );
        assert_eq!(policy.next_delay(8, 1.0, None), None);
        let capped = RetryPolicy {
            max_attempts: 100,
            ..policy
        };
        assert_eq!(
            capped.next_delay(40, 1.0, None),
            Some(Duration::from_secs(600))
        );
    }

    #[test]
    fn jitter_stays_in_the_upper_half_and_retry_after_wins() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.next_delay(2, 0.0, None),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            policy.next_delay(1, 0.5, Some(Duration::from_secs(30))),
            Some(Duration::from_secs(30))
        );
    }
}
