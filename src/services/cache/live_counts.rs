//! The live view counts: counting views without a write on the read path.
//!
//! A read adds one to an in-process map (a mutex and a hash-map increment). A flusher moves
//! the map to Redis at most once every `PASTEBIN_VIEW_FLUSH_MS`: the first view after a quiet
//! interval is flushed at once (a live count shows without waiting for a tick), the views that
//! follow it within the interval together at its end. Each flush is one script call that, per
//! paste:
//! `INCRBY {p}views:{id}` (the live total) and `HINCRBY {p}analytics:pending {id}|{hour}` (what
//! the analytics job moves to the analytics database); then it announces the new totals to
//! live subscribers on every instance with `PUBLISH {p}views`, one message of `"{id} {total}"`
//! lines per 256 pastes (not one per paste: every instance receives every message, and with
//! views spread over many pastes a message per paste cost each instance a wake-up per view).
//! The script is atomic, so the counts and the announcements never disagree.
//!
//! Redis down: counts stay buffered in process (up to [`MAX_BUFFERED`] distinct paste-hours)
//! and are flushed when it returns; beyond that they are dropped and counted in
//! `pastebin_views_dropped_total`.
//!
//! Exactly once: every flush carries a batch id, and the script records it (`{p}flushed:{id}`,
//! kept a day) before applying anything. A flush whose reply was lost (a timeout while Redis
//! stalled) may or may not have been applied; its batch is kept as it was, with its id, and
//! sent again before anything new, so Redis applies it once whichever happened.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics::Counter;
use redis::Script;
use tokio_util::sync::CancellationToken;

use super::redis::Redis;

/// Distinct (paste, hour) pairs kept while Redis is unreachable.
pub const MAX_BUFFERED: usize = 100_000;

const FLUSH_SCRIPT: &str = r"
local prefix = ARGV[1]
-- A batch is applied once: a retry of a flush whose reply was lost finds its id and stops.
if not redis.call('SET', prefix .. 'flushed:' .. ARGV[2], 1, 'NX', 'EX', 86400) then
  return 0
end
local pending = prefix .. 'analytics:pending'
local lines = {}
for i = 3, #ARGV, 3 do
  local id = ARGV[i]
  local hour = ARGV[i + 1]
  local n = tonumber(ARGV[i + 2])
  local total = redis.call('INCRBY', prefix .. 'views:' .. id, n)
  redis.call('HINCRBY', pending, id .. '|' .. hour, n)
  lines[#lines + 1] = id .. ' ' .. total
  if #lines >= 256 then
    redis.call('PUBLISH', prefix .. 'views', table.concat(lines, '\n'))
    lines = {}
  end
end
if #lines > 0 then
  redis.call('PUBLISH', prefix .. 'views', table.concat(lines, '\n'))
end
return 1
";

/// Counts per unix hour, then per paste: a view of a paste already counted this hour is a
/// hash lookup by `&str`, with no allocation.
#[derive(Default)]
struct Pending {
    by_hour: HashMap<i64, HashMap<String, u64>>,
    /// Distinct (hour, paste) pairs held.
    len: usize,
}

impl Pending {
    /// Adds `n` views; `false` when the bound is reached and they were not kept.
    fn add(&mut self, id: &str, hour: i64, n: u64) -> bool {
        let ids = self.by_hour.entry(hour).or_default();
        if let Some(count) = ids.get_mut(id) {
            *count += n;
            return true;
        }
        if self.len >= MAX_BUFFERED {
            return false;
        }
        ids.insert(id.to_owned(), n);
        self.len += 1;
        true
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn iter(&self) -> impl Iterator<Item = (&str, i64, u64)> {
        self.by_hour
            .iter()
            .flat_map(|(hour, ids)| ids.iter().map(move |(id, n)| (id.as_str(), *hour, *n)))
    }

    fn of(&self, id: &str) -> impl Iterator<Item = (i64, u64)> {
        self.by_hour
            .iter()
            .filter_map(move |(hour, ids)| ids.get(id).map(|n| (*hour, *n)))
    }
}

pub struct LiveCounts {
    pending: Mutex<Pending>,
    /// A batch sent whose outcome is unknown: its id and counts, sent again as they are.
    in_doubt: Mutex<Option<(String, Pending)>>,
    /// Held by a flush from taking the counts until Redis has them (or they are back), and by
    /// readers that add Redis and in-process counts, so a view is never in neither or both.
    flush_lock: tokio::sync::Mutex<()>,
    /// Wakes an idle flusher: signalled by the view that finds nothing buffered.
    wake: tokio::sync::Notify,
    redis: Redis,
    script: Script,
    dropped: Counter,
    recorded: Counter,
}

impl LiveCounts {
    pub fn new(redis: Redis) -> Arc<Self> {
        Arc::new(Self {
            pending: Mutex::new(Pending::default()),
            in_doubt: Mutex::new(None),
            flush_lock: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
            redis,
            script: Script::new(FLUSH_SCRIPT),
            dropped: metrics::counter!("pastebin_views_dropped_total"),
            recorded: metrics::counter!("pastebin_views_total"),
        })
    }

    /// Counts one view. Cheap: no I/O.
    pub fn record(&self, id: &str) {
        self.recorded.increment(1);
        if !self.redis.is_configured() {
            return;
        }
        let hour = chrono::Utc::now().timestamp().div_euclid(3600);
        let (kept, first) = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let first = pending.is_empty();
            (pending.add(id, hour, 1), first)
        };
        if !kept {
            self.dropped.increment(1);
        }
        if first {
            self.wake.notify_one();
        }
    }

    /// Views counted here and not yet known to be in Redis.
    pub fn unflushed(&self, id: &str) -> u64 {
        self.unflushed_by_hour(id).iter().map(|(_, n)| n).sum()
    }

    /// Views of `id` counted here and not yet known to be in Redis, per unix hour.
    pub fn unflushed_by_hour(&self, id: &str) -> Vec<(i64, u64)> {
        let mut out: Vec<(i64, u64)> = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .of(id)
            .collect();
        if let Some((_, batch)) = &*self.in_doubt.lock().unwrap_or_else(|e| e.into_inner()) {
            out.extend(batch.of(id));
        }
        out
    }

    /// Moves the buffered counts to Redis: first a batch whose earlier flush had no answer (with
    /// its id, so it is applied once), then the new counts as a new batch. Returns whether
    /// nothing is left to send.
    pub async fn flush(&self) -> bool {
        let _flushing = self.flush_lock.lock().await;
        // At most the batch in doubt and one new batch: under load, new views wait for the next
        // tick instead of keeping this call going.
        for _ in 0..2 {
            let retry = self
                .in_doubt
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            let (batch_id, batch) = match retry {
                Some(doubtful) => doubtful,
                None => {
                    let batch = std::mem::take(
                        &mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()),
                    );
                    if batch.is_empty() {
                        return true;
                    }
                    (uuid::Uuid::now_v7().simple().to_string(), batch)
                }
            };
            if !self.send(batch_id, batch).await {
                return false;
            }
        }
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    /// Sends one batch; when its outcome is unknown, keeps it to be sent again as it is.
    async fn send(&self, batch_id: String, batch: Pending) -> bool {
        let mut invocation = self.script.prepare_invoke();
        invocation.arg(self.redis.key("")).arg(&batch_id);
        for (id, hour, n) in batch.iter() {
            invocation.arg(id).arg(hour).arg(n);
        }
        let result = self
            .redis
            .run("views_flush", move |mut c| async move {
                invocation.invoke_async::<i64>(&mut c).await
            })
            .await;
        if result.is_err() {
            // Sent or not, applied or not: only Redis knows. Send the same batch again.
            *self.in_doubt.lock().unwrap_or_else(|e| e.into_inner()) = Some((batch_id, batch));
            return false;
        }
        true
    }

    /// Flushes until shutdown, then once more: when a view arrives after a quiet `interval`, at
    /// once; then every `interval` for as long as there is something to send (new views, or a
    /// batch Redis has not taken yet).
    pub fn spawn_flusher(
        self: &Arc<Self>,
        interval: Duration,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            'idle: loop {
                tokio::select! {
                    _ = this.wake.notified() => {}
                    _ = shutdown.cancelled() => break 'idle,
                }
                loop {
                    this.flush().await;
                    tokio::select! {
                        _ = tokio::time::sleep(interval) => {}
                        _ = shutdown.cancelled() => break 'idle,
                    }
                    if this.nothing_to_send() {
                        break;
                    }
                }
            }
            this.flush().await;
        })
    }

    fn nothing_to_send(&self) -> bool {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
            && self
                .in_doubt
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_none()
    }

    /// Holds flushes back while a reader adds Redis counts to [`LiveCounts::unflushed`].
    pub async fn hold_flushes(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.flush_lock.lock().await
    }

    /// The live total: Redis plus what this process has not flushed yet.
    pub async fn total(&self, id: &str) -> u64 {
        let _consistent = self.hold_flushes().await;
        let key = self.redis.key(format_args!("views:{id}"));
        let stored: u64 = self
            .redis
            .run("views_get", move |mut c| async move {
                redis::cmd("GET")
                    .arg(&key)
                    .query_async::<Option<u64>>(&mut c)
                    .await
            })
            .await
            .ok()
            .flatten()
            .unwrap_or(0);
        stored + self.unflushed(id)
    }

    /// Forgets the live total of a deleted paste (its analytics history stays).
    pub async fn forget(&self, id: &str) {
        let key = self.redis.key(format_args!("views:{id}"));
        let _ = self
            .redis
            .run("views_forget", move |mut c| async move {
                redis::cmd("DEL").arg(&key).query_async::<()>(&mut c).await
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_counts_add_up_per_paste_and_hour_within_the_bound() {
        let mut p = Pending::default();
        assert!(p.add("a", 1, 1) && p.add("a", 1, 2) && p.add("a", 2, 1) && p.add("b", 1, 5));
        assert_eq!(p.len, 3);
        let mut of_a: Vec<_> = p.of("a").collect();
        of_a.sort();
        assert_eq!(of_a, vec![(1, 3), (2, 1)]);
        assert_eq!(p.iter().map(|(_, _, n)| n).sum::<u64>(), 9);
        p.len = MAX_BUFFERED;
        assert!(
            p.add("a", 1, 1),
            "an existing pair still counts at the bound"
        );
        assert!(!p.add("c", 1, 1), "a new pair does not");
    }
}
