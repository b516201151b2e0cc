//! A token bucket that can say how many sends it allows now, so the dispatcher leases
//! only the jobs it can start at once (a leased job that waits is a job that a crash
//! would leave in doubt). Governor's limiters answer yes or no for a given number but
//! cannot say how many tokens they hold, which is what sizing a lease needs.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct RateBucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    updated: DateTime<Utc>,
}

impl RateBucket {
    /// A bucket refilled at `per_second`, holding at most one second's worth (at least
    /// one token), full at `now`.
    pub fn new(per_second: f64, now: DateTime<Utc>) -> Self {
        let burst = per_second.max(1.0);
        Self {
            per_second,
            burst,
            tokens: burst,
            updated: now,
        }
    }

    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    fn refill(&mut self, now: DateTime<Utc>) {
        let elapsed = (now - self.updated).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
        if elapsed > 0.0 {
            self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
            self.updated = now;
        }
    }

    /// Whole tokens available now.
    pub fn available(&mut self, now: DateTime<Utc>) -> u32 {
        self.refill(now);
        self.tokens.floor().max(0.0) as u32
    }

    /// Takes `n` tokens (callers take at most what `available` said).
    pub fn take(&mut self, n: u32, now: DateTime<Utc>) {
        self.refill(now);
        self.tokens -= f64::from(n);
    }

    /// When the next whole token is there.
    pub fn next_token_at(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.refill(now);
        if self.tokens >= 1.0 {
            return now;
        }
        let wait = (1.0 - self.tokens) / self.per_second;
        now + chrono::Duration::microseconds((wait * 1e6).ceil() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn allows_the_rate_and_a_second_of_burst() {
        let start = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        let mut bucket = RateBucket::new(2.0, start);
        assert_eq!(bucket.available(start), 2);
        bucket.take(2, start);
        assert_eq!(bucket.available(start), 0);
        assert_eq!(
            bucket.next_token_at(start),
            start + chrono::Duration::milliseconds(500)
        );
        let later = start + chrono::Duration::seconds(10);
        assert_eq!(
            bucket.available(later),
            2,
            "never more than a second's worth"
        );
    }

    #[test]
    fn slow_rates_still_hold_one_token() {
        let start = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        let mut bucket = RateBucket::new(0.5, start);
        assert_eq!(bucket.available(start), 1);
        bucket.take(1, start);
        assert_eq!(
            bucket.next_token_at(start),
            start + chrono::Duration::seconds(2)
        );
    }
}
