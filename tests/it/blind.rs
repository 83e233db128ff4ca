//! Proof that the server cannot read an encrypted paste (issue 13, item 5): after creating and
//! reading encrypted pastes (sealed here with the format's crate; small ones inline in
//! Postgres, large ones in the object store; with and without a password), nothing the server
//! holds contains their plaintext, their key or their password — searched in the primary, the
//! replica, every Redis key of the deployment's prefix, every object of its S3 prefix, the
//! server's logs at trace level and `/metrics`, with every zstd frame found in them
//! decompressed (stored bodies are zstd). A positive control makes the search prove something:
//! the same search over a deployment holding a plain paste of the same plaintext (with a key
//! written into its text) finds both in every store.
//!
//! Runs under nextest (one process per test): the capturing subscriber installed here is the
//! process-wide one.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use pastebin_envelope::{Bundle, File, Key, seal};
use serde_json::json;

use crate::encrypted::create_encrypted;
use crate::harness::{TestApp, env, eventually, unique, with_database};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    fn since(&self, from: usize) -> Vec<u8> {
        self.0.lock().unwrap()[from..].to_vec()
    }
}

/// Text that does not compress: a large paste stays large once sealed (zlib inside the
/// envelope), so its envelope goes to the object store.
fn incompressible(len: usize) -> String {
    pastebin::ids::random_base62(len)
}

/// Every stored item of a deployment, by the place it was found in.
struct Haystack {
    places: Vec<(&'static str, Vec<Vec<u8>>)>,
}

impl Haystack {
    /// The places where each needle occurs (in the bytes, or in a zstd frame within them).
    fn find(&self, needles: &[(&str, Vec<u8>)]) -> BTreeSet<(String, &'static str)> {
        let mut found = BTreeSet::new();
        for (place, items) in &self.places {
            for item in items {
                let mut views = vec![item.clone()];
                views.extend(zstd_frames(item));
                for view in &views {
                    for (what, needle) in needles {
                        if contains(view, needle) {
                            found.insert((what.to_string(), *place));
                        }
                    }
                }
            }
        }
        found
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every zstd frame that starts anywhere in `bytes`, decompressed (as much of it as decodes).
fn zstd_frames(bytes: &[u8]) -> Vec<Vec<u8>> {
    const MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
    let mut out = Vec::new();
    for i in 0..bytes.len().saturating_sub(3) {
        if bytes[i..i + 4] != MAGIC {
            continue;
        }
        let Ok(decoder) = zstd::stream::read::Decoder::new(&bytes[i..]) else {
            continue;
        };
        let mut decoder = decoder.single_frame().take(64 << 20);
        let mut text = Vec::new();
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match decoder.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => text.extend_from_slice(&chunk[..n]),
            }
        }
        if !text.is_empty() {
            out.push(text);
        }
    }
    out
}

/// Every row of every table of a database, as JSON text, with its `bytea` values (hex in the
/// JSON) decoded beside it.
async fn database_rows(url: &str) -> Vec<Vec<u8>> {
    #[derive(diesel::QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    let mut c = AsyncPgConnection::establish(url).await.expect("connect");
    let tables: Vec<Text> = diesel::sql_query(
        "SELECT quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = 'public'",
    )
    .load(&mut c)
    .await
    .unwrap();
    assert!(
        tables.iter().any(|t| t.t == "paste_files"),
        "the paste tables are searched"
    );
    let mut out = Vec::new();
    for table in tables {
        let rows: Vec<Text> = diesel::sql_query(format!(
            "SELECT row_to_json(r)::text AS t FROM {} r",
            table.t
        ))
        .load(&mut c)
        .await
        .unwrap();
        for row in rows {
            let json: serde_json::Value = serde_json::from_str(&row.t).unwrap();
            for value in json.as_object().into_iter().flat_map(|o| o.values()) {
                if let Some(hex) = value.as_str().and_then(|s| s.strip_prefix("\\x"))
                    && let Ok(bytes) = hex::decode(hex)
                {
                    out.push(bytes);
                }
            }
            out.push(row.t.into_bytes());
        }
    }
    out
}

fn flatten(value: redis::Value, out: &mut Vec<Vec<u8>>) {
    match value {
        redis::Value::BulkString(b) => out.push(b),
        redis::Value::SimpleString(s) => out.push(s.into_bytes()),
        redis::Value::VerbatimString { text, .. } => out.push(text.into_bytes()),
        redis::Value::Array(items) | redis::Value::Set(items) => {
            for v in items {
                flatten(v, out);
            }
        }
        redis::Value::Map(pairs) => {
            for (k, v) in pairs {
                flatten(k, out);
                flatten(v, out);
            }
        }
        redis::Value::Push { data, .. } => {
            for v in data {
                flatten(v, out);
            }
        }
        _ => {}
    }
}

/// The value of every Redis key under `prefix`, whatever its type.
async fn redis_values(prefix: &str) -> (usize, Vec<Vec<u8>>) {
    let client = redis::Client::open(env("PASTEBIN_REDIS_URL")).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, page): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut c)
            .await
            .unwrap();
        keys.extend(page);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    let mut out = Vec::new();
    for key in &keys {
        let kind: String = redis::cmd("TYPE")
            .arg(key)
            .query_async(&mut c)
            .await
            .unwrap();
        let mut cmd = match kind.as_str() {
            "string" => redis::cmd("GET"),
            "hash" => redis::cmd("HGETALL"),
            "list" => redis::cmd("LRANGE"),
            "set" => redis::cmd("SMEMBERS"),
            "zset" => redis::cmd("ZRANGE"),
            "stream" => redis::cmd("XRANGE"),
            _ => continue,
        };
        cmd.arg(key);
        match kind.as_str() {
            "list" | "zset" => {
                cmd.arg(0).arg(-1);
            }
            "stream" => {
                cmd.arg("-").arg("+");
            }
            _ => {}
        }
        let value: redis::Value = cmd.query_async(&mut c).await.unwrap_or(redis::Value::Nil);
        out.push(key.clone().into_bytes());
        flatten(value, &mut out);
    }
    (keys.len(), out)
}

/// Everything a deployment's stores hold, its logs since `logs_from` and its metrics.
async fn haystack(app: &TestApp, capture: &Capture, logs_from: usize) -> Haystack {
    let d = &app.deployment;
    let primary = database_rows(&with_database(&env("PASTEBIN_DATABASE_URL"), &d.main_db)).await;
    let replica = database_rows(&with_database(
        &env("PASTEBIN_REPLICA_DATABASE_URL"),
        &d.main_db,
    ))
    .await;
    let (keys, redis) = redis_values(&d.redis_prefix).await;
    assert!(keys > 0, "the deployment's Redis keys are searched");
    let blobs = &app.app.stores().blobs;
    let (objects, _) = blobs.list_page(None, 1000).await.unwrap();
    let mut s3 = Vec::new();
    for o in &objects {
        s3.push(o.key.clone().into_bytes());
        s3.push(blobs.get(&o.key).await.unwrap());
    }
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("pastebin_pastes_created_total"),
        "metrics are read"
    );
    Haystack {
        places: vec![
            ("primary", primary),
            ("replica", replica),
            ("redis", redis),
            ("s3", s3),
            ("logs", vec![capture.since(logs_from)]),
            ("metrics", vec![metrics.into_bytes()]),
        ],
    }
}

async fn blind_app() -> TestApp {
    TestApp::spawn_with(|c| {
        c.server.log = "trace".into();
        // Small bodies inline in Postgres, large ones in the object store: both are searched.
        c.object_store.inline_max = 2048;
    })
    .await
}

/// Reads a paste's content twice and its raw form once, on another instance (the creating
/// one holds it in its in-process cache; the other fills the shared one).
async fn read_everywhere(creator: &TestApp, id: &str, field: &str) {
    let app = &TestApp::instance(&creator.deployment, |c| {
        c.server.log = "trace".into();
        c.object_store.inline_max = 2048;
    })
    .await;
    for _ in 0..2 {
        let r = app
            .gql(
                &format!("query($id: ID!) {{ paste(id: $id) {{ {field} }} }}"),
                json!({ "id": id }),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
    }
    assert_eq!(app.raw(id).await.status(), 200);
}

/// Waits until the replica has the deployment's pastes and Redis caches them.
async fn settle(app: &TestApp, ids: &[String]) {
    let replica = with_database(
        &env("PASTEBIN_REPLICA_DATABASE_URL"),
        &app.deployment.main_db,
    );
    eventually(
        "the replica has every paste",
        Duration::from_secs(20),
        || {
            let replica = replica.clone();
            async move {
                let rows = database_rows(&replica).await;
                ids.iter().all(|id| {
                    rows.iter()
                        .any(|r| contains(r, format!("\"paste_id\":\"{id}\"").as_bytes()))
                })
            }
        },
    )
    .await;
    let prefix = app.deployment.redis_prefix.clone();
    eventually("Redis caches every paste", Duration::from_secs(20), || {
        let prefix = prefix.clone();
        async move {
            let (_, values) = redis_values(&prefix).await;
            ids.iter().all(|id| {
                values
                    .iter()
                    .any(|v| v.ends_with(format!("paste:{id}").as_bytes()))
            })
        }
    })
    .await;
    app.app.stores().counts.flush().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_never_holds_the_plaintext_or_the_key_of_an_encrypted_paste() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_writer(move || writer.clone())
        .try_init()
        .expect("this test's subscriber is the first");

    let marker = format!("Plaintext-Marker-{}", unique(""));
    let password = format!("Password-{}", unique(""));
    let small = Bundle::text(
        Some(format!("Title {marker}")),
        Some("rust".into()),
        &format!("fn main() {{ /* {marker} */ }}\n"),
    );
    let large = Bundle {
        title: Some(format!("Large {marker}")),
        files: vec![
            File {
                name: format!("{marker}.txt"),
                language: None,
                content: format!("{marker}\n{}\n{marker}\n", incompressible(20_000)),
            },
            File {
                name: "b.md".into(),
                language: Some("markdown".into()),
                content: format!("# {marker}\n"),
            },
        ],
    };

    // The encrypted pastes: one small without a password (inline), one large with (object
    // store), one burn after reading (claimed once the search started from a read).
    let logs_from = capture.len();
    let app = blind_app().await;
    let (small_envelope, small_key) = seal(&small, false, None).unwrap();
    let (large_envelope, large_key) = seal(&large, false, Some(&password)).unwrap();
    assert!(
        large_envelope.ciphertext.len() > 2048,
        "the large one goes to the object store"
    );
    let mut ids = Vec::new();
    for e in [&small_envelope, &large_envelope] {
        let created = create_encrypted(&app, e, json!({})).await;
        ids.push(created["paste"]["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        read_everywhere(&app, id, "encrypted { ciphertext }").await;
    }
    settle(&app, &ids).await;
    let found = haystack(&app, &capture, logs_from).await;
    let keys = [&small_key, &large_key];
    let mut needles: Vec<(&str, Vec<u8>)> = vec![
        ("plaintext", marker.clone().into_bytes()),
        ("password", password.clone().into_bytes()),
    ];
    for key in keys {
        needles.push(("key", key.encode().into_bytes()));
        needles.push(("key (hex)", hex::encode(key.as_bytes()).into_bytes()));
        needles.push(("key (bytes)", key.as_bytes().to_vec()));
    }
    let leaks = found.find(&needles);
    assert!(
        leaks.is_empty(),
        "the server holds secrets of an encrypted paste: {leaks:?}"
    );
    // What it does hold: the envelopes (the ids and the ciphertext), so the search reached them.
    let held = found.find(&[
        ("id", ids[0].clone().into_bytes()),
        (
            "ciphertext",
            small_envelope.ciphertext.as_bytes()[..40].to_vec(),
        ),
        (
            "large ciphertext",
            large_envelope.ciphertext.as_bytes()[..40].to_vec(),
        ),
    ]);
    for place in ["primary", "replica", "redis", "logs"] {
        assert!(
            held.contains(&("id".into(), place)),
            "the search reaches {place}: {held:?}"
        );
    }
    for place in ["primary", "replica", "redis"] {
        assert!(
            held.contains(&("ciphertext".into(), place)),
            "{place}: {held:?}"
        );
    }
    assert!(
        held.contains(&("large ciphertext".into(), "s3")),
        "{held:?}"
    );
    drop(app);

    // The positive control: plain pastes of the same plaintext, with a key written into their
    // text, in a deployment of their own. The same search finds both in every store.
    let logs_from = capture.len();
    let control = blind_app().await;
    let control_key = Key::generate().encode();
    let mut ids = Vec::new();
    for (bundle, extra) in [(&small, String::new()), (&large, incompressible(4000))] {
        let files: Vec<_> = bundle
            .files
            .iter()
            .map(|f| json!({ "name": f.name, "content": format!("{}{control_key}{extra}", f.content) }))
            .collect();
        let r = control
            .gql(
                "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } } }",
                json!({ "i": { "title": bundle.title, "files": files } }),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
        ids.push(
            r["data"]["createPaste"]["paste"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for id in &ids {
        read_everywhere(&control, id, "content").await;
    }
    settle(&control, &ids).await;
    let found = haystack(&control, &capture, logs_from).await;
    let seen = found.find(&[
        ("plaintext", marker.clone().into_bytes()),
        ("key", control_key.clone().into_bytes()),
    ]);
    for what in ["plaintext", "key"] {
        for place in ["primary", "replica", "redis", "s3"] {
            assert!(
                seen.contains(&(what.into(), place)),
                "the control's {what} is found in {place} (else the search proves nothing): {seen:?}"
            );
        }
    }
    // The logs and the metrics hold no paste text even of a plain paste (titles included):
    // nothing there could have held an encrypted paste's either.
    assert!(!seen.iter().any(|(_, p)| *p == "metrics"), "{seen:?}");
    assert!(
        found
            .find(&[("id", ids[0].clone().into_bytes())])
            .contains(&("id".into(), "logs")),
        "the control's logs were captured"
    );
}
