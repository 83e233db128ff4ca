//! pastebin: a paste service with a GraphQL API, on Postgres (primary + replica), Redis and S3.
//!
//! Layers, arrows pointing one way: transport ([`http`], [`graphql`]) → the rules
//! ([`pastes`], [`accounts`]) → stores ([`db`], [`cache`], [`blob`]). [`App`] holds the stores
//! and is shared by every transport and by the job workers.

pub mod accounts;
pub mod analytics;
pub mod auth;
pub mod blob;
pub mod cache;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod migrate;
pub mod pastes;
pub mod telemetry;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::blob::Blobs;
use crate::cache::PasteCache;
use crate::cache::pubsub::Hub;
use crate::cache::ratelimit::RateLimiter;
use crate::cache::redis::Redis;
use crate::cache::views::ViewCounter;
use crate::config::Config;
use crate::db::{AnalyticsDb, Db};

/// Everything a request or a job needs, built once per process.
pub struct App {
    pub config: Config,
    pub db: Db,
    pub analytics: Option<AnalyticsDb>,
    pub blobs: Blobs,
    pub redis: Redis,
    pub cache: PasteCache,
    pub views: Arc<ViewCounter>,
    pub hub: Arc<Hub>,
    pub auth: Auth,
    pub limits: RateLimiter,
    /// Cancelled on shutdown; background tasks stop on it.
    pub shutdown: CancellationToken,
}

impl App {
    /// Builds the stores and starts the per-process background tasks (view flusher, pub/sub
    /// listener). Connections are opened lazily: a store that is down does not stop start-up.
    pub fn build(config: Config) -> anyhow::Result<Arc<Self>> {
        config.validate()?;
        let db = Db::new(&config)?;
        let analytics = AnalyticsDb::new(&config)?;
        let blobs = Blobs::new(&config)?;
        if !blobs.is_configured() {
            tracing::warn!("no object store configured: every body is stored inline in Postgres");
        }
        let redis = Redis::new(
            &config.redis_url,
            &config.redis_prefix,
            config.redis_ca_file.as_deref(),
        )?;
        let cache = PasteCache::new(
            redis.clone(),
            config.cache_bytes,
            Duration::from_secs(config.cache_ttl_secs),
        );
        let views = ViewCounter::new(redis.clone());
        let hub = Hub::new(redis.clone(), cache.clone(), Arc::clone(&views));
        let auth = Auth::new(&config)?;
        let limits = RateLimiter::new(redis.clone(), &config);
        let shutdown = CancellationToken::new();
        telemetry::spawn_metrics_upkeep(shutdown.clone());
        views.spawn_flusher(
            Duration::from_millis(config.view_flush_ms.max(10)),
            shutdown.clone(),
        );
        hub.spawn_listener(shutdown.clone());
        Ok(Arc::new(Self {
            config,
            db,
            analytics,
            blobs,
            redis,
            cache,
            views,
            hub,
            auth,
            limits,
            shutdown,
        }))
    }
}
