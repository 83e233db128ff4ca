//! The HTTP server and the service as a whole.
//!
//! | variable | default |
//! |---|---|
//! | `PASTEBIN_ADDR` | `127.0.0.1:8080` |
//! | `PASTEBIN_METRICS_ADDR` | empty: `/metrics` on `PASTEBIN_ADDR` (development only) |
//! | `PASTEBIN_PUBLIC_URL` | `http://127.0.0.1:8080` |
//! | `PASTEBIN_PROFILE` | `development` |
//! | `PASTEBIN_READ_ONLY` | `false` |
//! | `PASTEBIN_TRUSTED_PROXY_HEADER` | empty: the TCP peer |
//! | `PASTEBIN_GRAPHIQL` | empty: on in development, off in production |
//! | `PASTEBIN_INTROSPECTION` | `true` |
//! | `PASTEBIN_CORS_ORIGINS` | empty |
//! | `PASTEBIN_WEB_DIR` | `web/dist` |
//! | `PASTEBIN_WS_KEEPALIVE_SECS` | `15` |
//! | `PASTEBIN_WS_RECHECK_SECS` | `60` |
//! | `PASTEBIN_WS_FANOUT` | `true` |
//! | `PASTEBIN_LOG` | `info` |
//! | `PASTEBIN_LOG_FORMAT` | `text` |

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Deployment profile. `production` refuses unsafe settings (a weak JWT secret, an object store
/// it cannot use) and turns off what only a developer wants: GraphiQL unless asked for, and
/// `/metrics` on the public listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    Development,
    Production,
}

/// A switch that may be left unset (empty), so that the profile decides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Switch(pub Option<bool>);

impl Switch {
    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "" => Ok(Self(None)),
            "true" => Ok(Self(Some(true))),
            "false" => Ok(Self(Some(false))),
            other => Err(format!("{other:?}: want true, false, or empty")),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, Args)]
pub struct ServerConfig {
    /// Address the HTTP server listens on.
    #[arg(long, env = "PASTEBIN_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Separate listener for `/metrics` (e.g. `0.0.0.0:9090`), so the public port does not
    /// expose them; the worker serves its metrics there too. Empty: `/metrics` on `PASTEBIN_ADDR`
    /// in development, nowhere in production (the public listener refuses it).
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

    /// Operator switch: refuse every write, idle the workers, make `migrate` a no-op.
    #[arg(long, env = "PASTEBIN_READ_ONLY", default_value_t = false, action = clap::ArgAction::Set)]
    pub read_only: bool,

    /// Header holding the client IP when behind a trusted proxy (e.g. `X-Forwarded-For`; the
    /// right-most entry is used). Empty: the TCP peer address.
    #[arg(long, env = "PASTEBIN_TRUSTED_PROXY_HEADER", default_value = "")]
    pub trusted_proxy_header: String,

    /// Serve GraphiQL on `GET /graphql`: `true`, `false`, or empty for the profile's choice
    /// (on in development, off in production, where only an explicit `true` turns it on).
    #[arg(long, env = "PASTEBIN_GRAPHIQL", default_value = "", value_parser = Switch::parse)]
    pub graphiql: Switch,

    /// Answer GraphQL introspection (and field suggestions in errors).
    #[arg(long, env = "PASTEBIN_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,

    /// Origins allowed by CORS, comma-separated. Empty: none (same-origin only).
    #[arg(long, env = "PASTEBIN_CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,

    /// Built web app served at `/`.
    #[arg(long, env = "PASTEBIN_WEB_DIR", default_value = "web/dist")]
    pub web_dir: PathBuf,

    /// How often the server pings each WebSocket (both subprotocols), in seconds: proxies that
    /// cut idle connections (ingress-nginx after 60 s by default) keep them.
    #[arg(long, env = "PASTEBIN_WS_KEEPALIVE_SECS", default_value_t = 15)]
    pub ws_keepalive_secs: u64,

    /// How often a signed-in WebSocket checks that its account still exists, in seconds (it
    /// is closed when the account is gone; at the token's expiry it is closed anyway).
    #[arg(long, env = "PASTEBIN_WS_RECHECK_SECS", default_value_t = 60)]
    pub ws_recheck_secs: u64,

    /// Serve subscriptions that many subscribers share (`pasteViews`) through the fan-out:
    /// each update serialised once for all of them. `false`: every subscription through
    /// async-graphql (to compare the two).
    #[arg(long, env = "PASTEBIN_WS_FANOUT", default_value_t = true, action = clap::ArgAction::Set)]
    pub ws_fanout: bool,

    /// Log filter (tracing `EnvFilter` syntax).
    #[arg(long, env = "PASTEBIN_LOG", default_value = "info")]
    pub log: String,

    #[arg(long, env = "PASTEBIN_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

impl ServerConfig {
    /// The separate metrics listener, if configured.
    pub fn metrics_socket(&self) -> anyhow::Result<Option<SocketAddr>> {
        if self.metrics_addr.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.metrics_addr.parse().map_err(|e| {
            anyhow::anyhow!("PASTEBIN_METRICS_ADDR {:?}: {e}", self.metrics_addr)
        })?))
    }

    /// Whether `GET /graphql` serves the playground: as set, else only in development.
    pub fn graphiql_enabled(&self) -> bool {
        self.graphiql
            .0
            .unwrap_or(self.profile == Profile::Development)
    }

    /// Whether the public listener serves `/metrics`: only in development, and only when no
    /// separate metrics listener is configured.
    pub fn metrics_on_public_listener(&self) -> bool {
        self.profile == Profile::Development && self.metrics_addr.is_empty()
    }

    pub fn cors_origin_list(&self) -> Vec<String> {
        super::split_list(&self.cors_origins)
    }

    /// Public base URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}
