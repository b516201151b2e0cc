//! A circuit breaker per channel: after a run of failures that say "the provider is
//! not well" (timeouts, refused connections, 5xx), stop calling it for a while instead
//! of burning every queued message's attempts against it. After the pause one probe
//! send goes out; its success closes the circuit, its failure opens it again for
//! twice as long, up to a cap.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// When a circuit opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitPolicy {
    /// Failures in a row, with no success between them, that open the circuit.
    pub failures_to_open: u32,
    /// The first pause.
    pub first_pause: Duration,
    /// The longest pause.
    pub max_pause: Duration,
}

impl Default for CircuitPolicy {
    fn default() -> Self {
        Self {
            failures_to_open: 5,
            first_pause: Duration::from_secs(5),
            max_pause: Duration::from_secs(300),
        }
    }
}

/// What the breaker allows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// Send freely.
    Closed,
    /// The pause is over: one probe send may go; the rest wait for its outcome.
    HalfOpen,
    /// Send nothing until `until`.
    Open { until: DateTime<Utc> },
}

impl CircuitState {
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::HalfOpen => "half_open",
            CircuitState::Open { .. } => "open",
        }
    }
}

/// The circuit just opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tripped {
    pub until: DateTime<Utc>,
    pub pause: Duration,
}

#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    policy: CircuitPolicy,
    failures: u32,
    open_until: Option<DateTime<Utc>>,
    /// The pause of the last opening; the next one doubles it.
    last_pause: Option<Duration>,
    probe_in_flight: bool,
}

impl CircuitBreaker {
    pub fn new(policy: CircuitPolicy) -> Self {
        Self {
            policy,
            failures: 0,
            open_until: None,
            last_pause: None,
            probe_in_flight: false,
        }
    }

    pub fn state(&self, now: DateTime<Utc>) -> CircuitState {
        match self.open_until {
            Some(until) if now < until => CircuitState::Open { until },
            Some(_) => CircuitState::HalfOpen,
            None => CircuitState::Closed,
        }
    }

    /// How many sends may start now, given `wanted`: all when closed, one probe at a
    /// time when half-open, none when open.
    pub fn admits(&self, now: DateTime<Utc>, wanted: u32) -> u32 {
        match self.state(now) {
            CircuitState::Closed => wanted,
            CircuitState::HalfOpen if !self.probe_in_flight => wanted.min(1),
            _ => 0,
        }
    }

    /// A send started; when half-open it is the probe.
    pub fn started(&mut self, now: DateTime<Utc>) {
        if self.state(now) == CircuitState::HalfOpen {
            self.probe_in_flight = true;
        }
    }

    /// The provider answered (accepted, or refused the message itself): it is well.
    pub fn succeeded(&mut self) {
        self.failures = 0;
        self.open_until = None;
        self.last_pause = None;
        self.probe_in_flight = false;
    }

    /// The provider failed in a way that says it is not well. Returns the new pause
    /// when this failure opens (or reopens) the circuit.
    pub fn failed(&mut self, now: DateTime<Utc>) -> Option<Tripped> {
        self.failures = self.failures.saturating_add(1);
        let probing = self.probe_in_flight || self.state(now) == CircuitState::HalfOpen;
        self.probe_in_flight = false;
        if !probing && self.failures < self.policy.failures_to_open {
            return None;
        }
        if matches!(self.state(now), CircuitState::Open { .. }) {
            // Calls started before the circuit opened are still failing: one pause.
            return None;
        }
        let pause = match self.last_pause {
            Some(last) => last.saturating_mul(2).min(self.policy.max_pause),
            None => self.policy.first_pause,
        };
        let until = now + chrono::Duration::from_std(pause).unwrap_or(chrono::Duration::MAX);
        self.open_until = Some(until);
        self.last_pause = Some(pause);
        Some(Tripped { until, pause })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn opens_after_a_run_of_failures_and_probes_after_the_pause() {
        let mut breaker = CircuitBreaker::new(CircuitPolicy::default());
        for _ in 0..4 {
            assert_eq!(breaker.failed(at(0)), None);
        }
        breaker.succeeded();
        for _ in 0..4 {
            assert_eq!(breaker.failed(at(0)), None);
        }
        let trip = breaker
            .failed(at(0))
            .expect("the fifth failure in a row opens");
        assert_eq!(trip.pause, Duration::from_secs(5));
        assert_eq!(breaker.admits(at(4), 10), 0);
        // Late failures of calls started before the opening do not extend it.
        assert_eq!(breaker.failed(at(1)), None);
        assert_eq!(breaker.state(at(5)), CircuitState::HalfOpen);
        assert_eq!(breaker.admits(at(5), 10), 1);
        breaker.started(at(5));
        assert_eq!(breaker.admits(at(5), 10), 0, "one probe at a time");
        let again = breaker.failed(at(6)).expect("a failed probe reopens");
        assert_eq!(again.pause, Duration::from_secs(10));
        assert_eq!(breaker.admits(at(15), 3), 0);
        assert_eq!(breaker.admits(at(16), 3), 1);
        breaker.started(at(16));
        breaker.succeeded();
        assert_eq!(breaker.state(at(16)), CircuitState::Closed);
        assert_eq!(breaker.admits(at(16), 3), 3);
    }

    #[test]
    fn pauses_double_up_to_the_cap() {
        let mut breaker = CircuitBreaker::new(CircuitPolicy {
            failures_to_open: 1,
            first_pause: Duration::from_secs(100),
            max_pause: Duration::from_secs(300),
        });
        let mut now = at(0);
        let mut pauses = Vec::new();
        for _ in 0..4 {
            let trip = breaker.failed(now).unwrap();
            pauses.push(trip.pause.as_secs());
            now = trip.until;
        }
        assert_eq!(pauses, [100, 200, 300, 300]);
    }
}
