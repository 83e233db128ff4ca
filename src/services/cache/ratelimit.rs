//! Rate limits: GCRA (the generic cell rate algorithm) per budget and subject.
//!
//! A budget of N per minute lets a burst of N through, then one every 60/N s. `Retry-After` is
//! exact: when the next request would be allowed.
//!
//! - Creates and logins/registrations are shared across instances: the GCRA state lives in
//!   Redis and is updated by one Lua script using Redis' clock. If Redis cannot answer, the
//!   same limit is applied in process.
//! - Reads are limited in process only, by design: a Redis round trip per read would cost more
//!   than the read itself. With k instances behind a balancer, a client gets
//!   at most k × the read budget.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use redis::Script;
use uuid::Uuid;

use super::redis::Redis;
use crate::config::LimitsConfig;
use crate::error::AppError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Budget {
    Create,
    Auth,
    /// Sign-in attempts per username, from addresses not known for that account.
    Username,
    Read,
    /// Paste reports.
    Report,
}

impl Budget {
    fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Auth => "auth",
            Self::Username => "username",
            Self::Read => "read",
            Self::Report => "report",
        }
    }
}

/// Who a budget is counted against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    Ip(IpAddr),
    User(Uuid),
    /// A username tried at sign-in (a digest of its lower-case form: known or not).
    Username([u8; 16]),
}

impl Subject {
    pub fn username(name: &str) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(name.to_lowercase().as_bytes());
        let mut short = [0u8; 16];
        short.copy_from_slice(&digest[..16]);
        Self::Username(short)
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "ip:{ip}"),
            Self::User(id) => write!(f, "user:{id}"),
            Self::Username(digest) => write!(f, "name:{}", hex::encode(digest)),
        }
    }
}

const GCRA_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if now < allow_at then
  return allow_at - now
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now))
return 0
";

#[derive(Clone, Copy)]
struct Rate {
    /// Milliseconds between requests at the sustained rate.
    interval_ms: i64,
    /// How far ahead of now the theoretical arrival time may run (the burst).
    tolerance_ms: i64,
}

impl Rate {
    fn per_minute(n: u32) -> Option<Self> {
        (n > 0).then(|| {
            let interval_ms = (60_000 / i64::from(n)).max(1);
            Self {
                interval_ms,
                tolerance_ms: interval_ms * i64::from(n),
            }
        })
    }
}

#[derive(Clone)]
pub struct RateLimiter {
    redis: Redis,
    script: Arc<Script>,
    create: Option<Rate>,
    auth: Option<Rate>,
    username: Option<Rate>,
    read: Option<Rate>,
    report: Option<Rate>,
    local: Arc<LocalCells>,
    started: Instant,
}

impl RateLimiter {
    /// A budget of 0 per minute turns that limit off.
    pub fn new(redis: Redis, limits: &LimitsConfig) -> Self {
        Self {
            redis,
            script: Arc::new(Script::new(GCRA_SCRIPT)),
            create: Rate::per_minute(limits.rate_create_per_min),
            auth: Rate::per_minute(limits.rate_auth_per_min),
            username: Rate::per_minute(limits.rate_login_per_username_per_min),
            read: Rate::per_minute(limits.rate_read_per_min),
            report: Rate::per_minute(limits.rate_report_per_min),
            local: Arc::new(LocalCells::new()),
            started: Instant::now(),
        }
    }

    fn rate(&self, budget: Budget) -> Option<Rate> {
        match budget {
            Budget::Create => self.create,
            Budget::Auth => self.auth,
            Budget::Username => self.username,
            Budget::Read => self.read,
            Budget::Report => self.report,
        }
    }

    /// Takes `n` requests from the budget of every subject, or says when to retry.
    pub async fn check(
        &self,
        budget: Budget,
        subjects: &[Subject],
        n: u32,
    ) -> Result<(), AppError> {
        let Some(rate) = self.rate(budget) else {
            return Ok(());
        };
        let mut wait_ms = 0i64;
        for &subject in subjects {
            let wait = if budget == Budget::Read {
                self.check_local(budget, subject, rate, n)
            } else {
                self.check_shared(budget, subject, rate, n).await
            };
            wait_ms = wait_ms.max(wait);
        }
        if wait_ms > 0 {
            metrics::counter!("pastebin_rate_limited_total", "budget" => budget.name())
                .increment(1);
            return Err(AppError::RateLimited {
                retry_after: (wait_ms as u64).div_ceil(1000).max(1),
            });
        }
        Ok(())
    }

    async fn check_shared(&self, budget: Budget, subject: Subject, rate: Rate, n: u32) -> i64 {
        let key = self
            .redis
            .key(format_args!("rl:{}:{subject}", budget.name()));
        let script = Arc::clone(&self.script);
        let result = self
            .redis
            .run("rate_limit", move |mut c| async move {
                script
                    .key(&key)
                    .arg(rate.interval_ms * i64::from(n))
                    .arg(rate.tolerance_ms)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await;
        match result {
            Ok(wait) => wait,
            Err(_) => self.check_local(budget, subject, rate, n),
        }
    }

    /// In-process GCRA.
    fn check_local(&self, budget: Budget, subject: Subject, rate: Rate, n: u32) -> i64 {
        let now = self.started.elapsed().as_millis() as i64;
        self.local.take(budget, subject, rate, n, now)
    }
}

/// The in-process GCRA state: theoretical arrival times in 16 mutex-guarded shards (the read
/// budget is checked on every read; this costs a hash and an uncontended lock). A full shard
/// makes room by dropping the cells with the most budget left ([`make_room`]), never all of
/// them.
struct LocalCells {
    shards: Vec<Mutex<HashMap<(Budget, Subject), i64>>>,
}

const SHARDS: usize = 16;
const CELLS_PER_SHARD: usize = 8192;

impl LocalCells {
    fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    /// Takes `n` requests; returns 0, or the milliseconds until they would be allowed.
    fn take(&self, budget: Budget, subject: Subject, rate: Rate, n: u32, now: i64) -> i64 {
        let key = (budget, subject);
        let mut cells = self.shards[shard_of(&key)]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let tat = cells.get(&key).copied().unwrap_or(now).max(now);
        let new_tat = tat + rate.interval_ms * i64::from(n);
        let allow_at = new_tat - rate.tolerance_ms;
        if now < allow_at {
            return allow_at - now;
        }
        if cells.len() >= CELLS_PER_SHARD && !cells.contains_key(&key) {
            make_room(&mut cells, now);
        }
        cells.insert(key, new_tat);
        0
    }
}

/// Frees an eighth of a full shard: cells whose time has passed first (they are the same as no
/// cell), then those closest to it. The cells dropped are the budgets with the most left, so
/// flooding a shard with new clients cannot reset the budget of a client that has spent its
/// own: its cell is the last to go.
fn make_room(cells: &mut HashMap<(Budget, Subject), i64>, now: i64) {
    cells.retain(|_, t| *t > now);
    let excess = cells.len() + CELLS_PER_SHARD / 8;
    if excess <= CELLS_PER_SHARD {
        return;
    }
    let drop_n = excess - CELLS_PER_SHARD;
    let mut tats: Vec<i64> = cells.values().copied().collect();
    let (_, cutoff, _) = tats.select_nth_unstable(drop_n - 1);
    let cutoff = *cutoff;
    let mut dropped = 0;
    cells.retain(|_, t| {
        if *t <= cutoff && dropped < drop_n {
            dropped += 1;
            false
        } else {
            true
        }
    });
}

fn shard_of(key: &(Budget, Subject)) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() as usize) % SHARDS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_of_n_then_refusal_with_retry_after() {
        let mut config = crate::config::Config::for_database("postgres://x");
        config.limits.rate_create_per_min = 3;
        let limiter = RateLimiter::new(Redis::disabled(), &config.limits);
        let who = [Subject::Ip("127.0.0.1".parse().unwrap())];
        for _ in 0..3 {
            limiter.check(Budget::Create, &who, 1).await.unwrap();
        }
        match limiter.check(Budget::Create, &who, 1).await {
            Err(AppError::RateLimited { retry_after }) => assert!((1..=20).contains(&retry_after)),
            other => panic!("expected a refusal, got {other:?}"),
        }
        let other = [Subject::Ip("127.0.0.2".parse().unwrap())];
        limiter.check(Budget::Create, &other, 1).await.unwrap();
    }

    #[test]
    fn flooding_a_shard_does_not_reset_a_spent_budget() {
        let cells = LocalCells::new();
        let rate = Rate::per_minute(10).unwrap();
        let ip = |i: u32| Subject::Ip(std::net::IpAddr::from(i.to_be_bytes()));
        let victim = ip(7);
        let shard = shard_of(&(Budget::Read, victim));
        for _ in 0..10 {
            assert_eq!(cells.take(Budget::Read, victim, rate, 1, 0), 0);
        }
        assert!(cells.take(Budget::Read, victim, rate, 1, 0) > 0, "spent");
        // Twice a shard's worth of new clients, all in the victim's shard.
        let mut flooded = 0;
        for i in 1000.. {
            if shard_of(&(Budget::Read, ip(i))) == shard {
                assert_eq!(cells.take(Budget::Read, ip(i), rate, 1, 1), 0);
                flooded += 1;
                if flooded == 2 * CELLS_PER_SHARD {
                    break;
                }
            }
        }
        assert!(cells.shards[shard].lock().unwrap().len() <= CELLS_PER_SHARD);
        assert!(
            cells.take(Budget::Read, victim, rate, 1, 2) > 0,
            "the flood did not give the victim's budget back"
        );
    }

    #[test]
    fn local_cells_stay_bounded_and_expired_cells_go_first() {
        let cells = LocalCells::new();
        let rate = Rate::per_minute(60).unwrap();
        let ip = |i: u32| Subject::Ip(std::net::IpAddr::from(i.to_be_bytes()));
        for i in 0..(SHARDS * CELLS_PER_SHARD * 2) as u32 {
            assert_eq!(cells.take(Budget::Read, ip(i), rate, 1, 0), 0);
        }
        let held: usize = cells.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(held <= SHARDS * CELLS_PER_SHARD, "{held}");
        // Much later every cell has expired: room is made by dropping them.
        assert_eq!(
            cells.take(Budget::Read, ip(u32::MAX), rate, 1, 10_000_000),
            0
        );
    }
}
