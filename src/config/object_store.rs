//! The object store (S3 or any S3-compatible server) and which bodies go there.
//!
//! The object store is on exactly when `PASTEBIN_S3_BUCKET` is set; without it every body
//! stays in Postgres and no AWS credential source is ever looked at.
//!
//! | variable | default |
//! |---|---|
//! | `PASTEBIN_S3_ENDPOINT` | empty: AWS for the region |
//! | `PASTEBIN_S3_REGION` | `us-east-1` |
//! | `PASTEBIN_S3_BUCKET` | empty: no object store, bodies inline |
//! | `PASTEBIN_S3_ACCESS_KEY`, `PASTEBIN_S3_SECRET_KEY` | empty: the AWS credential chain |
//! | `PASTEBIN_S3_PREFIX` | empty |
//! | `PASTEBIN_S3_TIMEOUT_MS` | `10000` |
//! | `PASTEBIN_INLINE_MAX` | `65536` |

use std::time::Duration;

use clap::Args;

#[derive(Clone, Debug, Args)]
pub struct ObjectStoreConfig {
    /// S3 endpoint (any S3-compatible server). Empty: AWS for the region.
    #[arg(long, env = "PASTEBIN_S3_ENDPOINT", default_value = "")]
    pub s3_endpoint: String,

    /// AWS region of the bucket (without an endpoint it also picks the AWS endpoint).
    #[arg(long, env = "PASTEBIN_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,

    /// Bucket of the paste bodies. Empty: no object store (every body inline in Postgres).
    #[arg(long, env = "PASTEBIN_S3_BUCKET", default_value = "")]
    pub s3_bucket: String,

    /// Empty access and secret keys: the AWS credential chain (environment, shared credentials
    /// file, web identity / IRSA, container credentials; see `services::blob::credentials`).
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

    /// Prefix of every object key (`{prefix}pastes/{id}/{attempt}/{file}`).
    #[arg(long, env = "PASTEBIN_S3_PREFIX", default_value = "")]
    pub s3_prefix: String,

    /// Bound on one object-store request, in ms.
    #[arg(long, env = "PASTEBIN_S3_TIMEOUT_MS", default_value_t = 10000)]
    pub s3_timeout_ms: u64,

    /// Bodies of up to this many bytes of text (before compression) are stored in Postgres;
    /// larger ones in the object store. 0 sends every body to the object store.
    #[arg(long, env = "PASTEBIN_INLINE_MAX", default_value_t = 64 * 1024)]
    pub inline_max: usize,
}

impl ObjectStoreConfig {
    /// Whether the object store is on: a bucket is configured.
    pub fn enabled(&self) -> bool {
        !self.s3_bucket.is_empty()
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.s3_timeout_ms)
    }
}
