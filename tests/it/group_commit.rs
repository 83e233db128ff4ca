//! Group commit: concurrent creates share a transaction, and each keeps its own outcome.

use chrono::Utc;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use futures_util::future::join_all;
use pastebin::services::db::models::{NewFileRow, NewPasteRow, NewRevisionRow};
use pastebin::services::db::pastes::{BatchInsert, NewPasteWrite, insert_batch};
use serde_json::{Value, json};

use crate::harness::{TestApp, error_code, metric};

const CREATE: &str =
    "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } deleteToken } }";

fn id_of(r: &Value) -> Option<String> {
    r["data"]["createPaste"]["paste"]["id"]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_share_commits_and_one_key_makes_one_paste() {
    let app = TestApp::spawn_with(|c| c.limits.rate_create_per_min = 0).await;
    // 60 creates at once: 40 plain, and 10 keys each sent twice.
    let mut inputs: Vec<Value> = (0..40)
        .map(|i| json!({ "content": format!("plain {i}") }))
        .collect();
    for k in 0..10 {
        let key = format!("{k:032x}");
        for _ in 0..2 {
            inputs.push(json!({ "content": format!("keyed {k}"), "idempotencyKey": key }));
        }
    }
    let results = join_all(inputs.iter().map(|i| app.gql(CREATE, json!({ "i": i })))).await;
    for r in &results {
        assert!(r["errors"].is_null(), "{r}");
    }
    let ids: Vec<String> = results.iter().map(|r| id_of(r).unwrap()).collect();
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        50,
        "one paste per key, one per plain create"
    );
    // The two creates of a key got the same paste and the same delete token.
    for pair in results[40..].chunks(2) {
        assert_eq!(id_of(&pair[0]), id_of(&pair[1]));
        assert_eq!(
            pair[0]["data"]["createPaste"]["deleteToken"],
            pair[1]["data"]["createPaste"]["deleteToken"]
        );
    }
    // Every acknowledged paste reads back whole.
    for (input, id) in inputs.iter().zip(&ids) {
        assert_eq!(
            app.read_paste(None, id).await.unwrap(),
            input["content"].as_str().unwrap()
        );
    }
    // And they were committed in fewer transactions than inserts (a key's second create either
    // joined a batch or found the first one's paste and inserted nothing).
    let page = app.metrics().await;
    let batches = metric(&page, "pastebin_create_batch_size_count");
    let inserts = metric(&page, "pastebin_create_batch_size_sum");
    assert!((50.0..=60.0).contains(&inserts), "{inserts} inserts");
    assert!(batches < inserts, "{batches} batches for {inserts} inserts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_row_fails_alone() {
    let app = TestApp::spawn_with(|c| c.limits.rate_create_per_min = 0).await;
    // A rule only the database knows (as a constraint added by an operator would be).
    app.sql(
        "ALTER TABLE pastes ADD CONSTRAINT test_refuses_bad CHECK (title IS DISTINCT FROM 'bad')",
    )
    .await;
    let inputs: Vec<Value> = (0..30)
        .map(|i| {
            let title = if i == 7 { "bad" } else { "good" };
            json!({ "content": format!("row {i}"), "title": title })
        })
        .collect();
    let results = join_all(inputs.iter().map(|i| app.gql(CREATE, json!({ "i": i })))).await;
    for (i, r) in results.iter().enumerate() {
        if i == 7 {
            assert_eq!(error_code(r), Some("INTERNAL_SERVER_ERROR"), "{r}");
        } else {
            let id = id_of(r).unwrap_or_else(|| panic!("{i}: {r}"));
            assert_eq!(app.read_paste(None, &id).await.unwrap(), format!("row {i}"));
        }
    }
}

/// A paste of a batch as the create path writes it (one file, inline body).
fn write(id: &str, scope: Option<&[u8]>) -> NewPasteWrite {
    let now = Utc::now();
    let sha = vec![7u8; 32];
    NewPasteWrite {
        paste: NewPasteRow {
            id: id.to_owned(),
            owner_id: None,
            title: Some(format!("title of {id}")),
            language: None,
            visibility: 1,
            created_at: now,
            expires_at: None,
            burn_after_reading: false,
            max_views: None,
            size_bytes: 5,
            content_sha256: sha.clone(),
            body: None,
            in_blob: false,
            delete_token_sha256: None,
            idempotency_scope: scope.map(<[u8]>::to_vec),
            input_sha256: None,
            revision: 1,
            forked_from: None,
            file_count: 1,
            encrypted: false,
        },
        revision: NewRevisionRow {
            paste_id: id.to_owned(),
            number: 1,
            created_at: now,
            title: Some(format!("title of {id}")),
            language: None,
            size_bytes: 5,
            content_sha256: sha.clone(),
            file_count: 1,
            summary: "Created with 1 file".to_owned(),
            attempt: format!("a-{id}"),
        },
        files: vec![NewFileRow {
            paste_id: id.to_owned(),
            revision: 1,
            position: 0,
            name: "paste.txt".to_owned(),
            language: None,
            size_bytes: 5,
            content_sha256: sha,
            body: Some(format!("body of {id}").into_bytes()),
            object_key: None,
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_one_statement_prepared_once_whatever_its_size() {
    let app = TestApp::spawn().await;
    let mut conn = app.primary().await;
    let id = |n: usize| format!("gc{:08}", n);
    // Batches of 1, 3 and 7 pastes on one connection, like a committer's.
    let mut n = 0;
    for size in [1, 3, 7] {
        let writes: Vec<NewPasteWrite> = (n..n + size).map(|i| write(&id(i), None)).collect();
        n += size;
        let refs: Vec<&NewPasteWrite> = writes.iter().collect();
        let outcomes = insert_batch(&mut conn, &refs).await.unwrap();
        assert_eq!(outcomes, vec![BatchInsert::Inserted; size]);
    }
    // One statement for every size, kept prepared on the connection (a multi-row VALUES is
    // a new statement per size, prepared and closed each time).
    let prepared: Vec<String> = diesel::sql_query("SELECT statement FROM pg_prepared_statements")
        .load::<Statement>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.statement)
        .filter(|s| s.contains("INSERT INTO"))
        .collect();
    assert_eq!(prepared.len(), 1, "{prepared:#?}");
    assert!(
        prepared[0].contains("INSERT INTO paste_files"),
        "{}",
        prepared[0]
    );

    // A batch with a taken id, a taken key and one key twice: the skipped pastes get no
    // revision and no file, the others all of theirs.
    let scope = |k: u8| vec![k; 32];
    let first = [write(&id(100), Some(&scope(1)))];
    insert_batch(&mut conn, &[&first[0]]).await.unwrap();
    let batch = [
        write(&id(0), None),              // id taken (by the first batch)
        write(&id(101), Some(&scope(1))), // key taken (by id 100)
        write(&id(102), Some(&scope(2))), // key free: goes in
        write(&id(103), Some(&scope(2))), // the same key, later in the batch
        write(&id(104), None),            // goes in
    ];
    let refs: Vec<&NewPasteWrite> = batch.iter().collect();
    let outcomes = insert_batch(&mut conn, &refs).await.unwrap();
    use BatchInsert::*;
    assert_eq!(
        outcomes,
        vec![IdTaken, KeyTaken, Inserted, KeyTaken, Inserted]
    );
    let counts: Vec<Counts> = diesel::sql_query(
        "SELECT p.id, (SELECT count(*) FROM paste_revisions r WHERE r.paste_id = p.id) AS revisions, \
         (SELECT count(*) FROM paste_files f WHERE f.paste_id = p.id) AS files \
         FROM (VALUES ('gc00000000'), ('gc00000101'), ('gc00000102'), ('gc00000103'), ('gc00000104')) AS p(id) \
         ORDER BY p.id",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let got: Vec<(String, i64, i64)> = counts
        .into_iter()
        .map(|c| (c.id, c.revisions, c.files))
        .collect();
    assert_eq!(
        got,
        vec![
            (id(0), 1, 1),
            (id(101), 0, 0),
            (id(102), 1, 1),
            (id(103), 0, 0),
            (id(104), 1, 1),
        ]
    );
}

#[derive(QueryableByName)]
struct Statement {
    #[diesel(sql_type = diesel::sql_types::Text)]
    statement: String,
}

#[derive(QueryableByName)]
struct Counts {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    revisions: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    files: i64,
}
