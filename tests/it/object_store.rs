//! The object store is on exactly when a bucket is configured; without S3 settings nothing
//! looks at AWS; on AWS the credentials come from the default chain (IRSA: web identity at
//! the region's STS) and are refreshed before they expire; production refuses to start with
//! an object store it cannot use, and says why.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::harness::{Deployment, TestApp, env, eventually, unique};
use crate::process::{Process, base_env};

const LARGE: usize = 100 * 1024;

fn kv(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_owned(), v.into())
}

/// A TCP listener that counts connections and never answers: where the AWS variables point
/// when nothing should ask them.
async fn trap() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&hits);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            held.push(s);
        }
    });
    (addr, hits)
}

/// A stand-in for STS: answers AssumeRoleWithWebIdentity with the stack's S3 keys (no session
/// token: the local S3 server would refuse one it did not issue), valid for `lifetime`, or
/// refuses every call like STS refusing a role's trust. Records each call's form.
struct FakeSts {
    url: String,
    calls: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

impl FakeSts {
    async fn start(lifetime: Duration, deny: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let calls: Arc<Mutex<Vec<HashMap<String, String>>>> = Arc::default();
        let record = Arc::clone(&calls);
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let record = Arc::clone(&record);
                tokio::spawn(async move {
                    let Some(form) = read_form(&mut s).await else {
                        return;
                    };
                    record.lock().unwrap().push(form);
                    let expires = chrono::Utc::now() + lifetime;
                    let (status, body) = if deny {
                        ("403 Forbidden", "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                            <Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message>\
                            </Error></ErrorResponse>".to_owned())
                    } else {
                        (
                            "200 OK",
                            format!(
                                "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>\
                             <AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
                             <Expiration>{}</Expiration></Credentials></AssumeRoleWithWebIdentityResult>\
                             </AssumeRoleWithWebIdentityResponse>",
                                env("PASTEBIN_S3_ACCESS_KEY"),
                                env("PASTEBIN_S3_SECRET_KEY"),
                                expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                            ),
                        )
                    };
                    let answer = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = s.write_all(answer.as_bytes()).await;
                });
            }
        });
        Self { url, calls }
    }

    fn calls(&self) -> Vec<HashMap<String, String>> {
        self.calls.lock().unwrap().clone()
    }
}

/// The form of one HTTP/1.1 POST (head, then `content-length` bytes of urlencoded body).
async fn read_form(s: &mut tokio::net::TcpStream) -> Option<HashMap<String, String>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + length]);
    let url = reqwest::Url::parse(&format!("http://form/?{body}")).ok()?;
    Some(url.query_pairs().into_owned().collect())
}

/// A paste through `POST /` on a process; its id.
async fn create(http: &reqwest::Client, addr: SocketAddr, content: &str) -> String {
    let r = http
        .post(format!("http://{addr}/"))
        .body(content.to_owned())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    text.trim().rsplit('/').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_bucket_there_is_no_object_store_and_bodies_stay_inline() {
    let app = TestApp::spawn_with(|c| {
        c.object_store.s3_bucket = String::new();
        c.object_store.s3_endpoint = String::new();
        c.object_store.s3_access_key = String::new();
        c.object_store.s3_secret_key = String::new();
    })
    .await;
    assert!(!app.app.stores().blobs.is_configured());
    let content = "x".repeat(LARGE);
    let (id, _) = app.create_paste(&content).await;
    assert_eq!(app.read_paste(None, &id).await.unwrap(), content);
    let in_blob = app
        .app
        .stores()
        .db
        .read_primary(async |c| {
            use diesel::{ExpressionMethods, QueryDsl};
            use diesel_async::RunQueryDsl;
            use pastebin::services::db::schema::pastes;
            pastes::table
                .filter(pastes::id.eq(&id))
                .select(pastes::in_blob)
                .get_result::<bool>(c)
                .await
        })
        .await
        .unwrap();
    assert!(
        !in_blob,
        "a large body stays inline without an object store"
    );
    assert_eq!(app.probe("/readyz").await.1["s3"], "absent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_s3_settings_no_aws_credential_source_is_asked() {
    let deployment = Deployment::new().await;
    let (trap, hits) = trap().await;
    let token = std::env::temp_dir().join(unique("pastebin-token-"));
    std::fs::write(&token, "a-token").unwrap();
    let mut vars = base_env(&deployment);
    vars.extend([
        kv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/trap"),
        kv("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_string_lossy()),
        kv("AWS_ENDPOINT_URL_STS", format!("http://{trap}")),
        kv(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            format!("http://{trap}/creds"),
        ),
        kv(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            format!("http://{trap}"),
        ),
        kv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
    ]);
    let started = std::time::Instant::now();
    let mut server = Process::spawn(&["serve"], &vars);
    server.wait_serving().await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "start-up took {:?}",
        started.elapsed()
    );
    let http = reqwest::Client::new();
    let id = create(&http, server.addr, &"y".repeat(LARGE)).await;
    let raw = http
        .get(format!("http://{}/raw/{id}", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.text().await.unwrap().len(), LARGE);
    let ready: serde_json::Value = http
        .get(format!("http://{}/readyz", server.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["s3"], "absent", "{ready}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "an AWS endpoint was asked");
    std::fs::remove_file(token).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_alone_turns_the_object_store_on_at_aws() {
    // No endpoint, no keys: AWS S3 in the region, credentials from the chain (none here: the
    // store is on but cannot be used yet, which development tolerates).
    let app = TestApp::spawn_with(|c| {
        c.object_store.s3_bucket = "pastebin-only-a-bucket".into();
        c.object_store.s3_endpoint = String::new();
        c.object_store.s3_access_key = String::new();
        c.object_store.s3_secret_key = String::new();
        c.object_store.s3_region = "eu-west-1".into();
    })
    .await;
    let blobs = &app.app.stores().blobs;
    assert!(blobs.is_configured(), "a bucket turns the object store on");
    assert_eq!(
        blobs.placement(LARGE),
        pastebin::services::blob::Placement::Object
    );
    assert_ne!(app.probe("/readyz").await.1["s3"], "absent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_identity_credentials_come_from_sts_and_are_refreshed_before_they_expire() {
    let deployment = Deployment::new().await;
    // Six-second credentials: refreshed half-way, with the token file read again.
    let sts = FakeSts::start(Duration::from_secs(6), false).await;
    let token = std::env::temp_dir().join(unique("pastebin-token-"));
    std::fs::write(&token, "token-1\n").unwrap();
    let mut vars = base_env(&deployment);
    vars.extend([
        kv("PASTEBIN_S3_BUCKET", env("PASTEBIN_S3_BUCKET")),
        kv("PASTEBIN_S3_ENDPOINT", env("PASTEBIN_S3_ENDPOINT")),
        kv("PASTEBIN_S3_REGION", env("PASTEBIN_S3_REGION")),
        kv("PASTEBIN_S3_PREFIX", deployment.s3_prefix.clone()),
        kv("PASTEBIN_INLINE_MAX", "0"),
        kv("PASTEBIN_PROFILE", "production"),
        kv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/pastebin"),
        kv("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_string_lossy()),
        kv("AWS_ENDPOINT_URL_STS", sts.url.clone()),
        kv("AWS_REGION", "us-west-2"),
    ]);
    let mut server = Process::spawn(&["serve"], &vars);
    server.wait_serving().await;
    let first = sts.calls();
    assert!(!first.is_empty(), "credentials were asked for at start-up");
    let call = &first[0];
    assert_eq!(call["Action"], "AssumeRoleWithWebIdentity");
    assert_eq!(call["RoleArn"], "arn:aws:iam::123456789012:role/pastebin");
    assert_eq!(call["WebIdentityToken"], "token-1");
    assert_eq!(call["RoleSessionName"], "pastebin");

    // Every body goes to the bucket, signed with the keys STS handed out (the process has no
    // other source of keys).
    let http = reqwest::Client::new();
    let id = create(&http, server.addr, "signed with web identity credentials").await;
    let raw = http
        .get(format!("http://{}/raw/{id}", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);

    // The kubelet rotates the token file; the next refresh, before expiry, sends the new one.
    std::fs::write(&token, "token-2\n").unwrap();
    eventually(
        "a refresh with the rotated token",
        Duration::from_secs(20),
        || async {
            sts.calls()
                .iter()
                .any(|c| c.get("WebIdentityToken").map(String::as_str) == Some("token-2"))
        },
    )
    .await;
    // Past the first keys' expiry, the store still works.
    eventually(
        "the first credentials have expired",
        Duration::from_secs(20),
        || async { sts.calls().len() >= 3 },
    )
    .await;
    let id = create(&http, server.addr, "after the refresh").await;
    let raw = http
        .get(format!("http://{}/raw/{id}", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.text().await.unwrap(), "after the refresh");
    std::fs::remove_file(token).ok();
}

/// Production with a bucket it cannot use: the process exits, and says why.
async fn refused(deployment: &Deployment, extra: Vec<(String, String)>, why: &str) {
    let mut vars = base_env(deployment);
    vars.push(kv("PASTEBIN_PROFILE", "production"));
    vars.push(kv("PASTEBIN_S3_BUCKET", env("PASTEBIN_S3_BUCKET")));
    vars.extend(extra);
    let (status, output) = Process::spawn(&["serve"], &vars)
        .exit(Duration::from_secs(30))
        .await;
    assert!(!status.success(), "started anyway:\n{output}");
    assert!(
        output.contains("PASTEBIN_S3_BUCKET") || output.contains("PASTEBIN_S3_"),
        "names the setting:\n{output}"
    );
    assert!(output.contains(why), "says {why:?}:\n{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_refuses_to_start_with_an_object_store_it_cannot_use() {
    let d = Deployment::new().await;
    // A region AWS does not have (and no endpoint).
    refused(
        &d,
        vec![kv("PASTEBIN_S3_REGION", "moon-base-one")],
        "PASTEBIN_S3_REGION \"moon-base-one\" is not an AWS region",
    )
    .await;
    // An endpoint that is not a URL.
    refused(
        &d,
        vec![kv("PASTEBIN_S3_ENDPOINT", "s3 at the corner")],
        "is not an http(s) URL",
    )
    .await;
    // Half a key pair.
    refused(
        &d,
        vec![
            kv("PASTEBIN_S3_ENDPOINT", env("PASTEBIN_S3_ENDPOINT")),
            kv("PASTEBIN_S3_ACCESS_KEY", "only-the-access-key"),
        ],
        "go together",
    )
    .await;
    // No credentials anywhere (IRSA not set up).
    refused(
        &d,
        vec![
            kv("PASTEBIN_S3_ENDPOINT", env("PASTEBIN_S3_ENDPOINT")),
            kv("HOME", "/nonexistent"),
        ],
        "no AWS credentials found",
    )
    .await;
    // STS refuses the role.
    let sts = FakeSts::start(Duration::from_secs(3600), true).await;
    let token = std::env::temp_dir().join(unique("pastebin-token-"));
    std::fs::write(&token, "a-token").unwrap();
    refused(
        &d,
        vec![
            kv("PASTEBIN_S3_ENDPOINT", env("PASTEBIN_S3_ENDPOINT")),
            kv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/untrusted"),
            kv("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_string_lossy()),
            kv("AWS_ENDPOINT_URL_STS", sts.url.clone()),
        ],
        "AccessDenied",
    )
    .await;
    assert_eq!(sts.calls().len(), 1);
    std::fs::remove_file(token).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn development_starts_with_an_unusable_object_store_and_reports_it_down() {
    let deployment = Deployment::new().await;
    let mut vars = base_env(&deployment);
    vars.extend([
        kv("PASTEBIN_S3_BUCKET", env("PASTEBIN_S3_BUCKET")),
        kv("PASTEBIN_S3_ENDPOINT", env("PASTEBIN_S3_ENDPOINT")),
        kv("HOME", "/nonexistent"),
    ]);
    let mut server = Process::spawn(&["serve"], &vars);
    server.wait_serving().await;
    let http = reqwest::Client::new();
    let url = format!("http://{}/readyz", server.addr);
    eventually(
        "the object store is reported down",
        Duration::from_secs(20),
        || async {
            let r: serde_json::Value = http.get(&url).send().await.unwrap().json().await.unwrap();
            r["s3"] == "down" && r["status"] == "degraded"
        },
    )
    .await;
    // Small pastes still work; a large one is refused as retryable.
    create(&http, server.addr, "small and inline").await;
    let r = http
        .post(format!("http://{}/graphql", server.addr))
        .json(&json!({
            "query": "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } } }",
            "variables": { "i": { "content": "z".repeat(LARGE) } }
        }))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{r}"
    );
}
