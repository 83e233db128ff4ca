//! Subscription benchmark for `make bench`: N `pasteViews` subscribers on one instance (A),
//! views made through another instance (B), delivery latency measured end to end.
//!
//! 1. Opens `--subscribers` WebSocket connections to A (`graphql-transport-ws`), at most
//!    `--connect-parallel` handshakes at a time, each subscribing to `pasteViews(id)`, and waits
//!    until every one has received its initial count.
//! 2. From a separate thread (its own runtime, so it is never delayed by the subscribers), makes
//!    `--rounds` views of the paste with `GET {--views}/raw/{id}` on B, `--gap-ms` apart.
//! 3. For every subscriber and round: latency = (when the subscriber first received a count ≥
//!    the total after that view) − (when the GET to B returned). A subscriber that never sees a
//!    round's total (before `--settle-ms` after the last round) missed it.
//!
//! Prints a summary and writes every figure as JSON (`--json`, or stdout with `--json -`).
//! Needs one file descriptor per subscriber: run under `ulimit -n` ≥ subscribers + 100.
//! Cheap on memory: one task and a 4 KiB read buffer per connection, 4 bytes per sample.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const PROTOCOL: &str = "graphql-transport-ws";
const SUBSCRIPTION: &str = "subscription($id: ID!) { pasteViews(id: $id) }";
/// Marks an `initial` slot not yet filled and the base count not yet known.
const UNSET: u64 = u64::MAX;

#[derive(Parser, Debug)]
#[command(about = "pasteViews delivery latency: subscribers on one instance, views on another")]
struct Args {
    /// WebSocket endpoint of instance A, e.g. ws://127.0.0.1:8080/graphql/ws
    #[arg(long)]
    ws: String,
    /// Base URL of instance B, e.g. http://127.0.0.1:8081 (views are `GET {views}/raw/{id}`).
    #[arg(long)]
    views: String,
    /// Paste id to watch and view.
    #[arg(long)]
    id: String,
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Views made through B, one at a time.
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// Time between two views, in ms (the server sends at most 10 updates/s per subscriber,
    /// so keep it well above 100).
    #[arg(long, default_value_t = 400)]
    gap_ms: u64,
    /// Handshakes in flight at once while connecting (below the server's listen backlog, 128
    /// for a tokio listener, so that connect time is not SYN retransmissions).
    #[arg(long, default_value_t = 100)]
    connect_parallel: usize,
    /// Bound on one subscriber's handshake (TCP, upgrade, init/ack, initial count), in s.
    #[arg(long, default_value_t = 30)]
    handshake_timeout_s: u64,
    /// Bound on the whole connect phase, in s.
    #[arg(long, default_value_t = 180)]
    connect_timeout_s: u64,
    /// After the last view, how long to wait for stragglers before counting misses, in ms.
    #[arg(long, default_value_t = 5000)]
    settle_ms: u64,
    /// Fraction of subscribers that may fail to connect before the run is abandoned.
    #[arg(long, default_value_t = 0.01)]
    max_connect_failures: f64,
    /// Client runtime worker threads (0 = a current-thread runtime).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// PID of instance A: its RSS is sampled once all are connected and after the rounds.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Where to write the JSON results (`-` for stdout).
    #[arg(long)]
    json: Option<PathBuf>,
}

/// State shared by the subscriber tasks and the driver.
struct Shared {
    n: usize,
    rounds: usize,
    epoch: Instant,
    /// Total before the first view; `UNSET` during the connect phase.
    base: AtomicU64,
    /// `[round * n + subscriber]`: µs since `epoch` + 1 when the subscriber first saw the
    /// round's total; 0 = not (yet) seen.
    seen: Vec<AtomicU32>,
    /// Last count each subscriber received.
    last: Vec<AtomicU64>,
    /// Subscribers whose stream ended or failed after connecting.
    dropped: AtomicUsize,
    drop_reasons: std::sync::Mutex<BTreeMap<String, usize>>,
}

impl Shared {
    fn now_us(&self) -> u32 {
        u32::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u32::MAX - 1)
    }

    fn dropped(&self, reason: String) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        *self
            .drop_reasons
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(reason)
            .or_default() += 1;
    }

    /// Records every round whose total `count` covers, from `next_round` on.
    fn observe(&self, i: usize, count: u64, next_round: &mut usize) {
        self.last[i].store(count, Ordering::Relaxed);
        let base = self.base.load(Ordering::Acquire);
        if base == UNSET {
            return;
        }
        let mut now = None;
        while *next_round < self.rounds && base + (*next_round as u64) < count {
            let t = *now.get_or_insert_with(|| self.now_us() + 1);
            self.seen[*next_round * self.n + i].store(t, Ordering::Relaxed);
            *next_round += 1;
        }
    }
}

type Ws = WebSocketStream<TcpStream>;

/// One handshake's outcome: the subscriber's index, initial count and handshake time.
type Ready = Result<(usize, u64, Duration), String>;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.subscribers == 0 || args.rounds == 0 {
        bail!("--subscribers and --rounds must be > 0");
    }
    check_fd_limit("this process", "self", args.subscribers)?;
    if let Some(pid) = args.server_pid {
        check_fd_limit("the server", &pid.to_string(), args.subscribers)?;
    }
    let runtime = if args.threads == 0 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()?
    };
    let result = runtime.block_on(run(args));
    // Ten thousand sockets need not be closed politely: the process is about to exit.
    runtime.shutdown_background();
    result
}

async fn run(args: Args) -> anyhow::Result<()> {
    let n = args.subscribers;
    let shared = Arc::new(Shared {
        n,
        rounds: args.rounds,
        epoch: Instant::now(),
        base: AtomicU64::new(UNSET),
        seen: (0..n * args.rounds).map(|_| AtomicU32::new(0)).collect(),
        last: (0..n).map(|_| AtomicU64::new(UNSET)).collect(),
        dropped: AtomicUsize::new(0),
        drop_reasons: Default::default(),
    });

    // Resolve A once; every subscriber dials the same address.
    let request = args
        .ws
        .as_str()
        .into_client_request()
        .with_context(|| format!("--ws {:?} is not a WebSocket URL", args.ws))?;
    let host = request.uri().host().context("--ws has no host")?.to_owned();
    let port = request.uri().port_u16().unwrap_or(80);
    let addr: SocketAddr = tokio::net::lookup_host((host.as_str(), port))
        .await?
        .next()
        .with_context(|| format!("cannot resolve {host}"))?;
    let subscribe = json!({
        "id": "1",
        "type": "subscribe",
        "payload": {"query": SUBSCRIPTION, "variables": {"id": args.id}},
    })
    .to_string();
    let setup = Arc::new(Setup {
        url: args.ws.clone(),
        addr,
        subscribe,
        handshake_timeout: Duration::from_secs(args.handshake_timeout_s),
    });

    // --- Connect phase ---------------------------------------------------------------------
    eprintln!(
        "bench_subscribers: connecting {n} subscribers to {} ({} at a time)",
        args.ws, args.connect_parallel
    );
    let gate = Arc::new(Semaphore::new(args.connect_parallel.max(1)));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Ready>();
    let overflows_before = listen_overflows();
    let connect_start = Instant::now();
    for i in 0..n {
        let (setup, shared, gate, ready) = (
            Arc::clone(&setup),
            Arc::clone(&shared),
            Arc::clone(&gate),
            ready_tx.clone(),
        );
        tokio::spawn(async move { subscriber(i, setup, shared, gate, ready).await });
    }
    drop(ready_tx);

    let mut handshakes = Vec::with_capacity(n);
    let mut initial = Vec::with_capacity(n);
    let mut connect_errors: BTreeMap<String, usize> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.connect_timeout_s);
    let mut progress = Instant::now();
    while handshakes.len() + connect_errors.values().sum::<usize>() < n {
        match tokio::time::timeout_at(deadline, ready_rx.recv()).await {
            Ok(Some(Ok((_, count, took)))) => {
                initial.push(count);
                handshakes.push(took.as_micros() as u64);
            }
            Ok(Some(Err(e))) => *connect_errors.entry(e).or_default() += 1,
            Ok(None) => break,
            Err(_) => {
                let missing = n - handshakes.len() - connect_errors.values().sum::<usize>();
                *connect_errors
                    .entry(format!(
                        "connect phase timed out after {} s",
                        args.connect_timeout_s
                    ))
                    .or_default() += missing;
                break;
            }
        }
        if progress.elapsed() > Duration::from_secs(5) {
            progress = Instant::now();
            eprintln!(
                "bench_subscribers: {} connected, {} failed so far",
                handshakes.len(),
                connect_errors.values().sum::<usize>()
            );
        }
    }
    let connect_secs = connect_start.elapsed().as_secs_f64();
    // Connections the kernel refused or dropped because A's accept queue was full (machine-wide
    // counter; the client retries them after a SYN timeout of 1 s or more).
    let listen_overflows = listen_overflows()
        .zip(overflows_before)
        .map(|(after, before)| after.saturating_sub(before));
    if let Some(o) = listen_overflows.filter(|&o| o > 0) {
        eprintln!(
            "bench_subscribers: {o} connection attempts overflowed the server's accept queue (listen backlog)"
        );
    }
    let connected = handshakes.len();
    let failed = n - connected;
    for (e, count) in &connect_errors {
        eprintln!("bench_subscribers: {count} subscriber(s) failed: {e}");
    }
    eprintln!(
        "bench_subscribers: {connected}/{n} subscribed in {connect_secs:.2} s (handshake p50 {:.1} ms, p99 {:.1} ms)",
        percentile(&mut handshakes.clone(), 0.50) as f64 / 1000.0,
        percentile(&mut handshakes.clone(), 0.99) as f64 / 1000.0,
    );
    if connected == 0 || failed as f64 > args.max_connect_failures * n as f64 {
        bail!(
            "{failed} of {n} subscribers could not connect (allowed: {:.1}%); see the errors above",
            args.max_connect_failures * 100.0
        );
    }
    let base = *initial.iter().max().expect("connected > 0");
    let min_initial = *initial.iter().min().expect("connected > 0");
    if min_initial != base {
        eprintln!(
            "bench_subscribers: warning: initial counts differ ({min_initial}..{base}): the paste was viewed while connecting"
        );
    }
    shared.base.store(base, Ordering::Release);
    let rss_connected = args.server_pid.and_then(|p| proc_status_kib(p, "VmRSS"));
    let client_rss_connected = proc_status_kib_self("VmRSS");

    // --- Rounds ------------------------------------------------------------------------------
    eprintln!(
        "bench_subscribers: {} views through {} every {} ms (base total {base})",
        args.rounds, args.views, args.gap_ms
    );
    let cpu_before = self_cpu_secs();
    let server_cpu_before = args.server_pid.and_then(proc_cpu_secs);
    let driver = {
        let url = format!("{}/raw/{}", args.views.trim_end_matches('/'), args.id);
        let health = format!("{}/healthz", args.views.trim_end_matches('/'));
        let (rounds, gap, epoch) = (
            args.rounds,
            Duration::from_millis(args.gap_ms),
            shared.epoch,
        );
        std::thread::spawn(move || drive_views(&url, &health, rounds, gap, epoch))
    };
    let views = tokio::task::spawn_blocking(move || driver.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the view driver panicked"))??;

    // Wait for the last round to reach every live subscriber, or give up after --settle-ms.
    let settle_start = Instant::now();
    let last_round = args.rounds - 1;
    loop {
        let alive = connected.saturating_sub(shared.dropped.load(Ordering::Relaxed));
        let got = (0..n)
            .filter(|i| shared.seen[last_round * n + i].load(Ordering::Relaxed) != 0)
            .count();
        if got >= alive || settle_start.elapsed() > Duration::from_millis(args.settle_ms) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let client_cpu = self_cpu_secs() - cpu_before;
    let server_cpu = args
        .server_pid
        .and_then(proc_cpu_secs)
        .zip(server_cpu_before)
        .map(|(after, before)| after - before);
    let rss_end = args.server_pid.and_then(|p| proc_status_kib(p, "VmRSS"));
    let hwm_end = args.server_pid.and_then(|p| proc_status_kib(p, "VmHWM"));

    // --- Figures -----------------------------------------------------------------------------
    let live: Vec<usize> = (0..n)
        .filter(|&i| shared.last[i].load(Ordering::Relaxed) != UNSET)
        .collect();
    let mut latencies = Vec::with_capacity(live.len() * args.rounds);
    let mut missed = 0usize;
    let mut early = 0usize;
    let mut subscribers_missing = 0usize;
    let mut round_last = Vec::with_capacity(args.rounds);
    for &i in &live {
        let mut missed_any = false;
        for (r, view) in views.iter().enumerate() {
            match shared.seen[r * n + i].load(Ordering::Relaxed) {
                0 => {
                    missed += 1;
                    missed_any = true;
                }
                t => {
                    let t = u64::from(t - 1);
                    if t < view.returned_us {
                        early += 1;
                    }
                    latencies.push(t.saturating_sub(view.returned_us));
                }
            }
        }
        subscribers_missing += usize::from(missed_any);
    }
    for (r, view) in views.iter().enumerate() {
        let last = live
            .iter()
            .map(|&i| shared.seen[r * n + i].load(Ordering::Relaxed))
            .filter(|&t| t != 0)
            .map(|t| u64::from(t - 1).saturating_sub(view.returned_us))
            .max()
            .unwrap_or(0);
        round_last.push(last);
    }
    let mut get_rtt: Vec<u64> = views.iter().map(|v| v.returned_us - v.sent_us).collect();
    let ms = |us: u64| us as f64 / 1000.0;
    let samples = latencies.len();
    let mean = if samples > 0 {
        latencies.iter().sum::<u64>() as f64 / samples as f64 / 1000.0
    } else {
        0.0
    };
    let (p50, p90, p99, p999, max) = (
        percentile(&mut latencies, 0.50),
        percentile(&mut latencies, 0.90),
        percentile(&mut latencies, 0.99),
        percentile(&mut latencies, 0.999),
        latencies.iter().copied().max().unwrap_or(0),
    );
    let final_expected = base + args.rounds as u64;
    let final_ok = live
        .iter()
        .filter(|&&i| shared.last[i].load(Ordering::Relaxed) >= final_expected)
        .count();
    let drop_reasons = shared
        .drop_reasons
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();

    eprintln!(
        "bench_subscribers: {samples} deliveries: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms; {missed} missed ({subscribers_missing} subscribers missed at least one); {} dropped",
        ms(p50),
        ms(p90),
        ms(p99),
        ms(p999),
        ms(max),
        shared.dropped.load(Ordering::Relaxed)
    );
    eprintln!(
        "bench_subscribers: last subscriber per round p50 {:.1} ms, max {:.1} ms; GET to B p50 {:.1} ms; CPU during the rounds: client {:.2} s, server A {}",
        ms(percentile(&mut round_last.clone(), 0.5)),
        ms(round_last.iter().copied().max().unwrap_or(0)),
        ms(percentile(&mut get_rtt, 0.5)),
        client_cpu,
        server_cpu.map_or("unknown".to_owned(), |s| format!(
            "{s:.2} s ({:.1} µs per delivery)",
            s * 1e6 / samples.max(1) as f64
        )),
    );
    let report = json!({
        "subscribers": n,
        "connected": connected,
        "connect_failed": failed,
        "connect_errors": connect_errors,
        "connect_secs": connect_secs,
        "listen_overflows": listen_overflows,
        "handshake_ms": {
            "p50": ms(percentile(&mut handshakes.clone(), 0.50)),
            "p99": ms(percentile(&mut handshakes.clone(), 0.99)),
            "max": ms(handshakes.iter().copied().max().unwrap_or(0)),
        },
        "rounds": args.rounds,
        "gap_ms": args.gap_ms,
        "base_total": base,
        "samples": samples,
        "latency_ms": {
            "p50": ms(p50), "p90": ms(p90), "p99": ms(p99), "p999": ms(p999),
            "max": ms(max), "mean": mean,
        },
        "round_last_ms": round_last.iter().map(|&u| ms(u)).collect::<Vec<_>>(),
        "get_rtt_ms_p50": ms(percentile(&mut get_rtt, 0.5)),
        "missed": missed,
        "subscribers_missing_updates": subscribers_missing,
        "early": early,
        "final_total_ok": final_ok,
        "dropped": shared.dropped.load(Ordering::Relaxed),
        "drop_reasons": drop_reasons,
        "server_rss_connected_kib": rss_connected,
        "server_rss_end_kib": rss_end,
        "server_hwm_kib": hwm_end,
        "client_rss_connected_kib": client_rss_connected,
        "client_cpu_secs_rounds": client_cpu,
        "server_cpu_secs_rounds": server_cpu,
        "server_cpu_us_per_delivery": server_cpu.map(|s| s * 1e6 / samples.max(1) as f64),
        "client_threads": args.threads,
    });
    match args.json.as_deref() {
        Some(p) if p.as_os_str() == "-" => println!("{report}"),
        Some(p) => std::fs::write(p, format!("{report}\n"))
            .with_context(|| format!("cannot write {}", p.display()))?,
        None => {}
    }
    Ok(())
}

struct Setup {
    url: String,
    addr: SocketAddr,
    subscribe: String,
    handshake_timeout: Duration,
}

/// One subscriber: handshake under the gate, report, then read counts until the end.
async fn subscriber(
    i: usize,
    setup: Arc<Setup>,
    shared: Arc<Shared>,
    gate: Arc<Semaphore>,
    ready: mpsc::UnboundedSender<Ready>,
) {
    let (handshake, took) = {
        let _permit = gate.acquire().await;
        // Timed from the permit: waiting for the gate is not part of a handshake.
        let started = Instant::now();
        let result = tokio::time::timeout(setup.handshake_timeout, handshake(&setup))
            .await
            .unwrap_or_else(|_| {
                Err(anyhow::anyhow!(
                    "handshake timed out after {} s",
                    setup.handshake_timeout.as_secs()
                ))
            });
        (result, started.elapsed())
    };
    let (mut ws, initial) = match handshake {
        Ok(ok) => ok,
        Err(e) => {
            let _ = ready.send(Err(format!("{e:#}")));
            return;
        }
    };
    let mut next_round = 0;
    shared.observe(i, initial, &mut next_round);
    let _ = ready.send(Ok((i, initial, took)));
    drop(ready);

    loop {
        let text = match ws.next().await {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(frame))) => {
                shared.dropped(format!("server closed the connection: {frame:?}"));
                return;
            }
            Some(Ok(_)) => continue, // WebSocket pings are answered by tungstenite
            Some(Err(e)) => {
                shared.dropped(format!("read failed: {e}"));
                return;
            }
            None => {
                shared.dropped("connection ended".to_owned());
                return;
            }
        };
        match parse(&text) {
            Parsed::Count(count) => shared.observe(i, count, &mut next_round),
            Parsed::Ping => {
                if let Err(e) = ws.send(Message::text(r#"{"type":"pong"}"#)).await {
                    shared.dropped(format!("pong failed: {e}"));
                    return;
                }
            }
            Parsed::Other => {
                shared.dropped(format!("subscription ended: {}", truncate(&text)));
                return;
            }
        }
    }
}

async fn handshake(setup: &Setup) -> anyhow::Result<(Ws, u64)> {
    let tcp = TcpStream::connect(setup.addr)
        .await
        .with_context(|| format!("TCP connect to {}", setup.addr))?;
    tcp.set_nodelay(true)?;
    let mut request = setup.url.as_str().into_client_request()?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(PROTOCOL));
    // Counts are tiny messages: a 4 KiB read buffer instead of the default 128 KiB.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, response) =
        tokio_tungstenite::client_async_with_config(request, tcp, Some(config))
            .await
            .context("WebSocket upgrade")?;
    if response
        .headers()
        .get("sec-websocket-protocol")
        .is_none_or(|p| p != PROTOCOL)
    {
        bail!("the server did not accept the {PROTOCOL} subprotocol");
    }
    ws.send(Message::text(r#"{"type":"connection_init","payload":{}}"#))
        .await
        .context("sending connection_init")?;
    let ack = next_text(&mut ws)
        .await
        .context("waiting for connection_ack")?;
    if !ack.contains(r#""connection_ack""#) {
        bail!("expected connection_ack, got {}", truncate(&ack));
    }
    ws.send(Message::text(setup.subscribe.clone()))
        .await
        .context("sending subscribe")?;
    loop {
        let text = next_text(&mut ws)
            .await
            .context("waiting for the initial count")?;
        match parse(&text) {
            Parsed::Count(count) => return Ok((ws, count)),
            Parsed::Ping => ws.send(Message::text(r#"{"type":"pong"}"#)).await?,
            Parsed::Other => bail!("expected the initial count, got {}", truncate(&text)),
        }
    }
}

async fn next_text(ws: &mut Ws) -> anyhow::Result<String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Message::Close(frame))) => bail!("server closed the connection: {frame:?}"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => bail!("connection ended"),
        }
    }
}

enum Parsed {
    Count(u64),
    Ping,
    Other,
}

/// `{"type":"next","id":"1","payload":{"data":{"pasteViews":N}}}` without a JSON parser on the
/// hot path (the client shares the cores with the server); anything else through serde_json.
fn parse(text: &str) -> Parsed {
    const KEY: &str = r#""pasteViews":"#;
    if text.contains(r#""type":"next""#)
        && let Some(at) = text.find(KEY)
    {
        let digits: &str = text[at + KEY.len()..].trim_start();
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        if let Ok(n) = digits[..end].parse() {
            return Parsed::Count(n);
        }
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => match v["type"].as_str() {
            Some("ping") => Parsed::Ping,
            Some("next") => v["payload"]["data"]["pasteViews"]
                .as_u64()
                .map_or(Parsed::Other, Parsed::Count),
            _ => Parsed::Other,
        },
        Err(_) => Parsed::Other,
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(300).collect()
}

/// One view through B: when it was sent and when its response had been read, in µs since epoch.
struct View {
    sent_us: u64,
    returned_us: u64,
}

fn drive_views(
    url: &str,
    health: &str,
    rounds: usize,
    gap: Duration,
    epoch: Instant,
) -> anyhow::Result<Vec<View>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .tcp_nodelay(true)
            .build()?;
        // Opens the keep-alive connection without counting a view.
        client
            .get(health)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .with_context(|| format!("instance B is not answering {health}"))?;
        let start = tokio::time::Instant::now() + gap;
        let mut views = Vec::with_capacity(rounds);
        for r in 0..rounds {
            tokio::time::sleep_until(start + gap * r as u32).await;
            let sent_us = epoch.elapsed().as_micros() as u64;
            let response = client
                .get(url)
                .send()
                .await
                .with_context(|| format!("view {r}: GET {url}"))?;
            let status = response.status();
            let body = response.bytes().await?;
            let returned_us = epoch.elapsed().as_micros() as u64;
            if !status.is_success() {
                bail!(
                    "view {r}: GET {url} answered {status}: {}",
                    truncate(&String::from_utf8_lossy(&body))
                );
            }
            views.push(View {
                sent_us,
                returned_us,
            });
        }
        Ok(views)
    })
}

/// Nearest-rank percentile (sorts in place); 0 for an empty set.
fn percentile(values: &mut [u64], q: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    values.sort_unstable();
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// Refuses to start when `who` cannot hold `subscribers` sockets.
fn check_fd_limit(who: &str, pid: &str, subscribers: usize) -> anyhow::Result<()> {
    let path = format!("/proc/{pid}/limits");
    let Ok(limits) = std::fs::read_to_string(&path) else {
        return Ok(()); // not Linux, or the process is gone: the connect errors will tell
    };
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<usize>().ok());
    match soft {
        Some(soft) if soft < subscribers + 100 => bail!(
            "{who} may open only {soft} files, but {subscribers} subscribers need about {}: \
             raise it with `ulimit -n {}` before starting it",
            subscribers + 100,
            (subscribers + 1000).max(4096)
        ),
        _ => Ok(()),
    }
}

fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    status_field(
        &std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        field,
    )
}

fn proc_status_kib_self(field: &str) -> Option<u64> {
    status_field(&std::fs::read_to_string("/proc/self/status").ok()?, field)
}

fn status_field(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `TcpExt: ListenDrops` (which includes `ListenOverflows`) from /proc/net/netstat, machine-wide.
fn listen_overflows() -> Option<u64> {
    let netstat = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = netstat.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (lines.next()?, lines.next()?);
    let total = names
        .split_whitespace()
        .zip(values.split_whitespace())
        .filter(|(name, _)| *name == "ListenDrops")
        .filter_map(|(_, v)| v.parse::<u64>().ok())
        .sum();
    Some(total)
}

/// User + system CPU time of this process, in seconds.
fn self_cpu_secs() -> f64 {
    cpu_secs("/proc/self/stat").unwrap_or(0.0)
}

fn proc_cpu_secs(pid: u32) -> Option<f64> {
    cpu_secs(&format!("/proc/{pid}/stat"))
}

/// User + system CPU time from a `/proc/<pid>/stat` file, in seconds.
fn cpu_secs(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks: f64 = fields
        .get(11..13)?
        .iter()
        .filter_map(|v| v.parse::<f64>().ok())
        .sum();
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}
