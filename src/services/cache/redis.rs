//! The Redis client every shared feature goes through: a bb8 pool of multiplexed
//! connections, key naming under one prefix, bounded waits, and a circuit breaker.
//!
//! A call holds its pooled connection only to clone its handle: the command then runs on the
//! shared multiplexed connection, so concurrent calls share a connection and its socket
//! writes and reads (held for the whole call, each connection carried one command at a time:
//! no multiplexing, eight calls in flight at most, and a ninth waited for a checkout).
//!
//! Redis is never allowed to fail a request: each call is bounded (250 ms to check a
//! connection out, 1 s for the call itself), and after a failure Redis is
//! skipped for one second so an outage costs one slow call per second, not one per request.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use bb8_redis::RedisConnectionManager;
use redis::aio::MultiplexedConnection;
use redis::{RedisError, RedisResult};

const CHECKOUT_TIMEOUT: Duration = Duration::from_millis(250);
const CALL_TIMEOUT: Duration = Duration::from_millis(1000);
const BREAKER_OPEN_MS: i64 = 1000;

/// A pooled connection that remembers whether it failed, so the pool drops it (when it is
/// next returned: calls outlive their checkout).
pub struct TrackedConnection {
    conn: MultiplexedConnection,
    broken: Arc<AtomicBool>,
}

/// bb8-redis's manager, plus discarding connections that saw a connection-level error
/// (bb8-redis alone never reports a connection as broken).
pub struct Manager(RedisConnectionManager);

impl bb8::ManageConnection for Manager {
    type Connection = TrackedConnection;
    type Error = RedisError;

    async fn connect(&self) -> Result<Self::Connection, Self::Error> {
        Ok(TrackedConnection {
            conn: self.0.connect().await?,
            broken: Arc::default(),
        })
    }

    async fn is_valid(&self, conn: &mut Self::Connection) -> Result<(), Self::Error> {
        self.0.is_valid(&mut conn.conn).await
    }

    fn has_broken(&self, conn: &mut Self::Connection) -> bool {
        conn.broken.load(Ordering::Relaxed)
    }
}

/// Why a Redis call gave no answer. Callers degrade (skip the cache, buffer a count); they
/// never turn this into a client error.
#[derive(Debug, thiserror::Error)]
pub enum RedisUnavailable {
    #[error("redis is not configured")]
    NotConfigured,
    #[error("redis is marked down")]
    BreakerOpen,
    #[error("no redis connection")]
    NoConnection,
    #[error("redis call timed out")]
    Timeout,
    #[error("redis error: {0}")]
    Command(#[from] RedisError),
}

struct Inner {
    client: redis::Client,
    pool: bb8::Pool<Manager>,
    prefix: String,
    started: Instant,
    /// Milliseconds since `started` until which calls are skipped.
    down_until_ms: AtomicI64,
}

/// Cheap to clone; `None` inside when Redis is not configured.
#[derive(Clone)]
pub struct Redis {
    inner: Option<Arc<Inner>>,
}

impl Redis {
    /// `rediss://` URLs use TLS, verified against `ca_file` (PEM) or the web PKI roots.
    pub fn new(url: &str, prefix: &str, ca_file: Option<&std::path::Path>) -> anyhow::Result<Self> {
        if url.is_empty() {
            return Ok(Self { inner: None });
        }
        let client = match ca_file {
            Some(path) => redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(std::fs::read(path)?),
                },
            )?,
            None => redis::Client::open(url)?,
        };
        let pool = bb8::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .retry_connection(false)
            // bb8 PINGs every connection it hands out unless told not to: a second round trip
            // for every command (a cold read paid four instead of two). A connection that
            // fails a command is marked broken and replaced (`TrackedConnection::broken`),
            // and the breaker covers a Redis that went away, so the PING bought nothing.
            .test_on_check_out(false)
            .build_unchecked(Manager(RedisConnectionManager::new(
                client.get_connection_info().clone(),
            )?));
        Ok(Self {
            inner: Some(Arc::new(Inner {
                client,
                pool,
                prefix: prefix.to_owned(),
                started: Instant::now(),
                down_until_ms: AtomicI64::new(0),
            })),
        })
    }

    /// A Redis that is not there (single-node mode, and unit tests).
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    pub fn is_configured(&self) -> bool {
        self.inner.is_some()
    }

    /// `{prefix}{name}`: every key and channel of this deployment.
    pub fn key(&self, name: impl std::fmt::Display) -> String {
        match &self.inner {
            Some(i) => format!("{}{name}", i.prefix),
            None => name.to_string(),
        }
    }

    /// Runs one call (a command, a pipeline, a script) on a pooled connection.
    pub async fn run<T, F, Fut>(&self, op: &'static str, f: F) -> Result<T, RedisUnavailable>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let inner = self.inner.as_ref().ok_or(RedisUnavailable::NotConfigured)?;
        let now_ms = inner.started.elapsed().as_millis() as i64;
        if now_ms < inner.down_until_ms.load(Ordering::Relaxed) {
            return Err(RedisUnavailable::BreakerOpen);
        }
        let result = inner.call(f).await;
        if let Err(e) = &result {
            let connection_level = match e {
                RedisUnavailable::Command(e) => is_connection_error(e),
                _ => true,
            };
            if connection_level {
                inner.down_until_ms.store(
                    inner.started.elapsed().as_millis() as i64 + BREAKER_OPEN_MS,
                    Ordering::Relaxed,
                );
            }
            metrics::counter!("pastebin_redis_errors_total", "op" => op).increment(1);
            tracing::warn!(op, error = %e, "redis call failed; continuing without it");
        }
        result
    }

    /// A self-reconnecting connection (the job queue's).
    pub async fn connection_manager(
        &self,
    ) -> Result<redis::aio::ConnectionManager, RedisUnavailable> {
        let inner = self.inner.as_ref().ok_or(RedisUnavailable::NotConfigured)?;
        Ok(inner.client.get_connection_manager().await?)
    }

    /// A dedicated connection for pub/sub (one per process).
    pub async fn pubsub(&self) -> Result<redis::aio::PubSub, RedisUnavailable> {
        let inner = self.inner.as_ref().ok_or(RedisUnavailable::NotConfigured)?;
        match tokio::time::timeout(CALL_TIMEOUT, inner.client.get_async_pubsub()).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(RedisUnavailable::Timeout),
        }
    }

    /// Whether Redis answers a PING now, on a pooled connection (health checks; ignores the
    /// breaker). Bounded like any call: checkout, then the call itself.
    pub async fn ping(&self) -> Option<bool> {
        let inner = self.inner.as_ref()?;
        let ping = inner
            .call(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await })
            .await;
        Some(ping.is_ok())
    }
}

impl Inner {
    /// One call on a pooled connection, bounded: the call owns a clone of the multiplexed
    /// connection's handle, and the pooled connection goes back at once for other calls to
    /// share. A connection-level failure marks the connection broken (the pool drops it).
    async fn call<T, F, Fut>(&self, f: F) -> Result<T, RedisUnavailable>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let pooled = self
            .pool
            .get()
            .await
            .map_err(|_| RedisUnavailable::NoConnection)?;
        let (conn, broken) = (pooled.conn.clone(), Arc::clone(&pooled.broken));
        drop(pooled);
        match tokio::time::timeout(CALL_TIMEOUT, f(conn)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if is_connection_error(&e) {
                    broken.store(true, Ordering::Relaxed);
                }
                Err(RedisUnavailable::Command(e))
            }
            Err(_) => {
                broken.store(true, Ordering::Relaxed);
                Err(RedisUnavailable::Timeout)
            }
        }
    }
}

fn is_connection_error(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_timeout()
        || e.is_unrecoverable_error()
        || e.is_connection_refusal()
}
