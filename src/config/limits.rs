//! What a paste may be, who may create one, and the rate budgets.
//!
//! | variable | default |
//! |---|---|
//! | `PASTEBIN_MAX_BYTES` | `10485760` |
//! | `PASTEBIN_MIN_EXPIRY_SECS` | `60` |
//! | `PASTEBIN_MAX_EXPIRY_SECS` | `31622400` |
//! | `PASTEBIN_ALLOW_NEVER_EXPIRE` | `true` |
//! | `PASTEBIN_ALLOW_ANONYMOUS` | `true` |
//! | `PASTEBIN_RATE_CREATE_PER_MIN` | `60` |
//! | `PASTEBIN_RATE_AUTH_PER_MIN` | `20` |
//! | `PASTEBIN_RATE_LOGIN_PER_USERNAME_PER_MIN` | `10` |
//! | `PASTEBIN_RATE_READ_PER_MIN` | `6000` |
//! | `PASTEBIN_RATE_REPORT_PER_MIN` | `5` |
//! | `PASTEBIN_WS_MAX_PER_CLIENT` | `256` |
//! | `PASTEBIN_WS_MAX_SUBSCRIPTIONS` | `25` |

use clap::Args;

#[derive(Clone, Debug, Args)]
pub struct LimitsConfig {
    /// Largest accepted paste, in bytes of UTF-8 text.
    #[arg(long, env = "PASTEBIN_MAX_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_bytes: usize,

    /// Shortest expiry a client may ask for, in seconds.
    #[arg(long, env = "PASTEBIN_MIN_EXPIRY_SECS", default_value_t = 60)]
    pub min_expiry_secs: i64,

    /// Longest expiry a client may ask for, in seconds.
    #[arg(long, env = "PASTEBIN_MAX_EXPIRY_SECS", default_value_t = 366 * 24 * 3600)]
    pub max_expiry_secs: i64,

    /// Whether a paste may never expire.
    #[arg(long, env = "PASTEBIN_ALLOW_NEVER_EXPIRE", default_value_t = true, action = clap::ArgAction::Set)]
    pub allow_never_expire: bool,

    /// Whether anonymous users may create (public and unlisted) pastes.
    #[arg(long, env = "PASTEBIN_ALLOW_ANONYMOUS", default_value_t = true, action = clap::ArgAction::Set)]
    pub allow_anonymous: bool,

    /// Creates and deletes allowed per client address (and per user) per minute.
    #[arg(long, env = "PASTEBIN_RATE_CREATE_PER_MIN", default_value_t = 60)]
    pub rate_create_per_min: u32,

    /// Logins and registrations allowed per client address per minute.
    #[arg(long, env = "PASTEBIN_RATE_AUTH_PER_MIN", default_value_t = 20)]
    pub rate_auth_per_min: u32,

    /// Sign-in attempts per username per minute from addresses that never signed in to that
    /// account, across all instances: guessing a password from many addresses is slowed, and
    /// the owner, from an address they signed in from before, is never locked out.
    #[arg(
        long,
        env = "PASTEBIN_RATE_LOGIN_PER_USERNAME_PER_MIN",
        default_value_t = 10
    )]
    pub rate_login_per_username_per_min: u32,

    /// Reads allowed per client address (and per user) per minute, per instance.
    #[arg(long, env = "PASTEBIN_RATE_READ_PER_MIN", default_value_t = 6000)]
    pub rate_read_per_min: u32,

    /// Paste reports allowed per client address (and per user) per minute, across instances.
    #[arg(long, env = "PASTEBIN_RATE_REPORT_PER_MIN", default_value_t = 5)]
    pub rate_report_per_min: u32,

    /// Open WebSocket connections per client address (IPv6: per /64), per instance. 0: no cap.
    #[arg(long, env = "PASTEBIN_WS_MAX_PER_CLIENT", default_value_t = 256)]
    pub ws_max_per_client: usize,

    /// Subscriptions running at once on one WebSocket connection.
    #[arg(long, env = "PASTEBIN_WS_MAX_SUBSCRIPTIONS", default_value_t = 25)]
    pub ws_max_subscriptions: usize,
}

impl LimitsConfig {
    /// The largest request body that can carry a paste of `max_bytes`: JSON escaping can double
    /// the text, and the rest of a GraphQL request fits in 64 KiB.
    pub fn max_request_bytes(&self) -> usize {
        self.max_bytes.saturating_mul(2).saturating_add(64 * 1024)
    }
}
