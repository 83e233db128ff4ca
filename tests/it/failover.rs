//! Failures on real servers: the primary killed and its standby promoted, a commit in flight
//! when the primary dies, the replica killed, Redis and S3 cut off mid-load.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::cluster::{ChaosProxy, PgPair, socket_of};
use crate::harness::{Deployment, TestApp, env, error_code, eventually, metric};

const CREATE: &str = "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } } }";

/// Two instances ("region a" and "region b") on a fresh primary/standby pair.
async fn two_regions(
    pair: &PgPair,
    tweak: impl Fn(&mut pastebin::config::Config) + Copy,
) -> (TestApp, TestApp) {
    pair.migrate().await;
    let deployment = Deployment::with_main_database(pair.primary_url(), pair.replica_url()).await;
    let tweak = move |c: &mut pastebin::config::Config| {
        c.database.db_connect_timeout_ms = 1000;
        c.database.db_statement_timeout_ms = 2000;
        c.limits.rate_create_per_min = 0;
        c.limits.rate_read_per_min = 0;
        tweak(c);
    };
    let a = TestApp::instance(&deployment, tweak).await;
    let b = TestApp::instance(&deployment, tweak).await;
    (a, b)
}

#[derive(Default)]
struct Tally {
    reads: AtomicU64,
    read_failures: AtomicU64,
    writes_ok: AtomicU64,
    writes_refused: AtomicU64,
    other_write_errors: Mutex<Vec<Value>>,
    acknowledged: Mutex<Vec<(String, String)>>,
    first_write_after: Mutex<[Option<Instant>; 2]>,
}

/// Creates and reads on one instance until `stop`; every acknowledged paste is recorded.
async fn load(
    app: Arc<TestApp>,
    which: usize,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
    since: Arc<Mutex<Option<Instant>>>,
) {
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let content = format!("region {which} paste {n}");
        let r = app
            .gql(CREATE, json!({ "i": { "content": content } }))
            .await;
        if let Some(id) = r["data"]["createPaste"]["paste"]["id"].as_str() {
            tally.writes_ok.fetch_add(1, Ordering::Relaxed);
            tally
                .acknowledged
                .lock()
                .await
                .push((id.to_owned(), content));
            if since.lock().await.is_some() {
                let mut first = tally.first_write_after.lock().await;
                if first[which].is_none() {
                    first[which] = Some(Instant::now());
                }
            }
        } else if error_code(&r) == Some("SERVICE_UNAVAILABLE") {
            tally.writes_refused.fetch_add(1, Ordering::Relaxed);
        } else {
            tally.other_write_errors.lock().await.push(r);
        }
        // Read something acknowledged earlier (often created on the other instance).
        let pick = {
            let acked = tally.acknowledged.lock().await;
            (!acked.is_empty()).then(|| acked[(n as usize * 7919) % acked.len()].clone())
        };
        if let Some((id, content)) = pick {
            tally.reads.fetch_add(1, Ordering::Relaxed);
            if app.read_paste(None, &id).await.as_deref() != Ok(content.as_str()) {
                tally.read_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_killed_reads_never_fail_writes_resume_after_promotion_nothing_acknowledged_is_lost()
 {
    let pair = PgPair::start().await;
    // Without Redis the instances share nothing but Postgres: every cross-instance read is a
    // database read.
    let (a, b) = two_regions(&pair, |c| c.cache.redis_url = String::new()).await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let promoted_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let workers = [(Arc::clone(&a), 0), (Arc::clone(&b), 1)].map(|(app, which)| {
        tokio::spawn(load(
            app,
            which,
            Arc::clone(&tally),
            Arc::clone(&stop),
            Arc::clone(&promoted_at),
        ))
    });

    eventually(
        "writes work before the failure",
        Duration::from_secs(30),
        || async { tally.writes_ok.load(Ordering::Relaxed) > 10 },
    )
    .await;
    pair.kill(0);
    eventually(
        "writes are refused while there is no primary",
        Duration::from_secs(30),
        || async { tally.writes_refused.load(Ordering::Relaxed) > 5 },
    )
    .await;
    pair.promote(1);
    *promoted_at.lock().await = Some(Instant::now());
    let promoted = Instant::now();
    // Run on until both instances have written to the new primary, and a few more.
    eventually(
        "both instances write to the new primary",
        Duration::from_secs(30),
        || async {
            tally
                .first_write_after
                .lock()
                .await
                .iter()
                .all(Option::is_some)
        },
    )
    .await;
    let after_promotion = tally.writes_ok.load(Ordering::Relaxed);
    eventually(
        "writes go on after the promotion, and reads have been made throughout",
        Duration::from_secs(30),
        || async {
            tally.writes_ok.load(Ordering::Relaxed) > after_promotion + 10
                && tally.reads.load(Ordering::Relaxed) > 50
        },
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }

    assert_eq!(
        tally.read_failures.load(Ordering::Relaxed),
        0,
        "reads never failed"
    );
    assert!(tally.reads.load(Ordering::Relaxed) > 50);
    let others = tally.other_write_errors.lock().await;
    assert!(
        others.is_empty(),
        "writes failed only with SERVICE_UNAVAILABLE: {:?}",
        &others[..others.len().min(3)]
    );
    // Writes resumed within 10 s of the promotion on both instances.
    let first = tally.first_write_after.lock().await;
    for (which, t) in first.iter().enumerate() {
        let rto = t.expect("both instances wrote after the promotion") - promoted;
        assert!(
            rto < Duration::from_secs(10),
            "instance {which}: first write {rto:?} after the promotion"
        );
    }
    // Every acknowledged paste is there, on both instances.
    let acked = tally.acknowledged.lock().await.clone();
    let ids: BTreeSet<_> = acked.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids.len(), acked.len(), "no duplicates");
    for (id, content) in &acked {
        assert_eq!(
            a.read_paste(None, id).await.as_deref(),
            Ok(content.as_str()),
            "{id} after failover on a"
        );
        assert_eq!(
            b.read_paste(None, id).await.as_deref(),
            Ok(content.as_str()),
            "{id} after failover on b"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_resume_within_ten_seconds_of_the_promotion() {
    let pair = PgPair::start().await;
    let (a, b) = two_regions(&pair, |_| {}).await;
    assert!(a.gql(CREATE, json!({ "i": { "content": "before" } })).await["errors"].is_null());
    pair.kill(0);
    let started = Instant::now();
    let r = a.gql(CREATE, json!({ "i": { "content": "during" } })).await;
    assert_eq!(error_code(&r), Some("SERVICE_UNAVAILABLE"), "{r}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused within the bound: {:?}",
        started.elapsed()
    );
    // Readiness is background state: it follows within a probe interval or two.
    eventually(
        "readyz says degraded without a primary",
        Duration::from_secs(10),
        || async { a.readyz().await["status"] == "degraded" },
    )
    .await;
    pair.promote(1);
    let promoted = Instant::now();
    for app in [&a, &b] {
        eventually(
            "a write after the promotion",
            Duration::from_secs(10),
            || async {
                let r = app
                    .gql(CREATE, json!({ "i": { "content": "after" } }))
                    .await;
                r["errors"].is_null()
            },
        )
        .await;
    }
    assert!(promoted.elapsed() < Duration::from_secs(10));
    eventually(
        "readyz sees the new primary",
        Duration::from_secs(10),
        || async { b.readyz().await["primary"] == "up" },
    )
    .await;
    let metrics = a.metrics().await;
    assert!(metrics.contains("pastebin_db_write_refusals_total"));
    assert!(metrics.contains("pastebin_db_primary_last_seen_seconds"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_in_flight_when_the_primary_dies_is_either_kept_or_safely_retried() {
    let pair = PgPair::start().await;
    let (a, _b) = two_regions(&pair, |_| {}).await;
    let input =
        json!({ "content": "in flight", "idempotencyKey": "flight-key-0001-000000000000000000" });
    // The standby stops acknowledging: the next commit waits for it.
    pair.kill(1);
    let a = Arc::new(a);
    let pending = tokio::spawn({
        let a = Arc::clone(&a);
        let input = input.clone();
        async move { a.gql(CREATE, json!({ "i": input })).await }
    });
    // The commit waits for the standby that is gone.
    eventually(
        "the commit waits for the standby",
        Duration::from_secs(10),
        || async {
            pair.psql(
                0,
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'",
            ) == "1"
        },
    )
    .await;
    // The primary dies with the commit in flight; the standby (which never got it) takes over.
    pair.kill(0);
    let first = pending.await.unwrap();
    let first_id = first["data"]["createPaste"]["paste"]["id"]
        .as_str()
        .map(str::to_owned);
    if first_id.is_none() {
        assert_eq!(
            error_code(&first),
            Some("SERVICE_UNAVAILABLE"),
            "a retryable error: {first}"
        );
    }
    pair.start_node(1);
    pair.promote(1);
    let deadline = Instant::now() + Duration::from_secs(30);
    let retried = loop {
        let r = a.gql(CREATE, json!({ "i": input })).await;
        if r["errors"].is_null() {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "no successful retry 30 s after the promotion: {r}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let id = retried["data"]["createPaste"]["paste"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    if let Some(first_id) = first_id {
        assert_eq!(first_id, id, "an acknowledged paste survives the failover");
    }
    assert_eq!(a.read_paste(None, &id).await.unwrap(), "in flight");
    let again = a.gql(CREATE, json!({ "i": input })).await;
    assert_eq!(
        again["data"]["createPaste"]["paste"]["id"],
        id.as_str(),
        "the same key is the same paste"
    );
    let n = pair.psql_db(
        1,
        "pastebin",
        "SELECT count(*) FROM pastes WHERE idempotency_scope IS NOT NULL",
    );
    assert_eq!(n, "1", "exactly one paste for the key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_killed_reads_fall_back_to_the_primary_and_nothing_fails() {
    let pair = PgPair::start().await;
    let (a, _b) = two_regions(&pair, |c| c.cache.redis_url = String::new()).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (id, _) = a.create_paste(&format!("before {i}")).await;
        ids.push(id);
    }
    // The "preferred" policy: without its standby the primary goes on alone.
    pair.sync(0, false);
    pair.kill(1);
    let fresh = TestApp::instance(&a.deployment, |c| {
        c.cache.redis_url = String::new();
        c.database.db_connect_timeout_ms = 1000;
    })
    .await;
    let started = Instant::now();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            fresh.read_paste(None, id).await.unwrap(),
            format!("before {i}")
        );
    }
    for i in 0..5 {
        let (id, _) = fresh.create_paste(&format!("after {i}")).await;
        assert_eq!(
            fresh.read_paste(None, &id).await.unwrap(),
            format!("after {i}")
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "no read waits on the dead replica each time"
    );
    let metrics = fresh.metrics().await;
    assert!(metrics.contains("pastebin_db_replica_fallbacks_total"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cut_mid_load_fails_no_request_and_subscriptions_resume() {
    let redis = ChaosProxy::start(socket_of(&env("PASTEBIN_REDIS_URL"))).await;
    let url = format!("redis://{}/", redis.addr);
    let a = TestApp::spawn_with(|c| c.cache.redis_url = url.clone()).await;
    let (id, _) = a.create_paste("watched through an outage").await;
    let mut sub = a.watch_views(None, &id).await;
    assert_eq!(sub.next_count(Duration::from_secs(5)).await, Some(0));

    redis.cut();
    for i in 0..20 {
        let (new, _) = a.create_paste(&format!("during {i}")).await;
        assert_eq!(
            a.read_paste(None, &new).await.unwrap(),
            format!("during {i}")
        );
        assert_eq!(a.raw(&id).await.status(), 200);
    }
    redis.restore();
    // The listener comes back, the buffered views are flushed, the subscriber hears of them.
    let mut last = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while last < 20 && Instant::now() < deadline {
        if let Some(n) = sub.next_count(Duration::from_millis(500)).await {
            last = n;
        }
    }
    assert_eq!(
        last, 20,
        "the 20 views made during the outage arrive after it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_cut_large_creates_are_refused_without_a_row_and_small_and_cached_reads_go_on() {
    let s3 = ChaosProxy::start(socket_of(&env("PASTEBIN_S3_ENDPOINT"))).await;
    let endpoint = format!("http://{}", s3.addr);
    let a = TestApp::spawn_with(|c| {
        c.object_store.s3_endpoint = endpoint.clone();
        c.object_store.s3_timeout_ms = 2000;
    })
    .await;
    let large = "x".repeat(100 * 1024);
    let (cached, _) = a.create_paste(&large).await;
    assert_eq!(a.read_paste(None, &cached).await.unwrap(), large);

    s3.cut();
    let r = a
        .gql(CREATE, json!({ "i": { "content": format!("{large}y") } }))
        .await;
    assert_eq!(error_code(&r), Some("SERVICE_UNAVAILABLE"), "{r}");
    let rows = {
        a.app
            .stores()
            .db
            .read_primary(async |c| {
                use diesel_async::RunQueryDsl;
                #[derive(diesel::QueryableByName)]
                struct N {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                diesel::sql_query("SELECT count(*) AS n FROM pastes")
                    .get_result::<N>(c)
                    .await
                    .map(|n| n.n)
            })
            .await
            .unwrap()
    };
    assert_eq!(rows, 1, "no row for the refused create");
    let (small, _) = a.create_paste("small and inline").await;
    assert_eq!(
        a.read_paste(None, &small).await.unwrap(),
        "small and inline"
    );
    assert_eq!(
        a.read_paste(None, &cached).await.unwrap(),
        large,
        "the cached large paste is still served"
    );
    s3.restore();
    let (after, _) = a.create_paste(&large).await;
    assert_eq!(a.read_paste(None, &after).await.unwrap(), large);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_idles_the_workers() {
    let app = TestApp::spawn_with(|c| {
        c.server.read_only = true;
        c.jobs.expiry_schedule = "* * * * * *".into();
    })
    .await;
    let writer = TestApp::instance(&app.deployment, |_| {}).await;
    let (id, _) = writer.create_paste("expired, but nobody may sweep").await;
    writer
        .sql(&format!(
            "UPDATE pastes SET expires_at = now() - interval '1 minute' WHERE id = '{id}'"
        ))
        .await;
    writer
        .app
        .stores()
        .cache
        .invalidate(std::slice::from_ref(&id))
        .await;
    tokio::spawn(pastebin::jobs::run(
        Arc::clone(&app.app),
        app.app.shutdown().clone(),
    ));
    // The schedule fires (every second) and skips its job, twice.
    eventually(
        "the expiry schedule skips twice",
        Duration::from_secs(30),
        || async {
            let page = app.metrics().await;
            metric(
                &page,
                "pastebin_jobs_skipped_total{job=\"expire\",reason=\"read_only\"}",
            ) >= 2.0
        },
    )
    .await;
    let still: bool = app
        .app
        .stores()
        .db
        .read_primary(async |c| pastebin::services::db::pastes::exists(c, &id).await)
        .await
        .unwrap();
    assert!(still, "read-only workers leave the expired paste alone");
    assert_eq!(
        app.read_paste(None, &id).await,
        Err("NOT_FOUND".into()),
        "but nobody is served it"
    );
}
