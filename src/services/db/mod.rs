//! Postgres: connection pools and the routing between primary and replica.
//!
//! Call sites name their intent and never see a pool:
//! - [`Db::write`] runs on the primary. The write pool only keeps connections to a server that
//!   is not in recovery (checked on every checkout), so after a promotion it finds the new
//!   primary by itself; while there is none, writes fail within the checkout timeout with
//!   `SERVICE_UNAVAILABLE`.
//! - [`Db::read`] runs on the replica (read-only sessions) and falls back to the primary when no
//!   replica connection can be had or the replica connection dies mid-query.
//! - [`Db::read_prefer_primary`] is for reads that must see the caller's own writes; it falls
//!   back to the replica when the primary is gone.
//!
//! Every operation is bounded by the statement timeout, server-side and client-side.

pub mod access_tokens;
mod batch_insert;
pub mod hourly_views;
pub mod invalidations;
pub mod models;
pub mod moderation;
pub mod pastes;
pub mod schema;
mod tls;
pub mod users;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use diesel::ConnectionResult;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolableConnection, RecyclingMethod,
};
use diesel_async::{
    AnsiTransactionManager, AsyncPgConnection, SimpleAsyncConnection, TransactionManager,
};
use futures_util::FutureExt;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::Config;

type Manager = AsyncDieselConnectionManager<AsyncPgConnection>;

/// How long reads go straight to the other server after one failed to answer.
const SKIP_AFTER_FAILURE_MS: i64 = 2000;
type Pool = bb8::Pool<Manager>;

/// An async closure over a connection that may be called more than once (reads retry on the
/// other server). Same trick as diesel-async's `AsyncFunc`: it names the future type so it
/// can be required to be `Send`.
pub trait DbFn<C, R>: AsyncFn(C) -> R + Fn(C) -> <Self as DbFn<C, R>>::Fut {
    type Fut: Future<Output = R>;
}

impl<F, C, Fut, R> DbFn<C, R> for F
where
    F: AsyncFn(C) -> R + Fn(C) -> Fut,
    Fut: Future<Output = R>,
{
    type Fut = Fut;
}

/// Which server a session is meant for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Primary,
    Replica,
    Analytics,
}

impl Role {
    fn label(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Replica => "replica",
            Self::Analytics => "analytics",
        }
    }
}

/// One bb8 pool of diesel-async connections, with the timeouts applied to everything run on it.
#[derive(Clone)]
pub struct PgPool {
    pool: Pool,
    role: Role,
    op_timeout: Duration,
    /// Unix ms of the last answer from the server (a query that completed, even with an
    /// error of its own): the evidence real traffic gives `/readyz`, and a metric. A checkout
    /// alone proves nothing (it does no I/O).
    last_answer: Arc<AtomicI64>,
    /// Unix ms until which reads skip this server after it failed to answer (a dead server
    /// would otherwise cost every read the whole checkout timeout before the fallback).
    skip_until: Arc<AtomicI64>,
    /// For cancel requests: the same TLS as the sessions (a server that requires TLS refuses
    /// a plain one).
    tls: MakeRustlsConnect,
}

impl PgPool {
    fn new(url: &str, role: Role, config: &Config, tls: &MakeRustlsConnect) -> Self {
        let config = &config.database;
        let url = with_connect_params(url, role, config.connect_timeout());
        let statement_timeout = config.db_statement_timeout_ms;
        let connect_timeout = config.connect_timeout();
        let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
        let setup_tls = tls.clone();
        manager_config.custom_setup = Box::new(move |url| {
            establish(
                url.to_owned(),
                role,
                statement_timeout,
                Some(connect_timeout),
                setup_tls.clone(),
            )
            .boxed()
        });
        // The driver does not re-check pooled connections, so every checkout from the write
        // pool checks that the session is still open, locally (no round trip). A running
        // primary cannot turn into a standby: demotion restarts the server, which closes every
        // session, so an open session of the write pool is a session with a primary (new ones
        // only reach a primary: target_session_attrs=read-write). Sessions that a partition
        // left half-open are found by TCP keepalives and the user timeout (see
        // `with_connect_params`) and by the operation timeout.
        manager_config.recycling_method = match role {
            Role::Primary => RecyclingMethod::CustomFunction(Box::new(|conn| {
                let broken = PoolableConnection::is_broken(conn);
                async move {
                    if broken {
                        Err(DieselError::DatabaseError(
                            DatabaseErrorKind::ClosedConnection,
                            Box::new("session closed".to_owned()),
                        ))
                    } else {
                        Ok(())
                    }
                }
                .boxed()
            })),
            Role::Replica | Role::Analytics => RecyclingMethod::Fast,
        };
        let manager = Manager::new_with_config(url, manager_config);
        let pool = bb8::Pool::builder()
            .max_size(config.db_pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(config.connect_timeout())
            .test_on_check_out(role == Role::Primary)
            .max_lifetime(Some(Duration::from_secs(30 * 60)))
            .idle_timeout(Some(Duration::from_secs(5 * 60)))
            .build_unchecked(manager);
        Self {
            pool,
            role,
            op_timeout: config.statement_timeout(),
            last_answer: Arc::new(AtomicI64::new(0)),
            skip_until: Arc::new(AtomicI64::new(0)),
            tls: tls.clone(),
        }
    }

    /// Checks a connection out and runs `f` on it, bounded by the operation timeout.
    async fn run<T, F>(&self, f: &F) -> Result<T, DbFailure>
    where
        F: for<'c> DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>> + Sync,
        for<'c> <F as DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>>>::Fut: Send,
    {
        let mut conn = match self.pool.get().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::debug!(role = self.role.label(), error = %e, "no database connection");
                return Err(DbFailure::NoConnection);
            }
        };
        let cancel = conn.cancel_token();
        match tokio::time::timeout(self.op_timeout, f(&mut conn)).await {
            Ok(Ok(v)) => {
                self.answered();
                Ok(v)
            }
            Ok(Err(e)) if is_connection_error(&e) => {
                tracing::warn!(role = self.role.label(), error = %e, "database connection lost");
                Err(DbFailure::ConnectionLost(e))
            }
            Ok(Err(e)) => {
                self.answered();
                Err(DbFailure::Query(e))
            }
            Err(_) => {
                // statement_timeout does not end a COMMIT waiting for a synchronous standby.
                // Ask the server to stop; the session is not reused either way, since it may
                // still be busy. A commit cut short like this stays committed on the primary:
                // its outcome is unknown to the caller.
                tracing::warn!(
                    role = self.role.label(),
                    "database operation timed out; cancelling it"
                );
                let cancelled = matches!(
                    tokio::time::timeout(
                        Duration::from_secs(1),
                        cancel.cancel_query(self.tls.clone()),
                    )
                    .await,
                    Ok(Ok(()))
                );
                AnsiTransactionManager::transaction_manager_status_mut(&mut *conn).set_in_error();
                Err(DbFailure::Timeout { cancelled })
            }
        }
    }

    /// For reads with a fallback: [`PgPool::run`], unless this server failed within the last
    /// [`SKIP_AFTER_FAILURE_MS`] (then `NoConnection` at once).
    async fn run_or_skip<T, F>(&self, f: &F) -> Result<T, DbFailure>
    where
        F: for<'c> DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>> + Sync,
        for<'c> <F as DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>>>::Fut: Send,
    {
        let now = chrono::Utc::now().timestamp_millis();
        if now < self.skip_until.load(Ordering::Relaxed) {
            return Err(DbFailure::NoConnection);
        }
        let result = self.run(f).await;
        if matches!(
            result,
            Err(DbFailure::NoConnection | DbFailure::ConnectionLost(_) | DbFailure::Timeout { .. })
        ) {
            self.skip_until
                .store(now + SKIP_AFTER_FAILURE_MS, Ordering::Relaxed);
        }
        result
    }

    fn state(&self) -> bb8::State {
        self.pool.state()
    }

    fn answered(&self) {
        self.last_answer
            .store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    /// One round trip on a pooled connection, checkout included, within `within` (health
    /// probes). A session that did not answer in time is not reused: it may be stuck behind a
    /// server that accepts and never answers.
    async fn probe(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        let Ok(Ok(mut conn)) = tokio::time::timeout_at(deadline, self.pool.get()).await else {
            return false;
        };
        match tokio::time::timeout_at(deadline, conn.batch_execute("SELECT 1")).await {
            Ok(Ok(())) => {
                self.answered();
                true
            }
            Ok(Err(_)) => false,
            Err(_) => {
                AnsiTransactionManager::transaction_manager_status_mut(&mut *conn).set_in_error();
                false
            }
        }
    }
}

/// Why a database operation did not produce a result.
#[derive(Debug)]
pub enum DbFailure {
    /// The operator's read-only switch is on.
    ReadOnlyMode,
    /// No connection could be checked out in time (server down, pool exhausted).
    NoConnection,
    /// The connection died during the operation: its outcome is unknown for writes.
    ConnectionLost(DieselError),
    /// The operation did not finish in time; `cancelled` when the server took the request to
    /// cancel it (the statement then ends; a COMMIT already waiting for a standby stays
    /// committed). When it did not, the operation may still run and commit later.
    Timeout { cancelled: bool },
    /// The query itself failed (constraint, not found, ...).
    Query(DieselError),
}

impl DbFailure {
    /// The same failure again, for each of the operations it ended (a batch's).
    pub fn duplicate(&self) -> Self {
        match self {
            Self::ReadOnlyMode => Self::ReadOnlyMode,
            Self::NoConnection => Self::NoConnection,
            Self::Timeout { cancelled } => Self::Timeout {
                cancelled: *cancelled,
            },
            Self::ConnectionLost(e) => Self::ConnectionLost(DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection,
                Box::new(e.to_string()),
            )),
            Self::Query(e) => Self::Query(DieselError::QueryBuilderError(e.to_string().into())),
        }
    }

    /// The query error, when the failure is the query's own (for `UniqueViolation` etc.).
    pub fn query_error(&self) -> Option<&DieselError> {
        match self {
            Self::Query(e) => Some(e),
            _ => None,
        }
    }
}

/// The main database: a primary, an optional replica, and the read-only operator switch.
#[derive(Clone)]
pub struct Db {
    primary: PgPool,
    replica: Option<PgPool>,
    read_only: bool,
}

impl Db {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let db = &config.database;
        let tls = tls::connector(db.db_ca_file.as_deref())?;
        let primary = PgPool::new(&db.database_url, Role::Primary, config, &tls);
        let replica = (!db.replica_database_url.is_empty())
            .then(|| PgPool::new(&db.replica_database_url, Role::Replica, config, &tls));
        Ok(Self {
            primary,
            replica,
            read_only: config.server.read_only,
        })
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// Runs `f` on the primary. Refused in read-only mode.
    pub async fn write<T, F>(&self, f: F) -> Result<T, DbFailure>
    where
        F: for<'c> DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>> + Sync,
        for<'c> <F as DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>>>::Fut: Send,
    {
        if self.read_only {
            metrics::counter!("pastebin_db_write_refusals_total", "reason" => "read_only")
                .increment(1);
            return Err(DbFailure::ReadOnlyMode);
        }
        let result = self.primary.run(&f).await;
        if matches!(
            result,
            Err(DbFailure::NoConnection | DbFailure::ConnectionLost(_))
        ) {
            metrics::counter!("pastebin_db_write_refusals_total", "reason" => "no_primary")
                .increment(1);
        }
        result
    }

    /// Runs `f` on the replica, or on the primary when the replica cannot answer.
    pub async fn read<T, F>(&self, f: F) -> Result<T, DbFailure>
    where
        F: for<'c> DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>> + Sync,
        for<'c> <F as DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>>>::Fut: Send,
    {
        let Some(replica) = &self.replica else {
            return self.primary.run(&f).await;
        };
        match replica.run_or_skip(&f).await {
            Err(
                DbFailure::NoConnection | DbFailure::ConnectionLost(_) | DbFailure::Timeout { .. },
            ) => {
                metrics::counter!("pastebin_db_replica_fallbacks_total").increment(1);
                self.primary.run(&f).await
            }
            other => other,
        }
    }

    /// Runs `f` on the primary (to see the caller's own writes), or on the replica when no
    /// primary can answer.
    pub async fn read_prefer_primary<T, F>(&self, f: F) -> Result<T, DbFailure>
    where
        F: for<'c> DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>> + Sync,
        for<'c> <F as DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>>>::Fut: Send,
    {
        let Some(replica) = &self.replica else {
            return self.primary.run(&f).await;
        };
        match self.primary.run_or_skip(&f).await {
            Err(
                DbFailure::NoConnection | DbFailure::ConnectionLost(_) | DbFailure::Timeout { .. },
            ) => {
                metrics::counter!("pastebin_db_primary_fallbacks_total").increment(1);
                replica.run(&f).await
            }
            other => other,
        }
    }

    /// Runs `f` on the primary only, even in read-only mode (reads; no fallback).
    pub async fn read_primary<T, F>(&self, f: F) -> Result<T, DbFailure>
    where
        F: for<'c> DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>> + Sync,
        for<'c> <F as DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>>>::Fut: Send,
    {
        self.primary.run(&f).await
    }

    /// Runs `f` on the replica only (`None` without one): to tell whether a write reached
    /// the synchronous standby.
    pub async fn read_replica<T, F>(&self, f: F) -> Option<Result<T, DbFailure>>
    where
        F: for<'c> DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>> + Sync,
        for<'c> <F as DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>>>::Fut: Send,
    {
        match &self.replica {
            Some(replica) => Some(replica.run(&f).await),
            None => None,
        }
    }

    /// Whether a writable primary answers a round trip within `within` (health probes).
    pub async fn probe_primary(&self, within: Duration) -> bool {
        self.primary.probe(within).await
    }

    /// Whether the replica answers within `within` (false without one).
    pub async fn probe_replica(&self, within: Duration) -> bool {
        match &self.replica {
            Some(r) => r.probe(within).await,
            None => false,
        }
    }

    /// Unix ms of the primary's last answer to real traffic or a probe (0: never).
    pub fn primary_last_answer_ms(&self) -> i64 {
        self.primary.last_answer.load(Ordering::Relaxed)
    }

    /// Unix ms of the replica's last answer (0: never, or no replica).
    pub fn replica_last_answer_ms(&self) -> i64 {
        self.replica
            .as_ref()
            .map_or(0, |r| r.last_answer.load(Ordering::Relaxed))
    }

    /// Seconds since the primary last answered (None: never).
    pub fn primary_last_seen_secs(&self) -> Option<f64> {
        let ms = self.primary_last_answer_ms();
        (ms > 0).then(|| (chrono::Utc::now().timestamp_millis() - ms) as f64 / 1000.0)
    }

    pub fn record_pool_metrics(&self) {
        for pool in std::iter::once(&self.primary).chain(self.replica.as_ref()) {
            let state = pool.state();
            let role = pool.role.label();
            metrics::gauge!("pastebin_db_pool_connections", "role" => role)
                .set(state.connections as f64);
            metrics::gauge!("pastebin_db_pool_idle_connections", "role" => role)
                .set(state.idle_connections as f64);
        }
        if let Some(s) = self.primary_last_seen_secs() {
            metrics::gauge!("pastebin_db_primary_last_seen_seconds").set(s);
        }
    }
}

/// The analytics database: one pool, no replica.
#[derive(Clone)]
pub struct AnalyticsDb {
    pool: PgPool,
}

impl AnalyticsDb {
    pub fn new(config: &Config) -> anyhow::Result<Option<Self>> {
        let db = &config.database;
        if db.analytics_database_url.is_empty() {
            return Ok(None);
        }
        let tls = tls::connector(db.db_ca_file.as_deref())?;
        let pool = PgPool::new(&db.analytics_database_url, Role::Analytics, config, &tls);
        Ok(Some(Self { pool }))
    }

    pub async fn run<T, F>(&self, f: F) -> Result<T, DbFailure>
    where
        F: for<'c> DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>> + Sync,
        for<'c> <F as DbFn<&'c mut AsyncPgConnection, Result<T, DieselError>>>::Fut: Send,
    {
        self.pool.run(&f).await
    }

    /// Whether the analytics database answers within `within` (health probes).
    pub async fn probe(&self, within: Duration) -> bool {
        self.pool.probe(within).await
    }
}

/// One session outside the pools (migrations and tools), TLS as for the pools.
pub async fn connect(
    url: &str,
    ca_file: Option<&std::path::Path>,
) -> anyhow::Result<AsyncPgConnection> {
    let tls = tls::connector(ca_file)?;
    Ok(establish(url.to_owned(), Role::Analytics, 0, None, tls).await?)
}

/// The primary's URL with the parameters the write pool uses (for migrations and tools).
pub fn primary_url(config: &Config) -> String {
    with_connect_params(
        &config.database.database_url,
        Role::Primary,
        config.database.connect_timeout(),
    )
}

/// Adds the connection parameters every session needs, unless the URL sets them already:
/// a connect timeout, and for the primary `target_session_attrs=read-write` (with several
/// hosts listed, only the one that accepts writes is used).
fn with_connect_params(url: &str, role: Role, connect_timeout: Duration) -> String {
    let mut url = url.to_owned();
    let mut add = |key: &str, value: &str| {
        if !url.contains(&format!("{key}=")) {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(key);
            url.push('=');
            url.push_str(value);
        }
    };
    add(
        "connect_timeout",
        &connect_timeout.as_secs().max(1).to_string(),
    );
    // A peer that vanished without closing (a partition, a host gone) is noticed within ~15 s
    // even on an idle session, and unacknowledged writes give up after 10 s.
    add("keepalives_idle", "5");
    add("keepalives_interval", "2");
    add("keepalives_retries", "3");
    add("tcp_user_timeout", "10");
    if role == Role::Primary {
        add("target_session_attrs", "read-write");
    }
    url
}

/// Opens one session (TLS as the URL's `sslmode` asks) and applies the per-role settings.
/// The replica's read-only flag is set after connecting, so `target_session_attrs=read-only`
/// in its URL still finds a standby.
///
/// `connect_timeout` bounds the whole handshake, not only the TCP connect the driver bounds: a
/// server that accepts and never answers (a region cut behind a proxy or load balancer) would
/// otherwise hold a pool slot until it answers, and once every slot is held the pool could
/// not reach a new primary. Each listed host gets the timeout, plus one for the handshake.
async fn establish(
    url: String,
    role: Role,
    statement_timeout_ms: u64,
    connect_timeout: Option<Duration>,
    tls: MakeRustlsConnect,
) -> ConnectionResult<AsyncPgConnection> {
    let config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| {
        diesel::ConnectionError::InvalidConnectionUrl(e.to_string())
    })?;
    let Some(t) = connect_timeout else {
        return open_session(config, role, statement_timeout_ms, tls).await;
    };
    let within = t * (config.get_hosts().len().max(1) as u32 + 1);
    tokio::time::timeout(
        within,
        open_session(config, role, statement_timeout_ms, tls),
    )
    .await
    .unwrap_or_else(|_| {
        Err(diesel::ConnectionError::BadConnection(format!(
            "no answer from the server within {within:?}"
        )))
    })
}

async fn open_session(
    config: tokio_postgres::Config,
    role: Role,
    statement_timeout_ms: u64,
    tls: MakeRustlsConnect,
) -> ConnectionResult<AsyncPgConnection> {
    let (client, connection) = config
        .connect(tls)
        .await
        .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
    let mut conn = AsyncPgConnection::try_from_client_and_connection(client, connection).await?;
    let mut setup = format!("SET statement_timeout = {statement_timeout_ms};");
    if role == Role::Replica {
        setup.push_str("SET default_transaction_read_only = on;");
    }
    conn.batch_execute(&setup)
        .await
        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

fn is_connection_error(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection,
            _,
        ) => true,
        // 57P01 admin_shutdown and friends: the server is going away.
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let m = info.message();
            m.contains("terminating connection") || m.contains("the database system is")
        }
        _ => false,
    }
}

pub fn is_timeout_error(e: &DieselError) -> bool {
    matches!(e, DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
        if info.message().contains("statement timeout"))
}

/// Whether a query error is a unique violation of the named constraint or index.
pub fn is_unique_violation(e: &DieselError, constraint: &str) -> bool {
    matches!(e, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
        if info.constraint_name() == Some(constraint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_urls_get_read_write_a_connect_timeout_and_keepalives() {
        let url = with_connect_params(
            "postgres://u@h1:1,h2:2/db",
            Role::Primary,
            Duration::from_secs(2),
        );
        assert!(
            url.starts_with("postgres://u@h1:1,h2:2/db?connect_timeout=2&"),
            "{url}"
        );
        for p in [
            "target_session_attrs=read-write",
            "keepalives_idle=5",
            "tcp_user_timeout=10",
        ] {
            assert!(url.contains(p), "{url}");
        }
        let url = with_connect_params(
            "postgres://u@h/db?target_session_attrs=read-only&connect_timeout=7",
            Role::Replica,
            Duration::from_millis(300),
        );
        assert!(
            url.starts_with("postgres://u@h/db?target_session_attrs=read-only&connect_timeout=7&")
        );
        assert_eq!(
            url.matches("connect_timeout=").count(),
            1,
            "what the URL sets stays"
        );
        assert!(!url.contains("read-write"));
    }
}
