//! `make failover-drill`: a regional failover, end to end, on the local stack.
//!
//! Two API instances ("region a" and "region b", each its own process and in-process cache)
//! take a bounded mixed load (creates with idempotency keys, reads of acknowledged pastes)
//! while the primary is crashed, the standby promoted after a pause, the old primary rejoined
//! as the new standby (pg_rewind), and the roles switched back. A subscriber on region b
//! watches a paste's view count throughout. It prints what was attempted, refused, lost and
//! duplicated, and the time from each promotion to the first write on each instance (RTO).
//!
//! Needs the stack up and its env exported, and `target/release/pastebin` built (the make
//! target does both). Leaves the stack in its starting roles.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const CREATE: &str = "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } } }";
const READ: &str = "query($id: ID!) { paste(id: $id) { content } }";
/// Requests per second per instance (creates and reads together).
const RATE_PER_INSTANCE: u64 = 150;

struct Instance {
    name: &'static str,
    url: String,
    child: Child,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Default)]
struct Stats {
    reads: AtomicU64,
    read_failures: AtomicU64,
    writes: AtomicU64,
    writes_acknowledged: AtomicU64,
    writes_refused: AtomicU64,
    writes_other_errors: AtomicU64,
    /// (id, key, content) of every acknowledged create.
    acknowledged: Mutex<Vec<(String, String, String)>>,
    /// Per instance: when the last successful write happened.
    last_write: Mutex<[Option<Instant>; 2]>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn stack(args: &[&str]) {
    let root = env!("CARGO_MANIFEST_DIR");
    let status = Command::new(format!("{root}/scripts/stack"))
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("scripts/stack runs");
    assert!(status.success(), "scripts/stack {args:?} failed");
}

fn start(name: &'static str, bin: &str, prefix: &str) -> Instance {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let child = Command::new(bin)
        .arg("serve")
        .env("PASTEBIN_ADDR", format!("127.0.0.1:{port}"))
        .env("PASTEBIN_PUBLIC_URL", &url)
        .env("PASTEBIN_REDIS_PREFIX", prefix)
        .env("PASTEBIN_S3_PREFIX", prefix.replace(':', "/"))
        .env("PASTEBIN_RATE_CREATE_PER_MIN", "0")
        .env("PASTEBIN_RATE_READ_PER_MIN", "0")
        .env("PASTEBIN_LOG", "error")
        .env("PASTEBIN_DB_CONNECT_TIMEOUT_MS", "1000")
        .env("PASTEBIN_DB_STATEMENT_TIMEOUT_MS", "2000")
        .stdout(Stdio::null())
        .spawn()
        .expect("pastebin serve starts");
    Instance { name, url, child }
}

async fn wait_healthy(http: &reqwest::Client, url: &str) {
    for _ in 0..100 {
        if http
            .get(format!("{url}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} did not become healthy");
}

async fn gql(http: &reqwest::Client, url: &str, query: &str, variables: Value) -> Option<Value> {
    let r = http
        .post(format!("{url}/graphql"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .ok()?;
    r.json().await.ok()
}

fn code(r: &Value) -> Option<&str> {
    r["errors"][0]["extensions"]["code"].as_str()
}

/// One instance's load: a create with a fresh key or a retry of a refused one, then a read
/// of an acknowledged paste, paced to the rate.
async fn load(which: usize, url: String, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let tick = Duration::from_micros(2_000_000 / RATE_PER_INSTANCE);
    let mut retry: Option<(String, String)> = None;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        n += 1;
        let (key, content) = retry.take().unwrap_or_else(|| {
            (
                format!("drill{which}{n:08}{:024x}", std::process::id()),
                format!("region {which} paste {n}"),
            )
        });
        stats.writes.fetch_add(1, Ordering::Relaxed);
        match gql(
            &http,
            &url,
            CREATE,
            json!({ "i": { "content": content, "idempotencyKey": key } }),
        )
        .await
        {
            Some(r) if r["errors"].is_null() => {
                let id = r["data"]["createPaste"]["paste"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                stats.writes_acknowledged.fetch_add(1, Ordering::Relaxed);
                stats.acknowledged.lock().await.push((id, key, content));
                stats.last_write.lock().await[which] = Some(Instant::now());
            }
            Some(r) if code(&r) == Some("SERVICE_UNAVAILABLE") => {
                stats.writes_refused.fetch_add(1, Ordering::Relaxed);
                retry = Some((key, content));
            }
            _ => {
                stats.writes_other_errors.fetch_add(1, Ordering::Relaxed);
                retry = Some((key, content));
            }
        }
        let pick = {
            let acked = stats.acknowledged.lock().await;
            (!acked.is_empty()).then(|| acked[(n as usize * 7919 + which) % acked.len()].clone())
        };
        if let Some((id, _, content)) = pick {
            stats.reads.fetch_add(1, Ordering::Relaxed);
            let ok = gql(&http, &url, READ, json!({ "id": id }))
                .await
                .is_some_and(|r| r["data"]["paste"]["content"] == content.as_str());
            if !ok {
                stats.read_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        if let Some(rest) = tick.checked_sub(started.elapsed()) {
            tokio::time::sleep(rest).await;
        }
    }
}

/// Subscribes to a paste's views on `url`; counts updates and the longest silence while views
/// keep being made elsewhere.
async fn watch(
    url: String,
    id: String,
    updates: Arc<AtomicU64>,
    longest_gap: Arc<Mutex<Duration>>,
    stop: Arc<AtomicBool>,
) {
    let ws_url = url.replace("http://", "ws://") + "/graphql/ws";
    let mut request = ws_url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket");
    ws.send(Message::text(
        json!({ "type": "connection_init" }).to_string(),
    ))
    .await
    .unwrap();
    ws.send(Message::text(
        json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription($id: ID!) { pasteViews(id: $id) }", "variables": { "id": id } } })
        .to_string(),
    ))
    .await
    .unwrap();
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        match tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.contains("\"next\"") => {
                updates.fetch_add(1, Ordering::Relaxed);
                let gap = last.elapsed();
                let mut longest = longest_gap.lock().await;
                *longest = (*longest).max(gap);
                last = Instant::now();
            }
            Ok(Some(Ok(_))) | Err(_) => {}
            Ok(_) => break,
        }
    }
}

async fn first_write_after(
    stats: &Stats,
    since: Instant,
    limit: Duration,
) -> [Option<Duration>; 2] {
    let deadline = Instant::now() + limit;
    loop {
        let last = *stats.last_write.lock().await;
        let done = last.map(|t| t.filter(|t| *t > since).map(|t| t - since));
        if done.iter().all(Option::is_some) || Instant::now() > deadline {
            return done;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::main]
async fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let bin =
        std::env::var("PASTEBIN_BIN").unwrap_or_else(|_| format!("{root}/target/release/pastebin"));
    assert!(
        std::env::var("PASTEBIN_DATABASE_URL").is_ok(),
        "export the stack env first: eval \"$(scripts/stack env)\""
    );
    let status = Command::new(&bin)
        .arg("migrate")
        .env("PASTEBIN_LOG", "error")
        .status()
        .expect("migrate");
    assert!(status.success());
    let prefix = format!("drill-{}:", std::process::id());
    let instances = [
        start("region a", &bin, &prefix),
        start("region b", &bin, &prefix),
    ];
    let http = reqwest::Client::new();
    for i in &instances {
        wait_healthy(&http, &i.url).await;
    }

    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let watched = gql(
        &http,
        &instances[0].url,
        CREATE,
        json!({ "i": { "content": "watched" } }),
    )
    .await
    .unwrap();
    let watched = watched["data"]["createPaste"]["paste"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let updates = Arc::new(AtomicU64::new(0));
    let longest_gap = Arc::new(Mutex::new(Duration::ZERO));
    let watcher = tokio::spawn(watch(
        instances[1].url.clone(),
        watched.clone(),
        Arc::clone(&updates),
        Arc::clone(&longest_gap),
        Arc::clone(&stop),
    ));
    // Views of the watched paste made on region a, a few a second, all drill long.
    let viewer = tokio::spawn({
        let (url, id, stop) = (instances[0].url.clone(), watched.clone(), Arc::clone(&stop));
        async move {
            let http = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let _ = http.get(format!("{url}/raw/{id}")).send().await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });
    let loads: Vec<_> = instances
        .iter()
        .enumerate()
        .map(|(which, i)| {
            tokio::spawn(load(
                which,
                i.url.clone(),
                Arc::clone(&stats),
                Arc::clone(&stop),
            ))
        })
        .collect();

    let step = |s: &str| eprintln!("drill: {s}");
    tokio::time::sleep(Duration::from_secs(5)).await;
    step("crashing the primary");
    stack(&["crash"]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    step("promoting the standby");
    stack(&["failover"]);
    let promoted = Instant::now();
    let rto1 = first_write_after(&stats, promoted, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    step("rejoining the old primary as the new standby (pg_rewind)");
    stack(&["rejoin"]);
    tokio::time::sleep(Duration::from_secs(5)).await;
    step("failing back");
    stack(&["failover"]);
    let promoted_back = Instant::now();
    let rto2 = first_write_after(&stats, promoted_back, Duration::from_secs(30)).await;
    stack(&["rejoin"]);
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    for l in loads {
        l.await.unwrap();
    }
    viewer.await.unwrap();
    watcher.await.unwrap();

    // Every acknowledged paste, from both instances; duplicates by idempotency key.
    let acked = stats.acknowledged.lock().await.clone();
    let mut missing = 0;
    for (id, _, content) in &acked {
        for i in &instances {
            let r = gql(&http, &i.url, READ, json!({ "id": id })).await;
            if !r.is_some_and(|r| r["data"]["paste"]["content"] == content.as_str()) {
                missing += 1;
                eprintln!("drill: {} does not serve acknowledged paste {id}", i.name);
            }
        }
    }
    let mut per_key: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (id, key, _) in &acked {
        per_key.entry(key).or_default().insert(id);
    }
    let duplicates = per_key.values().filter(|ids| ids.len() > 1).count();

    let ms =
        |d: Option<Duration>| d.map_or("none".to_owned(), |d| format!("{:.2} s", d.as_secs_f64()));
    let s = &stats;
    println!();
    println!(
        "| failover drill ({} req/s per instance) | value |",
        RATE_PER_INSTANCE
    );
    println!("|---|---|");
    println!(
        "| reads attempted / failed | {} / {} |",
        s.reads.load(Ordering::Relaxed),
        s.read_failures.load(Ordering::Relaxed)
    );
    println!(
        "| writes attempted / acknowledged / refused (SERVICE_UNAVAILABLE, retried with the same key) / other errors | {} / {} / {} / {} |",
        s.writes.load(Ordering::Relaxed),
        s.writes_acknowledged.load(Ordering::Relaxed),
        s.writes_refused.load(Ordering::Relaxed),
        s.writes_other_errors.load(Ordering::Relaxed)
    );
    println!("| acknowledged pastes missing afterwards (checked on both instances) | {missing} |");
    println!("| duplicate pastes (one idempotency key, two pastes) | {duplicates} |");
    println!(
        "| RTO after promotion, region a / region b | {} / {} |",
        ms(rto1[0]),
        ms(rto1[1])
    );
    println!(
        "| RTO after failing back, region a / region b | {} / {} |",
        ms(rto2[0]),
        ms(rto2[1])
    );
    println!(
        "| subscription on region b: updates / longest silence | {} / {:.2} s |",
        updates.load(Ordering::Relaxed),
        longest_gap.lock().await.as_secs_f64()
    );
    let rto_ok = rto1
        .iter()
        .chain(&rto2)
        .all(|r| r.is_some_and(|r| r <= Duration::from_secs(10)));
    let ok =
        missing == 0 && duplicates == 0 && rto_ok && s.read_failures.load(Ordering::Relaxed) == 0;
    println!();
    println!(
        "drill: {}",
        if ok {
            "PASS (0 lost, 0 duplicates, RTO <= 10 s, reads never failed)"
        } else {
            "FAIL"
        }
    );
    if !ok {
        std::process::exit(1);
    }
}
