//! Creating, reading, listing and deleting pastes through GraphQL and raw text.

use serde_json::json;

use crate::harness::{TestApp, error_code, eventually};

const FULL: &str = "query($id: ID!) { paste(id: $id) { id url rawUrl title language visibility content sizeBytes \
                    expiresAt burnAfterReading author viewerIsOwner } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inline_paste_round_trips_and_stays_out_of_the_bucket() {
    let app = TestApp::spawn().await;
    let content = "fn main() {\n    println!(\"héllo, wörld\");\n}\n";
    let (id, token) = app
        .create_paste_with(
            None,
            json!({ "content": content, "title": "hello", "language": "Rust", "expiresIn": 3600 }),
        )
        .await;
    assert!(
        id.len() >= 8 && id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "id {id}"
    );
    assert!(
        token.is_some_and(|t| t.len() >= 20),
        "anonymous creates get a delete token"
    );

    let r = app.gql(FULL, json!({ "id": id })).await;
    let p = &r["data"]["paste"];
    assert_eq!(p["content"], content);
    assert_eq!(p["title"], "hello");
    assert_eq!(p["language"], "rust");
    assert_eq!(p["visibility"], "UNLISTED");
    assert_eq!(p["sizeBytes"], content.len());
    assert_eq!(p["url"], format!("http://127.0.0.1:8080/p/{id}"));
    assert!(p["expiresAt"].is_string());
    assert_eq!(p["author"], serde_json::Value::Null);
    assert!(
        !app.app.stores().blobs.exists(&id).await.unwrap(),
        "a small body stays in Postgres"
    );

    let raw = app.raw(&id).await;
    assert_eq!(raw.status(), 200);
    assert_eq!(raw.text().await.unwrap(), content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_paste_goes_to_the_bucket_and_reads_back() {
    let app = TestApp::spawn().await;
    // Above the 64 KiB inline limit.
    let content: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    assert!(content.len() > 64 * 1024);
    let (id, _) = app.create_paste(&content).await;
    assert!(
        app.app.stores().blobs.exists(&id).await.unwrap(),
        "the body is an object in the bucket"
    );
    assert_eq!(app.read_paste(None, &id).await.unwrap(), content);
    assert_eq!(app.raw(&id).await.text().await.unwrap(), content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_max_zero_sends_every_body_to_the_bucket() {
    let app = TestApp::spawn_with(|c| c.object_store.inline_max = 0).await;
    let (id, _) = app.create_paste("tiny").await;
    assert!(app.app.stores().blobs.exists(&id).await.unwrap());
    // A second instance of the deployment (cold caches) reads it from the bucket.
    let other = TestApp::instance(&app.deployment, |c| c.object_store.inline_max = 0).await;
    assert_eq!(other.read_paste(None, &id).await.unwrap(), "tiny");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_text_has_safe_headers_and_revalidates_with_its_etag() {
    let app = TestApp::spawn().await;
    let (id, _) = app.create_paste("<script>alert(1)</script>").await;
    let r = app.raw(&id).await;
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    assert_eq!(
        h["content-disposition"],
        format!("inline; filename=\"{id}.txt\"")
    );
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.len() > 10);

    let again = app
        .http
        .get(app.url(&format!("/raw/{id}")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());

    assert_eq!(app.raw("NoSuchPaste1").await.status(), 404);
    assert_eq!(app.raw("..%2F..%2Fetc%2Fpasswd").await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_needs_the_right_token_and_then_the_paste_is_gone_everywhere() {
    let app = TestApp::spawn_with(|c| c.object_store.inline_max = 0).await;
    let (id, token) = app.create_paste("short-lived").await;
    let token = token.unwrap();
    assert_eq!(app.read_paste(None, &id).await.unwrap(), "short-lived");

    let delete = "mutation($id: ID!, $t: String) { deletePaste(id: $id, deleteToken: $t) }";
    let wrong = app
        .gql(delete, json!({ "id": id, "t": "not-the-token-at-all-000" }))
        .await;
    assert_eq!(error_code(&wrong), Some("FORBIDDEN"));
    let none = app.gql(delete, json!({ "id": id })).await;
    assert_eq!(error_code(&none), Some("FORBIDDEN"));
    assert_eq!(app.read_paste(None, &id).await.unwrap(), "short-lived");

    let ok = app.gql(delete, json!({ "id": id, "t": token })).await;
    assert_eq!(ok["data"]["deletePaste"], true, "{ok}");
    assert_eq!(app.read_paste(None, &id).await, Err("NOT_FOUND".into()));
    assert_eq!(app.raw(&id).await.status(), 404);
    assert!(
        !app.app.stores().blobs.exists(&id).await.unwrap(),
        "the object is removed with the row"
    );

    let again = app.gql(delete, json!({ "id": id, "t": token })).await;
    assert_eq!(error_code(&again), Some("NOT_FOUND"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_paste_is_never_served_even_before_any_sweep() {
    let app = TestApp::spawn_with(|c| c.limits.min_expiry_secs = 1).await;
    let (id, _) = app
        .create_paste_with(None, json!({ "content": "soon gone", "expiresIn": 1 }))
        .await;
    // Read once so it sits in both cache tiers.
    assert_eq!(app.read_paste(None, &id).await.unwrap(), "soon gone");
    assert_eq!(app.raw(&id).await.status(), 200);
    // No sweep runs (no workers here): the row and the cache entries all stay, and once its
    // second is over the paste is refused from them.
    eventually(
        "the expired paste is refused from the caches",
        std::time::Duration::from_secs(10),
        || async { app.raw(&id).await.status() == 404 },
    )
    .await;
    assert_eq!(app.read_paste(None, &id).await, Err("NOT_FOUND".into()));
    assert!(
        app.app.stores().cache.get(&id).await.is_some(),
        "still cached: refused by the check after the hit"
    );
    let fresh = TestApp::instance(&app.deployment, |_| {}).await;
    assert_eq!(fresh.read_paste(None, &id).await, Err("NOT_FOUND".into()));
    assert_eq!(fresh.raw(&id).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_pastes_lists_only_public_ones_newest_first_with_cursors() {
    let app = TestApp::spawn().await;
    let mut public = Vec::new();
    for i in 0..5 {
        let (id, _) = app
            .create_paste_with(
                None,
                json!({ "content": format!("p{i}"), "visibility": "PUBLIC" }),
            )
            .await;
        public.push(id);
    }
    app.create_paste_with(
        None,
        json!({ "content": "hidden", "visibility": "UNLISTED" }),
    )
    .await;
    let q = "query($a: String) { recentPastes(first: 2, after: $a) { pageInfo { hasNextPage endCursor } nodes { id } } }";
    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let r = app.gql(q, json!({ "a": after })).await;
        let page = &r["data"]["recentPastes"];
        seen.extend(
            page["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_owned()),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    public.reverse();
    assert_eq!(seen, public);
}
