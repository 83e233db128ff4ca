//! `/readyz` ("can serve reads") and `/readyz/write` ("can take writes") answer from state the
//! background probes keep, never from store I/O: fast whatever the stores do, truthful within a
//! probe interval or two. Failures are injected on private servers only.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use crate::cluster::{ChaosProxy, PgPair, socket_of};
use crate::harness::{Deployment, TestApp, env, eventually, with_database};

/// `host:port` of a Postgres URL (`postgres://u:p@host:port/db`).
fn pg_socket(url: &str) -> SocketAddr {
    let after_at = url.split('@').nth(1).unwrap();
    after_at
        .split(['/', ',', '?'])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The health pings made so far, over every store (`pastebin_health_pings_total`).
fn pings(page: &str) -> f64 {
    page.lines()
        .filter(|l| l.starts_with("pastebin_health_pings_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The ceiling this test allows one probe (the target, 300 ms, is measured by `make bench`).
const CEILING: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_answer_from_background_state_while_every_store_but_the_replica_is_held() {
    let pair = PgPair::start().await;
    pair.migrate().await;
    // The primary, the analytics database, Redis and S3 each behind a proxy that can hold
    // connections (accepted, never answered: a region cut); the replica stays reachable.
    let primary = ChaosProxy::start(SocketAddr::from(([127, 0, 0, 1], pair.ports[0]))).await;
    let analytics = ChaosProxy::start(pg_socket(&env("PASTEBIN_ANALYTICS_DATABASE_URL"))).await;
    let redis = ChaosProxy::start(socket_of(&env("PASTEBIN_REDIS_URL"))).await;
    let s3 = ChaosProxy::start(socket_of(&env("PASTEBIN_S3_ENDPOINT"))).await;
    let primary_url = format!(
        "postgres://pastebin:pastebin@{}/pastebin?target_session_attrs=read-write",
        primary.addr
    );
    let replica_url = format!(
        "postgres://pastebin:pastebin@127.0.0.1:{}/pastebin?target_session_attrs=read-only",
        pair.ports[1]
    );
    let deployment = Deployment::with_main_database(primary_url, replica_url).await;
    let analytics_url = with_database(
        &format!("postgres://pastebin:pastebin@{}/x", analytics.addr),
        &deployment.analytics_db,
    );
    let app = TestApp::instance(&deployment, |c| {
        c.database.analytics_database_url = analytics_url.clone();
        c.cache.redis_url = format!("redis://{}/", redis.addr);
        c.object_store.s3_endpoint = format!("http://{}", s3.addr);
        c.database.db_connect_timeout_ms = 1000;
    })
    .await;
    eventually(
        "every store up: ok, and writes taken",
        Duration::from_secs(20),
        || async {
            let (read, body) = app.probe("/readyz").await;
            let (write, _) = app.probe("/readyz/write").await;
            read == 200 && body["status"] == "ok" && write == 200
        },
    )
    .await;

    for proxy in [&primary, &analytics, &redis, &s3] {
        proxy.hold();
    }
    eventually(
        "every held store is down; reads still served from the replica",
        Duration::from_secs(30),
        || async {
            let (read, r) = app.probe("/readyz").await;
            let (write, _) = app.probe("/readyz/write").await;
            read == 200
                && r["status"] == "degraded"
                && r["replica"] == "up"
                && ["primary", "analytics", "redis", "s3"]
                    .iter()
                    .all(|c| r[*c] == "down")
                && write == 503
        },
    )
    .await;

    // Probes now: quick, and they add no ping (no store I/O) — only the background tasks ping,
    // at most once per second per store.
    let before = pings(&app.metrics().await);
    let started = Instant::now();
    for _ in 0..20 {
        for (path, want) in [("/readyz", 200), ("/readyz/write", 503)] {
            let t = Instant::now();
            let (status, body) = app.probe(path).await;
            assert!(t.elapsed() < CEILING, "{path} took {:?}", t.elapsed());
            assert_eq!(status, want, "{path}: {body}");
        }
    }
    let elapsed = started.elapsed();
    let added = pings(&app.metrics().await) - before;
    let background = 5.0 * (elapsed.as_secs_f64() + 2.0);
    assert!(
        added <= background,
        "40 probes made {added} pings in {elapsed:?}: more than the background's {background}"
    );
    assert!(
        elapsed < Duration::from_secs(10),
        "40 probes against held stores took {elapsed:?}"
    );

    // The primary answers again: writes are taken again, by the probes' own account.
    primary.restore();
    eventually(
        "/readyz/write is 200 once the primary answers",
        Duration::from_secs(20),
        || async { app.probe("/readyz/write").await.0 == 200 },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_ready_without_a_writable_primary_analytics_or_a_migrated_schema() {
    // Not migrated: the chart's CloudNativePG mode migrates only after the pods are Ready.
    let pair = PgPair::start().await;
    let bare = |c: &mut pastebin::config::Config| {
        c.database.analytics_database_url = String::new();
        c.cache.redis_url = String::new();
        c.object_store.s3_bucket = String::new();
        c.database.db_connect_timeout_ms = 1000;
    };
    // Region B before promotion: its write URL names only a standby.
    let standby = |attrs: &str| {
        format!(
            "postgres://pastebin:pastebin@127.0.0.1:{}/pastebin?target_session_attrs={attrs}",
            pair.ports[1]
        )
    };
    let region_b =
        Deployment::with_main_database(standby("read-write"), standby("read-only")).await;
    let b = TestApp::instance(&region_b, bare).await;
    eventually(
        "region B: reads ready, degraded; writes not",
        Duration::from_secs(20),
        || async {
            let (read, r) = b.probe("/readyz").await;
            let (write, w) = b.probe("/readyz/write").await;
            read == 200
                && r["status"] == "degraded"
                && r["primary"] == "down"
                && r["replica"] == "up"
                && r["analytics"] == "absent"
                && write == 503
                && w["status"] == "down"
        },
    )
    .await;

    // Region A on the same unmigrated servers: a writable primary.
    let region_a = Deployment::with_main_database(pair.primary_url(), pair.replica_url()).await;
    let a = TestApp::instance(&region_a, bare).await;
    eventually(
        "region A: ok, and writes taken",
        Duration::from_secs(20),
        || async {
            let (read, r) = a.probe("/readyz").await;
            read == 200 && r["status"] == "ok" && a.probe("/readyz/write").await.0 == 200
        },
    )
    .await;

    // The operator's read-only switch: the same primary, but no writes.
    let read_only = TestApp::instance(&region_a, |c| {
        bare(c);
        c.server.read_only = true;
    })
    .await;
    eventually(
        "read-only: reads ready, writes not",
        Duration::from_secs(20),
        || async {
            let (read, r) = read_only.probe("/readyz").await;
            read == 200
                && r["primary"] == "up"
                && r["status"] == "degraded"
                && read_only.probe("/readyz/write").await.0 == 503
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_accepts_and_never_answers_does_not_keep_a_pool_slot() {
    // Accepts, reads, never answers; counts the connections the client gave up on.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let abandoned = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&abandoned);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
                count.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    let mut config =
        pastebin::config::Config::for_database(format!("postgres://pastebin@{addr}/pastebin"));
    config.database.db_connect_timeout_ms = 500;
    config.database.db_pool_size = 2;
    let app = pastebin::App::build(config).await.unwrap();
    let db = &app.stores().db;
    eventually(
        "the unanswered handshakes are given up",
        Duration::from_secs(15),
        || async {
            let write = db
                .write(async |c| {
                    use diesel_async::SimpleAsyncConnection;
                    c.batch_execute("SELECT 1").await
                })
                .await;
            assert!(write.is_err(), "nothing answers");
            abandoned.load(Ordering::SeqCst) >= 2
        },
    )
    .await;
    app.shutdown().cancel();
}
