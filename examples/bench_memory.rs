//! Memory benchmark for `make bench`: the server's peak resident memory while it takes large
//! creates, per door. Each scenario runs against a fresh `pastebin serve` (started here with
//! this process's environment: the stack's and the bench instance's settings), warmed by a few
//! small creates; its peak (VmHWM) is reset through `/proc/PID/clear_refs`, the requests are
//! sent, and the peak and its growth over the resident memory at the start are reported beside
//! the request body. Every paste is read back and compared byte for byte.
//!
//! Scenarios: one 10 MiB create through `POST /` (the raw body), `POST /api/v1/paste` (REST),
//! `POST /graphql` (JSON) and `POST /graphql` (a multipart upload); four concurrent 1 MiB
//! GraphQL creates; and four clients creating 1 MiB pastes back to back for `--sustain-secs`
//! (as `make bench`'s create1m does with wrk). The absolute peaks of the last two have the
//! target: 64 MiB. Linux only.
//!
//! `bench_memory --pastebin target/release/pastebin [--json results.json]`

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::json;

#[derive(Parser, Debug)]
#[command(about = "peak RSS of a pastebin server while it takes large creates, per door")]
struct Args {
    /// The server binary: `serve` is started once per scenario.
    #[arg(long)]
    pastebin: PathBuf,
    /// Size of the one large create per door, in MiB.
    #[arg(long, default_value_t = 10)]
    big_mib: usize,
    /// Size of each concurrent create, in MiB.
    #[arg(long, default_value_t = 1)]
    small_mib: usize,
    /// Concurrent small creates.
    #[arg(long, default_value_t = 4)]
    concurrent: usize,
    /// Seconds of the sustained scenario: `--concurrent` clients creating small pastes back to
    /// back, as `make bench`'s create1m does with wrk (0: skip it).
    #[arg(long, default_value_t = 10)]
    sustain_secs: u64,
    /// Write the figures as JSON here (`-`: stdout).
    #[arg(long)]
    json: Option<PathBuf>,
}

#[path = "common/code_text.rs"]
mod code_text;
use code_text::text;

const MUTATION: &str =
    "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } } }";

/// A field of `/proc/PID/status`, in bytes.
fn status(pid: u32, field: &str) -> anyhow::Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .with_context(|| format!("{field} of {pid}"))
}

/// The door a create goes through.
#[derive(Clone, Copy, Debug)]
pub enum Door {
    Raw,
    Rest,
    GraphqlJson,
    GraphqlMultipart,
}

impl Door {
    pub fn name(self) -> &'static str {
        match self {
            Door::Raw => "POST / (raw body)",
            Door::Rest => "POST /api/v1/paste (REST)",
            Door::GraphqlJson => "POST /graphql (JSON)",
            Door::GraphqlMultipart => "POST /graphql (multipart upload)",
        }
    }
}

const BOUNDARY: &str = "bench-memory-boundary-7f3a";

/// The request body of a create of `text` through `door`.
pub fn body(door: Door, text: &str) -> (Vec<u8>, &'static str) {
    match door {
        Door::GraphqlMultipart => {
            // The GraphQL multipart request spec: operations, map, then the file.
            let mutation = "mutation($f: Upload!) { createPaste(input: { files: [{ name: \"big.rs\", upload: $f }] }) { paste { id } } }";
            let operations = json!({ "query": mutation, "variables": { "f": null } });
            let mut b = Vec::with_capacity(text.len() + 1024);
            for (headers, data) in [
                ("name=\"operations\"", operations.to_string().as_bytes()),
                ("name=\"map\"", br#"{"0":["variables.f"]}"#.as_slice()),
                (
                    "name=\"0\"; filename=\"big.rs\"\r\nContent-Type: text/plain",
                    text.as_bytes(),
                ),
            ] {
                b.extend_from_slice(
                    format!("--{BOUNDARY}\r\nContent-Disposition: form-data; {headers}\r\n\r\n")
                        .as_bytes(),
                );
                b.extend_from_slice(data);
                b.extend_from_slice(b"\r\n");
            }
            b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
            (
                b,
                "multipart/form-data; boundary=bench-memory-boundary-7f3a",
            )
        }
        Door::Raw => (text.as_bytes().to_vec(), "text/plain; charset=utf-8"),
        Door::Rest => (
            serde_json::to_vec(&json!({ "paste_contents": text })).unwrap(),
            "application/json",
        ),
        Door::GraphqlJson => (
            serde_json::to_vec(
                &json!({ "query": MUTATION, "variables": { "i": { "content": text } } }),
            )
            .unwrap(),
            "application/json",
        ),
    }
}

/// Creates a paste through `door` (the body already built); its id.
pub async fn create(
    http: &reqwest::Client,
    url: &str,
    door: Door,
    body: Vec<u8>,
    content_type: &str,
) -> anyhow::Result<String> {
    let path = match door {
        Door::Raw => "/",
        Door::Rest => "/api/v1/paste",
        Door::GraphqlJson | Door::GraphqlMultipart => "/graphql",
    };
    let mut request = http
        .post(format!("{url}{path}"))
        .header("content-type", content_type);
    if let Door::GraphqlMultipart = door {
        request = request.header("apollo-require-preflight", "true");
    }
    let r = request.body(body).send().await?;
    let status = r.status();
    let answer = r.text().await?;
    if !status.is_success() {
        bail!("{} answered {status}: {answer}", door.name());
    }
    let json = || serde_json::from_str::<serde_json::Value>(&answer);
    let id = match door {
        Door::Raw => answer.trim().rsplit('/').next().map(str::to_owned),
        Door::Rest => json()?["shortlink"].as_str().map(str::to_owned),
        Door::GraphqlJson | Door::GraphqlMultipart => json()?["data"]["createPaste"]["paste"]["id"]
            .as_str()
            .map(str::to_owned),
    };
    id.with_context(|| format!("{} answered no id: {answer:.300}", door.name()))
}

/// Reads a paste back and compares it with what was sent.
async fn check(http: &reqwest::Client, url: &str, id: &str, text: &str) -> anyhow::Result<()> {
    let got = http
        .get(format!("{url}/raw/{id}"))
        .send()
        .await?
        .bytes()
        .await?;
    if got != text.as_bytes() {
        bail!(
            "paste {id} reads back {} bytes, not the {} sent",
            got.len(),
            text.len()
        );
    }
    Ok(())
}

struct Peak {
    start: u64,
    peak: u64,
}

/// Runs `f` with the server's peak reset before it; its start RSS and peak.
async fn measure<T>(
    pid: u32,
    f: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<(T, Peak)> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
        .context("resetting the server's peak (clear_refs; Linux, same user)")?;
    let start = status(pid, "VmRSS:")?;
    let out = f.await?;
    let peak = status(pid, "VmHWM:")?;
    Ok((out, Peak { start, peak }))
}

const MIB: f64 = 1024.0 * 1024.0;

/// A fresh server on a free loopback port, answering and warmed; killed when dropped.
struct Server {
    child: tokio::process::Child,
    url: String,
}

impl Server {
    async fn start(bin: &std::path::Path, http: &reqwest::Client) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let child = tokio::process::Command::new(bin)
            .arg("serve")
            .env("PASTEBIN_ADDR", format!("127.0.0.1:{port}"))
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let server = Self { child, url };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while http
            .get(format!("{}/healthz", server.url))
            .send()
            .await
            .is_err()
        {
            if std::time::Instant::now() > deadline {
                bail!("{} did not answer within 30 s", server.url);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Warm: a few small creates and reads, as a server that has been serving.
        for i in 0..3 {
            let id = create(
                &http.clone(),
                &server.url,
                Door::Raw,
                format!("warm {i}").into_bytes(),
                "text/plain",
            )
            .await?;
            check(http, &server.url, &id, &format!("warm {i}")).await?;
        }
        Ok(server)
    }

    fn pid(&self) -> anyhow::Result<u32> {
        self.child.id().context("the server exited")
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let mut rows = Vec::new();
    let big = args.big_mib << 20;
    for (n, door) in [
        Door::Raw,
        Door::Rest,
        Door::GraphqlJson,
        Door::GraphqlMultipart,
    ]
    .into_iter()
    .enumerate()
    {
        let server = Server::start(&args.pastebin, &http).await?;
        let text = text(big, n as u64);
        let (body, content_type) = body(door, &text);
        let body_len = body.len();
        let (id, peak) = measure(
            server.pid()?,
            create(&http, &server.url, door, body, content_type),
        )
        .await?;
        check(&http, &server.url, &id, &text).await?;
        rows.push(row(
            format!("{} MiB, {}", args.big_mib, door.name()),
            body_len,
            &peak,
        ));
    }
    let server = Server::start(&args.pastebin, &http).await?;
    let small = args.small_mib << 20;
    let texts: Vec<String> = (0..args.concurrent)
        .map(|i| text(small, 100 + i as u64))
        .collect();
    let bodies: Vec<_> = texts.iter().map(|t| body(Door::GraphqlJson, t)).collect();
    let body_len: usize = bodies.iter().map(|(b, _)| b.len()).sum();
    let (ids, peak) = measure(server.pid()?, async {
        let creates = bodies
            .into_iter()
            .map(|(b, ct)| create(&http, &server.url, Door::GraphqlJson, b, ct));
        futures_util::future::try_join_all(creates).await
    })
    .await?;
    for (id, text) in ids.iter().zip(&texts) {
        check(&http, &server.url, id, text).await?;
    }
    rows.push(row(
        format!(
            "{}× {} MiB concurrent, POST /graphql (JSON)",
            args.concurrent, args.small_mib
        ),
        body_len,
        &peak,
    ));
    drop(server);

    if args.sustain_secs > 0 {
        let server = Server::start(&args.pastebin, &http).await?;
        let (count, peak) = measure(server.pid()?, async {
            let until = std::time::Instant::now() + Duration::from_secs(args.sustain_secs);
            let clients = (0..args.concurrent).map(|c| {
                let (http, url) = (http.clone(), server.url.clone());
                async move {
                    let mut n = 0u64;
                    while std::time::Instant::now() < until {
                        let (b, ct) = body(Door::GraphqlJson, &text(small, (c as u64) << 32 | n));
                        create(&http, &url, Door::GraphqlJson, b, ct).await?;
                        n += 1;
                    }
                    anyhow::Ok(n)
                }
            });
            Ok(futures_util::future::try_join_all(clients)
                .await?
                .iter()
                .sum::<u64>())
        })
        .await?;
        rows.push(row(
            format!(
                "{} clients × {} MiB for {} s ({count} creates)",
                args.concurrent, args.small_mib, args.sustain_secs
            ),
            body_len,
            &peak,
        ));
    }

    println!(
        "{:<48} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "scenario", "body MiB", "start MiB", "peak MiB", "growth", "×body"
    );
    for r in &rows {
        println!(
            "{:<48} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>6.2}",
            r["scenario"].as_str().unwrap_or_default(),
            r["body_bytes"].as_f64().unwrap_or_default() / MIB,
            r["rss_start_mib"].as_f64().unwrap_or_default(),
            r["peak_mib"].as_f64().unwrap_or_default(),
            r["growth_mib"].as_f64().unwrap_or_default(),
            r["growth_per_body"].as_f64().unwrap_or_default(),
        );
    }
    let out = serde_json::to_string_pretty(&json!({ "memory": rows }))?;
    match args.json.as_deref() {
        Some(p) if p.as_os_str() == "-" => println!("{out}"),
        Some(p) => std::fs::write(p, out)?,
        None => {}
    }
    Ok(())
}

fn row(scenario: String, body_len: usize, peak: &Peak) -> serde_json::Value {
    let growth = peak.peak.saturating_sub(peak.start);
    json!({
        "scenario": scenario,
        "body_bytes": body_len,
        "rss_start_mib": peak.start as f64 / MIB,
        "peak_mib": peak.peak as f64 / MIB,
        "growth_mib": growth as f64 / MIB,
        "growth_per_body": growth as f64 / body_len as f64,
    })
}
