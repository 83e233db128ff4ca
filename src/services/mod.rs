//! The service layer: the rules every transport obeys, and the stores behind them.
//!
//! Transports ([`crate::http`], [`crate::graphql`]) hold an [`App`] and call its services —
//! [`Pastes`], [`Accounts`], [`AccessTokens`], [`Moderation`], [`ViewStats`], [`Health`] — with a [`crate::caller::Caller`]; each
//! service method applies the rules and charges its own budget ([`budgets`]), so every door
//! obeys the same ones. The stores (`db`, `cache`, `blob`) are private to this module: the
//! compiler keeps transports out of them, and a test (`tests/it/layers.rs`) checks the source
//! as well. The job workers ([`jobs`]) run inside this layer and use the stores directly.
//! Tests and examples reach the stores through the `test-support` feature ([`App::stores`]).

pub mod access_tokens;
pub mod accounts;
pub mod budgets;
pub mod error;
pub mod health;
mod invalidations;
pub mod jobs;
pub mod migrate;
pub mod moderation;
pub mod pastes;
pub mod sign_in;
pub mod view_stats;

#[cfg(feature = "test-support")]
pub mod blob;
#[cfg(not(feature = "test-support"))]
mod blob;
#[cfg(feature = "test-support")]
pub mod cache;
#[cfg(not(feature = "test-support"))]
mod cache;
#[cfg(feature = "test-support")]
pub mod db;
#[cfg(not(feature = "test-support"))]
mod db;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use self::access_tokens::AccessTokens;
use self::accounts::Accounts;
use self::blob::Blobs;
use self::budgets::Budgets;
use self::cache::PasteCache;
use self::cache::live_counts::LiveCounts;
use self::cache::redis::Redis;
use self::cache::tokens::TokenCache;
use self::cache::watchers::Watchers;
use self::db::{AnalyticsDb, Db};
use self::health::Health;
use self::moderation::Moderation;
use self::pastes::Pastes;
use self::sign_in::SignIn;
use self::view_stats::ViewStats;
use crate::auth::Auth;
use crate::auth::admins::Admins;
use crate::config::{Config, Profile};

/// The stores of one process. Private to the service layer (and its jobs); tests reach them
/// through [`App::stores`] with the `test-support` feature.
pub struct Stores {
    pub db: Db,
    pub analytics: Option<AnalyticsDb>,
    pub blobs: Blobs,
    pub redis: Redis,
    pub cache: PasteCache,
    pub counts: Arc<LiveCounts>,
    pub watchers: Arc<Watchers>,
}

/// Every service, built once per process and shared by every transport and the job workers.
pub struct App {
    config: Arc<Config>,
    pastes: Pastes,
    accounts: Accounts,
    access_tokens: AccessTokens,
    moderation: Moderation,
    sign_in: SignIn,
    view_stats: ViewStats,
    health: Health,
    stores: Stores,
    /// Cancelled on shutdown; background tasks stop on it.
    shutdown: CancellationToken,
}

impl App {
    /// Builds the stores and services and starts the per-process background tasks (view
    /// flusher, pub/sub listener, health probes, object-store credentials). Connections are
    /// opened lazily: a store that is down does not stop start-up. Refused: settings that can
    /// never work, and in production an object store it was told to use and cannot (no AWS
    /// credentials, or STS refusing them) — said in the error. The only waiting here is that
    /// first credential fetch, bounded by a few seconds.
    pub async fn build(config: Config) -> anyhow::Result<Arc<Self>> {
        config.validate()?;
        let config = Arc::new(config);
        let shutdown = CancellationToken::new();
        let db = Db::new(&config)?;
        let analytics = AnalyticsDb::new(&config)?;
        let blobs = Blobs::new(&config)?;
        if !blobs.is_configured() {
            tracing::info!(
                "no object store (PASTEBIN_S3_BUCKET is empty): every body is stored inline in Postgres"
            );
        } else if let Err(e) = blobs.start(&shutdown).await {
            let bucket = &config.object_store.s3_bucket;
            if config.server.profile == Profile::Production {
                shutdown.cancel();
                anyhow::bail!(
                    "PASTEBIN_S3_BUCKET={bucket:?} is set but the object store cannot be used: \
                     {e:#}"
                );
            }
            tracing::warn!(
                bucket = %bucket,
                error = %format!("{e:#}"),
                "object store configured but unusable for now: bodies above the inline limit are refused"
            );
        }
        let c = &config.cache;
        let redis = Redis::new(&c.redis_url, &c.redis_prefix, c.redis_ca_file.as_deref())?;
        let cache = PasteCache::new(redis.clone(), c.cache_bytes, c.ttl());
        let counts = LiveCounts::new(redis.clone());
        let tokens = TokenCache::new(redis.clone());
        let watchers = Watchers::new(
            redis.clone(),
            cache.clone(),
            tokens.clone(),
            Arc::clone(&counts),
        );
        let auth = Arc::new(Auth::new(&config)?);
        let budgets = Budgets::new(redis.clone(), &config.limits);
        crate::telemetry::spawn_metrics_upkeep(shutdown.clone());
        counts.spawn_flusher(c.view_flush_interval(), shutdown.clone());
        watchers.spawn_listener(shutdown.clone());
        invalidations::spawn_poller(db.clone(), cache.clone(), shutdown.clone());

        let pastes = Pastes::new(
            Arc::clone(&config),
            db.clone(),
            blobs.clone(),
            cache.clone(),
            Arc::clone(&counts),
            Arc::clone(&watchers),
            budgets.clone(),
        );
        let access_tokens = AccessTokens::new(db.clone(), tokens, budgets.clone());
        access_tokens.spawn_flusher(
            std::time::Duration::from_secs(config.auth.token_last_used_flush_secs.max(1)),
            shutdown.clone(),
        );
        let admins = Arc::new(Admins::from_config(&config.auth));
        let accounts = Accounts::new(
            db.clone(),
            redis.clone(),
            Arc::clone(&auth),
            Arc::clone(&admins),
            access_tokens.clone(),
            budgets.clone(),
        );
        let sign_in = SignIn::new(
            Arc::clone(&config),
            accounts.clone(),
            admins,
            budgets.clone(),
            auth.derive_secret(&["oidc-state-cookie"]).into_bytes(),
        )?;
        let moderation = Moderation::new(
            db.clone(),
            pastes.clone(),
            access_tokens.clone(),
            budgets.clone(),
        );
        let view_stats = ViewStats::new(
            pastes.clone(),
            Arc::clone(&counts),
            Arc::clone(&watchers),
            redis.clone(),
            analytics.clone(),
            budgets,
        );
        let stores = Stores {
            db,
            analytics,
            blobs,
            redis,
            cache,
            counts,
            watchers,
        };
        let health = Health::start(&stores, &shutdown);
        Ok(Arc::new(Self {
            config,
            pastes,
            accounts,
            access_tokens,
            moderation,
            sign_in,
            view_stats,
            health,
            stores,
            shutdown,
        }))
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn pastes(&self) -> &Pastes {
        &self.pastes
    }

    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    pub fn access_tokens(&self) -> &AccessTokens {
        &self.access_tokens
    }

    pub fn moderation(&self) -> &Moderation {
        &self.moderation
    }

    pub fn sign_in(&self) -> &SignIn {
        &self.sign_in
    }

    pub fn view_stats(&self) -> &ViewStats {
        &self.view_stats
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Cancelled when the process shuts down.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// Stops the background tasks and hands the view counts still in process to Redis.
    pub async fn stop(&self) {
        self.shutdown.cancel();
        self.stores.counts.flush().await;
        self.access_tokens.flush_uses().await;
    }

    /// The stores, for tests and tools.
    #[cfg(feature = "test-support")]
    #[doc(hidden)]
    pub fn stores(&self) -> &Stores {
        &self.stores
    }
}
