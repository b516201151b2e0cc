//! This process's view of each outbox lane (a channel, or a webhook endpoint): calls in
//! flight, the rate bucket and the circuit breaker. The lease asks it how many jobs each lane can start
//! now; each job is admitted (or given back) once its channel's settings are known.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use leadline_core::channel::ProviderKind;
use leadline_core::delivery::{
    CircuitBreaker, CircuitPolicy, CircuitState, DeliverySettings, RateBucket, Tripped,
};
use leadline_store::outbox::LaneCaps;

/// How a webhook endpoint's lane is named (`Task::webhook_lane`).
const WEBHOOK_LANE_PREFIX: &str = "webhook:";

/// How a provider call went, as the breaker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallHealth {
    /// The provider answered (accepting or refusing the message itself).
    Answered,
    /// Timeout, refused connection, 5xx or 429: the provider is not well.
    Failing,
}

/// What a finished call did to the lane's circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitChange {
    None,
    Opened(Tripped),
    Closed,
}

/// What a lane may do at once: calls in flight (per process) and calls started per
/// second. A channel's come from its delivery settings, a webhook endpoint's from its
/// rate limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaneLimits {
    pub concurrency: u32,
    pub per_second: Option<f64>,
}

impl LaneLimits {
    pub fn of_channel(settings: &DeliverySettings, provider: ProviderKind) -> Self {
        Self {
            concurrency: settings.concurrency(provider),
            per_second: settings.sends_per_second,
        }
    }
}

struct Lane {
    /// Jobs leased for this lane and not yet admitted or given back.
    reserved: u32,
    in_flight: u32,
    limit: u32,
    bucket: Option<RateBucket>,
    breaker: CircuitBreaker,
}

impl Lane {
    fn new(policy: CircuitPolicy, limit: u32) -> Self {
        Self {
            reserved: 0,
            in_flight: 0,
            limit,
            bucket: None,
            breaker: CircuitBreaker::new(policy),
        }
    }

    fn configure(&mut self, limits: LaneLimits, now: DateTime<Utc>) {
        self.limit = limits.concurrency.max(1);
        match (limits.per_second, &self.bucket) {
            (None, _) => self.bucket = None,
            (Some(rate), Some(bucket)) if bucket.per_second() == rate => {}
            (Some(rate), _) => self.bucket = Some(RateBucket::new(rate, now)),
        }
    }

    /// Sends this lane may start now.
    fn free(&mut self, now: DateTime<Utc>) -> u32 {
        let mut free = self.limit.saturating_sub(self.in_flight + self.reserved);
        if let Some(bucket) = &mut self.bucket {
            free = free.min(bucket.available(now));
        }
        self.breaker.admits(now, free)
    }
}

/// A leased job's place in its lane, held until the job is admitted (its provider call
/// starts) or dropped (it ends without a call).
pub struct Reservation {
    lanes: Arc<Lanes>,
    lane: String,
    consumed: bool,
}

impl Reservation {
    /// Starts the job's send if the lane's settings, rate and circuit allow; a job not
    /// admitted goes back to the outbox.
    pub fn admit(
        self,
        settings: &DeliverySettings,
        provider: ProviderKind,
        now: DateTime<Utc>,
    ) -> bool {
        self.admit_within(LaneLimits::of_channel(settings, provider), now)
    }

    /// Starts the job's call if the lane's `limits`, rate and circuit allow; a job not
    /// admitted goes back to the outbox.
    pub fn admit_within(mut self, limits: LaneLimits, now: DateTime<Utc>) -> bool {
        self.consumed = true;
        self.lanes.admit(&self.lane, limits, now)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.consumed {
            self.lanes.unreserve(&self.lane);
        }
    }
}

pub struct Lanes {
    policy: CircuitPolicy,
    /// The concurrency of a webhook endpoint's lane (`webhook:…`).
    webhook_concurrency: u32,
    lanes: Mutex<HashMap<String, Lane>>,
}

impl Lanes {
    pub fn new(policy: CircuitPolicy, webhook_concurrency: u32) -> Self {
        Self {
            policy,
            webhook_concurrency: webhook_concurrency.max(1),
            lanes: Mutex::new(HashMap::new()),
        }
    }

    fn with<R>(&self, lane: &str, f: impl FnOnce(&mut Lane) -> R) -> R {
        let mut lanes = self.lanes.lock().expect("lanes lock");
        let entry = lanes.entry(lane.to_owned()).or_insert_with(|| {
            let limit = if lane.starts_with(WEBHOOK_LANE_PREFIX) {
                self.webhook_concurrency
            } else {
                DeliverySettings::DEFAULT_CONCURRENCY
            };
            Lane::new(self.policy, limit)
        });
        f(entry)
    }

    /// What each known lane can start now, for the next lease. Lanes not seen yet get
    /// the default concurrency; their own settings apply from their first job on.
    pub fn caps(&self, now: DateTime<Utc>) -> LaneCaps {
        let mut lanes = self.lanes.lock().expect("lanes lock");
        // Forget idle, healthy lanes so a long-running process does not collect them;
        // keep those below the lease's default concurrency (webhook endpoints), which a
        // lease would otherwise fill past their limit each time they wake.
        lanes.retain(|_, lane| {
            lane.in_flight + lane.reserved > 0
                || lane.breaker.state(now) != CircuitState::Closed
                || lane.bucket.is_some()
                || lane.limit < DeliverySettings::DEFAULT_CONCURRENCY
        });
        LaneCaps {
            default: DeliverySettings::DEFAULT_CONCURRENCY,
            lanes: lanes
                .iter_mut()
                .map(|(name, lane)| (name.clone(), lane.free(now)))
                .collect(),
        }
    }

    /// Counts a job just leased for `lane` against its capacity until it is admitted
    /// or dropped, so the next lease sees the lane as it will be.
    pub fn reserve(self: &Arc<Self>, lane: &str) -> Reservation {
        self.with(lane, |lane| lane.reserved += 1);
        Reservation {
            lanes: self.clone(),
            lane: lane.to_owned(),
            consumed: false,
        }
    }

    fn unreserve(&self, lane: &str) {
        self.with(lane, |lane| lane.reserved = lane.reserved.saturating_sub(1));
    }

    /// Starts a call on `lane` when its limits, its rate and its circuit allow.
    fn admit(&self, lane: &str, limits: LaneLimits, now: DateTime<Utc>) -> bool {
        self.with(lane, |lane| {
            lane.reserved = lane.reserved.saturating_sub(1);
            lane.configure(limits, now);
            if lane.free(now) == 0 {
                return false;
            }
            lane.in_flight += 1;
            if let Some(bucket) = &mut lane.bucket {
                bucket.take(1, now);
            }
            lane.breaker.started(now);
            true
        })
    }

    /// When a lane that cannot start anything now may start again (its next rate
    /// token, or the end of its circuit's pause), for the worker's idle wait.
    pub fn next_opening(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut lanes = self.lanes.lock().expect("lanes lock");
        lanes
            .values_mut()
            .filter_map(|lane| match lane.breaker.state(now) {
                CircuitState::Open { until } => Some(until),
                _ => lane
                    .bucket
                    .as_mut()
                    .map(|bucket| bucket.next_token_at(now))
                    .filter(|at| *at > now),
            })
            .min()
    }

    /// When `lane`'s circuit lets sends through again, while it is open.
    pub fn paused_until(&self, lane: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let lanes = self.lanes.lock().expect("lanes lock");
        match lanes.get(lane)?.breaker.state(now) {
            CircuitState::Open { until } => Some(until),
            _ => None,
        }
    }

    /// A send admitted on `lane` finished.
    pub fn finished(&self, lane: &str, health: CallHealth, now: DateTime<Utc>) -> CircuitChange {
        self.with(lane, |lane| {
            lane.in_flight = lane.in_flight.saturating_sub(1);
            let was = lane.breaker.state(now);
            match health {
                CallHealth::Answered => {
                    lane.breaker.succeeded();
                    if was == CircuitState::Closed {
                        CircuitChange::None
                    } else {
                        CircuitChange::Closed
                    }
                }
                CallHealth::Failing => match lane.breaker.failed(now) {
                    Some(tripped) => CircuitChange::Opened(tripped),
                    None => CircuitChange::None,
                },
            }
        })
    }

    /// Lanes whose circuit is open or half-open, for `/metrics`.
    pub fn open_circuits(&self, now: DateTime<Utc>) -> usize {
        let lanes = self.lanes.lock().expect("lanes lock");
        lanes
            .values()
            .filter(|lane| lane.breaker.state(now) != CircuitState::Closed)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn a_lane_admits_up_to_its_concurrency() {
        let lanes = Arc::new(Lanes::new(CircuitPolicy::default(), 16));
        let settings = DeliverySettings {
            max_concurrent_sends: Some(2),
            ..DeliverySettings::default()
        };
        assert!(
            lanes
                .reserve("a")
                .admit(&settings, ProviderKind::Http, now())
        );
        assert!(
            lanes
                .reserve("a")
                .admit(&settings, ProviderKind::Http, now())
        );
        assert!(
            !lanes
                .reserve("a")
                .admit(&settings, ProviderKind::Http, now())
        );
        assert!(
            lanes
                .reserve("b")
                .admit(&settings, ProviderKind::Http, now()),
            "another lane is not held up"
        );
        assert_eq!(lanes.caps(now()).lanes["a"], 0);
        lanes.finished("a", CallHealth::Answered, now());
        assert_eq!(lanes.caps(now()).lanes["a"], 1);
        let held: Vec<Reservation> = (0..DeliverySettings::DEFAULT_CONCURRENCY)
            .map(|_| lanes.reserve("c"))
            .collect();
        assert_eq!(
            lanes.caps(now()).lanes["c"],
            0,
            "leased jobs count before they start"
        );
        drop(held);
        assert!(
            !lanes.caps(now()).lanes.contains_key("c"),
            "given back: an idle lane again"
        );
    }

    #[test]
    fn a_rate_limited_lane_waits_for_its_next_token() {
        let lanes = Arc::new(Lanes::new(CircuitPolicy::default(), 16));
        let settings = DeliverySettings {
            sends_per_second: Some(1.0),
            ..DeliverySettings::default()
        };
        assert!(
            lanes
                .reserve("a")
                .admit(&settings, ProviderKind::Http, now())
        );
        lanes.finished("a", CallHealth::Answered, now());
        assert!(
            !lanes
                .reserve("a")
                .admit(&settings, ProviderKind::Http, now())
        );
        assert_eq!(
            lanes.next_opening(now()),
            Some(now() + chrono::Duration::seconds(1))
        );
        assert!(lanes.reserve("a").admit(
            &settings,
            ProviderKind::Http,
            now() + chrono::Duration::seconds(1)
        ));
    }

    #[test]
    fn failures_open_the_circuit_and_an_answer_closes_it() {
        let lanes = Arc::new(Lanes::new(CircuitPolicy::default(), 16));
        let settings = DeliverySettings::default();
        let mut change = CircuitChange::None;
        for _ in 0..5 {
            assert!(
                lanes
                    .reserve("a")
                    .admit(&settings, ProviderKind::Http, now())
            );
            change = lanes.finished("a", CallHealth::Failing, now());
        }
        assert!(matches!(change, CircuitChange::Opened(_)));
        assert!(
            !lanes
                .reserve("a")
                .admit(&settings, ProviderKind::Http, now())
        );
        assert_eq!(lanes.open_circuits(now()), 1);
        let later = now() + chrono::Duration::seconds(5);
        assert!(
            lanes
                .reserve("a")
                .admit(&settings, ProviderKind::Http, later),
            "the probe"
        );
        assert!(
            !lanes
                .reserve("a")
                .admit(&settings, ProviderKind::Http, later),
            "only one probe"
        );
        assert_eq!(
            lanes.finished("a", CallHealth::Answered, later),
            CircuitChange::Closed
        );
        assert_eq!(lanes.open_circuits(later), 0);
    }
}
