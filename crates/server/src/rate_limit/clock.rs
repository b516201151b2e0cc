//! The time rate limiters count in. In production a monotonic clock: wall-clock time
//! (the store's clock) can step back under NTP, which would freeze every bucket until
//! it caught up. Tests inject a manual clock and move it past a window instead of
//! sleeping through it.

use std::time::{Duration, Instant};

use governor::clock::{Clock, FakeRelativeClock};
use governor::nanos::Nanos;

/// A limiter's time source; cheap to clone (clones share the time).
#[derive(Debug, Clone)]
pub struct LimiterClock(Source);

#[derive(Debug, Clone)]
enum Source {
    /// Time since this instant, read from the OS's monotonic clock.
    Monotonic(Instant),
    /// Time that moves only when [`ManualLimiterClock::advance`] is called.
    Manual(FakeRelativeClock),
}

impl LimiterClock {
    pub fn monotonic() -> Self {
        Self(Source::Monotonic(Instant::now()))
    }
}

impl Default for LimiterClock {
    fn default() -> Self {
        Self::monotonic()
    }
}

impl Clock for LimiterClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        match &self.0 {
            Source::Monotonic(start) => Nanos::from(start.elapsed()),
            Source::Manual(fake) => fake.now(),
        }
    }
}

/// A clock for limiters that a test moves by hand.
#[derive(Debug, Clone, Default)]
pub struct ManualLimiterClock(FakeRelativeClock);

impl ManualLimiterClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// The clock to give the limiters.
    pub fn clock(&self) -> LimiterClock {
        LimiterClock(Source::Manual(self.0.clone()))
    }

    pub fn advance(&self, by: Duration) {
        self.0.advance(by);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_time_moves_only_when_told_and_monotonic_time_moves_on_its_own() {
        let manual = ManualLimiterClock::new();
        let clock = manual.clock();
        let before = clock.now();
        assert_eq!(clock.now(), before);
        manual.advance(Duration::from_millis(1500));
        assert_eq!(
            Duration::from(clock.now()) - Duration::from(before),
            Duration::from_millis(1500)
        );
        let monotonic = LimiterClock::monotonic();
        let first = monotonic.now();
        // It moves by itself within nanoseconds: look until it has, a bounded number of times.
        assert!((0..10_000_000).any(|_| monotonic.now() > first));
    }
}
