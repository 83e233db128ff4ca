//! Group commit: concurrent creates share a transaction, and each keeps its own outcome.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::harness::{TestApp, error_code, metric};

const CREATE: &str =
    "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } deleteToken } }";

fn id_of(r: &Value) -> Option<String> {
    r["data"]["createPaste"]["paste"]["id"]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_share_commits_and_one_key_makes_one_paste() {
    let app = TestApp::spawn_with(|c| c.limits.rate_create_per_min = 0).await;
    // 60 creates at once: 40 plain, and 10 keys each sent twice.
    let mut inputs: Vec<Value> = (0..40)
        .map(|i| json!({ "content": format!("plain {i}") }))
        .collect();
    for k in 0..10 {
        let key = format!("{k:032x}");
        for _ in 0..2 {
            inputs.push(json!({ "content": format!("keyed {k}"), "idempotencyKey": key }));
        }
    }
    let results = join_all(inputs.iter().map(|i| app.gql(CREATE, json!({ "i": i })))).await;
    for r in &results {
        assert!(r["errors"].is_null(), "{r}");
    }
    let ids: Vec<String> = results.iter().map(|r| id_of(r).unwrap()).collect();
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        50,
        "one paste per key, one per plain create"
    );
    // The two creates of a key got the same paste and the same delete token.
    for pair in results[40..].chunks(2) {
        assert_eq!(id_of(&pair[0]), id_of(&pair[1]));
        assert_eq!(
            pair[0]["data"]["createPaste"]["deleteToken"],
            pair[1]["data"]["createPaste"]["deleteToken"]
        );
    }
    // Every acknowledged paste reads back whole.
    for (input, id) in inputs.iter().zip(&ids) {
        assert_eq!(
            app.read_paste(None, id).await.unwrap(),
            input["content"].as_str().unwrap()
        );
    }
    // And they were committed in fewer transactions than inserts (a key's second create either
    // joined a batch or found the first one's paste and inserted nothing).
    let page = app.metrics().await;
    let batches = metric(&page, "pastebin_create_batch_size_count");
    let inserts = metric(&page, "pastebin_create_batch_size_sum");
    assert!((50.0..=60.0).contains(&inserts), "{inserts} inserts");
    assert!(batches < inserts, "{batches} batches for {inserts} inserts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_row_fails_alone() {
    let app = TestApp::spawn_with(|c| c.limits.rate_create_per_min = 0).await;
    // A rule only the database knows (as a constraint added by an operator would be).
    app.sql(
        "ALTER TABLE pastes ADD CONSTRAINT test_refuses_bad CHECK (title IS DISTINCT FROM 'bad')",
    )
    .await;
    let inputs: Vec<Value> = (0..30)
        .map(|i| {
            let title = if i == 7 { "bad" } else { "good" };
            json!({ "content": format!("row {i}"), "title": title })
        })
        .collect();
    let results = join_all(inputs.iter().map(|i| app.gql(CREATE, json!({ "i": i })))).await;
    for (i, r) in results.iter().enumerate() {
        if i == 7 {
            assert_eq!(error_code(r), Some("INTERNAL_SERVER_ERROR"), "{r}");
        } else {
            let id = id_of(r).unwrap_or_else(|| panic!("{i}: {r}"));
            assert_eq!(app.read_paste(None, &id).await.unwrap(), format!("row {i}"));
        }
    }
}
