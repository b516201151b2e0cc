//! The node's memory of API keys, and why it never lets a revoked key through.
//!
//! Keys this node verified are cached ([`KEY_CACHE_TTL`]), keys that matched nothing (or
//! are revoked or expired) are remembered as refused ([`REFUSED_KEY_TTL`]), so neither a
//! busy client nor a flood of one bad key costs a database read per request.
//!
//! Revocation: every revocation (and every change of rate limits) moves the store's key
//! generation in its own transaction. Each node polls the generation every
//! [`POLL_INTERVAL`] and drops its cached keys when it moves. A cached key is trusted only
//! while the node's latest completed poll *started* less than [`TRUST_WINDOW`] ago;
//! otherwise (a slow or failing poll) the store is asked. So once a revocation has been
//! committed for `TRUST_WINDOW`, no node serves the key from memory: any poll a node
//! still trusts started after the commit and saw it. The revoking request answers only
//! after waiting that long ([`KeyCache::wait_until_every_node_knows`]), so the request a
//! client sends after the DELETE returns is refused on every node, with no window.
//!
//! A cached entry carries the generation the node knew before it read the key, so a read
//! that raced a revocation is never trusted after the poll that saw it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use leadline_core::ApiKeyHash;
use leadline_core::api_key::is_expired;
use leadline_store::api_keys::KeyGrant;
use leadline_store::{Store, StoreError};
use tokio_util::sync::CancellationToken;

/// How long a verified key is reused without reading it again (revocations reach the
/// cache through the generation, not through this).
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(60);

/// How long a refused key is answered 401 without reading it again. Keys never come
/// back to life (revocation and expiry are final, new keys are random), so this only
/// bounds memory.
pub const REFUSED_KEY_TTL: Duration = Duration::from_secs(60);

/// How often each node reads the key generation: one primary-key read.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How recent the start of a node's last completed poll must be for its cache to be
/// trusted, and so how long a revocation waits before answering. Four poll intervals:
/// a poll may take up to about 300 ms before the node falls back to reading keys.
pub const TRUST_WINDOW: Duration = Duration::from_millis(400);

/// Distinct keys remembered, each way.
const CAPACITY: u64 = 100_000;

/// What a presented key turned out to be.
#[derive(Debug, Clone)]
pub enum KeyCheck {
    /// No key was presented.
    Absent,
    /// A key that matches nothing, or is revoked or expired.
    Refused,
    /// A key in force.
    Granted(Arc<KeyGrant>),
}

#[derive(Clone)]
struct Entry {
    grant: Arc<KeyGrant>,
    /// The generation the node knew before reading the key.
    generation: Option<i64>,
}

/// What the last completed poll said, and when it started.
#[derive(Default)]
struct Freshness {
    generation: Option<i64>,
    started: Option<Instant>,
}

struct Inner {
    granted: moka::sync::Cache<ApiKeyHash, Entry>,
    refused: moka::sync::Cache<ApiKeyHash, ()>,
    freshness: Mutex<Freshness>,
    /// When each key's use was last written, by this node.
    use_recorded: moka::sync::Cache<leadline_core::ApiKeyId, DateTime<Utc>>,
    store_reads: AtomicU64,
}

/// The node's key cache; cheap to clone.
#[derive(Clone)]
pub struct KeyCache(Arc<Inner>);

/// A new, empty cache. Until its poller runs ([`KeyCache::run_poller`]) it trusts
/// nothing it cached and reads every key from the store.
pub fn key_cache() -> KeyCache {
    KeyCache(Arc::new(Inner {
        granted: moka::sync::Cache::builder()
            .max_capacity(CAPACITY)
            .time_to_live(KEY_CACHE_TTL)
            .build(),
        refused: moka::sync::Cache::builder()
            .max_capacity(CAPACITY)
            .time_to_live(REFUSED_KEY_TTL)
            .build(),
        freshness: Mutex::new(Freshness::default()),
        use_recorded: moka::sync::Cache::builder()
            .max_capacity(CAPACITY)
            .time_to_idle(Duration::from_secs(600))
            .build(),
        store_reads: AtomicU64::new(0),
    }))
}

/// Keys are recorded as used at most this often per key and node.
const USE_RECORD_INTERVAL: chrono::Duration = chrono::Duration::seconds(60);

impl KeyCache {
    /// What this node knows of `hash` without asking the store, if anything.
    pub fn cached(&self, hash: &ApiKeyHash, now: DateTime<Utc>) -> Option<KeyCheck> {
        if self.0.refused.contains_key(hash) {
            return Some(KeyCheck::Refused);
        }
        let entry = self.0.granted.get(hash)?;
        if entry.generation.is_none() || entry.generation != self.trusted_generation() {
            return None;
        }
        if is_expired(entry.grant.expires_at, now) {
            self.0.granted.invalidate(hash);
            self.0.refused.insert(*hash, ());
            return Some(KeyCheck::Refused);
        }
        Some(KeyCheck::Granted(entry.grant))
    }

    /// Whether this node verified `hash` since the key generation last moved, trusted
    /// now or not: a key that is no stranger (see [`crate::rate_limit::guard`]).
    pub fn verified_before(&self, hash: &ApiKeyHash) -> bool {
        self.0.granted.contains_key(hash)
    }

    /// Reads `hash` from the store and remembers the answer.
    pub async fn load(
        &self,
        store: &Store,
        hash: &ApiKeyHash,
        now: DateTime<Utc>,
    ) -> Result<KeyCheck, StoreError> {
        let generation = self.known_generation();
        self.0.store_reads.fetch_add(1, Ordering::Relaxed);
        let found = store.api_key_grant(hash).await?;
        let outcome = match &found {
            None => "unknown",
            Some(grant) if grant.revoked => "revoked",
            Some(grant) if is_expired(grant.expires_at, now) => "expired",
            Some(_) => "granted",
        };
        metrics::counter!("leadline_api_key_lookups_total", "outcome" => outcome).increment(1);
        match found {
            Some(grant) if outcome == "granted" => {
                let grant = Arc::new(grant);
                self.0.granted.insert(
                    *hash,
                    Entry {
                        grant: grant.clone(),
                        generation,
                    },
                );
                Ok(KeyCheck::Granted(grant))
            }
            _ => {
                self.0.refused.insert(*hash, ());
                Ok(KeyCheck::Refused)
            }
        }
    }

    /// Records that `grant`'s key was used at `now`, at most once a minute per key on
    /// this node. A failure is logged and forgotten: the request goes on.
    pub async fn note_use(&self, store: &Store, grant: &KeyGrant, now: DateTime<Utc>) {
        let due = match self.0.use_recorded.get(&grant.key_id) {
            Some(last) => now - last >= USE_RECORD_INTERVAL,
            None => true,
        };
        if !due {
            return;
        }
        self.0.use_recorded.insert(grant.key_id, now);
        let not_before = now - USE_RECORD_INTERVAL;
        if let Err(error) = store
            .record_api_key_use(grant.key_id, now, not_before)
            .await
        {
            tracing::debug!(key_id = %grant.key_id, %error, "could not record the key's last use");
        }
    }

    /// Keys read from the store since this cache was made: what the caches save.
    pub fn store_reads(&self) -> u64 {
        self.0.store_reads.load(Ordering::Relaxed)
    }

    /// The generation of the last completed poll, trusted or not.
    fn known_generation(&self) -> Option<i64> {
        self.0.freshness.lock().expect("not poisoned").generation
    }

    /// The generation of the last completed poll, if it started within the trust window.
    fn trusted_generation(&self) -> Option<i64> {
        let freshness = self.0.freshness.lock().expect("not poisoned");
        match freshness.started {
            Some(started) if started.elapsed() < TRUST_WINDOW => freshness.generation,
            _ => None,
        }
    }

    /// Reads the key generation once; when it moved, drops every cached key.
    pub async fn poll(&self, store: &Store) -> Result<(), StoreError> {
        let started = Instant::now();
        let generation = store.api_key_generation().await?;
        let mut freshness = self.0.freshness.lock().expect("not poisoned");
        // Polls may finish out of order (a slow one after a quick later one): keep the
        // newest start, whose read saw the most.
        if freshness.started.is_some_and(|newest| newest > started) {
            return Ok(());
        }
        if freshness.generation != Some(generation) {
            self.0.granted.invalidate_all();
        }
        freshness.generation = Some(generation);
        freshness.started = Some(started);
        Ok(())
    }

    /// Polls the key generation every [`POLL_INTERVAL`] until `shutdown`. An outage is
    /// logged once when it starts and once when it ends; meanwhile keys are read from
    /// the store (which answers 503 while it is down).
    pub async fn run_poller(self, store: Store, shutdown: CancellationToken) {
        let mut ticks = tokio::time::interval(POLL_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            match self.poll(&store).await {
                Ok(()) if failing => {
                    failing = false;
                    tracing::info!("key generation readable again; cached keys trusted again");
                }
                Ok(()) => {}
                Err(error) if !failing => {
                    failing = true;
                    tracing::warn!(%error, "cannot read the key generation; every key is read from the store until it can");
                }
                Err(_) => {}
            }
        }
    }

    /// After this node committed a revocation: learns the new generation at once, then
    /// waits out the [`TRUST_WINDOW`], after which no node trusts a poll older than the
    /// commit. `committed` is when the committing statement returned.
    pub async fn wait_until_every_node_knows(&self, store: &Store, committed: Instant) {
        if let Err(error) = self.poll(store).await {
            tracing::debug!(%error, "could not read the key generation after a revocation");
        }
        tokio::time::sleep_until((committed + TRUST_WINDOW).into()).await;
    }
}
