//! When a failed webhook delivery is tried again: svix's schedule (immediately, then 5
//! seconds, 5 minutes, 30 minutes, 2 hours, 5 hours, 10 hours and 10 hours), each wait
//! spread by up to a fifth either way so that deliveries failing together do not retry
//! together, and never shorter than the receiver's own `Retry-After`.

use std::time::Duration;

/// Waits before each attempt; the first is immediate.
pub const SCHEDULE: [Duration; 8] = [
    Duration::ZERO,
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// Attempts a delivery gets.
pub const ATTEMPTS: u32 = SCHEDULE.len() as u32;

/// The longest `Retry-After` honoured; a longer one waits this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// An endpoint that has failed every delivery for this long is disabled.
pub const DISABLE_AFTER_FAILING_FOR: Duration = Duration::from_secs(5 * 24 * 3600);

/// The wait before the next attempt after `attempts` failed ones, or `None` when none
/// is left. `jitter` in [0, 1) spreads the wait by ±20 %.
pub fn next_delay(attempts: u32, jitter: f64, retry_after: Option<Duration>) -> Option<Duration> {
    let planned = *SCHEDULE.get(usize::try_from(attempts).ok()?)?;
    let spread = planned.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0));
    Some(match retry_after {
        Some(asked) => spread.max(asked.min(MAX_RETRY_AFTER)),
        None => spread,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_schedule_then_stops() {
        assert_eq!(next_delay(1, 0.5, None), Some(Duration::from_secs(5)));
        assert_eq!(next_delay(2, 0.5, None), Some(Duration::from_secs(300)));
        assert_eq!(next_delay(7, 0.5, None), Some(Duration::from_secs(36_000)));
        assert_eq!(next_delay(8, 0.5, None), None);
    }

    #[test]
    fn jitter_spreads_by_a_fifth() {
        assert_eq!(next_delay(1, 0.0, None), Some(Duration::from_secs(4)));
        let high = next_delay(1, 0.999_999, None).unwrap();
        assert!(high > Duration::from_millis(5_999) && high <= Duration::from_secs(6));
    }

    #[test]
    fn a_longer_retry_after_wins_up_to_a_day() {
        let asked = Some(Duration::from_secs(60));
        assert_eq!(next_delay(1, 0.5, asked), Some(Duration::from_secs(60)));
        assert_eq!(next_delay(2, 0.5, asked), Some(Duration::from_secs(300)));
        let huge = Some(Duration::from_secs(10 * 24 * 3600));
        assert_eq!(next_delay(1, 0.5, huge), Some(MAX_RETRY_AFTER));
    }
}
