//! Health of the stores, for `/readyz` and the gauges of `/metrics`.

use std::sync::Arc;

use super::Stores;
use super::blob::Blobs;
use super::cache::PasteCache;
use super::cache::redis::Redis;
use super::cache::watchers::Watchers;
use super::db::{AnalyticsDb, Db};

/// A store's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    Up,
    Down,
    /// Not configured.
    Absent,
}

impl From<Option<bool>> for Component {
    fn from(v: Option<bool>) -> Self {
        match v {
            Some(true) => Self::Up,
            Some(false) => Self::Down,
            None => Self::Absent,
        }
    }
}

/// What the service can do right now, and the state of each store.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Readiness {
    /// Reads can be served (a primary or a replica answers).
    #[serde(skip)]
    pub readable: bool,
    /// Writes are accepted (a primary answers and the read-only switch is off).
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
    /// Every configured store answers and writes are accepted.
    pub fn all_up(&self) -> bool {
        self.writable
            && [self.analytics, self.redis, self.object_store]
                .iter()
                .all(|c| *c != Component::Down)
    }
}

/// Checks the stores.
pub struct Health {
    db: Db,
    analytics: Option<AnalyticsDb>,
    redis: Redis,
    blobs: Blobs,
    cache: PasteCache,
    watchers: Arc<Watchers>,
}

impl Health {
    pub(super) fn new(stores: &Stores) -> Self {
        Self {
            db: stores.db.clone(),
            analytics: stores.analytics.clone(),
            redis: stores.redis.clone(),
            blobs: stores.blobs.clone(),
            cache: stores.cache.clone(),
            watchers: Arc::clone(&stores.watchers),
        }
    }

    /// Asks every store now.
    pub async fn readiness(&self) -> Readiness {
        let analytics = async {
            match &self.analytics {
                Some(a) => Some(a.ping().await),
                None => None,
            }
        };
        let (db, analytics, redis, object_store) = tokio::join!(
            self.db.health(),
            analytics,
            self.redis.ping(),
            self.blobs.ping(std::time::Duration::from_secs(2))
        );
        Readiness {
            readable: db.primary || db.replica == Some(true),
            writable: db.primary && !self.db.read_only(),
            read_only: self.db.read_only(),
            primary: Some(db.primary).into(),
            replica: db.replica.into(),
            analytics: analytics.into(),
            redis: redis.into(),
            object_store: object_store.into(),
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
