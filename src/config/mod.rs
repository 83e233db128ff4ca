//! Every setting of the service, typed and documented once, one file per area:
//! [`server`], [`database`], [`cache`], [`object_store`], [`auth`], [`limits`], [`jobs`]. Each
//! file opens with the list of its variables and their defaults.
//!
//! Each field is read from a `PASTEBIN_*` environment variable (or the matching `--flag`);
//! README.md and `.env.example` list them with the same defaults (a test compares all three
//! with the code). Tests build a `Config` directly instead of reading the environment.

pub mod auth;
pub mod cache;
pub mod database;
pub mod jobs;
pub mod limits;
pub mod object_store;
pub mod server;

use clap::Args;

pub use auth::AuthConfig;
pub use cache::CacheConfig;
pub use database::DatabaseConfig;
pub use jobs::JobsConfig;
pub use limits::LimitsConfig;
pub use object_store::ObjectStoreConfig;
pub use server::{LogFormat, Profile, ServerConfig, Switch};

/// Settings shared by every subcommand that touches the stores.
#[derive(Clone, Debug, Args)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerConfig,
    #[command(flatten)]
    pub database: DatabaseConfig,
    #[command(flatten)]
    pub cache: CacheConfig,
    #[command(flatten)]
    pub object_store: ObjectStoreConfig,
    #[command(flatten)]
    pub auth: AuthConfig,
    #[command(flatten)]
    pub limits: LimitsConfig,
    #[command(flatten)]
    pub jobs: JobsConfig,
}

impl Config {
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
        config.database.database_url = database_url.into();
        config
    }

    /// Refuses settings that are unsafe for the chosen profile.
    pub fn validate(&self) -> anyhow::Result<()> {
        let limits = &self.limits;
        if limits.min_expiry_secs <= 0 || limits.max_expiry_secs < limits.min_expiry_secs {
            anyhow::bail!("PASTEBIN_MIN_EXPIRY_SECS must be > 0 and <= PASTEBIN_MAX_EXPIRY_SECS");
        }
        self.server.metrics_socket()?;
        if limits.max_bytes == 0 {
            anyhow::bail!("PASTEBIN_MAX_BYTES must be > 0");
        }
        if self.server.profile == Profile::Production && self.auth.jwt_secret.len() < 32 {
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
        assert_eq!(c.server.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.object_store.inline_max, 65536);
        assert_eq!(c.limits.max_bytes, 10 * 1024 * 1024);
        assert_eq!(c.cache.cache_bytes, 25 * 1024 * 1024);
        assert!(c.limits.allow_anonymous);
        assert!(!c.server.read_only);
        c.validate().unwrap();
    }

    #[test]
    fn production_needs_a_strong_secret() {
        let mut c = Config::for_database("postgres://x");
        c.server.profile = Profile::Production;
        assert!(c.validate().is_err());
        c.auth.jwt_secret = "x".repeat(32);
        c.validate().unwrap();
    }

    #[test]
    fn production_turns_graphiql_and_public_metrics_off_unless_asked() {
        let mut c = Config::for_database("postgres://x");
        assert!(c.server.graphiql_enabled() && c.server.metrics_on_public_listener());
        assert!(!c.object_store.enabled(), "no bucket, no object store");
        c.server.profile = Profile::Production;
        assert!(!c.server.graphiql_enabled() && !c.server.metrics_on_public_listener());
        c.server.graphiql = Switch(Some(true));
        assert!(c.server.graphiql_enabled(), "asked for explicitly");
    }
}
