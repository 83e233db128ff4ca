//! The subscription fan-out (`src/http/fanout.rs`): shared `pasteViews` subscriptions must look,
//! byte for byte, like async-graphql's on both subprotocols, never mix groups, stop one
//! subscriber at a time, free a group with its last member, and refuse whom the general path
//! refuses with the same error. The general path is an instance with `ws_fanout` off (same
//! deployment), or a document the fan-out does not take.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::harness::{Deployment, TestApp, eventually, metric};

const TRANSPORT: &str = "graphql-transport-ws";
const LEGACY: &str = "graphql-ws";
const VIEWS: &str = "subscription($id: ID!) { pasteViews(id: $id) }";
/// The same payloads through a directive, which the fan-out leaves to async-graphql. (Not a
/// fragment: async-graphql ignores fragments at the root of a subscription and completes it at
/// once, which the fan-out keeps by leaving them to it too.)
const VIEWS_BY_DIRECTIVE: &str =
    "subscription($id: ID!) { pasteViews(id: $id) @include(if: true) }";

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket that shows the server's messages as sent (text, not parsed).
struct Socket {
    ws: Ws,
    legacy: bool,
}

impl Socket {
    /// Connects, sends `connection_init` and waits for the ack.
    async fn open(app: &TestApp, protocol: &str, token: Option<&str>) -> Self {
        let mut request = format!("ws://{}/graphql/ws", app.addr)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocol.parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let mut me = Self {
            ws,
            legacy: protocol == LEGACY,
        };
        let payload = match token {
            Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
            None => json!({}),
        };
        me.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        assert_eq!(
            me.text().await,
            r#"{"type":"connection_ack"}"#,
            "the first message is the ack"
        );
        me
    }

    async fn send(&mut self, v: Value) {
        self.ws.send(Message::text(v.to_string())).await.unwrap();
    }

    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = if self.legacy { "start" } else { "subscribe" };
        self.send(json!({ "id": id, "type": kind, "payload": { "query": query, "variables": variables } }))
            .await;
    }

    async fn complete(&mut self, id: &str) {
        let kind = if self.legacy { "stop" } else { "complete" };
        self.send(json!({ "id": id, "type": kind })).await;
    }

    /// The next text message within `wait` (pings skipped).
    async fn text_within(&mut self, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(Message::Text(t)))) => return Some(t.to_string()),
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                other => panic!("the socket ended: {other:?}"),
            }
        }
    }

    async fn text(&mut self) -> String {
        self.text_within(Duration::from_secs(15))
            .await
            .expect("a message within 15 s")
    }

    async fn json(&mut self) -> Value {
        serde_json::from_str(&self.text().await).unwrap()
    }
}

/// `(fast, general)`: two instances of one deployment, with and without the fan-out.
async fn instances() -> (TestApp, TestApp) {
    let deployment = Deployment::new().await;
    let fast = TestApp::instance(&deployment, |_| {}).await;
    let general = TestApp::instance(&deployment, |c| c.server.ws_fanout = false).await;
    (fast, general)
}

async fn fanned_out(app: &TestApp) -> f64 {
    metric(&app.metrics().await, "pastebin_ws_fanout_subscribes_total")
}

async fn view(app: &TestApp, id: &str) {
    assert_eq!(app.raw(id).await.status(), 200);
}

async fn delete(app: &TestApp, id: &str, token: &str) {
    let r = app
        .gql(
            "mutation($id: ID!, $t: String) { deletePaste(id: $id, deleteToken: $t) }",
            json!({ "id": id, "t": token }),
        )
        .await;
    assert_eq!(r["data"]["deletePaste"], true, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_subscriptions_send_what_async_graphql_sends_on_both_protocols() {
    let (fast, general) = instances().await;
    for protocol in [TRANSPORT, LEGACY] {
        let (id, delete_token) = fast.create_paste("watched").await;
        let vars = json!({ "id": id });
        // An id that needs escaping in JSON.
        let sub = "s\"1\\é";
        let before = fanned_out(&fast).await;
        let mut shared = Socket::open(&fast, protocol, None).await;
        let mut reference = Socket::open(&general, protocol, None).await;
        let mut directive = Socket::open(&fast, protocol, None).await;
        shared.subscribe(sub, VIEWS, vars.clone()).await;
        reference.subscribe(sub, VIEWS, vars.clone()).await;
        directive
            .subscribe(sub, VIEWS_BY_DIRECTIVE, vars.clone())
            .await;
        let first = reference.text().await;
        let kind = if protocol == LEGACY { "data" } else { "next" };
        let escaped = serde_json::to_string(sub).unwrap();
        assert_eq!(
            first,
            format!(
                r#"{{"type":"{kind}","id":{escaped},"payload":{{"data":{{"pasteViews":0}}}}}}"#
            )
        );
        assert_eq!(shared.text().await, first, "{protocol}: the first count");
        assert_eq!(directive.text().await, first, "{protocol}: the first count");
        assert_eq!(
            fanned_out(&fast).await,
            before + 1.0,
            "{protocol}: only the plain subscription is fanned out"
        );

        view(&fast, &id).await;
        let next = reference.text().await;
        assert!(next.contains(r#""pasteViews":1"#), "{next}");
        assert_eq!(shared.text().await, next, "{protocol}: an update");
        assert_eq!(directive.text().await, next, "{protocol}: an update");

        // Completed by the client: answered with `complete`, then nothing more.
        for socket in [&mut shared, &mut reference] {
            socket.complete(sub).await;
            assert_eq!(
                socket.text().await,
                format!(r#"{{"type":"complete","id":{escaped}}}"#),
                "{protocol}"
            );
        }
        view(&fast, &id).await;
        assert!(directive.text().await.contains(r#""pasteViews":2"#));
        for socket in [&mut shared, &mut reference] {
            assert_eq!(
                socket.text_within(Duration::from_millis(500)).await,
                None,
                "{protocol}: nothing after complete"
            );
        }

        // A fragment at the root: async-graphql completes it at once, on both instances.
        let fragment = "subscription($id: ID!) { ... on Subscription { pasteViews(id: $id) } }";
        shared.subscribe("f", fragment, vars.clone()).await;
        reference.subscribe("f", fragment, vars.clone()).await;
        let end = reference.text().await;
        assert_eq!(end, r#"{"type":"complete","id":"f"}"#);
        assert_eq!(shared.text().await, end, "{protocol}: a fragment");

        // Ended by the server (the paste is deleted): `complete` on both.
        shared.subscribe("2", VIEWS, vars.clone()).await;
        reference.subscribe("2", VIEWS, vars.clone()).await;
        assert_eq!(shared.text().await, reference.text().await);
        delete(&fast, &id, delete_token.as_deref().unwrap()).await;
        let end = reference.text().await;
        assert_eq!(end, r#"{"type":"complete","id":"2"}"#);
        assert_eq!(shared.text().await, end, "{protocol}: the end");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_group_sends_its_own_selection_of_its_own_paste() {
    let app = TestApp::spawn().await;
    let (x, _) = app.create_paste("x").await;
    let (y, _) = app.create_paste("y").await;
    for _ in 0..3 {
        view(&app, &y).await;
    }
    let mut one = Socket::open(&app, TRANSPORT, None).await;
    let mut two = Socket::open(&app, LEGACY, None).await;
    one.subscribe("x", VIEWS, json!({ "id": x })).await;
    one.subscribe(
        "x-aliased",
        "subscription($id: ID!) { n: pasteViews(id: $id) }",
        json!({ "id": x }),
    )
    .await;
    one.subscribe(
        "y-literal",
        &format!(r#"subscription {{ pasteViews(id: "{y}") }}"#),
        json!({}),
    )
    .await;
    two.subscribe("y", VIEWS, json!({ "id": y })).await;

    // What each subscription may carry: its own key and its own paste's counts.
    let expect = |m: &Value| -> (String, &'static str, bool) {
        let data = &m["payload"]["data"];
        let sub = m["id"].as_str().unwrap().to_owned();
        let (key, paste_x) = match sub.as_str() {
            "x" => ("pasteViews", true),
            "x-aliased" => ("n", true),
            "y-literal" | "y" => ("pasteViews", false),
            other => panic!("unknown subscription {other}"),
        };
        assert_eq!(data.as_object().unwrap().len(), 1, "{m}");
        assert!(data[key].is_i64(), "{m}");
        (sub, key, paste_x)
    };
    let mut first = std::collections::BTreeMap::new();
    for _ in 0..3 {
        let m = one.json().await;
        assert_eq!(m["type"], "next", "{m}");
        let (sub, key, _) = expect(&m);
        first.insert(sub, m["payload"]["data"][key].as_i64().unwrap());
    }
    let m = two.json().await;
    assert_eq!(
        (m["type"].as_str(), m["id"].as_str()),
        (Some("data"), Some("y"))
    );
    first.insert(
        "y".into(),
        m["payload"]["data"]["pasteViews"].as_i64().unwrap(),
    );
    let wanted: std::collections::BTreeMap<String, i64> = [
        ("x".into(), 0),
        ("x-aliased".into(), 0),
        ("y-literal".into(), 3),
        ("y".into(), 3),
    ]
    .into();
    assert_eq!(first, wanted);
    eventually("three groups", Duration::from_secs(5), || async {
        metric(&app.metrics().await, "pastebin_ws_fanout_groups") == 3.0
    })
    .await;

    // A view of x: both selections of x hear of it, y's subscribers do not.
    view(&app, &x).await;
    let mut got = std::collections::BTreeSet::new();
    for _ in 0..2 {
        let m = one.json().await;
        let (sub, key, paste_x) = expect(&m);
        assert!(paste_x, "a view of x reached {sub}: {m}");
        assert_eq!(m["payload"]["data"][key], 1, "{m}");
        got.insert(sub);
    }
    assert_eq!(got, ["x".to_owned(), "x-aliased".to_owned()].into());
    assert_eq!(two.text_within(Duration::from_millis(700)).await, None);
    // A view of y: only y's.
    view(&app, &y).await;
    let m = one.json().await;
    assert_eq!(expect(&m).0, "y-literal", "{m}");
    assert_eq!(m["payload"]["data"]["pasteViews"], 4, "{m}");
    let m = two.json().await;
    assert_eq!(m["payload"]["data"]["pasteViews"], 4, "{m}");
    assert_eq!(one.text_within(Duration::from_millis(500)).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_stops_one_subscriber_and_the_last_one_frees_the_group() {
    let app = TestApp::spawn().await;
    let (id, _) = app.create_paste("watched").await;
    let vars = json!({ "id": id });
    let mut a = Socket::open(&app, TRANSPORT, None).await;
    let mut b = Socket::open(&app, TRANSPORT, None).await;
    a.subscribe("1", VIEWS, vars.clone()).await;
    a.subscribe("2", VIEWS, vars.clone()).await;
    b.subscribe("1", VIEWS, vars.clone()).await;
    for _ in 0..2 {
        assert_eq!(a.json().await["payload"]["data"]["pasteViews"], 0);
    }
    assert_eq!(b.json().await["payload"]["data"]["pasteViews"], 0);
    let gauges = || async {
        let page = app.metrics().await;
        (
            metric(&page, "pastebin_ws_fanout_groups"),
            metric(&page, "pastebin_ws_fanout_members"),
        )
    };
    assert_eq!(gauges().await, (1.0, 3.0), "one group of three");

    a.complete("1").await;
    assert_eq!(a.text().await, r#"{"type":"complete","id":"1"}"#);
    view(&app, &id).await;
    let m = a.json().await;
    assert_eq!(
        (m["id"].as_str(), &m["payload"]["data"]["pasteViews"]),
        (Some("2"), &json!(1))
    );
    assert_eq!(
        a.text_within(Duration::from_millis(500)).await,
        None,
        "1 is over"
    );
    assert_eq!(b.json().await["payload"]["data"]["pasteViews"], 1);
    assert_eq!(gauges().await, (1.0, 2.0));

    // A completed id can be used again, and joins the group.
    a.subscribe("1", VIEWS, vars.clone()).await;
    assert_eq!(a.json().await["payload"]["data"]["pasteViews"], 1);
    assert_eq!(gauges().await, (1.0, 3.0));

    a.complete("1").await;
    a.complete("2").await;
    let mut ends = vec![a.text().await, a.text().await];
    ends.sort();
    assert_eq!(
        ends,
        [
            r#"{"type":"complete","id":"1"}"#,
            r#"{"type":"complete","id":"2"}"#
        ]
    );
    assert_eq!(gauges().await, (1.0, 1.0), "b is still in the group");
    drop(b);
    eventually(
        "the last member frees the group",
        Duration::from_secs(5),
        || async { gauges().await == (0.0, 0.0) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoever_may_not_read_the_paste_gets_the_general_paths_error() {
    let (fast, general) = instances().await;
    let owner = fast
        .register(&crate::harness::unique("owner"), "a good long password")
        .await;
    let other = fast
        .register(&crate::harness::unique("other"), "a good long password")
        .await;
    let (private, _) = fast
        .create_paste_with(
            Some(&owner),
            json!({ "content": "mine", "visibility": "PRIVATE" }),
        )
        .await;
    let cases = [
        (None, private.as_str(), "NOT_FOUND"),
        (Some(other.as_str()), private.as_str(), "NOT_FOUND"),
        (None, "nosuchpaste", "NOT_FOUND"),
    ];
    for protocol in [TRANSPORT, LEGACY] {
        for (token, id, code) in cases {
            let before = fanned_out(&fast).await;
            let mut shared = Socket::open(&fast, protocol, token).await;
            let mut reference = Socket::open(&general, protocol, token).await;
            shared.subscribe("e", VIEWS, json!({ "id": id })).await;
            reference.subscribe("e", VIEWS, json!({ "id": id })).await;
            let error = reference.text().await;
            let v: Value = serde_json::from_str(&error).unwrap();
            assert_eq!(
                v["payload"]["errors"][0]["extensions"]["code"], code,
                "{error}"
            );
            assert_eq!(shared.text().await, error, "{protocol} {token:?} {id}");
            let end = reference.text().await;
            assert_eq!(end, r#"{"type":"complete","id":"e"}"#);
            assert_eq!(shared.text().await, end);
            assert_eq!(
                fanned_out(&fast).await,
                before + 1.0,
                "taken by the fan-out"
            );
        }
    }
    // The owner may.
    let mut shared = Socket::open(&fast, TRANSPORT, Some(&owner)).await;
    shared.subscribe("o", VIEWS, json!({ "id": private })).await;
    assert_eq!(
        shared.text().await,
        r#"{"type":"next","id":"o","payload":{"data":{"pasteViews":0}}}"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_subscribes_are_charged_and_capped_like_any_other() {
    // Reads are counted per instance: each has its own 3 a minute.
    let deployment = Deployment::new().await;
    let tweak = |general: bool| {
        move |c: &mut pastebin::config::Config| {
            c.limits.rate_read_per_min = 3;
            c.limits.ws_max_subscriptions = 2;
            c.server.ws_fanout = !general;
        }
    };
    let fast = TestApp::instance(&deployment, tweak(false)).await;
    let general = TestApp::instance(&deployment, tweak(true)).await;
    let (id, _) = fast.create_paste("watched").await;
    let vars = json!({ "id": id });
    let mut transcripts = Vec::new();
    for app in [&fast, &general] {
        let before = fanned_out(app).await;
        let mut socket = Socket::open(app, TRANSPORT, None).await;
        let mut transcript = Vec::new();
        for sub in ["1", "2", "3"] {
            socket.subscribe(sub, VIEWS, vars.clone()).await;
            transcript.push(socket.json().await);
        }
        socket.complete("1").await;
        transcript.push(socket.json().await);
        socket.subscribe("4", VIEWS, vars.clone()).await;
        transcript.push(socket.json().await);
        socket.complete("4").await;
        transcript.push(socket.json().await);
        socket.subscribe("5", VIEWS, vars.clone()).await;
        transcript.push(socket.json().await);
        transcript.push(socket.json().await);
        // When the budget refills differs by the time between the two runs.
        let retry = &mut transcript[6]["payload"]["errors"][0]["extensions"]["retryAfter"];
        assert!(retry.is_u64(), "a retryAfter: {retry}");
        *retry = Value::Null;
        transcripts.push(transcript);
        let taken = fanned_out(app).await - before;
        assert_eq!(
            taken,
            if app.app.config().server.ws_fanout {
                4.0
            } else {
                0.0
            }
        );
    }
    let [fast, general] = [&transcripts[0], &transcripts[1]];
    assert_eq!(fast, general);
    let kinds: Vec<_> = fast.iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "next", "next", "error", "complete", "next", "complete", "next", "complete"
        ]
    );
    assert_eq!(fast[2]["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    assert_eq!(
        fast[6]["payload"]["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "the fourth subscribe is over the read budget: {}",
        fast[6]
    );
}
