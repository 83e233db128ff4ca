//! Bounded memory: a 10 MiB create through each door (POST /, REST, GraphQL as JSON and as a
//! multipart upload) raises the server's peak resident memory by about twice its body (three
//! times through GraphQL JSON), and the paste reads back byte for byte; an idle subscriber
//! costs the server a few KiB.
//! The server is a process of its own (the real binary and allocator, no test client in its
//! memory), with every body in S3; its peak (VmHWM) is reset through `/proc/PID/clear_refs`
//! before each create. The ceilings are generous (`make bench` has the figures), but each is
//! below what one more copy of the body would cost.
//!
//! The server runs with `MIMALLOC_PURGE_DELAY=0`: mimalloc then returns freed pages at once, so
//! the peak counts the copies the code makes, not how long the allocator keeps freed memory
//! committed (1 s by default; `make bench` reports the peaks with the defaults).

use std::time::Duration;

use serde_json::json;

use crate::harness::{Deployment, env};
use crate::process::{Process, base_env};

#[path = "../../examples/common/code_text.rs"]
mod code_text;
use code_text::text;

const MIB: u64 = 1024 * 1024;
/// Allowance above the per-door multiple for everything that is not the body (buffers of the
/// HTTP and S3 clients, the runtime, allocator rounding).
const SLACK: u64 = 2 * MIB;

fn status(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
        * 1024
}

/// A server process with every body in the object store.
async fn server() -> Process {
    server_with(&[]).await
}

/// [`server`] with more environment.
async fn server_with(extra: &[(&str, &str)]) -> Process {
    let deployment = Deployment::new().await;
    let mut vars = base_env(&deployment);
    for (k, v) in [
        ("PASTEBIN_S3_BUCKET", env("PASTEBIN_S3_BUCKET")),
        ("PASTEBIN_S3_ENDPOINT", env("PASTEBIN_S3_ENDPOINT")),
        ("PASTEBIN_S3_REGION", env("PASTEBIN_S3_REGION")),
        ("PASTEBIN_S3_ACCESS_KEY", env("PASTEBIN_S3_ACCESS_KEY")),
        ("PASTEBIN_S3_SECRET_KEY", env("PASTEBIN_S3_SECRET_KEY")),
        ("PASTEBIN_S3_PREFIX", deployment.s3_prefix.clone()),
        ("MIMALLOC_PURGE_DELAY", "0".to_owned()),
    ] {
        vars.push((k.to_owned(), v));
    }
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let mut server = Process::spawn(&["serve"], &vars);
    server.wait_serving().await;
    server
}

/// Sends `body` to `path` of the server, with its peak reset first; the answer and how far the
/// peak rose above the resident memory at the start.
async fn peak_growth(
    server: &Process,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (String, u64) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    // A small create first: the pools, clients and compression contexts a create sets up on
    // first use are not what is measured.
    let warm = http
        .post(format!("http://{}/", server.addr))
        .body("warm")
        .send()
        .await
        .unwrap();
    assert!(warm.status().is_success(), "{}", server.output());
    let pid = server.pid();
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset the peak (Linux)");
    let start = status(pid, "VmRSS:");
    let mut request = http
        .post(format!("http://{}{path}", server.addr))
        .header("content-type", content_type);
    if content_type.starts_with("multipart/") {
        request = request.header("apollo-require-preflight", "true");
    }
    let r = request.body(body).send().await.unwrap();
    let ok = r.status().is_success();
    let answer = r.text().await.unwrap();
    assert!(ok, "{path}: {answer:.500}\n{}", server.output());
    (answer, status(pid, "VmHWM:").saturating_sub(start))
}

/// Reads the paste back through `/raw` and compares it with what was sent.
async fn reads_back(server: &Process, id: &str, text: &str) {
    let got = reqwest::get(format!("http://{}/raw/{id}", server.addr))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        got == text.as_bytes(),
        "paste {id} reads back {} bytes, not the {} sent",
        got.len(),
        text.len()
    );
}

/// Asserts the growth is within `times` the body (plus [`SLACK`]).
fn within(door: &str, growth: u64, body: usize, times: f64) {
    let ceiling = (body as f64 * times) as u64 + SLACK;
    eprintln!(
        "{door}: peak grew {:.1} MiB for a {:.1} MiB body ({:.2}×; ceiling {:.1} MiB)",
        growth as f64 / MIB as f64,
        body as f64 / MIB as f64,
        growth as f64 / body as f64,
        ceiling as f64 / MIB as f64
    );
    assert!(
        growth <= ceiling,
        "{door}: the peak grew {} MiB for a {} MiB body (ceiling {} MiB)",
        growth / MIB,
        body as u64 / MIB,
        ceiling / MIB
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_create_through_post_root_copies_no_body() {
    let server = server().await;
    let text = text(10 << 20, 1);
    let body = text.as_bytes().to_vec();
    let len = body.len();
    let (answer, growth) = peak_growth(&server, "/", "text/plain; charset=utf-8", body).await;
    let id = answer.trim().rsplit('/').next().unwrap().to_owned();
    reads_back(&server, &id, &text).await;
    // The body is the text (no copy of it is made), then its compressed form (about a third
    // of it here) and rust-s3's copy of that for the PUT: about 1.8×.
    within("POST /", growth, len, 2.3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_create_through_rest_holds_its_text_once() {
    // mimalloc's default purge delay (1 s), as the server runs in production: a buffer freed
    // while the request goes on still counts (the body freed after the text was copied out of
    // it did).
    let server = server_with(&[("MIMALLOC_PURGE_DELAY", "1000")]).await;
    let text = text(10 << 20, 2);
    let body = serde_json::to_vec(&json!({ "paste_contents": text })).unwrap();
    let len = body.len();
    let (answer, growth) = peak_growth(&server, "/api/v1/paste", "application/json", body).await;
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let id = answer["shortlink"].as_str().unwrap().to_owned();
    reads_back(&server, &id, &text).await;
    // The text is unescaped in the body's own buffer, then as `POST /`: about 1.8×.
    within("REST", growth, len, 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_create_through_graphql_json_holds_its_text_twice_at_most() {
    let server = server().await;
    let text = text(10 << 20, 3);
    let mutation =
        "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id sizeBytes } } }";
    let body = serde_json::to_vec(
        &json!({ "query": mutation, "variables": { "i": { "content": text } } }),
    )
    .unwrap();
    let len = body.len();
    let (answer, growth) = peak_growth(&server, "/graphql", "application/json", body).await;
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let paste = &answer["data"]["createPaste"]["paste"];
    assert_eq!(paste["sizeBytes"], text.len(), "{answer}");
    reads_back(&server, paste["id"].as_str().unwrap(), &text).await;
    // async-graphql keeps the variables for the whole request and copies the argument out of
    // them (and once more, for a moment, to validate it): the text twice, with its compressed
    // form twice on top, about 3×. Multipart uploads (below) keep the text once.
    within("GraphQL (JSON)", growth, len, 3.5);
}

/// A GraphQL multipart request (the spec's `operations`, `map` and one file) creating a
/// one-file paste from `text`.
fn multipart(text: &str, boundary: &str) -> Vec<u8> {
    let mutation = "mutation($f: Upload!) { createPaste(input: { files: [{ name: \"big.rs\", upload: $f }] }) { paste { id sizeBytes } } }";
    let operations = json!({ "query": mutation, "variables": { "f": null } });
    let mut body = Vec::with_capacity(text.len() + 1024);
    let part = |body: &mut Vec<u8>, headers: &str| {
        body.extend_from_slice(format!("--{boundary}\r\n{headers}\r\n\r\n").as_bytes());
    };
    part(
        &mut body,
        "Content-Disposition: form-data; name=\"operations\"",
    );
    body.extend_from_slice(operations.to_string().as_bytes());
    body.extend_from_slice(b"\r\n");
    part(&mut body, "Content-Disposition: form-data; name=\"map\"");
    body.extend_from_slice(br#"{"0":["variables.f"]}"#);
    body.extend_from_slice(b"\r\n");
    part(
        &mut body,
        "Content-Disposition: form-data; name=\"0\"; filename=\"big.rs\"\r\nContent-Type: text/plain",
    );
    body.extend_from_slice(text.as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_create_through_graphql_multipart_holds_its_text_once() {
    let server = server().await;
    let text = text(10 << 20, 4);
    let boundary = "memory-test-boundary-7f3a";
    let content_type = format!("multipart/form-data; boundary={boundary}");
    // Without the header a form cannot send, a multipart request is refused before it is read.
    let refused = reqwest::Client::new()
        .post(format!("http://{}/graphql", server.addr))
        .header("content-type", &content_type)
        .body(multipart("x", boundary))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 415);
    let body = multipart(&text, boundary);
    let len = body.len();
    let (answer, growth) = peak_growth(&server, "/graphql", &content_type, body).await;
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let paste = &answer["data"]["createPaste"]["paste"];
    assert_eq!(paste["sizeBytes"], text.len(), "{answer}");
    reads_back(&server, paste["id"].as_str().unwrap(), &text).await;
    // The file goes to a temporary file as it arrives and is read once, into the text: then
    // as `POST /`.
    within("GraphQL (multipart)", growth, len, 2.3);
}

/// A WebSocket client frame carrying `text` (masked with a zero key, as the protocol allows:
/// the payload goes as it is).
fn client_frame(text: &str) -> Vec<u8> {
    let mut frame = vec![0x81];
    let len = text.len();
    if len < 126 {
        frame.push(0x80 | len as u8);
    } else {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    }
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(text.as_bytes());
    frame
}

/// Reads from `socket` until what arrived contains `needle` (server frames are unmasked, so
/// their JSON is there as it is).
async fn read_until(socket: &mut tokio::net::TcpStream, needle: &str) {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "the server closed the socket before {needle}");
            seen.extend_from_slice(&buf[..n]);
            if seen.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                return;
            }
        }
    })
    .await;
    assert!(
        found.is_ok(),
        "no {needle} in: {}",
        String::from_utf8_lossy(&seen)
    );
}

/// One `pasteViews` subscriber over `graphql-transport-ws`, as small as a client can be (a
/// socket and nothing else), once it has its first count.
async fn raw_subscriber(addr: std::net::SocketAddr, paste: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let upgrade = format!(
        "GET /graphql/ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
    );
    socket.write_all(upgrade.as_bytes()).await.unwrap();
    read_until(&mut socket, "\r\n\r\n").await;
    let init = json!({ "type": "connection_init", "payload": {} }).to_string();
    socket.write_all(&client_frame(&init)).await.unwrap();
    read_until(&mut socket, "connection_ack").await;
    let subscribe = json!({
        "id": "1",
        "type": "subscribe",
        "payload": {
            "query": "subscription($id: ID!) { pasteViews(id: $id) }",
            "variables": { "id": paste },
        },
    })
    .to_string();
    socket.write_all(&client_frame(&subscribe)).await.unwrap();
    read_until(&mut socket, "\"next\"").await;
    socket
}

/// An idle `pasteViews` subscriber costs the server a few KiB (issue 16 item 3: 10,000 on one
/// instance within 128 MiB). It cost about 30 KiB: a 4 KiB socket read buffer, three channels
/// holding 32-slot blocks from the start, and futures that kept a finished service call (5 KiB)
/// or an unstarted account recheck (5 KiB) inline for the connection's life.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_subscriber_costs_the_server_a_few_kib() {
    // Within the default open-files limit of both processes (1,024), with room to spare.
    const WARM: usize = 50;
    const SUBSCRIBERS: usize = 700;
    const CEILING: u64 = 16 * 1024;
    let server = server_with(&[("PASTEBIN_WS_MAX_PER_CLIENT", "0")]).await;
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("http://{}/", server.addr))
        .body("watched")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let paste = answer.trim().rsplit('/').next().unwrap().to_owned();
    // The first subscribers set up what every later one shares (the group, pools, runtime).
    let mut sockets = Vec::new();
    for _ in 0..WARM {
        sockets.push(raw_subscriber(server.addr, &paste).await);
    }
    let pid = server.pid();
    let before = status(pid, "VmRSS:");
    for _ in 0..SUBSCRIBERS {
        sockets.push(raw_subscriber(server.addr, &paste).await);
    }
    let after = status(pid, "VmRSS:");
    let each = after.saturating_sub(before) / SUBSCRIBERS as u64;
    eprintln!(
        "{SUBSCRIBERS} idle subscribers: server RSS {:.1} → {:.1} MiB, {:.1} KiB each (ceiling {} KiB)",
        before as f64 / MIB as f64,
        after as f64 / MIB as f64,
        each as f64 / 1024.0,
        CEILING / 1024
    );
    assert!(
        each <= CEILING,
        "an idle subscriber costs the server {} KiB (ceiling {} KiB)",
        each / 1024,
        CEILING / 1024
    );
    // They are live subscribers, not dead sockets: a view reaches the last one.
    let raw = http
        .get(format!("http://{}/raw/{paste}", server.addr))
        .send()
        .await
        .unwrap();
    assert!(raw.status().is_success());
    let last = sockets.last_mut().unwrap();
    read_until(last, "\"pasteViews\":1").await;
}
