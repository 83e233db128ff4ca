//! Every setting of the service, typed and documented once.
//!
//! Each field is read from a `PASTEBIN_*` environment variable (or the matching `--flag`);
//! README.md and `.env.example` list them with the same defaults. Tests build a `Config`
//! directly instead of reading the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// Deployment profile. `production` refuses unsafe settings (e.g. a weak JWT secret).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Settings shared by every subcommand that touches the stores.
#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Address the HTTP server listens on.
    #[arg(long, env = "PASTEBIN_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Separate listener for `/metrics` (e.g. `0.0.0.0:9090`), so the public port does not
    /// expose them; the worker serves its metrics there too. Empty: `/metrics` on `PASTEBIN_ADDR`.
    #[arg(long, env = "PASTEBIN_METRICS_ADDR", default_value = "")]
    pub metrics_addr: String,

    /// Base URL used in the links the service hands out (paste pages, raw text).
    #[arg(
        long,
        env = "PASTEBIN_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,

    #[arg(
        long,
        env = "PASTEBIN_PROFILE",
        value_enum,
        default_value = "development"
    )]
    pub profile: Profile,

    /// Primary database. May list several hosts (`postgres://u@h1:5432,h2:5432/db`): the
    /// write pool only accepts a server that is not in recovery.
    #[arg(long, env = "PASTEBIN_DATABASE_URL", hide_env_values = true)]
    pub database_url: String,

    /// Read replica. Empty: reads use the primary.
    #[arg(
        long,
        env = "PASTEBIN_REPLICA_DATABASE_URL",
        hide_env_values = true,
        default_value = ""
    )]
    pub replica_database_url: String,

    /// Analytics database (hourly view counts). Empty: stats are unavailable.
    #[arg(
        long,
        env = "PASTEBIN_ANALYTICS_DATABASE_URL",
        hide_env_values = true,
        default_value = ""
    )]
    pub analytics_database_url: String,

    /// PEM file of the CA(s) that sign the database servers' certificates (e.g. the RDS
    /// bundle). Empty: the public web PKI roots. TLS is used as the URLs' `sslmode` asks
    /// (`require` for managed databases).
    #[arg(long, env = "PASTEBIN_DB_CA_FILE")]
    pub db_ca_file: Option<PathBuf>,

    /// Connections per database pool.
    #[arg(long, env = "PASTEBIN_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: u32,

    /// Bound on opening a database connection and on waiting for a pooled one, in ms.
    #[arg(long, env = "PASTEBIN_DB_CONNECT_TIMEOUT_MS", default_value_t = 2000)]
    pub db_connect_timeout_ms: u64,

    /// Server-side statement timeout and client-side bound on one database operation, in ms.
    #[arg(long, env = "PASTEBIN_DB_STATEMENT_TIMEOUT_MS", default_value_t = 5000)]
    pub db_statement_timeout_ms: u64,

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

    /// S3 endpoint (any S3-compatible server). Empty: AWS for the region.
    #[arg(long, env = "PASTEBIN_S3_ENDPOINT", default_value = "")]
    pub s3_endpoint: String,

    #[arg(long, env = "PASTEBIN_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,

    #[arg(long, env = "PASTEBIN_S3_BUCKET", default_value = "pastebin")]
    pub s3_bucket: String,

    /// Empty access and secret keys: the AWS credential chain (environment, IRSA, instance).
    #[arg(
        long,
        env = "PASTEBIN_S3_ACCESS_KEY",
        hide_env_values = true,
        default_value = ""
    )]
    pub s3_access_key: String,

    #[arg(
        long,
        env = "PASTEBIN_S3_SECRET_KEY",
        hide_env_values = true,
        default_value = ""
    )]
    pub s3_secret_key: String,

    /// Prefix of every object key (`{prefix}pastes/{id}`).
    #[arg(long, env = "PASTEBIN_S3_PREFIX", default_value = "")]
    pub s3_prefix: String,

    /// Bound on one object-store request, in ms.
    #[arg(long, env = "PASTEBIN_S3_TIMEOUT_MS", default_value_t = 10000)]
    pub s3_timeout_ms: u64,

    /// Bodies up to this many bytes (compressed) are stored in Postgres; larger ones in S3.
    /// 0 sends every body to S3.
    #[arg(long, env = "PASTEBIN_INLINE_MAX", default_value_t = 64 * 1024)]
    pub inline_max: usize,

    /// Largest accepted paste, in bytes of UTF-8 text.
    #[arg(long, env = "PASTEBIN_MAX_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_bytes: usize,

    /// Weight limit of the in-process cache, in bytes.
    #[arg(long, env = "PASTEBIN_CACHE_BYTES", default_value_t = 25 * 1024 * 1024)]
    pub cache_bytes: u64,

    /// Lifetime of an entry in the shared (Redis) cache, in seconds.
    #[arg(long, env = "PASTEBIN_CACHE_TTL_SECS", default_value_t = 3600)]
    pub cache_ttl_secs: u64,

    /// Shortest and longest expiry a client may ask for, in seconds.
    #[arg(long, env = "PASTEBIN_MIN_EXPIRY_SECS", default_value_t = 60)]
    pub min_expiry_secs: i64,

    #[arg(long, env = "PASTEBIN_MAX_EXPIRY_SECS", default_value_t = 366 * 24 * 3600)]
    pub max_expiry_secs: i64,

    /// Whether a paste may never expire.
    #[arg(long, env = "PASTEBIN_ALLOW_NEVER_EXPIRE", default_value_t = true, action = clap::ArgAction::Set)]
    pub allow_never_expire: bool,

    /// Whether anonymous users may create (public and unlisted) pastes.
    #[arg(long, env = "PASTEBIN_ALLOW_ANONYMOUS", default_value_t = true, action = clap::ArgAction::Set)]
    pub allow_anonymous: bool,

    /// Operator switch: refuse every write, idle the workers, make `migrate` a no-op.
    #[arg(long, env = "PASTEBIN_READ_ONLY", default_value_t = false, action = clap::ArgAction::Set)]
    pub read_only: bool,

    /// HMAC secret for HS256 tokens. Development generates a random one per process when
    /// empty; production refuses to start without one of at least 32 bytes.
    #[arg(
        long,
        env = "PASTEBIN_JWT_SECRET",
        hide_env_values = true,
        default_value = ""
    )]
    pub jwt_secret: String,

    #[arg(long, env = "PASTEBIN_JWT_ISSUER", default_value = "pastebin")]
    pub jwt_issuer: String,

    #[arg(long, env = "PASTEBIN_JWT_AUDIENCE", default_value = "pastebin")]
    pub jwt_audience: String,

    /// Lifetime of the tokens `register` and `login` issue, in seconds.
    #[arg(long, env = "PASTEBIN_JWT_TTL_SECS", default_value_t = 7 * 24 * 3600)]
    pub jwt_ttl_secs: i64,

    /// PEM public key (RS256 or EdDSA) of an external identity provider.
    #[arg(long, env = "PASTEBIN_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,

    /// JWKS file of an external identity provider (keys selected by `kid`).
    #[arg(long, env = "PASTEBIN_JWKS_FILE")]
    pub jwks_file: Option<PathBuf>,

    /// Creates allowed per client IP (and per user) per minute.
    #[arg(long, env = "PASTEBIN_RATE_CREATE_PER_MIN", default_value_t = 60)]
    pub rate_create_per_min: u32,

    /// Logins and registrations allowed per client IP per minute.
    #[arg(long, env = "PASTEBIN_RATE_AUTH_PER_MIN", default_value_t = 20)]
    pub rate_auth_per_min: u32,

    /// Reads allowed per client IP per minute.
    #[arg(long, env = "PASTEBIN_RATE_READ_PER_MIN", default_value_t = 6000)]
    pub rate_read_per_min: u32,

    /// Header holding the client IP when behind a trusted proxy (e.g. `X-Forwarded-For`).
    /// Empty: the TCP peer address.
    #[arg(long, env = "PASTEBIN_TRUSTED_PROXY_HEADER", default_value = "")]
    pub trusted_proxy_header: String,

    /// Serve GraphiQL on `GET /graphql`.
    #[arg(long, env = "PASTEBIN_GRAPHIQL", default_value_t = true, action = clap::ArgAction::Set)]
    pub graphiql: bool,

    /// Answer GraphQL introspection (and field suggestions in errors).
    #[arg(long, env = "PASTEBIN_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,

    /// Origins allowed by CORS, comma-separated. Empty: none (same-origin only).
    #[arg(long, env = "PASTEBIN_CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,

    /// Built web app served at `/`.
    #[arg(long, env = "PASTEBIN_WEB_DIR", default_value = "web/dist")]
    pub web_dir: PathBuf,

    /// How often in-process view counts are flushed to Redis, in ms.
    #[arg(long, env = "PASTEBIN_VIEW_FLUSH_MS", default_value_t = 25)]
    pub view_flush_ms: u64,

    /// Cron schedule (with seconds) of the expiry sweep.
    #[arg(long, env = "PASTEBIN_EXPIRY_SCHEDULE", default_value = "0 * * * * *")]
    pub expiry_schedule: String,

    /// Pastes deleted per statement by the expiry sweep.
    #[arg(long, env = "PASTEBIN_EXPIRY_BATCH", default_value_t = 500)]
    pub expiry_batch: i64,

    /// Cron schedule (with seconds) of the analytics hand-off.
    #[arg(
        long,
        env = "PASTEBIN_ANALYTICS_SCHEDULE",
        default_value = "*/10 * * * * *"
    )]
    pub analytics_schedule: String,

    /// Cron schedule (with seconds) of the orphan-object sweep.
    #[arg(long, env = "PASTEBIN_ORPHAN_SCHEDULE", default_value = "0 17 * * * *")]
    pub orphan_schedule: String,

    /// Objects younger than this are never swept as orphans, in seconds.
    #[arg(long, env = "PASTEBIN_ORPHAN_GRACE_SECS", default_value_t = 3600)]
    pub orphan_grace_secs: i64,

    /// Log filter (tracing `EnvFilter` syntax).
    #[arg(long, env = "PASTEBIN_LOG", default_value = "info")]
    pub log: String,

    #[arg(long, env = "PASTEBIN_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

impl Config {
    pub fn db_connect_timeout(&self) -> Duration {
        Duration::from_millis(self.db_connect_timeout_ms)
    }

    pub fn db_statement_timeout(&self) -> Duration {
        Duration::from_millis(self.db_statement_timeout_ms)
    }

    pub fn s3_timeout(&self) -> Duration {
        Duration::from_millis(self.s3_timeout_ms)
    }

    /// The separate metrics listener, if configured.
    pub fn metrics_socket(&self) -> anyhow::Result<Option<SocketAddr>> {
        if self.metrics_addr.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.metrics_addr.parse().map_err(|e| {
            anyhow::anyhow!("PASTEBIN_METRICS_ADDR {:?}: {e}", self.metrics_addr)
        })?))
    }

    pub fn cors_origin_list(&self) -> Vec<String> {
        split_list(&self.cors_origins)
    }

    /// Public base URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// A config for tests and tools: every default, the given database URL.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        use clap::{CommandFactory, FromArgMatches, Parser};
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            config: Config,
        }
        // The defaults only: the environment is deliberately not read.
        let matches = Wrapper::command()
            .mut_args(|a| a.env(None::<&str>))
            .get_matches_from(["pastebin", "--database-url", "unset"]);
        let mut config = Wrapper::from_arg_matches(&matches)
            .expect("defaults parse")
            .config;
        config.database_url = database_url.into();
        config
    }

    /// Refuses settings that are unsafe for the chosen profile.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.min_expiry_secs <= 0 || self.max_expiry_secs < self.min_expiry_secs {
            anyhow::bail!("PASTEBIN_MIN_EXPIRY_SECS must be > 0 and <= PASTEBIN_MAX_EXPIRY_SECS");
        }
        self.metrics_socket()?;
        if self.max_bytes == 0 {
            anyhow::bail!("PASTEBIN_MAX_BYTES must be > 0");
        }
        if self.profile == Profile::Production && self.jwt_secret.len() < 32 {
            anyhow::bail!(
                "PASTEBIN_JWT_SECRET must be set to at least 32 bytes in the production profile"
            );
        }
        Ok(())
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documentation() {
        let c = Config::for_database("postgres://x");
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.inline_max, 65536);
        assert_eq!(c.max_bytes, 10 * 1024 * 1024);
        assert_eq!(c.cache_bytes, 25 * 1024 * 1024);
        assert!(c.allow_anonymous);
        assert!(!c.read_only);
        c.validate().unwrap();
    }

    #[test]
    fn production_needs_a_strong_secret() {
        let mut c = Config::for_database("postgres://x");
        c.profile = Profile::Production;
        assert!(c.validate().is_err());
        c.jwt_secret = "x".repeat(32);
        c.validate().unwrap();
    }
}
