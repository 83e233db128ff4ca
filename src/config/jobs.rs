//! The job schedules (cron with seconds) and their batch sizes.
//!
//! | variable | default |
//! |---|---|
//! | `PASTEBIN_EXPIRY_SCHEDULE` | `0 * * * * *` |
//! | `PASTEBIN_EXPIRY_BATCH` | `500` |
//! | `PASTEBIN_ANALYTICS_SCHEDULE` | `*/10 * * * * *` |
//! | `PASTEBIN_ORPHAN_SCHEDULE` | `0 17 * * * *` |
//! | `PASTEBIN_ORPHAN_GRACE_SECS` | `3600` |

use clap::Args;

#[derive(Clone, Debug, Args)]
pub struct JobsConfig {
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
}
