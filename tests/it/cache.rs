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
