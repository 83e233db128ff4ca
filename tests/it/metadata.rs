//! A metadata lookup never loads a body: ids, titles, counts, statistics and subscriptions
//! leave the body column and the object store alone; only a reader of the content pays for it.
//! Counted by the server's own metrics: `pastebin_db_body_reads_total` (every query that selects
//! the body) and `pastebin_object_store_requests_total{op="get"}`.

use std::time::Duration;

use serde_json::json;

use crate::harness::{TestApp, metric};

fn counter(page: &str, series: &str) -> u64 {
    metric(page, series) as u64
}

struct Loads {
    body_reads: u64,
    object_gets: u64,
}

async fn loads(app: &TestApp) -> Loads {
    let m = app.metrics().await;
    Loads {
        body_reads: counter(&m, "pastebin_db_body_reads_total"),
        object_gets: counter(&m, "pastebin_object_store_requests_total{op=\"get\"}"),
    }
}

async fn metadata_reads_load_no_body(inline_max: usize) {
    let maker = TestApp::spawn_with(|c| c.object_store.inline_max = inline_max).await;
    let (id, _) = maker
        .create_paste_with(
            None,
            json!({ "content": "a body nobody asks for\n".repeat(4000), "title": "t", "visibility": "PUBLIC" }),
        )
        .await;
    // Another instance: nothing of the paste in its in-process cache.
    let reader = TestApp::instance(&maker.deployment, |c| {
        c.object_store.inline_max = inline_max
    })
    .await;
    let before = loads(&reader).await;

    let r = reader
        .gql(
            "query($id: ID!) { paste(id: $id) { id title views sizeBytes fileCount revision latestRevision editedAt forkCount \
             files { name language sizeBytes rawUrl } revisions { nodes { number summary } } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(r["data"]["paste"]["title"], "t", "{r}");
    assert_eq!(r["data"]["paste"]["files"][0]["name"], "paste.txt", "{r}");
    let r = reader
        .gql(
            "query($id: ID!) { paste(id: $id, revision: 1) { title files { name } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        r["data"]["paste"]["title"], "t",
        "an earlier revision's metadata: {r}"
    );
    let now = chrono::Utc::now();
    let r = reader
        .gql(
            "query($id: ID!, $f: DateTime!, $t: DateTime!) { pasteStats(id: $id, from: $f, to: $t) { views } }",
            json!({ "id": id, "f": (now - chrono::Duration::hours(1)).to_rfc3339(), "t": now.to_rfc3339() }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let mut sub = reader.watch_views(None, &id).await;
    assert_eq!(sub.next_count(Duration::from_secs(10)).await, Some(0));
    let period = now.format("%Y-%m").to_string();
    let hits = reader
        .http
        .get(reader.url(&format!(
            "/api/v1/stats/hits?period={period}&shortlink={id}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(hits.status(), 200);

    let after = loads(&reader).await;
    assert_eq!(
        after.body_reads, before.body_reads,
        "a metadata lookup selected the body"
    );
    assert_eq!(
        after.object_gets, before.object_gets,
        "a metadata lookup fetched the object"
    );

    // The positive control: reading the content loads the body, once, in one query.
    let r = reader
        .gql(
            "query($id: ID!) { paste(id: $id) { title content } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        r["data"]["paste"]["content"]
            .as_str()
            .unwrap()
            .starts_with("a body"),
        "{r}"
    );
    let content = loads(&reader).await;
    assert_eq!(content.body_reads, after.body_reads + 1);
    let expected_gets = if inline_max == 0 { 1 } else { 0 };
    assert_eq!(content.object_gets, after.object_gets + expected_gets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_lookups_fetch_no_object_when_bodies_are_in_s3() {
    metadata_reads_load_no_body(0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_lookups_select_no_inline_body() {
    metadata_reads_load_no_body(1024 * 1024).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owners_read_of_a_guarded_paste_reads_its_row_once() {
    let maker = TestApp::spawn().await;
    let token = maker
        .register(&crate::harness::unique("owner"), "a good long password")
        .await;
    for guard in [
        json!({ "burnAfterReading": true }),
        json!({ "maxViews": 2 }),
    ] {
        let mut input = json!({ "content": "guarded" });
        input
            .as_object_mut()
            .unwrap()
            .extend(guard.as_object().unwrap().clone());
        let (id, _) = maker.create_paste_with(Some(&token), input).await;
        let reader = TestApp::instance(&maker.deployment, |_| {}).await;
        let before = loads(&reader).await;
        let r = reader
            .http
            .get(reader.url(&format!("/raw/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{guard}");
        assert_eq!(r.text().await.unwrap(), "guarded");
        let after = loads(&reader).await;
        assert_eq!(
            after.body_reads,
            before.body_reads + 1,
            "{guard}: one query"
        );
    }
}
