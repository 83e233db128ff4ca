//! What a public GraphQL API must refuse: token tricks, private data through side doors,
//! query bombs, floods, and secrets in logs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::harness::{TestApp, error_code, unique};

const PASSWORD: &str = "a good long password";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn b64url(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn claims(app: &TestApp, sub: &str, exp_offset: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": sub, "iat": now, "exp": now + exp_offset,
        "iss": app.app.config().auth.jwt_issuer, "aud": app.app.config().auth.jwt_audience,
    })
}

fn hs256(secret: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

async fn me(app: &TestApp, token: &str) -> Value {
    app.gql_as(Some(token), "{ me { username } }", json!({}))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_token_trick_is_unauthenticated() {
    let app =
        TestApp::spawn_with(|c| c.auth.jwt_public_key_file = Some(fixture("idp_rsa.pub.pem")))
            .await;
    let name = unique("victim");
    let good = app.register(&name, PASSWORD).await;
    assert_eq!(
        me(&app, &good).await["data"]["me"]["username"],
        name.as_str()
    );
    let user_id = {
        let r = app.gql_as(Some(&good), "{ me { id } }", json!({})).await;
        r["data"]["me"]["id"].as_str().unwrap().to_owned()
    };
    let secret = app.deployment.jwt_secret.as_bytes().to_vec();
    let payload = claims(&app, &user_id, 3600);

    let alg_none = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(payload.to_string().as_bytes())
    );
    let rsa_public = std::fs::read(fixture("idp_rsa.pub.pem")).unwrap();
    let key_confusion = hs256(&rsa_public, &payload);
    let expired = hs256(&secret, &claims(&app, &user_id, -600));
    let mut future = claims(&app, &user_id, 3600);
    future["nbf"] = json!(chrono::Utc::now().timestamp() + 600);
    let not_yet_valid = hs256(&secret, &future);
    let mut wrong_iss = payload.clone();
    wrong_iss["iss"] = json!("someone-else");
    let mut wrong_aud = payload.clone();
    wrong_aud["aud"] = json!("another-service");
    let mut no_exp = payload.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let tampered = {
        let parts: Vec<&str> = good.split('.').collect();
        let mut other = payload.clone();
        other["sub"] = json!(uuid::Uuid::new_v4().to_string());
        format!(
            "{}.{}.{}",
            parts[0],
            b64url(other.to_string().as_bytes()),
            parts[2]
        )
    };
    let other_secret = hs256(b"not the server's secret, not at all", &payload);

    for (what, token) in [
        ("alg none", alg_none),
        ("HS256 signed with the RSA public key", key_confusion),
        ("expired", expired),
        ("not yet valid", not_yet_valid),
        ("wrong iss", hs256(&secret, &wrong_iss)),
        ("wrong aud", hs256(&secret, &wrong_aud)),
        ("no exp", hs256(&secret, &no_exp)),
        ("tampered payload", tampered),
        ("another secret", other_secret),
        ("garbage", "a.b.c".into()),
    ] {
        let r = me(&app, &token).await;
        assert_eq!(error_code(&r), Some("UNAUTHENTICATED"), "{what}: {r}");
        let raw = app
            .http
            .get(app.url("/raw/Whatever01"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(raw.status(), 401, "{what} on /raw");
    }

    // A token for a user that no longer exists.
    app.sql(&format!("DELETE FROM users WHERE id = '{user_id}'"))
        .await;
    assert_eq!(error_code(&me(&app, &good).await), Some("UNAUTHENTICATED"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_providers_rs256_and_eddsa_tokens_are_accepted() {
    for (public, private, alg) in [
        ("idp_rsa.pub.pem", "idp_rsa.pem", Algorithm::RS256),
        ("idp_ed25519.pub.pem", "idp_ed25519.pem", Algorithm::EdDSA),
    ] {
        let app = TestApp::spawn_with(|c| c.auth.jwt_public_key_file = Some(fixture(public))).await;
        let pem = std::fs::read(fixture(private)).unwrap();
        let key = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem).unwrap(),
            _ => EncodingKey::from_ed_pem(&pem).unwrap(),
        };
        let mut c = claims(&app, "idp-subject-42", 3600);
        c["preferred_username"] = json!("Carol");
        let token = jsonwebtoken::encode(&Header::new(alg), &c, &key).unwrap();
        let r = me(&app, &token).await;
        assert_eq!(r["data"]["me"]["username"], "Carol", "{alg:?}: {r}");
        // The same subject is the same account.
        let (id, _) = app
            .create_paste_with(
                Some(&token),
                json!({ "content": "x", "visibility": "PRIVATE" }),
            )
            .await;
        assert_eq!(app.read_paste(Some(&token), &id).await.unwrap(), "x");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_paste_is_invisible_to_others_on_every_path_even_after_its_owner_read_it() {
    let app = TestApp::spawn().await;
    let other_instance = TestApp::instance(&app.deployment, |_| {}).await;
    let owner = app.register(&unique("owner"), PASSWORD).await;
    let stranger = app.register(&unique("stranger"), PASSWORD).await;
    let (id, token) = app
        .create_paste_with(
            Some(&owner),
            json!({ "content": "my secret", "visibility": "PRIVATE" }),
        )
        .await;
    assert!(token.is_none(), "owned pastes need no delete token");
    // The owner reads it: now it sits in both cache tiers.
    assert_eq!(
        app.read_paste(Some(&owner), &id).await.unwrap(),
        "my secret"
    );
    assert_eq!(
        app.http
            .get(app.url(&format!("/raw/{id}")))
            .bearer_auth(&owner)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    for instance in [&app, &other_instance] {
        for who in [None, Some(stranger.as_str())] {
            assert_eq!(instance.read_paste(who, &id).await, Err("NOT_FOUND".into()));
            let mut raw = instance.http.get(instance.url(&format!("/raw/{id}")));
            let mut rest = instance
                .http
                .get(instance.url(&format!("/api/v1/paste?shortlink={id}")));
            let period = chrono::Utc::now().format("%Y-%m").to_string();
            let mut hits = instance.http.get(instance.url(&format!(
                "/api/v1/stats/hits?period={period}&shortlink={id}"
            )));
            if let Some(t) = who {
                raw = raw.bearer_auth(t);
                rest = rest.bearer_auth(t);
                hits = hits.bearer_auth(t);
            }
            let raw = raw.send().await.unwrap();
            assert_eq!(raw.status(), 404);
            let body = raw.text().await.unwrap();
            let missing = instance.raw("Missing001").await.text().await.unwrap();
            assert_eq!(
                body, missing,
                "a private paste reads exactly like a missing one"
            );
            assert_eq!(rest.send().await.unwrap().status(), 404);
            assert_eq!(hits.send().await.unwrap().status(), 404);
            let recent = instance
                .gql_as(
                    who,
                    "{ recentPastes(first: 100) { nodes { id } } }",
                    json!({}),
                )
                .await;
            assert!(!recent.to_string().contains(&id));
            let stats = instance
                .gql_as(
                    who,
                    "query($id: ID!, $f: DateTime!, $t: DateTime!) { pasteStats(id: $id, from: $f, to: $t) { views } }",
                    json!({ "id": id, "f": "2026-01-01T00:00:00Z", "t": "2026-02-01T00:00:00Z" }),
                )
                .await;
            assert_eq!(error_code(&stats), Some("NOT_FOUND"));
        }
    }
    let delete = "mutation($id: ID!) { deletePaste(id: $id) }";
    assert_eq!(
        error_code(
            &app.gql_as(Some(&stranger), delete, json!({ "id": id }))
                .await
        ),
        Some("NOT_FOUND")
    );
    let mine = app
        .gql_as(
            Some(&owner),
            "{ myPastes { nodes { id visibility } } me { pastes { nodes { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["data"]["myPastes"]["nodes"][0]["id"],
        id.as_str(),
        "{mine}"
    );
    assert_eq!(mine["data"]["me"]["pastes"]["nodes"][0]["id"], id.as_str());
    assert_eq!(
        app.gql_as(Some(&owner), delete, json!({ "id": id })).await["data"]["deletePaste"],
        true
    );
    assert_eq!(
        app.read_paste(Some(&owner), &id).await,
        Err("NOT_FOUND".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_delete_of_a_visible_paste_is_forbidden() {
    let app = TestApp::spawn().await;
    let owner = app.register(&unique("owner"), PASSWORD).await;
    let stranger = app.register(&unique("stranger"), PASSWORD).await;
    let (id, _) = app
        .create_paste_with(
            Some(&owner),
            json!({ "content": "public", "visibility": "PUBLIC" }),
        )
        .await;
    let r = app
        .gql_as(
            Some(&stranger),
            "mutation($id: ID!) { deletePaste(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&r), Some("FORBIDDEN"));
    assert_eq!(app.read_paste(None, &id).await.unwrap(), "public");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_fails_the_same_way_and_in_about_the_same_time_for_unknown_users() {
    let app = TestApp::spawn_with(|c| c.limits.rate_auth_per_min = 1000).await;
    let name = unique("known");
    app.register(&name, PASSWORD).await;
    let login =
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
    let time = |user: String| {
        let app = &app;
        async move {
            let start = Instant::now();
            let r = app
                .gql(login, json!({ "u": user, "p": "not the password" }))
                .await;
            (start.elapsed(), r)
        }
    };
    let mut wrong = Duration::ZERO;
    let mut unknown = Duration::ZERO;
    for _ in 0..4 {
        let (t, r) = time(name.clone()).await;
        wrong += t;
        let (t2, r2) = time(unique("nobody")).await;
        unknown += t2;
        assert_eq!(error_code(&r), Some("UNAUTHENTICATED"));
        assert_eq!(
            r["errors"][0]["message"], r2["errors"][0]["message"],
            "the same answer"
        );
    }
    let ratio = wrong.as_secs_f64() / unknown.as_secs_f64();
    assert!(
        (0.33..3.0).contains(&ratio),
        "wrong password {wrong:?} vs unknown user {unknown:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_create_budget_is_shared_by_instances_and_refills_after_retry_after() {
    let tweak = |c: &mut pastebin::config::Config| c.limits.rate_create_per_min = 30;
    let a = TestApp::spawn_with(tweak).await;
    let b = TestApp::instance(&a.deployment, tweak).await;
    let create = "mutation { createPaste(input: {content: \"x\"}) { paste { id } } }";
    for i in 0..30 {
        let app = if i % 2 == 0 { &a } else { &b };
        let r = app.gql(create, json!({})).await;
        assert!(r["errors"].is_null(), "create {i}: {r}");
    }
    let refused = a.gql(create, json!({})).await;
    assert_eq!(
        error_code(&refused),
        Some("RATE_LIMITED"),
        "the 31st, on either instance: {refused}"
    );
    assert_eq!(
        error_code(&b.gql(create, json!({})).await),
        Some("RATE_LIMITED")
    );
    let retry = refused["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=3).contains(&retry), "one create every 2 s: {retry}");
    tokio::time::sleep(Duration::from_secs(retry)).await;
    let r = b.gql(create, json!({})).await;
    assert!(r["errors"].is_null(), "after Retry-After: {r}");
    // Logins have their own budget.
    let login =
        "mutation { login(username: \"nobody-here\", password: \"whatever-it-is\") { token } }";
    assert_eq!(
        error_code(&a.gql(login, json!({})).await),
        Some("UNAUTHENTICATED")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trusted_proxy_header_picks_the_client_only_when_configured() {
    let app = TestApp::spawn_with(|c| {
        c.limits.rate_create_per_min = 2;
        c.server.trusted_proxy_header = "X-Forwarded-For".into();
    })
    .await;
    let create = |ip: &'static str| {
        app.http
            .post(app.url("/"))
            .header("x-forwarded-for", format!("203.0.113.9, {ip}"))
            .body("x")
            .send()
    };
    for _ in 0..2 {
        assert_eq!(create("198.51.100.1").await.unwrap().status(), 201);
    }
    assert_eq!(create("198.51.100.1").await.unwrap().status(), 429);
    assert_eq!(
        create("198.51.100.2").await.unwrap().status(),
        201,
        "another client has its own budget"
    );

    let direct = TestApp::spawn_with(|c| c.limits.rate_create_per_min = 2).await;
    for (i, ip) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        .into_iter()
        .enumerate()
    {
        let r = direct
            .http
            .post(direct.url("/"))
            .header("x-forwarded-for", ip)
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            if i < 2 { 201 } else { 429 },
            "without a trusted proxy the header is ignored"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_bombs_are_refused_quickly_with_a_code() {
    let app = TestApp::spawn().await;
    let aliases: String = (0..1000)
        .map(|i| format!("a{i}: limits {{ maxBytes }} "))
        .collect();
    let depth50 = format!(
        "{{ {}__typename{} }}",
        "recentPastes { nodes { ".repeat(25),
        " } }".repeat(25)
    );
    for (what, query) in [
        ("1000 aliases", format!("{{ {aliases} }}")),
        ("depth 50", depth50),
    ] {
        let start = Instant::now();
        let r = app
            .http
            .post(app.url("/graphql"))
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert!(status.as_u16() < 500, "{what}: {status}");
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{what}: {body}");
        // A generous ceiling (the machine is shared): a bomb that were executed would take far
        // longer.
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{what} took {:?}",
            start.elapsed()
        );
    }
    let batch: Vec<Value> = (0..1000)
        .map(|_| json!({ "query": "{ limits { maxBytes } }" }))
        .collect();
    let start = Instant::now();
    let r = app
        .http
        .post(app.url("/graphql"))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(start.elapsed() < Duration::from_secs(5));
    // A small batch is fine.
    let ok: Vec<Value> = r#"[{"query":"{ limits { maxBytes } }"},{"query":"{ me { id } }"}]"#
        .parse::<Value>()
        .unwrap()
        .as_array()
        .unwrap()
        .clone();
    let r: Value = app
        .http
        .post(app.url("/graphql"))
        .json(&ok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r.as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_answers_when_on_and_is_refused_without_suggestions_when_off() {
    let full_introspection = include_str!("introspection.graphql");
    let on = TestApp::spawn().await;
    let r = on.gql(full_introspection, json!({})).await;
    assert!(
        r["errors"].is_null(),
        "the standard introspection query fits the limits: {}",
        &r.to_string()[..200.min(r.to_string().len())]
    );
    assert!(r["data"]["__schema"]["types"].as_array().unwrap().len() > 10);

    let off = TestApp::instance(&on.deployment, |c| c.server.introspection = false).await;
    let r = off.gql("{ __schema { types { name } } }", json!({})).await;
    assert!(
        r["errors"].is_array() || r["data"]["__schema"].is_null(),
        "{r}"
    );
    let typo = off.gql("{ limitz { maxBytes } }", json!({})).await;
    assert!(
        !typo.to_string().contains("Did you mean"),
        "no field suggestions: {typo}"
    );
    let typo_on = on.gql("{ limitz { maxBytes } }", json!({})).await;
    assert!(typo_on.to_string().contains("Did you mean"), "{typo_on}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_persisted_queries_work_for_clients_that_send_hashes() {
    use sha2::{Digest, Sha256};
    let app = TestApp::spawn().await;
    let query = "{ limits { maxBytes } }";
    let hash = hex::encode(Sha256::digest(query));
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let first: Value = app.post_graphql(&json!({ "extensions": ext })).await;
    assert_eq!(
        first["errors"][0]["message"], "PersistedQueryNotFound",
        "{first}"
    );
    let register: Value = app
        .post_graphql(&json!({ "query": query, "extensions": ext }))
        .await;
    assert!(register["errors"].is_null(), "{register}");
    let by_hash: Value = app.post_graphql(&json!({ "extensions": ext })).await;
    assert_eq!(
        by_hash["data"]["limits"]["maxBytes"],
        10 * 1024 * 1024,
        "{by_hash}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_and_cors() {
    let app = TestApp::spawn_with(|c| c.server.cors_origins = "https://paste.example".into()).await;
    let page = app.http.get(app.url("/")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");

    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = preflight("https://paste.example").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://paste.example"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));

    let default = TestApp::spawn().await;
    let r = default
        .http
        .request(reqwest::Method::OPTIONS, default.url("/graphql"))
        .header("origin", "https://paste.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        !r.headers().contains_key("access-control-allow-origin"),
        "no origin is allowed by default"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_live_on_their_own_listener_off_the_public_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::spawn_with(|c| c.server.metrics_addr = format!("127.0.0.1:{port}")).await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let stop = app.app.shutdown().clone();
    tokio::spawn(pastebin::http::serve_metrics(
        listener,
        std::sync::Arc::clone(&app.app),
        async move { stop.cancelled().await },
    ));
    app.create_paste("counted").await;
    let public = app.metrics().await;
    assert!(
        !public.contains("pastebin_http_request_duration_seconds"),
        "not on the public port"
    );
    let private = app
        .http
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        private.contains("pastebin_http_request_duration_seconds"),
        "{private}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_file_selects_the_identity_providers_key_by_kid() {
    let pem = std::fs::read(fixture("idp_rsa.pem")).unwrap();
    let key = EncodingKey::from_rsa_pem(&pem).unwrap();
    let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some("idp-key-1".into());
    let dir = std::env::temp_dir().join(unique("pastebin-jwks-"));
    std::fs::create_dir_all(&dir).unwrap();
    let jwks = dir.join("jwks.json");
    std::fs::write(&jwks, json!({ "keys": [jwk] }).to_string()).unwrap();
    let app = TestApp::spawn_with(|c| c.auth.jwks_file = Some(jwks.clone())).await;

    let mut claims = claims(&app, "jwks-subject", 3600);
    claims["preferred_username"] = json!("Dana");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("idp-key-1".into());
    let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    assert_eq!(me(&app, &token).await["data"]["me"]["username"], "Dana");

    header.kid = Some("unknown-key".into());
    let wrong_kid = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    assert_eq!(
        error_code(&me(&app, &wrong_kid).await),
        Some("UNAUTHENTICATED")
    );
    std::fs::remove_dir_all(dir).ok();
}
