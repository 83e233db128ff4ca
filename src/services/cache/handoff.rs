//! The hand-off batches: the Redis side of moving view counts into the analytics database.
//!
//! Views land in the hash `{p}analytics:pending` (field `{id}|{unix hour}`, see
//! [`super::live_counts`]). The analytics job moves them to the analytics database in three steps:
//!
//! 1. [`claim_batch`]: one script renames the pending hash to `{p}analytics:batch:{uuid}` and
//!    adds the uuid to the set `{p}analytics:batches`. New views start a fresh pending hash.
//! 2. The job writes the batch to the analytics database in one transaction that also records
//!    the batch id (`applied_batches`), so applying a batch twice adds it once.
//! 3. [`finish_batch`] deletes the batch hash and its set entry — in a later run, at least a
//!    minute after step 2, so a reader that saw the analytics database before step 2 still
//!    finds the batch in Redis (see [`unapplied_counts`]).
//!
//! A run that dies after 1 leaves the batch in the set: the next run applies it. A run that
//! dies after 2 leaves it too: the next run's apply is a no-op, then it is finished. Two
//! workers at once: each claim is atomic, and a batch both pick up is applied once.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use redis::Script;

use super::redis::{Redis, RedisUnavailable};

const CLAIM_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
";

/// Views of one paste in one hour, as counted in Redis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingViews {
    pub paste_id: String,
    pub hour: DateTime<Utc>,
    pub views: i64,
}

fn pending_key(redis: &Redis) -> String {
    redis.key("analytics:pending")
}

fn batch_key(redis: &Redis, batch_id: &str) -> String {
    redis.key(format_args!("analytics:batch:{batch_id}"))
}

fn batches_key(redis: &Redis) -> String {
    redis.key("analytics:batches")
}

/// Batches claimed earlier and not finished (their run died, or is still running).
pub async fn open_batches(redis: &Redis) -> Result<Vec<String>, RedisUnavailable> {
    let key = batches_key(redis);
    redis
        .run("analytics_batches", move |mut c| async move {
            redis::cmd("SMEMBERS")
                .arg(&key)
                .query_async::<Vec<String>>(&mut c)
                .await
        })
        .await
}

/// Step 1: turns the pending counts into a new batch. `None` when there is nothing pending.
pub async fn claim_batch(redis: &Redis) -> Result<Option<String>, RedisUnavailable> {
    let batch_id = uuid::Uuid::now_v7().to_string();
    let keys = [
        pending_key(redis),
        batch_key(redis, &batch_id),
        batches_key(redis),
    ];
    let id = batch_id.clone();
    let claimed = redis
        .run("analytics_claim", move |mut c| async move {
            Script::new(CLAIM_SCRIPT)
                .key(&keys[0])
                .key(&keys[1])
                .key(&keys[2])
                .arg(&id)
                .invoke_async::<i64>(&mut c)
                .await
        })
        .await?;
    Ok((claimed == 1).then_some(batch_id))
}

/// The counts of a batch.
pub async fn read_batch(
    redis: &Redis,
    batch_id: &str,
) -> Result<Vec<PendingViews>, RedisUnavailable> {
    let key = batch_key(redis, batch_id);
    let fields: HashMap<String, i64> = redis
        .run("analytics_read", move |mut c| async move {
            redis::cmd("HGETALL").arg(&key).query_async(&mut c).await
        })
        .await?;
    Ok(fields
        .into_iter()
        .filter_map(|(field, views)| parse_field(&field, views))
        .collect())
}

/// Step 3: forgets a batch that is in the analytics database.
pub async fn finish_batch(redis: &Redis, batch_id: &str) -> Result<(), RedisUnavailable> {
    let key = batch_key(redis, batch_id);
    let set = batches_key(redis);
    let id = batch_id.to_owned();
    redis
        .run("analytics_finish", move |mut c| async move {
            redis::pipe()
                .cmd("DEL")
                .arg(&key)
                .ignore()
                .cmd("SREM")
                .arg(&set)
                .arg(&id)
                .ignore()
                .query_async::<()>(&mut c)
                .await
        })
        .await
}

/// Reads, in one atomic step, one paste's pending counts and those of every open batch.
const UNAPPLIED_SCRIPT: &str = r"
local prefix = ARGV[1]
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
local out = { redis.call('HMGET', prefix .. 'analytics:pending', unpack(fields)) }
for _, b in ipairs(redis.call('SMEMBERS', prefix .. 'analytics:batches')) do
  out[#out + 1] = b
  out[#out + 1] = redis.call('HMGET', prefix .. 'analytics:batch:' .. b, unpack(fields))
end
return out
";

/// How long an applied batch stays in Redis before a run finishes it: longer than any reader's
/// time between its look at the analytics database and its look at Redis.
pub const FINISH_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Views of one paste per unix hour in `[from_hour, to_hour)` that are in Redis and not in the
/// analytics database as the caller saw it: the pending counts, and those of the open batches
/// not in `applied` (the batches applied in the caller's snapshot of that database, taken
/// BEFORE this call). Read atomically, so a batch claimed meanwhile is counted exactly once.
pub async fn unapplied_counts(
    redis: &Redis,
    paste_id: &str,
    from_hour: i64,
    to_hour: i64,
    applied: &std::collections::HashSet<String>,
) -> Result<HashMap<i64, i64>, RedisUnavailable> {
    let hours: Vec<i64> = (from_hour..to_hour).collect();
    if hours.is_empty() {
        return Ok(HashMap::new());
    }
    let fields: Vec<String> = hours.iter().map(|h| format!("{paste_id}|{h}")).collect();
    let prefix = redis.key("");
    let reply: Vec<redis::Value> = redis
        .run("analytics_unapplied", move |mut c| async move {
            let script = Script::new(UNAPPLIED_SCRIPT);
            let mut invocation = script.prepare_invoke();
            invocation.arg(prefix);
            for f in &fields {
                invocation.arg(f);
            }
            invocation.invoke_async(&mut c).await
        })
        .await?;
    let mut out = HashMap::new();
    let mut add = |counts: &redis::Value| {
        if let redis::Value::Array(counts) = counts {
            for (hour, v) in hours.iter().zip(counts) {
                if let Ok(Some(n)) = redis::from_redis_value::<Option<i64>>(v.clone()) {
                    *out.entry(*hour).or_insert(0) += n;
                }
            }
        }
    };
    let mut items = reply.iter();
    if let Some(pending) = items.next() {
        add(pending);
    }
    while let (Some(batch), Some(counts)) = (items.next(), items.next()) {
        let id: String = redis::from_redis_value(batch.clone()).unwrap_or_default();
        if !applied.contains(&id) {
            add(counts);
        }
    }
    Ok(out)
}

fn parse_field(field: &str, views: i64) -> Option<PendingViews> {
    let (paste_id, hour) = field.rsplit_once('|')?;
    let hour = Utc
        .timestamp_opt(hour.parse::<i64>().ok()? * 3600, 0)
        .single()?;
    Some(PendingViews {
        paste_id: paste_id.to_owned(),
        hour,
        views,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parse_back_to_paste_and_hour() {
        let p = parse_field("Ab3dE9xYz1|490000", 7).unwrap();
        assert_eq!(p.paste_id, "Ab3dE9xYz1");
        assert_eq!(p.hour.timestamp(), 490000 * 3600);
        assert_eq!(p.views, 7);
        assert!(parse_field("nohour", 1).is_none());
    }
}
