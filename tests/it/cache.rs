//! The two cache tiers across instances, and Redis outages.

use std::time::Duration;

use serde_json::json;

use crate::harness::{TestApp, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_paste_leaves_both_tiers_on_every_instance() {
    let a = TestApp::spawn().await;
    let b = TestApp::instance(&a.deployment, |_| {}).await;
    let (id, token) = a.create_paste("cached everywhere").await;
    // B reads it: now in B's in-process tier and in Redis.
    assert_eq!(b.read_paste(None, &id).await.unwrap(), "cached everywhere");
    assert!(
        b.app.stores().cache.get_local(&id).is_some(),
        "B caches it in process"
    );

    let r = a
        .gql(
            "mutation($id: ID!, $t: String) { deletePaste(id: $id, deleteToken: $t) }",
            json!({ "id": id, "t": token }),
        )
        .await;
    assert_eq!(r["data"]["deletePaste"], true, "{r}");

    // The invalidation reaches B through pub/sub.
    eventually(
        "B's in-process entry is dropped",
        Duration::from_secs(15),
        || async { b.app.stores().cache.get_local(&id).is_none() },
    )
    .await;
    assert!(
        b.app.stores().cache.get(&id).await.is_none(),
        "Redis holds a tombstone, not the paste"
    );
    assert_eq!(b.read_paste(None, &id).await, Err("NOT_FOUND".into()));
    assert_eq!(b.raw(&id).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_creates_work_with_redis_down() {
    let app = TestApp::spawn_with(|c| c.cache.redis_url = "redis://127.0.0.1:1/".into()).await;
    for i in 0..5 {
        let content = format!("no redis {i}");
        let (id, _) = app.create_paste(&content).await;
        assert_eq!(app.read_paste(None, &id).await.unwrap(), content);
        assert_eq!(app.raw(&id).await.text().await.unwrap(), content);
    }
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("pastebin_redis_errors_total"),
        "the outage shows in the metrics"
    );
    eventually(
        "readyz says Redis is down",
        Duration::from_secs(10),
        || async {
            let ready = app.readyz().await;
            ready["redis"] == "down" && ready["status"] == "degraded"
        },
    )
    .await;
}

/// Redis' per-command call counts (`INFO commandstats`), e.g. `"get" → 20`.
async fn command_calls(
    conn: &mut ::redis::aio::MultiplexedConnection,
) -> std::collections::HashMap<String, u64> {
    let info: String = ::redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .unwrap();
    info.lines()
        .filter_map(|l| l.strip_prefix("cmdstat_"))
        .filter_map(|l| {
            let (name, stats) = l.split_once(':')?;
            let calls = stats
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

/// A cold read costs Redis one GET (the shared tier) and one fill, and nothing else: bb8 used to
/// PING every connection it handed out, so each of those commands took two round trips
/// (issue 16 item 2: no Redis round trip the answer does not need).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_read_costs_redis_one_get_and_one_fill() {
    const READS: usize = 20;
    let redis = crate::cluster::PrivateRedis::start().await;
    let url = redis.url();
    let a = TestApp::spawn_with(|c| c.cache.redis_url = url.clone()).await;
    let b = TestApp::instance(&a.deployment, |c| c.cache.redis_url = url.clone()).await;
    let mut ids = Vec::new();
    for i in 0..READS {
        ids.push(a.create_paste(&format!("cold read {i}")).await.0);
    }
    let mut conn = redis.connect().await;
    let _: () = ::redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut conn)
        .await
        .unwrap();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            b.read_paste(None, id).await.unwrap(),
            format!("cold read {i}")
        );
    }
    let keys: Vec<String> = ids
        .iter()
        .map(|id| format!("{}paste:{id}", a.deployment.redis_prefix))
        .collect();
    eventually("every fill lands in Redis", Duration::from_secs(10), || {
        let (mut conn, keys) = (conn.clone(), keys.clone());
        async move {
            let n: usize = ::redis::cmd("EXISTS")
                .arg(&keys)
                .query_async(&mut conn)
                .await
                .unwrap();
            n == READS
        }
    })
    .await;
    let calls = command_calls(&mut conn).await;
    let of = |name: &str| calls.get(name).copied().unwrap_or(0) as usize;
    // The fill is a script that reads the key before it writes it (it never covers a
    // tombstone); Redis counts the commands a script runs with the others.
    assert!(of("evalsha") + of("eval") >= READS, "{calls:?}");
    assert_eq!(
        of("get"),
        2 * READS,
        "one GET per cold read and one in its fill: {calls:?}"
    );
    // The instances' health probes ping Redis once a second each; the reads took far less than
    // READS / 4 seconds, so this many PINGs would be per command.
    assert!(
        of("ping") < READS / 2,
        "PINGs come from the health probes only, not one per command: {calls:?}"
    );
}

/// Concurrent Redis calls share the pool's multiplexed connection instead of holding one
/// connection each for their whole call: 64 cold reads at once on an instance open no more
/// than a couple of connections (one call per connection used to open all 8 the pool allows,
/// and make a ninth call wait for a checkout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cold_reads_share_a_redis_connection() {
    const READS: usize = 64;
    let redis = crate::cluster::PrivateRedis::start().await;
    let url = redis.url();
    let a = TestApp::spawn_with(|c| {
        c.cache.redis_url = url.clone();
        c.limits.rate_create_per_min = 0;
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..READS {
        ids.push(a.create_paste(&format!("shared {i}")).await.0);
    }
    let mut conn = redis.connect().await;
    let clients = |mut conn: ::redis::aio::MultiplexedConnection| async move {
        let list: String = ::redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(&mut conn)
            .await
            .unwrap();
        list.lines().count()
    };
    let before = clients(conn.clone()).await;
    // A second instance, cold: every read goes to Redis (a GET, then a fill).
    let b = TestApp::instance(&a.deployment, |c| {
        c.cache.redis_url = url.clone();
        c.limits.rate_read_per_min = 0;
    })
    .await;
    let opened_by_b = clients(conn.clone()).await - before;
    let reads = ids.iter().enumerate().map(|(i, id)| {
        let b = &b;
        async move {
            assert_eq!(b.read_paste(None, id).await.unwrap(), format!("shared {i}"));
        }
    });
    futures_util::future::join_all(reads).await;
    let after = clients(conn.clone()).await;
    let _: () = ::redis::cmd("PING").query_async(&mut conn).await.unwrap();
    assert!(
        after - before <= opened_by_b + 2,
        "{READS} concurrent reads opened {} Redis connections",
        after - before - opened_by_b
    );
}

/// A view after a quiet spell reaches the subscribers on other instances at once, not at the
/// flusher's next tick; the views that follow it within the interval are held for its end and
/// flushed together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_after_a_quiet_interval_is_announced_at_once() {
    let a = TestApp::spawn().await;
    let b = TestApp::instance(&a.deployment, |c| c.cache.view_flush_ms = 60_000).await;
    let (id, _) = a.create_paste("watched from A, read on B").await;
    let mut sub = a.watch_views(None, &id).await;
    assert_eq!(sub.next_count(Duration::from_secs(5)).await, Some(0));
    assert_eq!(b.raw(&id).await.status(), 200);
    // B's interval is a minute: only a flush at once gets it here in time.
    assert_eq!(sub.next_count(Duration::from_secs(5)).await, Some(1));
    for _ in 0..3 {
        assert_eq!(b.raw(&id).await.status(), 200);
    }
    assert_eq!(
        sub.next(Duration::from_secs(2)).await,
        None,
        "views within the interval wait for its end"
    );
}

/// Views of many pastes flushed together reach the other instances in one pub/sub message per
/// flush, not one per paste (every instance receives every message), and each paste's
/// subscribers still see its own count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_of_many_pastes_are_announced_in_one_message_per_flush() {
    use futures_util::StreamExt;
    const PASTES: usize = 40;
    let redis = crate::cluster::PrivateRedis::start().await;
    let url = redis.url();
    let a = TestApp::spawn_with(|c| c.cache.redis_url = url.clone()).await;
    let b = TestApp::instance(&a.deployment, |c| {
        c.cache.redis_url = url.clone();
        c.cache.view_flush_ms = 1000;
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..PASTES {
        ids.push(a.create_paste(&format!("announced {i}")).await.0);
    }
    // Two subscribers on A, to the first and the last paste.
    let query = "subscription($id: ID!) { pasteViews(id: $id) }";
    let mut first = a.subscribe(None, query, json!({ "id": ids[0] })).await;
    let mut last = a
        .subscribe(None, query, json!({ "id": ids[PASTES - 1] }))
        .await;
    for sub in [&mut first, &mut last] {
        assert_eq!(
            sub.next(Duration::from_secs(5)).await,
            Some(crate::harness::Delivery::Data(json!({ "pasteViews": 0 })))
        );
    }
    let mut pubsub = redis.client().get_async_pubsub().await.unwrap();
    pubsub
        .subscribe(format!("{}views", a.deployment.redis_prefix))
        .await
        .unwrap();
    let mut messages = pubsub.on_message();

    for id in &ids {
        assert!(b.read_paste(None, id).await.is_ok());
    }
    let mut announced = std::collections::HashSet::new();
    let mut received = 0;
    while announced.len() < PASTES {
        let message = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .expect("every view is announced")
            .unwrap();
        received += 1;
        let payload: String = message.get_payload().unwrap();
        for line in payload.lines() {
            let (id, total) = line.split_once(' ').unwrap();
            assert_eq!(total, "1", "{line}");
            announced.insert(id.to_owned());
        }
    }
    // The reads took a few flush intervals at most.
    assert!(
        received <= 5,
        "{PASTES} pastes' views announced in {received} messages"
    );
    for sub in [&mut first, &mut last] {
        assert_eq!(
            sub.next(Duration::from_secs(5)).await,
            Some(crate::harness::Delivery::Data(json!({ "pasteViews": 1 })))
        );
    }
}

/// A cold read answers from the database without waiting for its Redis fill: the fill runs
/// behind the answer (issue 16 item 2). Redis here refuses writes for a while (`CLIENT PAUSE
/// WRITE`; reads go on), so a read that waited for its fill could not answer before the pause
/// ends, and its fill would time out unwritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_read_answers_before_its_redis_fill() {
    let redis = crate::cluster::PrivateRedis::start().await;
    let url = redis.url();
    let a = TestApp::spawn_with(|c| c.cache.redis_url = url.clone()).await;
    let b = TestApp::instance(&a.deployment, |c| c.cache.redis_url = url.clone()).await;
    let (id, _) = a.create_paste("filled behind the answer").await;
    let mut conn = redis.connect().await;
    let key = format!("{}paste:{id}", a.deployment.redis_prefix);

    // Writes (the fill's script among them) wait for 20 s; GETs are served.
    let _: () = ::redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(20_000)
        .arg("WRITE")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        b.read_paste(None, &id).await.unwrap(),
        "filled behind the answer"
    );
    let exists: bool = ::redis::cmd("EXISTS")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!exists, "the fill cannot have run while writes are paused");
    let _: () = ::redis::cmd("CLIENT")
        .arg("UNPAUSE")
        .query_async(&mut conn)
        .await
        .unwrap();
    // The fill that was waiting goes through once writes resume.
    eventually("the fill lands in Redis", Duration::from_secs(10), || {
        let mut conn = conn.clone();
        let key = key.clone();
        async move {
            ::redis::cmd("EXISTS")
                .arg(&key)
                .query_async::<bool>(&mut conn)
                .await
                .unwrap()
        }
    })
    .await;
}
