//! Postgres: the main database (primary and replica) and the analytics database.
//!
//! | variable | default |
//! |---|---|
//! | `PASTEBIN_DATABASE_URL` | (required) |
//! | `PASTEBIN_REPLICA_DATABASE_URL` | empty: reads use the primary |
//! | `PASTEBIN_ANALYTICS_DATABASE_URL` | empty: no statistics |
//! | `PASTEBIN_DB_CA_FILE` | none: the public web PKI roots |
//! | `PASTEBIN_DB_POOL_SIZE` | `16` |
//! | `PASTEBIN_DB_CONNECT_TIMEOUT_MS` | `2000` |
//! | `PASTEBIN_DB_STATEMENT_TIMEOUT_MS` | `5000` |

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

#[derive(Clone, Debug, Args)]
pub struct DatabaseConfig {
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

    /// Analytics database (hourly view counts). Empty: statistics are unavailable.
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
}

impl DatabaseConfig {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.db_connect_timeout_ms)
    }

    pub fn statement_timeout(&self) -> Duration {
        Duration::from_millis(self.db_statement_timeout_ms)
    }
}
