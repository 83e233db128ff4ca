//! Several files per paste: create, read (GraphQL, raw per file, zip), the input rules, and
//! where the bodies go (inline or per file in the object store, under per-attempt keys).

use std::io::Read;

use serde_json::{Value, json};

use crate::harness::{TestApp, error_code};

pub const CREATE: &str = "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id revision fileCount files { name language sizeBytes } } deleteToken } }";

pub fn files(list: &[(&str, &str)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(name, content)| json!({ "name": name, "content": content }))
            .collect(),
    )
}

pub async fn create_files(app: &TestApp, token: Option<&str>, input: Value) -> (String, Value) {
    let r = app.gql_as(token, CREATE, json!({ "i": input })).await;
    assert!(r["errors"].is_null(), "createPaste failed: {r}");
    let p = &r["data"]["createPaste"];
    (p["paste"]["id"].as_str().unwrap().to_owned(), p.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paste_of_several_files_reads_back_through_every_door() {
    let app = TestApp::spawn().await;
    let main = "fn main() {\n    println!(\"hi\");\n}\n";
    let notes = "# Notes\n\nSee main.rs.\n";
    let (id, created) = create_files(
        &app,
        None,
        json!({ "files": files(&[("main.rs", main), ("Notes.md", notes), ("data", "x y")]), "title": "trio" }),
    )
    .await;
    assert_eq!(created["paste"]["fileCount"], 3);
    assert_eq!(created["paste"]["revision"], 1);
    let listed = &created["paste"]["files"];
    assert_eq!(
        listed[0],
        json!({ "name": "main.rs", "language": "rust", "sizeBytes": main.len() })
    );
    assert_eq!(listed[1]["language"], "markdown", "detected from the name");
    assert_eq!(
        listed[2]["language"],
        Value::Null,
        "a name that says nothing: plain text"
    );
    assert!(
        created["deleteToken"].is_string(),
        "anonymous files pastes get a delete token"
    );

    // Another instance: nothing cached.
    let other = TestApp::instance(&app.deployment, |_| {}).await;
    let r = other
        .gql(
            "query($id: ID!) { paste(id: $id) { language sizeBytes content files { name content rawUrl } } }",
            json!({ "id": id }),
        )
        .await;
    let p = &r["data"]["paste"];
    assert_eq!(
        p["language"], "rust",
        "the paste's language is its first file's"
    );
    assert_eq!(p["sizeBytes"], main.len() + notes.len() + 3);
    assert_eq!(p["content"], main, "content is the first file");
    assert_eq!(p["files"][1]["content"], notes);
    assert_eq!(
        p["files"][1]["rawUrl"],
        format!("http://127.0.0.1:8080/raw/{id}/Notes.md")
    );

    // Raw: the first file at /raw/{id}, each file at /raw/{id}/{name}.
    assert_eq!(other.raw(&id).await.text().await.unwrap(), main);
    let r = other
        .http
        .get(other.url(&format!("/raw/{id}/Notes.md")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''Notes.md")
    );
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(r.text().await.unwrap(), notes);
    let again = other
        .http
        .get(other.url(&format!("/raw/{id}/Notes.md")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let r = other
        .http
        .get(other.url(&format!("/raw/{id}/notes.MD")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.text().await.unwrap(),
        notes,
        "names match without regard to case"
    );
    for missing in ["nope.txt", "..%2Fmain.rs"] {
        let r = other
            .http
            .get(other.url(&format!("/raw/{id}/{missing}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{missing}");
    }

    // The zip: every file, in a folder named after the paste and revision.
    let r = other
        .http
        .get(other.url(&format!("/zip/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut names = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        names.push((f.name().unwrap().to_string(), text));
    }
    assert_eq!(
        names,
        vec![
            (format!("{id}-r1/main.rs"), main.to_owned()),
            (format!("{id}-r1/Notes.md"), notes.to_owned()),
            (format!("{id}-r1/data"), "x y".to_owned()),
        ]
    );

    // The REST API keeps its contract: its paste is the first file.
    let rest: Value = other
        .http
        .get(other.url(&format!("/api/v1/paste?shortlink={id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["paste_contents"], main);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_file_paste_is_a_file_named_after_its_language() {
    let app = TestApp::spawn().await;
    let (id, _) = app
        .create_paste_with(None, json!({ "content": "SELECT 1;", "language": "sql" }))
        .await;
    let r = app
        .gql(
            "query($id: ID!) { paste(id: $id) { fileCount files { name language } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        r["data"]["paste"]["files"],
        json!([{ "name": "paste.sql", "language": "sql" }])
    );
    let raw = app
        .http
        .get(app.url(&format!("/raw/{id}/paste.sql")))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.text().await.unwrap(), "SELECT 1;");
    // raw of a one-file paste is as it always was
    let raw = app.raw(&id).await;
    assert_eq!(
        raw.headers()["content-disposition"],
        format!("inline; filename=\"{id}.txt\"")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_input_takes_exactly_one_body_and_checks_every_name() {
    let app = TestApp::spawn_with(|c| c.limits.max_bytes = 100).await;
    let bad = [
        json!({}),
        json!({ "content": "x", "files": files(&[("a", "b")]) }),
        json!({ "files": [] }),
        json!({ "files": files(&[("a/b", "x")]) }),
        json!({ "files": files(&[("a\\b", "x")]) }),
        json!({ "files": files(&[("..", "x")]) }),
        json!({ "files": files(&[("bell\u{7}", "x")]) }),
        json!({ "files": files(&[("txt.\u{202E}exe", "x")]) }),
        json!({ "files": files(&[("zero\u{200B}width", "x")]) }),
        json!({ "files": files(&[("Same.txt", "x"), ("same.TXT", "y")]) }),
        json!({ "files": files(&[("empty", "")]) }),
        json!({ "files": [{ "name": "a", "content": "x", "language": "no spaces!" }] }),
    ];
    for input in bad {
        let r = app.gql(CREATE, json!({ "i": input })).await;
        assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "{input} → {r}");
        assert!(!r["errors"][0]["message"].as_str().unwrap().is_empty());
    }
    let r = app.gql(CREATE, json!({ "i": {} })).await;
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("exactly one"),
        "{r}"
    );
    let many: Vec<(String, &str)> = (0..21).map(|i| (format!("f{i}.txt"), "x")).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let r = app
        .gql(CREATE, json!({ "i": { "files": files(&many) } }))
        .await;
    assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "21 files: {r}");
    let twenty = &many[..20];
    let r = app
        .gql(CREATE, json!({ "i": { "files": files(twenty) } }))
        .await;
    assert!(r["errors"].is_null(), "20 files: {r}");
    // The size limit applies to the total.
    let half = "x".repeat(60);
    let r = app
        .gql(
            CREATE,
            json!({ "i": { "files": files(&[("a", &half), ("b", &half)]) } }),
        )
        .await;
    assert_eq!(error_code(&r), Some("PAYLOAD_TOO_LARGE"), "{r}");
    let r = app
        .gql(
            CREATE,
            json!({ "i": { "files": files(&[("ünïcødé 日本.md", "ok")]) } }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_files_go_to_the_bucket_one_object_each_under_their_attempt() {
    let app = TestApp::spawn_with(|c| c.object_store.inline_max = 1024).await;
    let big = "large line\n".repeat(500);
    let (id, _) = create_files(
        &app,
        None,
        json!({ "files": files(&[("small.txt", "tiny"), ("big.log", &big), ("big2.log", &big)]) }),
    )
    .await;
    let keys = object_keys(&app, &id).await;
    assert_eq!(keys.len(), 2, "one object per large file: {keys:?}");
    for (key, position) in keys.iter().zip(["1", "2"]) {
        let parts: Vec<&str> = key.split('/').collect();
        assert_eq!(parts.len(), 4, "{key}");
        assert_eq!(
            (parts[0], parts[1], parts[3]),
            ("pastes", id.as_str(), position)
        );
        assert!(app.app.stores().blobs.exists_key(key).await.unwrap());
    }
    let other = TestApp::instance(&app.deployment, |c| c.object_store.inline_max = 1024).await;
    let r = other
        .gql(
            "query($id: ID!) { paste(id: $id) { files { content } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(r["data"]["paste"]["files"][2]["content"], big.as_str());
}

/// The object keys a paste's rows record.
pub async fn object_keys(app: &TestApp, id: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct K {
        #[diesel(sql_type = diesel::sql_types::Text)]
        object_key: String,
    }
    let sql = format!(
        "SELECT object_key FROM paste_files WHERE paste_id = '{id}' AND object_key IS NOT NULL ORDER BY revision, position"
    );
    let sql = sql.as_str();
    app.app
        .stores()
        .db
        .read_prefer_primary(async |c| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query(sql).load::<K>(c).await
        })
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.object_key)
        .collect()
}
