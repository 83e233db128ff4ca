//! Bad input and bad clients never hurt the server or leave half-written pastes.

use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::harness::{TestApp, error_code};

const TEN_MIB: usize = 10 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_mib_plus_one_byte_is_refused_on_every_route_and_ten_mib_is_accepted() {
    let app = TestApp::spawn().await;
    let too_big = "a".repeat(TEN_MIB + 1);

    let curl = app.http.post(app.url("/")).body(too_big.clone()).send();
    refused_at_once("POST /", curl.await);
    let rest = app
        .http
        .post(app.url("/api/v1/paste"))
        .json(&json!({ "paste_contents": too_big }))
        .send();
    refused_at_once("REST", rest.await);
    let r = app
        .gql(
            "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } } }",
            json!({ "i": { "content": too_big } }),
        )
        .await;
    assert_eq!(error_code(&r), Some("PAYLOAD_TOO_LARGE"));

    let exactly = "b".repeat(TEN_MIB);
    let ok = app
        .http
        .post(app.url("/"))
        .body(exactly.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
    let url = ok.text().await.unwrap();
    let id = url.trim().rsplit('/').next().unwrap();
    let back = app.raw(id).await.bytes().await.unwrap();
    assert_eq!(back.len(), TEN_MIB);
}

/// A body over the limit is answered 413 from its declared length, without being read. The
/// server then closes a connection that still has the body coming: when the client is still
/// sending, the kernel resets it and the client may see the reset instead of the 413 (what
/// curl shows as "connection reset"). Either is the refusal; what is not is an answer of another
/// status, or no answer at all (a timeout).
fn refused_at_once(door: &str, sent: reqwest::Result<reqwest::Response>) {
    match sent {
        Ok(r) => assert_eq!(r.status(), 413, "{door}"),
        Err(e) => assert!(
            !e.is_timeout() && !e.is_connect() && (e.is_request() || e.is_body()),
            "{door}: {e:?}"
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_length_over_the_limit_is_refused_before_the_body_is_read() {
    let app = TestApp::spawn().await;
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\ncontent-type: text/plain\r\n\r\n",
        TEN_MIB * 10
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 64];
    let n = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read(&mut s, &mut buf),
    )
    .await
    .expect("answered without waiting for 100 MiB")
    .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 413"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_cancelling_mid_request_leave_no_half_written_paste() {
    // No create budget: the 150 creates whose bodies arrive would spend the default one (60 a
    // minute per address), and the create after them would be refused.
    let app = TestApp::spawn_with(|c| {
        c.object_store.inline_max = 0;
        c.limits.rate_create_per_min = 0;
    })
    .await;
    let mut tasks = Vec::new();
    for i in 0..200usize {
        let addr = app.addr;
        tasks.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            let body = json!({ "query": "mutation($c: String!) { createPaste(input: {content: $c}) { paste { id } } }",
                               "variables": { "c": format!("cancelled {i} ").repeat(2000) } })
            .to_string();
            let head = format!("POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
            s.write_all(head.as_bytes()).await.unwrap();
            // Clients stop halfway through the body, right after it, a moment later (while
            // the server writes the paste), or late enough that the write has surely begun.
            match i % 4 {
                0 => s.write_all(&body.as_bytes()[..body.len() / 2]).await.unwrap(),
                1 => s.write_all(body.as_bytes()).await.unwrap(),
                2 => {
                    s.write_all(body.as_bytes()).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(5 + (i % 20) as u64)).await;
                }
                _ => {
                    s.write_all(body.as_bytes()).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(300 + 10 * (i % 70) as u64)).await;
                }
            }
            drop(s);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // The server still serves.
    let (id, _) = app.create_paste("still here").await;
    assert_eq!(app.read_paste(None, &id).await.unwrap(), "still here");
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // The writes whose clients walked away go on to the end: wait for them, then check every
    // row's body.
    app.wait_until_idle().await;
    let ids = app
        .app
        .stores()
        .db
        .read_prefer_primary(async |c| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query("SELECT id FROM pastes")
                .load::<IdRow>(c)
                .await
        })
        .await
        .unwrap();
    assert!(
        !ids.is_empty(),
        "the creates whose clients left late completed"
    );
    for row in ids {
        assert!(
            app.app.stores().blobs.exists(&row.id).await.unwrap(),
            "paste {} has its body",
            row.id
        );
        let fresh_read = app.read_paste(None, &row.id).await;
        assert!(
            fresh_read.is_ok(),
            "paste {} reads back: {fresh_read:?}",
            row.id
        );
    }
}

#[derive(diesel::QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}
