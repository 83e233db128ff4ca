//! The addresses an account signed in from (`{prefix}signins:{user}`, a set of client
//! address keys kept 30 days after the last sign-in): sign-ins from them skip the per-username
//! budget, so an attacker spending it cannot lock the owner out.

use uuid::Uuid;

use super::redis::Redis;

const KEEP_SECS: u64 = 30 * 24 * 3600;

fn key(redis: &Redis, user: Uuid) -> String {
    redis.key(format_args!("signins:{user}"))
}

/// Records a successful sign-in from `address`.
pub async fn remember(redis: &Redis, user: Uuid, address: &str) {
    let (key, address) = (key(redis, user), address.to_owned());
    let _ = redis
        .run("signins_remember", move |mut c| async move {
            redis::pipe()
                .cmd("SADD")
                .arg(&key)
                .arg(&address)
                .ignore()
                .cmd("EXPIRE")
                .arg(&key)
                .arg(KEEP_SECS)
                .ignore()
                .query_async::<()>(&mut c)
                .await
        })
        .await;
}

/// Whether the account signed in from `address` before. `false` when Redis cannot say.
pub async fn is_known(redis: &Redis, user: Uuid, address: &str) -> bool {
    let (key, address) = (key(redis, user), address.to_owned());
    redis
        .run("signins_known", move |mut c| async move {
            redis::cmd("SISMEMBER")
                .arg(&key)
                .arg(&address)
                .query_async::<bool>(&mut c)
                .await
        })
        .await
        .unwrap_or(false)
}
