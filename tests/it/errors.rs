//! Every error code of the fixed set, and what clients see with it.

use serde_json::json;

use crate::harness::{TestApp, error_code};

const CREATE: &str = "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_bad_user_input_with_the_rule_in_the_message() {
    let app = TestApp::spawn().await;
    let cases = [
        json!({ "content": "" }),
        json!({ "content": "x", "expiresIn": 5 }),
        json!({ "content": "x", "expiresIn": 999_999_999 }),
        json!({ "content": "x", "maxViews": 0 }),
        json!({ "content": "x", "language": "not a language!" }),
        json!({ "content": "x", "title": "t".repeat(201) }),
        json!({ "content": "x", "idempotencyKey": "no spaces allowed" }),
    ];
    for input in cases {
        let r = app.gql(CREATE, json!({ "i": input })).await;
        assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "{input} → {r}");
        assert!(!r["errors"][0]["message"].as_str().unwrap().is_empty());
    }
    // Errors async-graphql raises itself carry a code too.
    for query in [
        "{ paste(id: ",
        "{ noSuchField }",
        "{ paste(id: true) { id } }",
    ] {
        let r = app.gql(query, json!({})).await;
        assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "{query} → {r}");
    }
    let r = app
        .gql(
            CREATE,
            json!({ "i": { "content": "x", "expiresIn": "soon" } }),
        )
        .await;
    assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_pastes_are_not_found() {
    let app = TestApp::spawn().await;
    let r = app
        .gql("{ paste(id: \"Zz9Zz9Zz9Z\") { id } }", json!({}))
        .await;
    assert_eq!(error_code(&r), Some("NOT_FOUND"));
    assert_eq!(r["data"]["paste"], serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_over_the_limit_is_payload_too_large() {
    let app = TestApp::spawn_with(|c| c.limits.max_bytes = 1000).await;
    let r = app
        .gql(CREATE, json!({ "i": { "content": "x".repeat(1001) } }))
        .await;
    assert_eq!(error_code(&r), Some("PAYLOAD_TOO_LARGE"), "{r}");
    let r = app
        .gql(CREATE, json!({ "i": { "content": "é".repeat(501) } }))
        .await;
    assert_eq!(
        error_code(&r),
        Some("PAYLOAD_TOO_LARGE"),
        "the limit counts UTF-8 bytes: {r}"
    );
    let r = app
        .gql(CREATE, json!({ "i": { "content": "x".repeat(1000) } }))
        .await;
    assert!(
        r["errors"].is_null(),
        "exactly at the limit is accepted: {r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_unauthenticated_never_anonymous() {
    let app = TestApp::spawn().await;
    let r = app
        .gql_as(Some("not-a-jwt"), "{ me { id } }", json!({}))
        .await;
    assert_eq!(error_code(&r), Some("UNAUTHENTICATED"), "{r}");
    let r = app
        .gql(
            CREATE,
            json!({ "i": { "content": "x", "visibility": "PRIVATE" } }),
        )
        .await;
    assert_eq!(
        error_code(&r),
        Some("UNAUTHENTICATED"),
        "private pastes need an account: {r}"
    );
}

/// Resolving the caller happens before execution: its failure answers with its own status —
/// 401 for a token that does not verify, 503 (retryable) when the account cannot be looked up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_before_execution_answers_with_its_own_status() {
    let app = TestApp::spawn().await;
    let r = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth("not-a-jwt")
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // No database answers: a valid token cannot be resolved to its account.
    let dead = "postgres://pastebin@127.0.0.1:1/pastebin".to_owned();
    let deployment = crate::harness::Deployment::with_main_database(dead.clone(), dead).await;
    let down = TestApp::instance(&deployment, |c| c.database.db_connect_timeout_ms = 300).await;
    let token = {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "sub": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 600,
            "iss": "pastebin", "aud": "pastebin",
        });
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(deployment.jwt_secret.as_bytes()),
        )
        .unwrap()
    };
    let r = down
        .http
        .post(down.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), Some("SERVICE_UNAVAILABLE"), "{body}");
    // The same on the other doors.
    let r = down
        .http
        .get(down.url("/raw/Ab3dE9xYz1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_create_budget_is_rate_limited_with_retry_after() {
    let app = TestApp::spawn_with(|c| c.limits.rate_create_per_min = 2).await;
    for _ in 0..2 {
        let r = app.gql(CREATE, json!({ "i": { "content": "x" } })).await;
        assert!(r["errors"].is_null(), "{r}");
    }
    let r = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": CREATE, "variables": { "i": { "content": "x" } } }));
    let r = r.send().await.unwrap();
    let retry_header: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), Some("RATE_LIMITED"));
    let retry = body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!(
        (1..=30).contains(&retry),
        "one create every 30 s: retry in {retry}"
    );
    assert_eq!(retry, retry_header);
    let curl = app.http.post(app.url("/")).body("x").send().await.unwrap();
    assert_eq!(curl.status(), 429);
    assert!(curl.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_refuses_writes_as_service_unavailable_and_serves_reads() {
    let app = TestApp::spawn().await;
    let (id, token) = app.create_paste("written before").await;
    let ro = TestApp::instance(&app.deployment, |c| c.server.read_only = true).await;
    let r = ro.gql(CREATE, json!({ "i": { "content": "x" } })).await;
    assert_eq!(error_code(&r), Some("SERVICE_UNAVAILABLE"), "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("read-only")
    );
    assert!(
        r["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .is_some()
    );
    let r = ro
        .gql(
            "mutation($id: ID!, $t: String) { deletePaste(id: $id, deleteToken: $t) }",
            json!({ "id": id, "t": token }),
        )
        .await;
    assert_eq!(error_code(&r), Some("SERVICE_UNAVAILABLE"));
    assert_eq!(ro.read_paste(None, &id).await.unwrap(), "written before");
    let curl = ro.http.post(ro.url("/")).body("x").send().await.unwrap();
    assert_eq!(curl.status(), 503);
    assert!(curl.headers().contains_key("retry-after"));
    let ready: serde_json::Value = ro.readyz().await;
    assert_eq!(ready["status"], "degraded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_failure_is_internal_server_error_without_details() {
    let app = TestApp::spawn().await;
    let (id, _) = app.create_paste("will be corrupted").await;
    // A corrupt stored body (cannot happen through the API).
    app.sql(&format!(
        "UPDATE paste_files SET body = '\\xdeadbeef' WHERE paste_id = '{id}'"
    ))
    .await;
    app.app
        .stores()
        .cache
        .invalidate(std::slice::from_ref(&id))
        .await;
    let fresh = TestApp::instance(&app.deployment, |_| {}).await;
    let r = fresh
        .gql(
            "query($id: ID!) { paste(id: $id) { content } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&r), Some("INTERNAL_SERVER_ERROR"), "{r}");
    assert_eq!(r["errors"][0]["message"], "internal error");
    let raw = fresh.raw(&id).await;
    assert_eq!(raw.status(), 500);
    let body = raw.text().await.unwrap();
    assert!(
        body.contains("INTERNAL_SERVER_ERROR")
            && !body.contains("zstd")
            && !body.contains("Unknown frame")
    );
}
