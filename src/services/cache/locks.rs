//! Once-only claims shared by every process: the first to ask gets it.

use super::redis::{Redis, RedisUnavailable};

/// Claims `name` for `ttl_secs`: `true` for exactly one caller across all processes.
pub async fn claim_once(
    redis: &Redis,
    name: &str,
    ttl_secs: u64,
) -> Result<bool, RedisUnavailable> {
    let key = redis.key(format_args!("once:{name}"));
    redis
        .run("claim_once", move |mut c| async move {
            redis::cmd("SET")
                .arg(&key)
                .arg(1)
                .arg("NX")
                .arg("EX")
                .arg(ttl_secs.max(1))
                .query_async::<Option<String>>(&mut c)
                .await
        })
        .await
        .map(|r| r.is_some())
}
