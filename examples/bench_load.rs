//! HTTP load for the `make bench` scenarios that wrk cannot express: every request different,
//! every answer checked.
//!
//! - **Reads without replacement** (`--get-prefix /raw/ --ids FILE --skip K --take N`): each of
//!   the N ids after the first K lines of FILE is requested exactly once (the connections share
//!   one cursor), so with a shuffled file every read is a first read. The run ends when the ids
//!   are used up or after `--duration-s`. `--expect-body FILE`: every answer must be exactly
//!   these bytes.
//! - **Creates with a fresh idempotency key each** (`--post /graphql --body-template FILE`):
//!   every request is FILE with `--key-placeholder` replaced by a new 32-hex-character key (as
//!   the web app makes them), for `--duration-s`. An answer counts as acknowledged when it is a
//!   200 holding `--expect` and no `"errors"`.
//!
//! Requests in flight when the time is up are waited for, and counted: the figures cover every
//! request made. A minimal HTTP/1.1 keep-alive client on one thread by default (like `wrk -t1`:
//! the load generator shares the cores with the server and the database, so it must be cheap);
//! `--threads` for more.
//!
//! Writes one JSON object (`--json`) with the fields the bench script reads from wrk's (`requests`,
//! `rps`, `latency_us`, `errors`), plus `ok` (checked answers) and the client's CPU time.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Parser, Debug)]
#[command(about = "HTTP load with distinct requests: reads without replacement, keyed creates")]
struct Args {
    /// Server address, e.g. 127.0.0.1:8080.
    #[arg(long)]
    addr: SocketAddr,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Stop starting requests after this many seconds.
    #[arg(long, default_value_t = 10.0)]
    duration_s: f64,
    /// Reads: path before the id, e.g. /raw/
    #[arg(long, conflicts_with = "post")]
    get_prefix: Option<String>,
    /// Reads: file of ids, one per line.
    #[arg(long, requires = "get_prefix")]
    ids: Option<PathBuf>,
    /// Reads: ids to pass over at the start of the file.
    #[arg(long, default_value_t = 0)]
    skip: usize,
    /// Reads: ids to read (at most); default all after --skip.
    #[arg(long)]
    take: Option<usize>,
    /// Reads: the exact body every answer must have.
    #[arg(long)]
    expect_body: Option<PathBuf>,
    /// Creates: path to POST to, e.g. /graphql
    #[arg(long)]
    post: Option<String>,
    /// Creates: request body, with the placeholder where each request's key goes.
    #[arg(long, requires = "post")]
    body_template: Option<PathBuf>,
    #[arg(long, default_value = "__IDEMPOTENCY_KEY__")]
    key_placeholder: String,
    /// Creates: Content-Type of the body.
    #[arg(long, default_value = "application/json")]
    content_type: String,
    /// Creates: a 200 counts only if its body contains this (and no "errors").
    #[arg(long, default_value = "\"id\":")]
    expect: String,
    /// Bound on one request, in s (a request past it counts as a timeout).
    #[arg(long, default_value_t = 10)]
    timeout_s: u64,
    /// Client runtime worker threads (0 = one thread).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Where to write the JSON results (`-` for stdout).
    #[arg(long)]
    json: Option<PathBuf>,
}

/// What every request is made of.
enum Work {
    Reads {
        prefix: String,
        ids: Vec<String>,
        expect: Option<Vec<u8>>,
    },
    Creates {
        path: String,
        head: Vec<u8>,
        tail: Vec<u8>,
        content_type: String,
        expect: Vec<u8>,
        nonce: u64,
    },
}

#[derive(Default)]
struct Errors {
    connect: AtomicU64,
    read: AtomicU64,
    write: AtomicU64,
    status: AtomicU64,
    timeout: AtomicU64,
    body: AtomicU64,
}

struct Shared {
    work: Work,
    host: String,
    cursor: AtomicUsize,
    deadline: Instant,
    timeout: Duration,
    errors: Errors,
    /// A few unexpected answers, for the log.
    samples: std::sync::Mutex<Vec<String>>,
}

impl Shared {
    /// The next request, or `None` when the run is over.
    fn next(&self, out: &mut Vec<u8>) -> Option<()> {
        if Instant::now() >= self.deadline {
            return None;
        }
        let n = self.cursor.fetch_add(1, Ordering::Relaxed);
        out.clear();
        match &self.work {
            Work::Reads { prefix, ids, .. } => {
                let id = ids.get(n)?;
                out.extend_from_slice(
                    format!(
                        "GET {prefix}{id} HTTP/1.1\r\nHost: {}\r\nUser-Agent: bench_load\r\n\r\n",
                        self.host
                    )
                    .as_bytes(),
                );
            }
            Work::Creates {
                path,
                head,
                tail,
                content_type,
                nonce,
                ..
            } => {
                let key = format!("{nonce:016x}{:016x}", n as u64);
                let len = head.len() + key.len() + tail.len();
                out.extend_from_slice(
                    format!(
                        "POST {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: bench_load\r\n\
                         Content-Type: {content_type}\r\nContent-Length: {len}\r\n\r\n",
                        self.host
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(head);
                out.extend_from_slice(key.as_bytes());
                out.extend_from_slice(tail);
            }
        }
        Some(())
    }

    fn check(&self, status: u16, body: &[u8]) -> bool {
        match &self.work {
            Work::Reads { expect, .. } => {
                status == 200 && expect.as_deref().is_none_or(|e| e == body)
            }
            Work::Creates { expect, .. } => {
                status == 200 && contains(body, expect) && !contains(body, b"\"errors\"")
            }
        }
    }

    fn sample(&self, what: String) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() < 5 {
            samples.push(what);
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
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
    runtime.block_on(run(args))
}

fn load_work(args: &Args) -> anyhow::Result<Work> {
    if let (Some(prefix), Some(file)) = (&args.get_prefix, &args.ids) {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let ids: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .skip(args.skip)
            .take(args.take.unwrap_or(usize::MAX))
            .map(str::to_owned)
            .collect();
        if ids.is_empty() {
            bail!(
                "no ids left in {} after --skip {}",
                file.display(),
                args.skip
            );
        }
        let expect = match &args.expect_body {
            Some(p) => {
                Some(std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?)
            }
            None => None,
        };
        return Ok(Work::Reads {
            prefix: prefix.clone(),
            ids,
            expect,
        });
    }
    if let (Some(path), Some(file)) = (&args.post, &args.body_template) {
        let template =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let placeholder = args.key_placeholder.as_bytes();
        let at = template
            .windows(placeholder.len())
            .position(|w| w == placeholder)
            .with_context(|| format!("{} has no {}", file.display(), args.key_placeholder))?;
        let mut nonce = [0u8; 8];
        getrandom(&mut nonce)?;
        return Ok(Work::Creates {
            path: path.clone(),
            head: template[..at].to_vec(),
            tail: template[at + placeholder.len()..].to_vec(),
            content_type: args.content_type.clone(),
            expect: args.expect.as_bytes().to_vec(),
            nonce: u64::from_le_bytes(nonce),
        });
    }
    bail!("give either --get-prefix with --ids, or --post with --body-template")
}

fn getrandom(buf: &mut [u8]) -> anyhow::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)?;
    Ok(())
}

async fn run(args: Args) -> anyhow::Result<()> {
    let work = load_work(&args)?;
    let planned = match &work {
        Work::Reads { ids, .. } => format!("{} ids", ids.len()),
        Work::Creates { .. } => "keyed creates".to_owned(),
    };
    let shared = Arc::new(Shared {
        work,
        host: args.addr.to_string(),
        cursor: AtomicUsize::new(0),
        deadline: Instant::now() + Duration::from_secs_f64(args.duration_s),
        timeout: Duration::from_secs(args.timeout_s),
        errors: Errors::default(),
        samples: Default::default(),
    });
    eprintln!(
        "bench_load: {} connections to {} for at most {:.1} s ({planned})",
        args.connections, args.addr, args.duration_s
    );
    let cpu0 = self_cpu_secs();
    let start = Instant::now();
    let tasks: Vec<_> = (0..args.connections.max(1))
        .map(|_| tokio::spawn(connection(args.addr, Arc::clone(&shared))))
        .collect();
    let mut latencies = Vec::new();
    let mut ok = 0u64;
    for t in tasks {
        let (lat, good) = t.await?;
        latencies.extend(lat);
        ok += good;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let client_cpu = self_cpu_secs() - cpu0;
    let requests = latencies.len() as u64;
    let e = &shared.errors;
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let mean = if latencies.is_empty() {
        0.0
    } else {
        latencies.iter().map(|&l| l as f64).sum::<f64>() / latencies.len() as f64
    };
    latencies.sort_unstable();
    let pct = |q: f64| -> u64 {
        if latencies.is_empty() {
            return 0;
        }
        let rank = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
        latencies[rank - 1]
    };
    let samples = shared
        .samples
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let report = json!({
        "requests": requests,
        "ok": ok,
        "duration_s": elapsed,
        "rps": requests as f64 / elapsed,
        "ok_rps": ok as f64 / elapsed,
        "latency_us": {
            "p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99),
            "max": latencies.last().copied().unwrap_or(0), "mean": mean,
        },
        "errors": {
            "connect": get(&e.connect), "read": get(&e.read), "write": get(&e.write),
            "status": get(&e.status), "timeout": get(&e.timeout), "body": get(&e.body),
        },
        "unexpected_answers": samples,
        "connections": args.connections,
        "client_cpu_s": client_cpu,
        "client_cpu_us_per_req": if requests > 0 { client_cpu * 1e6 / requests as f64 } else { 0.0 },
    });
    eprintln!(
        "bench_load: {requests} requests ({ok} checked ok) in {elapsed:.2} s: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms; client CPU {:.1} µs/req",
        requests as f64 / elapsed,
        pct(0.5) as f64 / 1000.0,
        pct(0.99) as f64 / 1000.0,
        client_cpu * 1e6 / requests.max(1) as f64,
    );
    for s in &samples {
        eprintln!("bench_load: unexpected answer: {s}");
    }
    match args.json.as_deref() {
        Some(p) if p.as_os_str() == "-" => println!("{report}"),
        Some(p) => std::fs::write(p, format!("{report}\n"))
            .with_context(|| format!("cannot write {}", p.display()))?,
        None => {}
    }
    Ok(())
}

/// One keep-alive connection: requests one after another until the work is done. Returns the
/// latency of every request it completed (µs) and how many answers passed the check.
async fn connection(addr: SocketAddr, shared: Arc<Shared>) -> (Vec<u64>, u64) {
    let mut latencies = Vec::with_capacity(4096);
    let mut ok = 0u64;
    let mut request = Vec::with_capacity(4096);
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut stream: Option<TcpStream> = None;
    while shared.next(&mut request).is_some() {
        if stream.is_none() {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    stream = Some(s);
                }
                Err(_) => {
                    shared.errors.connect.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let s = stream.as_mut().expect("connected above");
        let started = Instant::now();
        let outcome = tokio::time::timeout(shared.timeout, exchange(s, &request, &mut buf)).await;
        let took = started.elapsed().as_micros() as u64;
        match outcome {
            Ok(Ok(answer)) => {
                latencies.push(took);
                let body = &buf[answer.body.clone()];
                if shared.check(answer.status, body) {
                    ok += 1;
                } else {
                    if answer.status == 200 {
                        shared.errors.body.fetch_add(1, Ordering::Relaxed);
                    } else {
                        shared.errors.status.fetch_add(1, Ordering::Relaxed);
                    }
                    shared.sample(format!(
                        "{} {}",
                        answer.status,
                        String::from_utf8_lossy(&body[..body.len().min(300)])
                    ));
                }
                if answer.close {
                    stream = None;
                }
            }
            Ok(Err(Failure::Write)) => {
                shared.errors.write.fetch_add(1, Ordering::Relaxed);
                stream = None;
            }
            Ok(Err(Failure::Read(why))) => {
                shared.errors.read.fetch_add(1, Ordering::Relaxed);
                shared.sample(format!("read failed: {why}"));
                stream = None;
            }
            Err(_) => {
                shared.errors.timeout.fetch_add(1, Ordering::Relaxed);
                stream = None;
            }
        }
    }
    (latencies, ok)
}

struct Answer {
    status: u16,
    body: std::ops::Range<usize>,
    close: bool,
}

enum Failure {
    Write,
    Read(String),
}

/// Sends one request and reads its response into `buf` (Content-Length or chunked bodies).
async fn exchange(s: &mut TcpStream, request: &[u8], buf: &mut Vec<u8>) -> Result<Answer, Failure> {
    s.write_all(request).await.map_err(|_| Failure::Write)?;
    buf.clear();
    let head_end = loop {
        if let Some(at) = find(buf, b"\r\n\r\n") {
            break at + 4;
        }
        fill(s, buf).await?;
    };
    let head = std::str::from_utf8(&buf[..head_end])
        .map_err(|_| Failure::Read("response head is not UTF-8".into()))?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| {
            Failure::Read(format!(
                "bad status line: {}",
                head.lines().next().unwrap_or("")
            ))
        })?;
    let mut length = None;
    let mut chunked = false;
    let mut close = false;
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    if chunked {
        return read_chunked(s, buf, head_end).await.map(|body| Answer {
            status,
            body,
            close,
        });
    }
    let length = length.ok_or_else(|| Failure::Read("no Content-Length".into()))?;
    while buf.len() < head_end + length {
        fill(s, buf).await?;
    }
    Ok(Answer {
        status,
        body: head_end..head_end + length,
        close,
    })
}

/// Decodes a chunked body in place, after the head: returns where the body now is in `buf`.
async fn read_chunked(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    start: usize,
) -> Result<std::ops::Range<usize>, Failure> {
    let mut at = start; // next unread byte of the chunked encoding
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = find(&buf[at..], b"\r\n") {
                break at + i;
            }
            fill(s, buf).await?;
        };
        let size_text = std::str::from_utf8(&buf[at..line_end]).unwrap_or("");
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| Failure::Read(format!("bad chunk size {size_text:?}")))?;
        at = line_end + 2;
        if size == 0 {
            // Trailers (none expected) end with an empty line.
            while find(&buf[at..], b"\r\n").is_none() {
                fill(s, buf).await?;
            }
            break;
        }
        while buf.len() < at + size + 2 {
            fill(s, buf).await?;
        }
        body.extend_from_slice(&buf[at..at + size]);
        at += size + 2;
    }
    buf.truncate(start);
    buf.extend_from_slice(&body);
    Ok(start..buf.len())
}

async fn fill(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), Failure> {
    buf.reserve(16 * 1024);
    match s.read_buf(buf).await {
        Ok(0) => Err(Failure::Read("connection closed".into())),
        Ok(_) => Ok(()),
        Err(e) => Err(Failure::Read(e.to_string())),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// User + system CPU time of this process, in seconds.
fn self_cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields
        .get(11..13)
        .map(|t| t.iter().filter_map(|v| v.parse::<f64>().ok()).sum::<f64>() / 100.0)
        .unwrap_or(0.0)
}
