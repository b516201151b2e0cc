//! Each workspace's numbers as selection sees them, loaded from the store and kept for
//! a moment: selection runs per send and per API call, and reloading ten thousand
//! numbers with their counters each time would cost more than the selection itself.
//!
//! A snapshot is reloaded when it is older than the TTL (on the wall clock or on the
//! injected clock, so simulated time moves it too), when the workspace's day changes,
//! and at once after a change made through this process's API. A stale snapshot of the
//! same day keeps answering while one background task reloads it, so no request waits
//! for a reload of ten thousand numbers and a busy node loads each pool once per TTL. A snapshot's usage
//! figures may be a moment old; that is safe because the store's reservation is the
//! authority on caps: a stale snapshot can pick a number that just filled up, never
//! push one over its cap.
//!
//! Building a snapshot is also where health verdicts are acted on: a number whose
//! metrics cross a pause or block threshold is paused (or blocked) in the store, with
//! the reason, the first time a snapshot sees it, and stays so until a person resumes
//! it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use leadline_core::WorkspaceId;
use leadline_core::numbers::{Hold, NumberPool, NumberPoolSettings, PoolNumber, assess, warmup};
use leadline_store::phone_numbers::PoolEntry;
use leadline_store::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freshness {
    Fresh,
    /// Older than the TTL: usable while a newer one loads.
    Stale,
    /// Of another day (or from the future of a clock set back): its caps do not apply.
    OtherDay,
}

/// One workspace's pool at one moment.
#[derive(Debug)]
pub struct PoolSnapshot {
    pub pool: NumberPool,
    pub settings: NumberPoolSettings,
    pub zone: Tz,
    /// The workspace's day the usage figures are for.
    pub today: NaiveDate,
    loaded_at: Instant,
    loaded_at_clock: DateTime<Utc>,
}

impl PoolSnapshot {
    /// When today's counters reset: the next midnight in the workspace's zone.
    pub fn next_reset(&self) -> DateTime<Utc> {
        next_midnight(self.today, self.zone)
    }
}

/// The cache of snapshots, shared by the API, the scheduler and the dispatcher.
#[derive(Clone)]
pub struct NumberPools {
    store: Store,
    ttl: Duration,
    snapshots: Arc<Mutex<HashMap<WorkspaceId, Arc<PoolSnapshot>>>>,
    /// Workspaces whose snapshot is being reloaded in the background.
    refreshing: Arc<Mutex<HashSet<WorkspaceId>>>,
    /// Held while a snapshot is loaded in the foreground: callers that find none wait
    /// for the one load instead of each loading the pool.
    loading: Arc<tokio::sync::Mutex<()>>,
}

impl NumberPools {
    /// Snapshots older than `ttl` are reloaded; zero reloads on every use, in the
    /// caller's task (tests on simulated time want exactly that).
    pub fn new(store: Store, ttl: Duration) -> Self {
        Self {
            store,
            ttl,
            snapshots: Arc::default(),
            refreshing: Arc::default(),
            loading: Arc::default(),
        }
    }

    /// The workspace's pool. A stale snapshot of the same day is answered at once while
    /// one background task reloads it; a missing one (or one of another day) is loaded
    /// by one caller while the others wait for it.
    pub async fn snapshot(
        &self,
        workspace_id: WorkspaceId,
    ) -> Result<Arc<PoolSnapshot>, StoreError> {
        let now = self.store.clock().now();
        if self.ttl.is_zero() {
            return self.reload(workspace_id, now).await;
        }
        if let Some(snapshot) = self.cached(workspace_id) {
            match self.freshness(&snapshot, now) {
                Freshness::Fresh => return Ok(snapshot),
                Freshness::Stale => {
                    self.refresh_in_background(workspace_id);
                    return Ok(snapshot);
                }
                Freshness::OtherDay => {}
            }
        }
        let _loading = self.loading.lock().await;
        if let Some(snapshot) = self.cached(workspace_id)
            && self.freshness(&snapshot, now) == Freshness::Fresh
        {
            return Ok(snapshot);
        }
        self.reload(workspace_id, now).await
    }

    /// Forgets the workspace's snapshot: the next use reloads it.
    pub fn invalidate(&self, workspace_id: WorkspaceId) {
        self.snapshots
            .lock()
            .expect("pool cache lock")
            .remove(&workspace_id);
    }

    async fn reload(
        &self,
        workspace_id: WorkspaceId,
        now: DateTime<Utc>,
    ) -> Result<Arc<PoolSnapshot>, StoreError> {
        let snapshot = Arc::new(self.load(workspace_id, now).await?);
        self.snapshots
            .lock()
            .expect("pool cache lock")
            .insert(workspace_id, snapshot.clone());
        Ok(snapshot)
    }

    fn refresh_in_background(&self, workspace_id: WorkspaceId) {
        if !self
            .refreshing
            .lock()
            .expect("pool refresh lock")
            .insert(workspace_id)
        {
            return;
        }
        let pools = self.clone();
        tokio::spawn(async move {
            let now = pools.store.clock().now();
            if let Err(error) = pools.reload(workspace_id, now).await {
                tracing::warn!(%error, workspace = %workspace_id, "reloading the number pool failed; the previous one stays in use");
            }
            pools
                .refreshing
                .lock()
                .expect("pool refresh lock")
                .remove(&workspace_id);
        });
    }

    fn cached(&self, workspace_id: WorkspaceId) -> Option<Arc<PoolSnapshot>> {
        self.snapshots
            .lock()
            .expect("pool cache lock")
            .get(&workspace_id)
            .cloned()
    }

    fn freshness(&self, snapshot: &PoolSnapshot, now: DateTime<Utc>) -> Freshness {
        if now < snapshot.loaded_at_clock
            || now.with_timezone(&snapshot.zone).date_naive() != snapshot.today
        {
            return Freshness::OtherDay;
        }
        let clock_age = (now - snapshot.loaded_at_clock)
            .to_std()
            .unwrap_or_default();
        if snapshot.loaded_at.elapsed() < self.ttl && clock_age < self.ttl {
            Freshness::Fresh
        } else {
            Freshness::Stale
        }
    }

    async fn load(
        &self,
        workspace_id: WorkspaceId,
        now: DateTime<Utc>,
    ) -> Result<PoolSnapshot, StoreError> {
        let settings = self.store.number_pool_settings(workspace_id).await?;
        let zone = settings.zone();
        let today = now.with_timezone(&zone).date_naive();
        let window_start = now
            .date_naive()
            .checked_sub_days(Days::new(u64::from(settings.health.window_days.max(1) - 1)))
            .unwrap_or(NaiveDate::MIN);
        let entries = self
            .store
            .pool_numbers(workspace_id, today, window_start)
            .await?;
        let mut numbers = Vec::with_capacity(entries.len());
        for entry in entries {
            numbers.push(
                self.pool_number(workspace_id, entry, today, &settings)
                    .await?,
            );
        }
        Ok(PoolSnapshot {
            pool: NumberPool::new(numbers),
            settings,
            zone,
            today,
            loaded_at: Instant::now(),
            loaded_at_clock: now,
        })
    }

    /// Judges one number and acts on a pause or block verdict.
    async fn pool_number(
        &self,
        workspace_id: WorkspaceId,
        entry: PoolEntry,
        today: NaiveDate,
        settings: &NumberPoolSettings,
    ) -> Result<PoolNumber, StoreError> {
        let PoolEntry {
            mut number,
            sms_used,
            calls_used,
            metrics,
        } = entry;
        let ramp = warmup(number.warmup_started_on, today, settings);
        let mut health = assess(&metrics, &ramp, &number.hold, &settings.health);
        let verdict = match (&health.block, &health.pause) {
            (Some(reason), _) => Some(Hold::Blocked {
                reason: reason.clone(),
            }),
            (None, Some(reason)) => Some(Hold::Paused {
                reason: reason.clone(),
                automatic: true,
            }),
            (None, None) => None,
        };
        if let Some(hold) = verdict {
            tracing::warn!(
                phone_number = %number.id,
                number = %number.number,
                ?hold,
                "taking the number out of rotation on its health"
            );
            if let Some(held) = self
                .store
                .hold_phone_number_on_health(workspace_id, number.id, hold)
                .await?
            {
                number = held;
                health = assess(&metrics, &ramp, &number.hold, &settings.health);
            }
        }
        Ok(PoolNumber {
            id: number.id,
            display_number: number.display_number.clone(),
            label: number.label.clone(),
            capabilities: number.capabilities,
            channel_id: number.channel_id,
            team_id: number.team_id,
            campaign_ids: number.campaign_ids.clone(),
            source_ids: number.source_ids.clone(),
            preferred: number.preferred,
            is_default: number.is_default,
            health,
            sms_cap: ramp.daily_cap,
            sms_used,
            call_cap: settings.daily_call_cap,
            call_used: calls_used,
            last_used_at: number.last_used_at,
            number: number.number,
        })
    }
}

/// The first instant of the day after `day` in `zone` (the earliest valid local time
/// where a DST change skips midnight).
pub fn next_midnight(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let next = day.succ_opt().unwrap_or(day);
    let mut local = next.and_hms_opt(0, 0, 0).expect("midnight exists");
    for _ in 0..4 {
        if let Some(at) = local.and_local_timezone(zone).earliest() {
            return at.with_timezone(&Utc);
        }
        local += chrono::TimeDelta::minutes(30);
    }
    next.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
}
