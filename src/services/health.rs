//! Health of the stores: what `/readyz` ("can serve reads") and `/readyz/write` ("can take
//! writes") answer, and the gauges of `/metrics`.
//!
//! A probe never touches a store. One background task per store pings it on an interval, each
//! ping bounded, and records the answer; real traffic adds evidence where it is free (the
//! database pools and the object store note when they last got an answer). [`Health::readiness`]
//! only reads that state — it is not even `async` — so it answers in microseconds whatever the
//! stores do: a store that accepts connections and never answers marks itself down within
//! [`PROBE_EVERY`] + its ping bound, instead of holding the probe.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Stores;
use super::blob::Blobs;
use super::cache::PasteCache;
use super::cache::redis::Redis;
use super::cache::watchers::Watchers;
use super::db::{AnalyticsDb, Db};

/// How often each store is pinged (the object store less often: its requests are billed).
pub const PROBE_EVERY: Duration = Duration::from_secs(1);
const OBJECT_STORE_PROBE_EVERY: Duration = Duration::from_secs(5);
/// Bound on one database or Redis ping, checkout included.
const PING_WITHIN: Duration = Duration::from_secs(1);
/// Bound on one object-store ping.
const OBJECT_STORE_PING_WITHIN: Duration = Duration::from_secs(2);
/// Evidence older than this counts for nothing: if the probes stopped, say so (fail closed)
/// rather than repeat the last answer forever.
const STALE_AFTER_MS: i64 = 15_000;

/// A store's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    Up,
    Down,
    /// Not configured.
    Absent,
}

/// What the service can do, as a probe reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every configured store answers and writes are accepted.
    Ok,
    /// Reads are served; writes are not (no primary, read-only mode) or a store is down.
    Degraded,
    /// Reads are not served (`/readyz`), or writes are not taken (`/readyz/write`).
    Down,
}

/// What the service can do right now, and the state of each store.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Readiness {
    /// Reads can be served (a primary or a replica answers).
    #[serde(skip)]
    pub readable: bool,
    /// Writes are accepted (a writable primary answers and the read-only switch is off).
    pub writable: bool,
    pub read_only: bool,
    pub primary: Component,
    pub replica: Component,
    pub analytics: Component,
    pub redis: Component,
    #[serde(rename = "s3")]
    pub object_store: Component,
}

impl Readiness {
    /// "Can serve reads" (Kubernetes readiness): `ok`, `degraded` (reads only, or a store
    /// other than the database is down), or `down`.
    pub fn reads(&self) -> Status {
        let all_up = self.writable
            && [self.analytics, self.redis, self.object_store]
                .iter()
                .all(|c| *c != Component::Down);
        match (self.readable, all_up) {
            (false, _) => Status::Down,
            (true, true) => Status::Ok,
            (true, false) => Status::Degraded,
        }
    }

    /// "Can take writes" (the DNS failover check of the primary region): `ok` or `down`.
    pub fn writes(&self) -> Status {
        if self.writable {
            Status::Ok
        } else {
            Status::Down
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The latest answers about one store: when a ping (or real traffic) last succeeded, and when a
/// ping last failed. The newer one wins.
#[derive(Default)]
struct Evidence {
    ok_ms: AtomicI64,
    failed_ms: AtomicI64,
}

impl Evidence {
    fn record(&self, ok: bool) {
        let cell = if ok { &self.ok_ms } else { &self.failed_ms };
        cell.store(now_ms(), Ordering::Relaxed);
    }

    /// Up when the newest evidence is a success that is not stale. `traffic_ok_ms`: when real
    /// traffic last got an answer (0: never).
    fn state(&self, traffic_ok_ms: i64, now: i64) -> Component {
        let ok = self.ok_ms.load(Ordering::Relaxed).max(traffic_ok_ms);
        let failed = self.failed_ms.load(Ordering::Relaxed);
        if ok > 0 && ok >= failed && now - ok <= STALE_AFTER_MS {
            Component::Up
        } else {
            Component::Down
        }
    }
}

/// The state of every store, kept fresh in the background.
pub struct Health {
    db: Db,
    blobs: Blobs,
    cache: PasteCache,
    watchers: Arc<Watchers>,
    read_only: bool,
    primary: Arc<Evidence>,
    replica: Option<Arc<Evidence>>,
    analytics: Option<Arc<Evidence>>,
    redis: Option<Arc<Evidence>>,
    object_store: Option<Arc<Evidence>>,
}

impl Health {
    /// Starts one probe task per configured store; they stop on `shutdown`.
    pub(super) fn start(stores: &Stores, shutdown: &CancellationToken) -> Self {
        let primary = Arc::new(Evidence::default());
        let db = stores.db.clone();
        spawn_probe("primary", PROBE_EVERY, &primary, shutdown, move || {
            let db = db.clone();
            async move { db.probe_primary(PING_WITHIN).await }
        });
        let replica = stores.db.has_replica().then(|| {
            let evidence = Arc::new(Evidence::default());
            let db = stores.db.clone();
            spawn_probe("replica", PROBE_EVERY, &evidence, shutdown, move || {
                let db = db.clone();
                async move { db.probe_replica(PING_WITHIN).await }
            });
            evidence
        });
        let analytics = stores.analytics.clone().map(|analytics: AnalyticsDb| {
            let evidence = Arc::new(Evidence::default());
            spawn_probe("analytics", PROBE_EVERY, &evidence, shutdown, move || {
                let analytics = analytics.clone();
                async move { analytics.probe(PING_WITHIN).await }
            });
            evidence
        });
        let redis = stores.redis.is_configured().then(|| {
            let evidence = Arc::new(Evidence::default());
            let redis: Redis = stores.redis.clone();
            spawn_probe("redis", PROBE_EVERY, &evidence, shutdown, move || {
                let redis = redis.clone();
                async move { redis.ping().await == Some(true) }
            });
            evidence
        });
        let object_store = stores.blobs.is_configured().then(|| {
            let evidence = Arc::new(Evidence::default());
            let blobs = stores.blobs.clone();
            spawn_probe(
                "s3",
                OBJECT_STORE_PROBE_EVERY,
                &evidence,
                shutdown,
                move || {
                    let blobs = blobs.clone();
                    async move { blobs.ping(OBJECT_STORE_PING_WITHIN).await == Some(true) }
                },
            );
            evidence
        });
        Self {
            db: stores.db.clone(),
            blobs: stores.blobs.clone(),
            cache: stores.cache.clone(),
            watchers: Arc::clone(&stores.watchers),
            read_only: stores.db.read_only(),
            primary,
            replica,
            analytics,
            redis,
            object_store,
        }
    }

    /// The state of the stores as last seen: no I/O, no waiting.
    pub fn readiness(&self) -> Readiness {
        let now = now_ms();
        let state = |e: &Option<Arc<Evidence>>, traffic: i64| match e {
            Some(e) => e.state(traffic, now),
            None => Component::Absent,
        };
        let primary = self.primary.state(self.db.primary_last_answer_ms(), now);
        let replica = state(&self.replica, self.db.replica_last_answer_ms());
        let up = |c: Component| c == Component::Up;
        Readiness {
            readable: up(primary) || up(replica),
            writable: up(primary) && !self.read_only,
            read_only: self.read_only,
            primary,
            replica,
            analytics: state(&self.analytics, 0),
            redis: state(&self.redis, 0),
            object_store: state(&self.object_store, self.blobs.last_answer_ms()),
        }
    }

    /// Updates the gauges that are read rather than counted (pools, cache weight, watchers).
    pub fn record_gauges(&self) {
        self.db.record_pool_metrics();
        metrics::gauge!("pastebin_cache_local_bytes").set(self.cache.local_weight() as f64);
        metrics::gauge!("pastebin_subscriptions_watched_pastes")
            .set(self.watchers.watched() as f64);
    }
}

/// Pings one store every `every` until `shutdown`, recording each answer. The ping bounds
/// itself; the extra bound here only keeps a buggy ping from stalling its store's state.
fn spawn_probe<F, Fut>(
    store: &'static str,
    every: Duration,
    evidence: &Arc<Evidence>,
    shutdown: &CancellationToken,
    ping: F,
) where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let evidence = Arc::clone(evidence);
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        loop {
            let ok = tokio::select! {
                () = shutdown.cancelled() => return,
                r = tokio::time::timeout(OBJECT_STORE_PING_WITHIN * 2, ping()) => r.unwrap_or(false),
            };
            evidence.record(ok);
            let result = if ok { "up" } else { "down" };
            metrics::counter!("pastebin_health_pings_total", "store" => store, "result" => result)
                .increment(1);
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_evidence_wins_and_stale_evidence_counts_for_nothing() {
        let e = Evidence::default();
        let now = now_ms();
        assert_eq!(e.state(0, now), Component::Down, "no answer yet");
        e.ok_ms.store(now - 2000, Ordering::Relaxed);
        assert_eq!(e.state(0, now), Component::Up);
        e.failed_ms.store(now - 1000, Ordering::Relaxed);
        assert_eq!(e.state(0, now), Component::Down, "a later failed ping");
        assert_eq!(
            e.state(now - 500, now),
            Component::Up,
            "traffic answered since"
        );
        assert_eq!(
            e.state(0, now + STALE_AFTER_MS + 3000),
            Component::Down,
            "nothing recent"
        );
    }

    #[test]
    fn reads_and_writes_are_answered_separately() {
        let mut r = Readiness {
            readable: true,
            writable: true,
            read_only: false,
            primary: Component::Up,
            replica: Component::Up,
            analytics: Component::Absent,
            redis: Component::Up,
            object_store: Component::Up,
        };
        assert_eq!((r.reads(), r.writes()), (Status::Ok, Status::Ok));
        r.redis = Component::Down;
        assert_eq!((r.reads(), r.writes()), (Status::Degraded, Status::Ok));
        r.writable = false;
        r.primary = Component::Down;
        assert_eq!((r.reads(), r.writes()), (Status::Degraded, Status::Down));
        r.readable = false;
        assert_eq!((r.reads(), r.writes()), (Status::Down, Status::Down));
    }
}
