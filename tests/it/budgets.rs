//! Every door takes the same budget for the same operation (README "Limits"): the service
//! method charges, not the transport. Each test gives one instance a tiny budget, spends it
//! through one door, and expects the refusal at the same point on every door.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Delivery, TestApp, error_code};

const READS: u32 = 4;
const CREATES: u32 = 3;

fn tiny_budgets(c: &mut pastebin::config::Config) {
    c.limits.rate_read_per_min = READS;
    c.limits.rate_create_per_min = CREATES;
}

async fn app_with_budgets() -> TestApp {
    TestApp::spawn_with(tiny_budgets).await
}

/// Another instance of the same deployment: fresh in-process read budgets, the same pastes.
async fn next_door(app: &TestApp) -> TestApp {
    TestApp::instance(&app.deployment, tiny_budgets).await
}

/// A paste made on another instance of the same deployment, so making it costs nothing here.
async fn paste_made_elsewhere(app: &TestApp, input: Value) -> String {
    let maker = TestApp::instance(&app.deployment, |_| {}).await;
    maker.create_paste_with(None, input).await.0
}

/// Runs `attempt` (which answers whether it was refused) until it is refused; returns how many
/// went through (at most `READS + 2`).
async fn allowed_before_refusal<F, Fut>(mut attempt: F) -> u32
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for n in 0..READS + 2 {
        if attempt().await {
            return n;
        }
    }
    READS + 2
}

fn refused(r: &Value) -> bool {
    match error_code(r) {
        Some("RATE_LIMITED") => true,
        None => false,
        Some(other) => panic!("unexpected error {other}: {r}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paste_read_costs_one_read_on_every_door() {
    // GraphQL over HTTP, metadata only.
    let app = app_with_budgets().await;
    let id = paste_made_elsewhere(&app, json!({ "content": "door" })).await;
    let q = "query($id: ID!) { paste(id: $id) { id title } }";
    let n =
        allowed_before_refusal(|| async { refused(&app.gql(q, json!({ "id": id })).await) }).await;
    assert_eq!(n, READS, "GraphQL metadata");

    // GraphQL over HTTP, content.
    let app = next_door(&app).await;
    let q = "query($id: ID!) { paste(id: $id) { content } }";
    let n =
        allowed_before_refusal(|| async { refused(&app.gql(q, json!({ "id": id })).await) }).await;
    assert_eq!(n, READS, "GraphQL content");

    // Raw text.
    let app = next_door(&app).await;
    let n = allowed_before_refusal(|| async {
        match app.raw(&id).await.status().as_u16() {
            200 => false,
            429 => true,
            s => panic!("raw answered {s}"),
        }
    })
    .await;
    assert_eq!(n, READS, "raw");

    // The REST API, reads and hit counts alike.
    let app = next_door(&app).await;
    let period = chrono::Utc::now().format("%Y-%m").to_string();
    let mut i = 0;
    let n = allowed_before_refusal(|| {
        i += 1;
        let url = if i % 2 == 0 {
            app.url(&format!("/api/v1/paste?shortlink={id}"))
        } else {
            app.url(&format!(
                "/api/v1/stats/hits?period={period}&shortlink={id}"
            ))
        };
        let http = app.http.clone();
        async move {
            match http.get(url).send().await.unwrap().status().as_u16() {
                200 => false,
                429 => true,
                s => panic!("REST answered {s}"),
            }
        }
    })
    .await;
    assert_eq!(n, READS, "REST");

    // GraphQL over WebSocket: each subscribe is a read.
    let app = next_door(&app).await;
    let n = allowed_before_refusal(|| async {
        let mut sub = app.watch_views(None, &id).await;
        match sub.next(Duration::from_secs(10)).await {
            Some(Delivery::Data(_)) => false,
            Some(Delivery::Error(Some(code))) if code == "RATE_LIMITED" => true,
            other => panic!("subscription delivered {other:?}"),
        }
    })
    .await;
    assert_eq!(n, READS, "WebSocket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_and_aliases_cost_what_their_operations_cost() {
    let app = app_with_budgets().await;
    let id = paste_made_elsewhere(&app, json!({ "content": "door" })).await;
    // Six aliases of one field in one document: the fifth and sixth are refused.
    let aliases: String = (0..READS + 2)
        .map(|i| format!("p{i}: paste(id: \"{id}\") {{ id }} "))
        .collect();
    let r = app.gql(&format!("{{ {aliases} }}"), json!({})).await;
    let refused_aliases = r["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|e| e["extensions"]["code"] == "RATE_LIMITED")
                .count()
        })
        .unwrap_or(0);
    assert_eq!(refused_aliases, 2, "{r}");

    // A batch of operations on a fresh instance: the same.
    let app = next_door(&app).await;
    let op =
        json!({ "query": "query($id: ID!) { paste(id: $id) { id } }", "variables": { "id": id } });
    let batch: Vec<Value> = (0..READS + 2).map(|_| op.clone()).collect();
    let r = app.post_graphql(&Value::Array(batch)).await;
    let codes: Vec<Option<&str>> = r
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["errors"][0]["extensions"]["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        vec![
            None,
            None,
            None,
            None,
            Some("RATE_LIMITED"),
            Some("RATE_LIMITED")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_costs_one_read_plus_one_per_paste_whose_content_is_read() {
    let app = app_with_budgets().await;
    let maker = TestApp::instance(&app.deployment, |_| {}).await;
    for i in 0..2 {
        maker
            .create_paste_with(
                None,
                json!({ "content": format!("listed {i}"), "visibility": "PUBLIC" }),
            )
            .await;
    }
    // Without content: one read per page.
    let r = app
        .gql(
            "{ recentPastes(first: 2) { nodes { id title } } }",
            json!({}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    // With content: one for the page and one per paste (1 + 2): the budget of 4 is spent.
    let r = app
        .gql(
            "{ recentPastes(first: 2) { nodes { content } } }",
            json!({}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = app
        .gql("{ recentPastes(first: 2) { nodes { id } } }", json!({}))
        .await;
    assert_eq!(error_code(&r), Some("RATE_LIMITED"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_and_deletes_take_the_create_budget_on_every_door() {
    // GraphQL: creates and deletes together.
    let app = app_with_budgets().await;
    let (id, token) = app.create_paste("one").await;
    app.create_paste("two").await;
    let r = app
        .gql(
            "mutation($id: ID!, $t: String) { deletePaste(id: $id, deleteToken: $t) }",
            json!({ "id": id, "t": token }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = app
        .gql(
            "mutation { createPaste(input: {content: \"four\"}) { paste { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&r), Some("RATE_LIMITED"), "GraphQL: {r}");

    // POST / (the curl habit).
    let app = app_with_budgets().await;
    let mut statuses = Vec::new();
    for i in 0..CREATES + 1 {
        let r = app
            .http
            .post(app.url("/"))
            .body(format!("curl {i}"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, vec![201, 201, 201, 429], "POST /");

    // The REST API.
    let app = app_with_budgets().await;
    let mut statuses = Vec::new();
    for i in 0..CREATES + 1 {
        let r = app
            .http
            .post(app.url("/api/v1/paste"))
            .json(&json!({ "paste_contents": format!("rest {i}") }))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 200, 429], "REST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upload_is_refused_before_its_body_is_read() {
    let app = TestApp::spawn_with(|c| c.limits.rate_create_per_min = 1).await;
    app.create_paste("spends the budget").await;
    // A body that never ends: refused without waiting for it.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    tx.send(Ok(b"start of a large upload".to_vec()))
        .await
        .unwrap();
    let body = reqwest::Body::wrap_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        app.http.post(app.url("/")).body(body).send(),
    )
    .await
    .expect("refused without reading the whole body")
    .unwrap();
    assert_eq!(r.status(), 429);
    drop(tx);
}
