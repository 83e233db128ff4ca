//! Redis and the in-process cache in front of it.
//!
//! | variable | default |
//! |---|---|
//! | `PASTEBIN_REDIS_URL` | empty: no Redis (single node) |
//! | `PASTEBIN_REDIS_CA_FILE` | none: the public web PKI roots |
//! | `PASTEBIN_REDIS_PREFIX` | `pastebin:` |
//! | `PASTEBIN_CACHE_BYTES` | `26214400` |
//! | `PASTEBIN_CACHE_TTL_SECS` | `3600` |
//! | `PASTEBIN_VIEW_FLUSH_MS` | `25` |

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

#[derive(Clone, Debug, Args)]
pub struct CacheConfig {
    /// Redis for the shared cache, view counters, pub/sub and jobs. Empty: none (single node).
    #[arg(
        long,
        env = "PASTEBIN_REDIS_URL",
        hide_env_values = true,
        default_value = ""
    )]
    pub redis_url: String,

    /// PEM of the CA that signs the Redis server's certificate, for `rediss://` URLs (e.g. an
    /// ElastiCache with in-transit encryption). Empty: the public web PKI roots.
    #[arg(long, env = "PASTEBIN_REDIS_CA_FILE")]
    pub redis_ca_file: Option<PathBuf>,

    /// Prefix of every Redis key and channel, so several deployments can share one Redis.
    #[arg(long, env = "PASTEBIN_REDIS_PREFIX", default_value = "pastebin:")]
    pub redis_prefix: String,

    /// Weight limit of the in-process cache, in bytes.
    #[arg(long, env = "PASTEBIN_CACHE_BYTES", default_value_t = 25 * 1024 * 1024)]
    pub cache_bytes: u64,

    /// Lifetime of an entry in the shared (Redis) cache, in seconds.
    #[arg(long, env = "PASTEBIN_CACHE_TTL_SECS", default_value_t = 3600)]
    pub cache_ttl_secs: u64,

    /// At most how often in-process view counts are flushed to Redis, in ms: the first view
    /// after a quiet interval is flushed at once, the views after it at the interval's end.
    #[arg(long, env = "PASTEBIN_VIEW_FLUSH_MS", default_value_t = 25)]
    pub view_flush_ms: u64,
}

impl CacheConfig {
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.cache_ttl_secs)
    }

    /// At least 10 ms: a tighter loop would spend the CPU on flushing.
    pub fn view_flush_interval(&self) -> Duration {
        Duration::from_millis(self.view_flush_ms.max(10))
    }
}
