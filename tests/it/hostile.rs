//! The hostile requests of the security review in one place, each with the answer the service
//! gives and what refusing it may cost. Read this file as the threat list.

use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::{TestApp, error_code};

fn persisted(query: &str) -> Value {
    json!({ "version": 1, "sha256Hash": hex::encode(Sha256::digest(query.as_bytes())) })
}

// --- 1. Persisted queries: every request runs the document of its own hash. -----------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_persisted_query_runs_its_own_document_and_an_empty_query_is_refused() {
    let app = TestApp::spawn().await;
    let limits = "query Limits { limits { maxBytes } }";
    let me = "query Me { me { id } }";
    // Registered, then used by hash only, alternating: each gets its own answer.
    for q in [limits, me] {
        let r = app
            .post_graphql(&json!({ "query": q, "extensions": { "persistedQuery": persisted(q) } }))
            .await;
        assert!(r["errors"].is_null(), "{r}");
    }
    for _ in 0..2 {
        for q in [me, limits] {
            let r = app
                .post_graphql(&json!({ "extensions": { "persistedQuery": persisted(q) } }))
                .await;
            let data = &r["data"];
            if q == me {
                assert!(data.get("limits").is_none() && data["me"].is_null(), "{r}");
            } else {
                assert!(data["limits"]["maxBytes"].is_number(), "{r}");
            }
        }
    }
    // An empty query is nobody's document: 400, never another client's answer.
    let r = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": "" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(body.get("data").is_none_or(Value::is_null), "{body}");
    // A hash nobody registered asks the client for the text.
    let r = app
        .post_graphql(&json!({ "extensions": { "persistedQuery": persisted("{ __typename }") } }))
        .await;
    assert_eq!(r["errors"][0]["message"], "PersistedQueryNotFound", "{r}");
}

// --- 2. Memory before limits: too large to be a request is refused before it is built. ------

/// Peak resident memory of this process (the server runs in it) while `f` runs, above what it
/// held when `f` started: VmHWM reset through /proc/self/clear_refs.
async fn peak_growth<F: Future<Output = T>, T>(f: F) -> (T, u64) {
    let status = |field: &str| -> u64 {
        let s = std::fs::read_to_string("/proc/self/status").unwrap();
        s.lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap()
            * 1024
    };
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak (Linux)");
    let start = status("VmRSS:");
    let out = f.await;
    (out, status("VmHWM:").saturating_sub(start))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_millions_or_a_huge_query_is_refused_without_building_it() {
    let app = TestApp::spawn().await;
    let limit_mib = 64 * 1024 * 1024;
    // 20 MB: 6.5 million empty operations.
    let mut batch = String::with_capacity(20_000_000);
    batch.push('[');
    while batch.len() < 19_999_990 {
        batch.push_str("{},");
    }
    batch.push_str("{}]");
    let batch = bytes::Bytes::from(batch);
    let send = |body: bytes::Bytes| {
        app.http
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let (r, growth) = peak_growth(async { send(batch.clone()).await.unwrap() }).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too many operations"),
        "{body}"
    );
    assert!(growth < limit_mib, "the batch took {} MiB", growth >> 20);
    drop(batch);

    // A 20 MB query text.
    let query = format!("{{\"query\":\"{{ {} }}\"}}", "a".repeat(20_000_000));
    let query = bytes::Bytes::from(query);
    let (r, growth) = peak_growth(async { send(query.clone()).await.unwrap() }).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(growth < limit_mib, "the query took {} MiB", growth >> 20);
}

// --- 13. Input and browser hygiene. ----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_takes_json_only_and_speaks_graphql_over_http() {
    let app = TestApp::spawn().await;
    let post = |content_type: Option<&'static str>, accept: Option<&'static str>, body: String| {
        let mut r = app.http.post(app.url("/graphql")).body(body);
        if let Some(t) = content_type {
            r = r.header("content-type", t);
        }
        if let Some(a) = accept {
            r = r.header("accept", a);
        }
        r.send()
    };
    let ok = json!({ "query": "{ limits { maxBytes } }" }).to_string();
    // No content type, a form, plain text, multipart: 415, before anything is read.
    for t in [
        None,
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
    ] {
        let r = post(t, None, ok.clone()).await.unwrap();
        assert_eq!(r.status(), 415, "{t:?}");
    }
    // JSON in, and the answer in the media type asked for.
    let r = post(Some("application/json"), None, ok.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let gql = "application/graphql-response+json, application/json;q=0.9";
    let r = post(Some("application/json"), Some(gql), ok.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/graphql-response+json")
    );
    // With that media type, a request that cannot run is a 400 without `data`: a parse error,
    // a validation error, a variable that does not coerce.
    for body in [
        json!({ "query": "{ limits { " }),
        json!({ "query": "{ noSuchField }" }),
        json!({ "query": "query($id: ID!) { paste(id: $id) { id } }", "variables": { "id": { "not": "an id" } } }),
    ] {
        let r = post(Some("application/json"), Some(gql), body.to_string())
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let v: Value = r.json().await.unwrap();
        assert!(v.get("data").is_none(), "{v}");
        assert_eq!(error_code(&v), Some("BAD_USER_INPUT"), "{v}");
        // The legacy media type keeps answering 200 with the errors.
        let r = post(Some("application/json"), None, body.to_string())
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{body}");
    }
    // A resolver error is not a request error: 200 with data.
    let r = post(
        Some("application/json"),
        Some(gql),
        json!({ "query": "{ paste(id: \"Nope000000\") { id } }" }).to_string(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_on_another_site_cannot_make_a_browser_write_but_curl_can() {
    let app = TestApp::spawn().await;
    let host = app.addr.to_string();
    let evil = [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ];
    let form = "application/x-www-form-urlencoded";
    // A form on another site posting to `/`.
    let mut r = app
        .http
        .post(app.url("/"))
        .header("content-type", form)
        .body("x=1");
    for (k, v) in evil {
        r = r.header(k, v);
    }
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "FORBIDDEN");
    // The same as curl sends it: created.
    let r = app
        .http
        .post(app.url("/"))
        .header("content-type", form)
        .body("from curl")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // The web app itself (same origin) writes through GraphQL; another site's script cannot.
    let create =
        json!({ "query": "mutation { createPaste(input: {content: \"x\"}) { paste { id } } }" });
    let same = app
        .http
        .post(app.url("/graphql"))
        .header("origin", format!("http://{host}"))
        .header("sec-fetch-site", "same-origin")
        .json(&create)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
    let mut cross = app.http.post(app.url("/graphql")).json(&create);
    for (k, v) in evil {
        cross = cross.header(k, v);
    }
    assert_eq!(cross.send().await.unwrap().status(), 403);
    for path in ["/api/v1/paste", "/raw/Ab3dE9xYz1"] {
        let mut r = app.http.post(app.url(path)).body("{}");
        for (k, v) in evil {
            r = r.header(k, v);
        }
        assert_eq!(r.send().await.unwrap().status(), 403, "{path}");
    }
    // The web app may connect to its own origin only.
    let page = app.http.get(app.url("/")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let connect = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("connect-src"))
        .unwrap();
    assert_eq!(connect, "connect-src 'self'", "{csp}");
    let _ = Duration::ZERO;
}

// --- 7. The WebSocket layer. -------------------------------------------------------------------

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
use tokio_tungstenite::tungstenite::Message as WsMessage;

async fn ws_connect(app: &TestApp) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
}

async fn ws_send(ws: &mut Ws, v: Value) {
    use futures_util::SinkExt;
    ws.send(WsMessage::text(v.to_string())).await.unwrap();
}

/// The next message of the socket: a JSON text, a close code, a ping, or nothing in `within`.
#[derive(Debug, PartialEq)]
enum Got {
    Json(Value),
    Close(Option<u16>),
    Ping,
    Nothing,
}

async fn ws_next(ws: &mut Ws, within: Duration) -> Got {
    use futures_util::StreamExt;
    match tokio::time::timeout(within, ws.next()).await {
        Err(_) => Got::Nothing,
        Ok(Some(Ok(WsMessage::Text(t)))) => Got::Json(serde_json::from_str(&t).unwrap()),
        Ok(Some(Ok(WsMessage::Ping(_)))) => Got::Ping,
        Ok(Some(Ok(WsMessage::Close(frame)))) => Got::Close(frame.map(|f| f.code.into())),
        Ok(None | Some(Err(_))) => Got::Close(None),
        Ok(Some(Ok(_))) => Got::Nothing,
    }
}

/// The next JSON message, skipping pings; panics on anything else.
async fn ws_json(ws: &mut Ws) -> Value {
    loop {
        match ws_next(ws, Duration::from_secs(15)).await {
            Got::Json(v) => return v,
            Got::Ping => continue,
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

/// The close code the server ends the connection with (pings and data skipped).
async fn ws_closed(ws: &mut Ws, within: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match ws_next(ws, left).await {
            Got::Close(code) => return code,
            Got::Nothing => panic!("the connection was not closed within {within:?}"),
            Got::Json(_) | Got::Ping => continue,
        }
    }
}

fn token_for(app: &TestApp, user_id: &str, lifetime_secs: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": user_id, "iat": now, "exp": now + lifetime_secs,
        "iss": app.app.config().auth.jwt_issuer, "aud": app.app.config().auth.jwt_audience,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(app.deployment.jwt_secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_must_say_who_it_is_in_time_and_in_the_right_form() {
    let app = TestApp::spawn().await;
    // Silence after the upgrade: closed with 4408.
    let mut ws = ws_connect(&app).await.unwrap();
    assert_eq!(
        ws_closed(&mut ws, Duration::from_secs(15)).await,
        Some(4408)
    );
    // An Authorization that is not `Bearer <token>`: refused, never anonymous.
    let mut ws = ws_connect(&app).await.unwrap();
    ws_send(
        &mut ws,
        json!({ "type": "connection_init", "payload": { "Authorization": "Basic dXNlcjpwYXNz" } }),
    )
    .await;
    assert_eq!(
        ws_closed(&mut ws, Duration::from_secs(15)).await,
        Some(4403)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_stops_acting_as_its_user_when_the_token_expires_or_the_account_goes() {
    let app = TestApp::spawn_with(|c| c.server.ws_recheck_secs = 1).await;
    let name = crate::harness::unique("ws");
    let token = app.register(&name, "a good long password").await;
    let id = {
        let r = app.gql_as(Some(&token), "{ me { id } }", json!({})).await;
        r["data"]["me"]["id"].as_str().unwrap().to_owned()
    };
    // A token that expires in 3 s: the connection is closed then (4401).
    let short = token_for(&app, &id, 3);
    let mut ws = ws_connect(&app).await.unwrap();
    ws_send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {short}") } })).await;
    assert_eq!(ws_json(&mut ws).await["type"], "connection_ack");
    assert_eq!(
        ws_closed(&mut ws, Duration::from_secs(15)).await,
        Some(4401)
    );

    // The account is deleted: the connection is closed at the next check.
    let mut ws = ws_connect(&app).await.unwrap();
    ws_send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })).await;
    assert_eq!(ws_json(&mut ws).await["type"], "connection_ack");
    app.sql(&format!("DELETE FROM users WHERE id = '{id}'"))
        .await;
    assert_eq!(
        ws_closed(&mut ws, Duration::from_secs(15)).await,
        Some(4401)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_and_subscriptions_are_capped_and_idle_sockets_are_pinged() {
    let app = TestApp::spawn_with(|c| {
        c.limits.ws_max_per_client = 2;
        c.limits.ws_max_subscriptions = 2;
        c.server.ws_keepalive_secs = 1;
    })
    .await;
    let (id, _) = app.create_paste("watched").await;
    let mut ws = ws_connect(&app).await.unwrap();
    ws_send(&mut ws, json!({ "type": "connection_init", "payload": {} })).await;
    assert_eq!(ws_json(&mut ws).await["type"], "connection_ack");
    let subscribe = |n: &str| {
        json!({ "id": n, "type": "subscribe", "payload": {
            "query": "subscription($id: ID!) { pasteViews(id: $id) }", "variables": { "id": id } } })
    };
    for n in ["1", "2"] {
        ws_send(&mut ws, subscribe(n)).await;
        let m = ws_json(&mut ws).await;
        assert_eq!(
            (m["type"].as_str(), m["id"].as_str()),
            (Some("next"), Some(n)),
            "{m}"
        );
    }
    ws_send(&mut ws, subscribe("3")).await;
    let m = ws_json(&mut ws).await;
    assert_eq!(m["type"], "error", "{m}");
    assert_eq!(m["payload"][0]["extensions"]["code"], "RATE_LIMITED", "{m}");
    // Completing one frees its place.
    ws_send(&mut ws, json!({ "id": "1", "type": "complete" })).await;
    ws_send(&mut ws, subscribe("4")).await;
    loop {
        let m = ws_json(&mut ws).await;
        if m["id"] == "4" {
            assert_eq!(m["type"], "next", "{m}");
            break;
        }
    }
    // The server pings an idle socket.
    let mut pinged = false;
    for _ in 0..10 {
        if ws_next(&mut ws, Duration::from_secs(3)).await == Got::Ping {
            pinged = true;
            break;
        }
    }
    assert!(pinged, "no ping from the server");
    // A second connection is fine, a third from the same client is refused.
    let _second = ws_connect(&app).await.unwrap();
    match ws_connect(&app).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 429),
        other => panic!("a third connection: {:?}", other.map(|_| ())),
    }
}

// --- 4. IPv6 clients and sign-in guessing. -----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ipv6_client_is_its_slash_64() {
    let app = TestApp::spawn_with(|c| {
        c.server.trusted_proxy_header = "X-Forwarded-For".into();
        c.limits.rate_read_per_min = 3;
    })
    .await;
    let (id, _) = app.create_paste("v6").await;
    let read = |from: &'static str| {
        app.http
            .get(app.url(&format!("/raw/{id}")))
            .header("x-forwarded-for", from)
            .send()
    };
    // Three addresses of one /64 share one budget of 3.
    for from in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::9"] {
        assert_eq!(read(from).await.unwrap().status(), 200);
    }
    assert_eq!(read("2001:db8:1:2::77").await.unwrap().status(), 429);
    // The next /64 has its own.
    assert_eq!(read("2001:db8:1:3::1").await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_a_password_from_many_addresses_is_slowed_and_never_locks_the_owner_out() {
    let app = TestApp::spawn_with(|c| {
        c.server.trusted_proxy_header = "X-Forwarded-For".into();
        c.limits.rate_login_per_username_per_min = 3;
    })
    .await;
    let name = crate::harness::unique("victim");
    let password = "the owner's long password";
    // The owner registers (and so signs in) from their own address.
    let r = app
        .http
        .post(app.url("/graphql"))
        .header("x-forwarded-for", "198.51.100.7")
        .json(&json!({ "query": "mutation($u: String!, $p: String!) { register(username: $u, password: $p) { token } }", "variables": { "u": name, "p": password } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let login = |from: String, pw: &'static str| {
        app.http
            .post(app.url("/graphql"))
            .header("x-forwarded-for", from)
            .json(&json!({ "query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }", "variables": { "u": name, "p": pw } }))
            .send()
    };
    // Guesses from a different address each time: the username's budget of 3 is spent.
    let mut codes = Vec::new();
    for i in 0..5 {
        let r: Value = login(format!("203.0.113.{i}"), "a wrong guess here")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        codes.push(error_code(&r).unwrap().to_owned());
    }
    assert_eq!(
        codes,
        [
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "RATE_LIMITED",
            "RATE_LIMITED"
        ]
    );
    // Even the right password from a new address waits; the owner's own address does not.
    let r: Value = login("203.0.113.99".into(), "the owner's long password")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&r), Some("RATE_LIMITED"), "{r}");
    let r: Value = login("198.51.100.7".into(), "the owner's long password")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["data"]["login"]["token"].is_string(), "{r}");
}

// --- 6. A replica that lags does not sign a new account out. --------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_accounts_token_works_while_the_replica_lags() {
    let pair = crate::cluster::PgPair::start().await;
    pair.migrate().await;
    // Asynchronous replication, replay paused: the standby has none of what follows.
    pair.sync(0, false);
    pair.psql(1, "SELECT pg_wal_replay_pause()");
    let deployment =
        crate::harness::Deployment::with_main_database(pair.primary_url(), pair.replica_url())
            .await;
    let app = TestApp::instance(&deployment, |_| {}).await;
    let token = app
        .register(&crate::harness::unique("fresh"), "a good long password")
        .await;
    let r = app
        .gql_as(Some(&token), "{ me { username } }", json!({}))
        .await;
    assert!(
        r["errors"].is_null(),
        "the token of a new account works at once: {r}"
    );
    assert!(r["data"]["me"]["username"].is_string(), "{r}");
    pair.psql(1, "SELECT pg_wal_replay_resume()");
}

// --- 10. Statistics follow readability, on every door. ---------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoever_may_read_a_paste_may_see_its_statistics_on_every_door() {
    let app = TestApp::spawn().await;
    let owner = app
        .register(&crate::harness::unique("stats"), "a good long password")
        .await;
    let (unlisted, _) = app
        .create_paste_with(None, json!({ "content": "u", "visibility": "UNLISTED" }))
        .await;
    let (private, _) = app
        .create_paste_with(
            Some(&owner),
            json!({ "content": "p", "visibility": "PRIVATE" }),
        )
        .await;
    let now = chrono::Utc::now();
    let stats = async |token: Option<&str>, id: &str| -> Value {
        let q = "query($id: ID!, $f: DateTime!, $t: DateTime!) { pasteStats(id: $id, from: $f, to: $t) { views } }";
        let vars = json!({ "id": id, "f": (now - chrono::Duration::hours(1)).to_rfc3339(), "t": (now + chrono::Duration::hours(1)).to_rfc3339() });
        app.gql_as(token, q, vars).await
    };
    let hits = |token: Option<String>, id: String| {
        let period = now.format("%Y-%m").to_string();
        let mut r = app.http.get(app.url(&format!(
            "/api/v1/stats/hits?period={period}&shortlink={id}"
        )));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    // Unlisted: anyone with the link sees its statistics, on GraphQL and REST alike.
    assert!(stats(None, &unlisted).await["errors"].is_null());
    assert_eq!(hits(None, unlisted.clone()).await.unwrap().status(), 200);
    // Private: its owner only; anyone else is told it does not exist, on both.
    assert_eq!(error_code(&stats(None, &private).await), Some("NOT_FOUND"));
    assert_eq!(hits(None, private.clone()).await.unwrap().status(), 404);
    assert!(stats(Some(&owner), &private).await["errors"].is_null());
    assert_eq!(
        hits(Some(owner.clone()), private).await.unwrap().status(),
        200
    );
}

// --- 14. View counts exactly once. -------------------------------------------------------------

fn redis_total(app: &TestApp, id: &str) -> impl Future<Output = Option<i64>> {
    let redis = app.app.stores().redis.clone();
    let key = redis.key(format_args!("views:{id}"));
    async move {
        redis
            .run("test", move |mut c| async move {
                redis::cmd("GET")
                    .arg(&key)
                    .query_async::<Option<i64>>(&mut c)
                    .await
            })
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_whose_reply_was_lost_is_applied_once() {
    let redis = crate::cluster::PrivateRedis::start().await;
    let proxy = crate::cluster::ChaosProxy::start(redis.addr).await;
    let url = format!("redis://{}/", proxy.addr);
    // The flusher runs by hand here (at most once an hour on its own).
    let app = TestApp::spawn_with(|c| {
        c.cache.redis_url = url.clone();
        c.cache.view_flush_ms = 3_600_000;
    })
    .await;
    let (id, _) = app.create_paste("counted once").await;
    // The first view after a quiet spell is flushed at once; the next ones wait for the hour.
    assert_eq!(app.raw(&id).await.status(), 200);
    crate::harness::eventually(
        "the first view is flushed",
        Duration::from_secs(10),
        || async { redis_total(&app, &id).await == Some(1) },
    )
    .await;
    for _ in 0..4 {
        assert_eq!(app.raw(&id).await.status(), 200);
    }
    // Redis stalls: the script is sent, its reply does not come back in time.
    proxy.stall();
    assert!(!app.app.stores().counts.flush().await, "no answer in time");
    // Redis comes back and runs what it was sent; the retry must not add it again.
    proxy.restore();
    crate::harness::eventually("a flush goes through", Duration::from_secs(30), || async {
        app.app.stores().counts.flush().await
    })
    .await;
    assert_eq!(redis_total(&app, &id).await, Some(5));
    let r = app
        .gql(
            "query($id: ID!) { paste(id: $id) { views } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(r["data"]["paste"]["views"], 5, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_never_go_back_while_a_hand_off_runs() {
    let app = TestApp::spawn().await;
    let (id, _) = app
        .create_paste_with(None, json!({ "content": "stats", "visibility": "PUBLIC" }))
        .await;
    for _ in 0..6 {
        app.raw(&id).await;
    }
    app.app.stores().counts.flush().await;
    let now = chrono::Utc::now();
    let total = async || -> i64 {
        let r = app
            .gql(
                "query($id: ID!, $f: DateTime!, $t: DateTime!) { pasteStats(id: $id, from: $f, to: $t) { views } }",
                json!({ "id": id, "f": (now - chrono::Duration::hours(2)).to_rfc3339(), "t": (now + chrono::Duration::hours(2)).to_rfc3339() }),
            )
            .await;
        r["data"]["pasteStats"]
            .as_array()
            .unwrap_or_else(|| panic!("{r}"))
            .iter()
            .map(|s| s["views"].as_i64().unwrap())
            .sum()
    };
    assert_eq!(total().await, 6);
    // A hand-off stopped between its steps (a run paused, or one that died): the batch is
    // written to the analytics database and still in Redis.
    let redis = &app.app.stores().redis;
    let batch = pastebin::services::cache::handoff::claim_batch(redis)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(total().await, 6, "claimed");
    let rows: Vec<_> = pastebin::services::cache::handoff::read_batch(redis, &batch)
        .await
        .unwrap()
        .into_iter()
        .map(|p| pastebin::services::db::hourly_views::HourlyViews {
            paste_id: p.paste_id,
            hour: p.hour,
            views: p.views,
        })
        .collect();
    let analytics = app.app.stores().analytics.as_ref().unwrap();
    let batch_ref = batch.as_str();
    analytics
        .run(async |c| pastebin::services::db::hourly_views::apply_batch(c, batch_ref, &rows).await)
        .await
        .unwrap();
    assert_eq!(
        total().await,
        6,
        "written, not yet finished: not counted twice"
    );
    // A run now: it does not finish a batch written a moment ago; one later does.
    let report = pastebin::jobs::handoff::run(&app.app).await.unwrap();
    assert_eq!(report.finished, 0, "{report:?}");
    assert_eq!(total().await, 6);
    pastebin::jobs::handoff::run_finishing_after(&app.app, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(total().await, 6, "finished");
}

// --- 5. Deletes survive a Redis hiccup. ---------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_during_a_redis_stall_is_never_undone_by_a_cache() {
    let redis = crate::cluster::PrivateRedis::start().await;
    let proxy = crate::cluster::ChaosProxy::start(redis.addr).await;
    let (through_proxy, direct) = (
        format!("redis://{}/", proxy.addr),
        format!("redis://{}/", redis.addr),
    );
    // A reaches Redis through the proxy; B and C reach it directly.
    let a = TestApp::spawn_with(|c| c.cache.redis_url = through_proxy.clone()).await;
    let b = TestApp::instance(&a.deployment, |c| c.cache.redis_url = direct.clone()).await;
    let (id, token) = a.create_paste("deleted during a stall").await;
    assert_eq!(
        b.raw(&id).await.status(),
        200,
        "B has it in process and in Redis"
    );
    assert!(b.app.stores().cache.get_local(&id).is_some());

    proxy.stall();
    let deleted = a
        .gql(
            "mutation($id: ID!, $t: String) { deletePaste(id: $id, deleteToken: $t) }",
            json!({ "id": id, "t": token }),
        )
        .await;
    assert_eq!(deleted["data"]["deletePaste"], true, "{deleted}");
    // Acknowledged: from now on no instance serves it, though Redis still holds the paste.
    assert_eq!(b.raw(&id).await.status(), 404, "B's caches");
    let c = TestApp::instance(&a.deployment, |c| c.cache.redis_url = direct.clone()).await;
    assert_eq!(
        c.raw(&id).await.status(),
        404,
        "a Redis hit on a fresh instance"
    );
    assert_eq!(b.read_paste(None, &id).await, Err("NOT_FOUND".into()));

    // Redis back: the invalidation recorded in Postgres is delivered, the record goes.
    proxy.restore();
    crate::harness::eventually(
        "the pending invalidation is delivered",
        Duration::from_secs(30),
        || async {
            let page = b.metrics().await;
            crate::harness::metric(&page, "pastebin_invalidations_pending") == 0.0
                && b.app.stores().cache.get(&id).await.is_none()
        },
    )
    .await;
    assert_eq!(c.raw(&id).await.status(), 404);
}

// --- 9. No panics on input, the right codes on races. --------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_at_the_ends_of_the_calendar_are_bad_input_not_a_panic() {
    let app = TestApp::spawn().await;
    let (id, _) = app
        .create_paste_with(None, json!({ "content": "x", "visibility": "PUBLIC" }))
        .await;
    let q = "query($id: ID!, $f: DateTime!, $t: DateTime!) { pasteStats(id: $id, from: $f, to: $t) { views } }";
    for (from, to) in [
        ("+262142-12-31T23:00:00Z", "+262142-12-31T23:59:59Z"),
        ("-262143-01-01T00:00:00Z", "-262143-01-01T01:00:00Z"),
        ("9999-12-31T22:00:00Z", "+10000-01-01T00:00:00Z"),
    ] {
        let r = app.gql(q, json!({ "id": id, "f": from, "t": to })).await;
        assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "{from}..{to}: {r}");
    }
    for period in ["262143-12", "-5-01", "99999-01"] {
        let r = app
            .http
            .get(app.url(&format!(
                "/api/v1/stats/hits?period={period}&shortlink={id}"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{period}");
    }
    // The server still answers.
    assert_eq!(app.raw(&id).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn titles_that_reorder_or_hide_text_are_refused() {
    let app = TestApp::spawn().await;
    let create = "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { title } } }";
    for title in [
        "invoice\u{202E}fdp.exe",
        "a\u{2067}b\u{2069}",
        "pay\u{200B}pal",
    ] {
        let r = app
            .gql(create, json!({ "i": { "content": "x", "title": title } }))
            .await;
        assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "{title:?}: {r}");
    }
    let r = app
        .gql(
            create,
            json!({ "i": { "content": "x", "title": "Café — ok" } }),
        )
        .await;
    assert_eq!(
        r["data"]["createPaste"]["paste"]["title"], "Café — ok",
        "{r}"
    );
}

// --- 8. A guarded paste is spent only by a reveal, never by a GET. ------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_previews_head_and_conditional_gets_never_spend_a_guarded_paste() {
    let app = TestApp::spawn().await;
    let remaining = async |id: &str| -> Value {
        app.gql(
            "query($id: ID!) { paste(id: $id) { remainingViews } }",
            json!({ "id": id }),
        )
        .await["data"]["paste"]["remainingViews"]
            .clone()
    };
    let (id, _) = app
        .create_paste_with(None, json!({ "content": "twice", "maxViews": 2 }))
        .await;
    let url = app.url(&format!("/raw/{id}"));
    // A link preview's GET, a HEAD, a conditional GET: refused with a hint, nothing spent.
    let get = app.http.get(&url).send().await.unwrap();
    assert_eq!(get.status(), 403);
    let body: Value = get.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("POST /raw/"),
        "{body}"
    );
    assert_eq!(app.http.head(&url).send().await.unwrap().status(), 403);
    let conditional = app
        .http
        .get(&url)
        .header("if-none-match", "*")
        .send()
        .await
        .unwrap();
    assert_eq!(conditional.status(), 403);
    assert_eq!(remaining(&id).await, 2);
    // A reveal spends one: POST /raw, then GraphQL content; the third is gone.
    let post = app.http.post(&url).send().await.unwrap();
    assert_eq!(post.status(), 200);
    assert_eq!(post.text().await.unwrap(), "twice");
    assert_eq!(remaining(&id).await, 1);
    assert_eq!(app.read_paste(None, &id).await.unwrap(), "twice");
    assert_eq!(app.read_paste(None, &id).await, Err("NOT_FOUND".into()));

    // Burn after reading: the same GET rule; GraphQL content is a reveal.
    let (burn, _) = app
        .create_paste_with(None, json!({ "content": "once", "burnAfterReading": true }))
        .await;
    let burn_url = app.url(&format!("/raw/{burn}"));
    assert_eq!(app.http.get(&burn_url).send().await.unwrap().status(), 403);
    assert_eq!(app.http.head(&burn_url).send().await.unwrap().status(), 403);
    assert_eq!(app.read_paste(None, &burn).await.unwrap(), "once");
    assert_eq!(app.read_paste(None, &burn).await, Err("NOT_FOUND".into()));
}

// --- 3. Idempotency keys: nobody else's paste, the whole input, through an index. -------------

const CREATE_KEYED: &str = "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id visibility } deleteToken } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_never_hands_anyone_else_a_paste() {
    let app = TestApp::spawn().await;
    // Without an account a key is a secret of at least 128 bits: a guessable one is refused.
    let r = app
        .gql(
            CREATE_KEYED,
            json!({ "i": { "content": "x", "idempotencyKey": "short-key-1" } }),
        )
        .await;
    assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "{r}");
    // Two accounts using the same key get two pastes; neither sees the other's.
    let key = "same-key-for-both";
    let alice = app
        .register(&crate::harness::unique("alice"), "a good long password")
        .await;
    let bob = app
        .register(&crate::harness::unique("bob"), "a good long password")
        .await;
    let create = |token: String| {
        let app = &app;
        async move {
            app.gql_as(
                Some(&token),
                CREATE_KEYED,
                json!({ "i": { "content": "same", "idempotencyKey": key } }),
            )
            .await["data"]["createPaste"]["paste"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (a, b) = (create(alice.clone()).await, create(bob).await);
    assert_ne!(a, b);
    assert_eq!(
        create(alice.clone()).await,
        a,
        "alice's retry is her own paste"
    );
    // A retry that asks for anything else is refused, never answered with the first paste.
    let r = app
        .gql_as(
            Some(&alice),
            CREATE_KEYED,
            json!({ "i": { "content": "same", "idempotencyKey": key, "visibility": "PRIVATE" } }),
        )
        .await;
    assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_key_is_free_again_and_a_replayed_delete_token_outlives_the_jwt_secret() {
    let app = TestApp::spawn().await;
    let key = "0123456789abcdef0123456789abcdef";
    let input = json!({ "i": { "content": "kept", "idempotencyKey": key } });
    let first = app.gql(CREATE_KEYED, input.clone()).await;
    let id = first["data"]["createPaste"]["paste"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = first["data"]["createPaste"]["deleteToken"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another instance with another JWT secret (a rotation): the retry gets the same paste
    // and the same delete token, and the token deletes it.
    let mut rotated = app.deployment.clone();
    rotated.jwt_secret = crate::harness::unique("rotated-secret-").repeat(3);
    let other = TestApp::instance(&rotated, |_| {}).await;
    let replay = other.gql(CREATE_KEYED, input.clone()).await;
    assert_eq!(
        replay["data"]["createPaste"]["paste"]["id"],
        id.as_str(),
        "{replay}"
    );
    assert_eq!(replay["data"]["createPaste"]["deleteToken"], token.as_str());
    // Expired (not swept yet): the key makes a new paste instead of being blocked.
    app.sql(&format!(
        "UPDATE pastes SET expires_at = now() - interval '1 second' WHERE id = '{id}'"
    ))
    .await;
    let again = other.gql(CREATE_KEYED, input).await;
    let new_id = again["data"]["createPaste"]["paste"]["id"]
        .as_str()
        .unwrap();
    assert_ne!(new_id, id, "{again}");
    let r = other
        .gql(
            "mutation($id: ID!, $t: String) { deletePaste(id: $id, deleteToken: $t) }",
            json!({ "id": new_id, "t": again["data"]["createPaste"]["deleteToken"] }),
        )
        .await;
    assert_eq!(r["data"]["deletePaste"], true, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_create_finds_its_key_through_an_index() {
    let app = TestApp::spawn().await;
    let url = pastebin::services::db::primary_url(app.app.config());
    use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
    let mut conn = diesel_async::AsyncPgConnection::establish(&url)
        .await
        .unwrap();
    conn.batch_execute("SET enable_seqscan = off")
        .await
        .unwrap();
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
        line: String,
    }
    // The lookup every keyed create makes (`find_by_idempotency_scope`).
    let plan: Vec<Line> = diesel::sql_query(
        "EXPLAIN SELECT id, input_sha256 FROM pastes WHERE idempotency_scope = '\\x00'::bytea",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let plan: String = plan.into_iter().map(|l| l.line + "\n").collect();
    assert!(plan.contains("pastes_idempotency_scope_idx"), "{plan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_racing_a_delete_that_finds_the_object_gone_is_not_found() {
    let pair = crate::cluster::PgPair::start().await;
    pair.migrate().await;
    let deployment =
        crate::harness::Deployment::with_main_database(pair.primary_url(), pair.replica_url())
            .await;
    let tweak = |c: &mut pastebin::config::Config| c.object_store.inline_max = 0;
    let app = TestApp::instance(&deployment, tweak).await;
    let (id, token) = app.create_paste("in the bucket").await;
    // The replica stops applying: it still has the row after the delete, whose object is gone.
    pair.sync(0, false);
    pair.psql(1, "SELECT pg_wal_replay_pause()");
    let r = app
        .gql(
            "mutation($id: ID!, $t: String) { deletePaste(id: $id, deleteToken: $t) }",
            json!({ "id": id, "t": token }),
        )
        .await;
    assert_eq!(r["data"]["deletePaste"], true, "{r}");
    let reader = TestApp::instance(&deployment, tweak).await;
    assert_eq!(reader.read_paste(None, &id).await, Err("NOT_FOUND".into()));
    assert_eq!(reader.raw(&id).await.status(), 404);
    pair.psql(1, "SELECT pg_wal_replay_resume()");
}

// --- 11. Object-store writes never destroy another paste, nor a paste that may exist. -------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_commit_timed_out_keeps_its_object() {
    let pair = crate::cluster::PgPair::start().await;
    pair.migrate().await;
    let deployment =
        crate::harness::Deployment::with_main_database(pair.primary_url(), pair.replica_url())
            .await;
    let app = TestApp::instance(&deployment, |c| {
        c.object_store.inline_max = 0;
        c.database.db_statement_timeout_ms = 1500;
    })
    .await;
    // The synchronous standby is gone: the commit waits for it until the timeout cancels the
    // wait. The row is committed on the primary all the same.
    pair.kill(1);
    let r = app
        .gql(
            "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } } }",
            json!({ "i": { "content": "committed, unanswered", "idempotencyKey": "0123456789abcdef0123456789abcdef" } }),
        )
        .await;
    assert_eq!(error_code(&r), Some("SERVICE_UNAVAILABLE"), "{r}");
    // The row is there: so is its object, and the paste reads back whole.
    let ids = pair.psql_db(0, "pastebin", "SELECT id FROM pastes");
    assert_eq!(ids.lines().count(), 1, "{ids}");
    pair.start_node(1);
    let retried = app
        .gql(
            "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id content } } }",
            json!({ "i": { "content": "committed, unanswered", "idempotencyKey": "0123456789abcdef0123456789abcdef" } }),
        )
        .await;
    assert_eq!(
        retried["data"]["createPaste"]["paste"]["id"],
        ids.trim(),
        "{retried}"
    );
    assert_eq!(
        retried["data"]["createPaste"]["paste"]["content"],
        "committed, unanswered"
    );
}
