//! End-to-end encrypted pastes (issue 13, docs/encryption.md) through the real server: sealed
//! and opened here with the format's crate, stored and served as one opaque envelope, checked
//! without being decrypted, and everything else (burn, maxViews, idempotent retry, edits,
//! forks, views, delete) working as for any paste.

use pastebin_envelope::{Bundle, Envelope, File, Key, open, reseal, seal};
use serde_json::{Value, json};

use crate::harness::{TestApp, error_code, eventually};

const CREATE: &str = "mutation($i: CreatePasteInput!) { createPaste(input: $i) { deleteToken paste { id title language content sizeBytes isEncrypted fileCount files { name } encrypted { version algorithm kdf salt iterations nonce ciphertext } } } }";
const READ: &str = "query($id: ID!, $rev: Int) { paste(id: $id, revision: $rev) { id title language content isEncrypted sizeBytes revision latestRevision burnAfterReading remainingViews files { name } encrypted { version algorithm kdf salt iterations nonce ciphertext } } }";
const ENVELOPE: &str = "encrypted { version algorithm kdf salt iterations nonce ciphertext }";

pub fn bundle(marker: &str) -> Bundle {
    Bundle {
        title: Some(format!("title {marker}")),
        files: vec![
            File {
                name: "main.rs".into(),
                language: Some("rust".into()),
                content: format!("fn main() {{ println!(\"{marker}\"); }}\n"),
            },
            File {
                name: "notes.md".into(),
                language: Some("markdown".into()),
                content: format!("# Notes\n\n{marker}\n"),
            },
        ],
    }
}

pub fn envelope_json(e: &Envelope) -> Value {
    serde_json::to_value(e).unwrap()
}

fn envelope_of(v: &Value) -> Envelope {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("not an envelope ({e}): {v}"))
}

/// Creates an encrypted paste of `input` (its `encrypted` filled from `envelope`).
pub async fn create_encrypted(app: &TestApp, envelope: &Envelope, mut input: Value) -> Value {
    input["encrypted"] = envelope_json(envelope);
    let r = app.gql(CREATE, json!({ "i": input })).await;
    assert!(r["errors"].is_null(), "createPaste failed: {r}");
    r["data"]["createPaste"].clone()
}

fn reason(r: &Value) -> Option<&str> {
    r["errors"][0]["extensions"]["reason"].as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_paste_is_stored_and_served_as_its_envelope_only() {
    let app = TestApp::spawn().await;
    let sent = bundle("hidden marker");
    let (envelope, key) = seal(&sent, false, None).unwrap();
    let created = create_encrypted(&app, &envelope, json!({})).await;
    let p = &created["paste"];
    let id = p["id"].as_str().unwrap().to_owned();
    assert_eq!(p["isEncrypted"], true);
    assert_eq!(p["title"], Value::Null);
    assert_eq!(p["language"], Value::Null);
    assert_eq!(p["content"], Value::Null);
    assert_eq!(p["files"], Value::Null);
    assert_eq!(
        p["sizeBytes"],
        envelope.ciphertext_bytes(),
        "the ciphertext's size"
    );
    assert_eq!(
        envelope_of(&p["encrypted"]),
        envelope,
        "returned as it was sent"
    );

    // Another instance (nothing cached), then this one again (cached): the same envelope, which
    // the link's key opens.
    let other = TestApp::instance(&app.deployment, |_| {}).await;
    for reader in [&other, &other, &app] {
        let r = reader.gql(READ, json!({ "id": id })).await;
        let p = &r["data"]["paste"];
        assert!(r["errors"].is_null(), "{r}");
        assert_eq!(
            (&p["title"], &p["language"], &p["content"], &p["files"]),
            (&Value::Null, &Value::Null, &Value::Null, &Value::Null)
        );
        let got = envelope_of(&p["encrypted"]);
        assert_eq!(got, envelope);
        assert_eq!(open(&got, &key, None, false).unwrap(), sent);
    }
    // Metadata alone tells that it is encrypted (and reads no body).
    let r = app
        .gql(
            "query($id: ID!) { paste(id: $id) { isEncrypted fileCount } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(r["data"]["paste"]["isEncrypted"], true);

    // A plain paste has no envelope.
    let (plain, _) = app.create_paste("plain text").await;
    let r = app.gql(READ, json!({ "id": plain })).await;
    assert_eq!(r["data"]["paste"]["isEncrypted"], false);
    assert_eq!(r["data"]["paste"]["encrypted"], Value::Null);
    assert_eq!(r["data"]["paste"]["content"], "plain text");

    // Views count as for any paste (three reads of the envelope above).
    eventually(
        "the views are counted",
        std::time::Duration::from_secs(10),
        || async {
            let r = app
                .gql(
                    "query($id: ID!) { paste(id: $id) { views } }",
                    json!({ "id": id }),
                )
                .await;
            r["data"]["paste"]["views"].as_i64() == Some(3)
        },
    )
    .await;

    // Delete works as for any paste.
    let r = app
        .gql(
            "mutation($id: ID!, $t: String) { deletePaste(id: $id, deleteToken: $t) }",
            json!({ "id": id, "t": created["deleteToken"] }),
        )
        .await;
    assert_eq!(r["data"]["deletePaste"], true, "{r}");
    let r = other.gql(READ, json!({ "id": id })).await;
    assert_eq!(error_code(&r), Some("NOT_FOUND"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_serves_the_envelope_and_plain_text_doors_refuse_it() {
    let app = TestApp::spawn().await;
    let (envelope, key) = seal(&bundle("raw marker"), false, Some("pw")).unwrap();
    let created = create_encrypted(&app, &envelope, json!({})).await;
    let id = created["paste"]["id"].as_str().unwrap().to_owned();

    // One file, the zip and the REST API cannot serve what the server cannot read.
    for path in [
        format!("/raw/{id}/main.rs"),
        format!("/raw/{id}/envelope.json"),
        format!("/zip/{id}"),
        format!("/api/v1/paste?shortlink={id}"),
    ] {
        let r = app.http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 406, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "ENCRYPTED", "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("end-to-end encrypted"),
            "{body}"
        );
    }
    // The refusals read nothing and counted no view.
    app.app.stores().counts.flush().await;
    let r = app
        .gql(
            "query($id: ID!) { paste(id: $id) { views } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(r["data"]["paste"]["views"], 0, "{r}");

    let r = app.raw(&id).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.pastebin.encrypted+json"
    );
    assert_eq!(
        r.headers()["content-security-policy"],
        "default-src 'none'; sandbox"
    );
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let got: Envelope = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(got, envelope);
    assert_eq!(
        open(&got, &key, Some("pw"), false).unwrap(),
        bundle("raw marker")
    );
    let r = app
        .http
        .get(app.url(&format!("/raw/{id}")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);

    // A plain paste still reads through them all.
    let (plain, _) = app.create_paste("plain").await;
    let r = app
        .http
        .get(app.url(&format!("/api/v1/paste?shortlink={plain}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.raw(&plain).await.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelopes_are_checked_without_decrypting_and_refusals_say_why() {
    let app = TestApp::spawn_with(|c| c.limits.max_bytes = 4096).await;
    let (good, _) = seal(&bundle("x"), false, Some("pw")).unwrap();
    let (plain_kdf, _) = seal(&bundle("x"), false, None).unwrap();
    let create = async |e: Value, extra: Value| {
        let mut input = extra;
        input["encrypted"] = e;
        app.gql(CREATE, json!({ "i": input })).await
    };
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = envelope_json(&good);
        f(&mut v);
        v
    };
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "version 2",
            with(&|v| v["version"] = json!(2)),
            "BAD_USER_INPUT",
            "UNSUPPORTED_VERSION",
        ),
        (
            "negative version",
            with(&|v| v["version"] = json!(-1)),
            "BAD_USER_INPUT",
            "UNSUPPORTED_VERSION",
        ),
        (
            "algorithm",
            with(&|v| v["algorithm"] = json!("AES-256-GCM")),
            "BAD_USER_INPUT",
            "UNSUPPORTED_ALGORITHM",
        ),
        (
            "kdf",
            with(&|v| v["kdf"] = json!("argon2id")),
            "BAD_USER_INPUT",
            "UNSUPPORTED_KDF",
        ),
        (
            "no salt",
            with(&|v| v["salt"] = Value::Null),
            "BAD_USER_INPUT",
            "INVALID_ENVELOPE",
        ),
        (
            "short salt",
            with(&|v| v["salt"] = json!("AAAA")),
            "BAD_USER_INPUT",
            "INVALID_ENVELOPE",
        ),
        (
            "few iterations",
            with(&|v| v["iterations"] = json!(1000)),
            "BAD_USER_INPUT",
            "INVALID_ENVELOPE",
        ),
        (
            "many iterations",
            with(&|v| v["iterations"] = json!(2_000_001)),
            "BAD_USER_INPUT",
            "INVALID_ENVELOPE",
        ),
        (
            "negative iterations",
            with(&|v| v["iterations"] = json!(-600000)),
            "BAD_USER_INPUT",
            "INVALID_ENVELOPE",
        ),
        (
            "padded nonce",
            with(&|v| v["nonce"] = json!(format!("{}=", v["nonce"].as_str().unwrap()))),
            "BAD_USER_INPUT",
            "INVALID_ENVELOPE",
        ),
        (
            "standard base64",
            with(&|v| {
                v["ciphertext"] = json!(
                    v["ciphertext"]
                        .as_str()
                        .unwrap()
                        .replace('-', "+")
                        .replace('_', "/")
                        + "+/"
                )
            }),
            "BAD_USER_INPUT",
            "INVALID_ENVELOPE",
        ),
        (
            "only a tag",
            with(&|v| v["ciphertext"] = json!("A".repeat(22))),
            "BAD_USER_INPUT",
            "INVALID_ENVELOPE",
        ),
        (
            "too large",
            with(&|v| v["ciphertext"] = json!("A".repeat(6000))),
            "PAYLOAD_TOO_LARGE",
            "ENVELOPE_TOO_LARGE",
        ),
    ];
    for (what, envelope, code, why) in cases {
        let r = create(envelope, json!({})).await;
        assert_eq!(error_code(&r), Some(code), "{what}: {r}");
        assert_eq!(reason(&r), Some(why), "{what}: {r}");
    }
    let mut salted = envelope_json(&plain_kdf);
    salted["salt"] = json!("AAAAAAAAAAAAAAAAAAAAAA");
    let r = create(salted, json!({})).await;
    assert_eq!(
        reason(&r),
        Some("INVALID_ENVELOPE"),
        "a salt without a password: {r}"
    );

    // Nothing readable beside the envelope, and exactly one body.
    for (what, extra) in [
        ("title", json!({ "title": "visible" })),
        ("language", json!({ "language": "rust" })),
        ("content", json!({ "content": "visible" })),
        (
            "files",
            json!({ "files": [{ "name": "a", "content": "b" }] }),
        ),
    ] {
        let r = create(envelope_json(&good), extra).await;
        assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "{what}: {r}");
        assert_eq!(reason(&r), None);
    }
    // The envelope as sent is accepted.
    let r = create(envelope_json(&good), json!({})).await;
    assert!(r["errors"].is_null(), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guarded_encrypted_pastes_are_claimed_like_any_other() {
    let app = TestApp::spawn().await;
    // Burn after reading: its setting is bound to the ciphertext.
    let sent = bundle("burn marker");
    let (envelope, key) = seal(&sent, true, Some("pw")).unwrap();
    let created = create_encrypted(&app, &envelope, json!({ "burnAfterReading": true })).await;
    let id = created["paste"]["id"].as_str().unwrap().to_owned();
    // What a page asks first (without the envelope, which is its content: asking for it is the
    // reveal) leaves it alone.
    let r = app
        .gql(
            "query($id: ID!) { paste(id: $id) { isEncrypted burnAfterReading sizeBytes } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(r["data"]["paste"]["isEncrypted"], true, "{r}");
    assert_eq!(r["data"]["paste"]["burnAfterReading"], true);
    let r = app.raw(&id).await;
    assert_eq!(r.status(), 403, "GET never burns it");
    let reveal =
        format!("mutation($id: ID!) {{ revealPaste(id: $id) {{ burnAfterReading {ENVELOPE} }} }}");
    let (a, b) = tokio::join!(
        app.gql(&reveal, json!({ "id": id })),
        app.gql(&reveal, json!({ "id": id }))
    );
    let winners: Vec<&Value> = [&a, &b]
        .into_iter()
        .filter(|r| r["errors"].is_null())
        .collect();
    assert_eq!(winners.len(), 1, "exactly one reader gets it: {a} {b}");
    let got = envelope_of(&winners[0]["data"]["revealPaste"]["encrypted"]);
    assert_eq!(open(&got, &key, Some("pw"), true).unwrap(), sent);
    assert_eq!(
        error_code(&app.gql(READ, json!({ "id": id })).await),
        Some("NOT_FOUND")
    );

    // maxViews: each read of the envelope spends one.
    let (envelope, key) = seal(&sent, false, None).unwrap();
    let created = create_encrypted(&app, &envelope, json!({ "maxViews": 2 })).await;
    let id = created["paste"]["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let r = app.gql(READ, json!({ "id": id })).await;
        assert!(r["errors"].is_null(), "{r}");
        let got = envelope_of(&r["data"]["paste"]["encrypted"]);
        assert_eq!(open(&got, &key, None, false).unwrap(), sent);
    }
    assert_eq!(
        error_code(&app.gql(READ, json!({ "id": id })).await),
        Some("NOT_FOUND")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_create_with_the_same_envelope_returns_the_same_paste() {
    let app = TestApp::spawn().await;
    let (envelope, _) = seal(&bundle("retry"), false, None).unwrap();
    let input = json!({ "idempotencyKey": "retry-key-0001-00000000000000000000" });
    let first = create_encrypted(&app, &envelope, input.clone()).await;
    let again = create_encrypted(&app, &envelope, input.clone()).await;
    assert_eq!(first["paste"]["id"], again["paste"]["id"]);
    assert_eq!(first["deleteToken"], again["deleteToken"]);
    assert_eq!(envelope_of(&again["paste"]["encrypted"]), envelope);
    // Another envelope (a new seal of the same text) under the same key is another paste.
    let (other, _) = seal(&bundle("retry"), false, None).unwrap();
    let mut i = input;
    i["encrypted"] = envelope_json(&other);
    let r = app.gql(CREATE, json!({ "i": i })).await;
    assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_are_new_envelopes_under_the_same_key_and_forks_copy_the_envelope() {
    let app = TestApp::spawn().await;
    let first = bundle("first revision");
    let (envelope, key) = seal(&first, false, Some("pw")).unwrap();
    let created = create_encrypted(&app, &envelope, json!({})).await;
    let id = created["paste"]["id"].as_str().unwrap().to_owned();
    let token = created["deleteToken"].clone();
    let update = format!(
        "mutation($id: ID!, $i: UpdatePasteInput!, $t: String) {{ updatePaste(id: $id, input: $i, deleteToken: $t) {{ revision title content sizeBytes {ENVELOPE} }} }}"
    );

    let mut second = bundle("second revision");
    second.files.pop();
    let next = reseal(&second, false, Some("pw"), &key).unwrap();
    let r = app
        .gql(
            &update,
            json!({ "id": id, "t": token, "i": { "baseRevision": 1, "encrypted": envelope_json(&next) } }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let p = &r["data"]["updatePaste"];
    assert_eq!(p["revision"], 2);
    assert_eq!((&p["title"], &p["content"]), (&Value::Null, &Value::Null));
    assert_eq!(p["sizeBytes"], next.ciphertext_bytes());
    assert_eq!(envelope_of(&p["encrypted"]), next);

    // The link opens every revision; the history says only that it changed.
    let other = TestApp::instance(&app.deployment, |_| {}).await;
    for (rev, want) in [(2, &second), (1, &first)] {
        let r = other.gql(READ, json!({ "id": id, "rev": rev })).await;
        let got = envelope_of(&r["data"]["paste"]["encrypted"]);
        assert_eq!(
            &open(&got, &key, Some("pw"), false).unwrap(),
            want,
            "revision {rev}"
        );
    }
    let r = app
        .gql(
            "query($id: ID!) { paste(id: $id) { revisions { nodes { number summary title fileCount } } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        r["data"]["paste"]["revisions"]["nodes"],
        json!([
            { "number": 2, "summary": "Edited (encrypted)", "title": null, "fileCount": 1 },
            { "number": 1, "summary": "Created encrypted", "title": null, "fileCount": 1 },
        ])
    );

    // The same envelope again changes nothing; plain text never replaces the envelope, and a
    // plain paste never gets one.
    let same = app
        .gql(
            &update,
            json!({ "id": id, "t": token, "i": { "baseRevision": 2, "encrypted": envelope_json(&next) } }),
        )
        .await;
    assert_eq!(error_code(&same), Some("BAD_USER_INPUT"), "{same}");
    for input in [
        json!({ "baseRevision": 2, "content": "plain now" }),
        json!({ "baseRevision": 2, "encrypted": envelope_json(&next), "title": "visible" }),
    ] {
        let r = app
            .gql(&update, json!({ "id": id, "t": token, "i": input }))
            .await;
        assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "{r}");
    }
    let (plain, plain_token) = app.create_paste("plain").await;
    let r = app
        .gql(
            &update,
            json!({ "id": plain, "t": plain_token, "i": { "baseRevision": 1, "encrypted": envelope_json(&next) } }),
        )
        .await;
    assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "{r}");

    // A fork is a copy of the envelope: the same key and password open it.
    let r = app
        .gql(
            &format!("mutation($id: ID!) {{ forkPaste(id: $id, revision: 1) {{ paste {{ id isEncrypted title forkedFrom {{ id }} {ENVELOPE} }} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let fork = &r["data"]["forkPaste"]["paste"];
    assert_eq!(fork["isEncrypted"], true);
    assert_eq!(fork["forkedFrom"]["id"], id.as_str());
    let got = envelope_of(&fork["encrypted"]);
    assert_eq!(got, envelope);
    assert_eq!(open(&got, &key, Some("pw"), false).unwrap(), first);
    let r = other.gql(READ, json!({ "id": fork["id"] })).await;
    assert_eq!(envelope_of(&r["data"]["paste"]["encrypted"]), envelope);
    assert!(Key::decode(&key.encode()).is_ok());
}
