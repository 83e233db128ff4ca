//! Edits make immutable revisions: who may edit, stale bases refused with CONFLICT, earlier
//! revisions readable (GraphQL and raw), caches, ETags and subscribers on every instance see
//! the new revision, guarded pastes are never edited, and the history limits.

use std::time::Duration;

use serde_json::{Value, json};

use crate::files::{create_files, files, object_keys};
use crate::harness::{Delivery, TestApp, error_code, eventually, unique};

pub const UPDATE: &str = "mutation($id: ID!, $i: UpdatePasteInput!, $t: String) { updatePaste(id: $id, input: $i, deleteToken: $t) { id revision latestRevision editedAt title content files { name content } } }";

pub async fn edit(
    app: &TestApp,
    token: Option<&str>,
    id: &str,
    delete_token: Option<&str>,
    input: Value,
) -> Value {
    app.gql_as(
        token,
        UPDATE,
        json!({ "id": id, "i": input, "t": delete_token }),
    )
    .await
}

/// Every object under a paste's prefix in the bucket (whether or not a row records it).
pub async fn objects_of(app: &TestApp, id: &str) -> Vec<String> {
    let (objects, _) = app.app.stores().blobs.list_page(None, 1000).await.unwrap();
    let mut keys: Vec<String> = objects
        .into_iter()
        .map(|o| o.key)
        .filter(|k| k == &format!("pastes/{id}") || k.starts_with(&format!("pastes/{id}/")))
        .collect();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_makes_a_new_revision_and_the_old_ones_stay_readable() {
    let app = TestApp::spawn_with(|c| c.object_store.inline_max = 0).await;
    let token = app
        .register(&unique("editor"), "a good long password")
        .await;
    let (id, _) = create_files(
        &app,
        Some(&token),
        json!({ "files": files(&[("main.rs", "fn main() {}\n"), ("old.txt", "bye")]), "title": "v1" }),
    )
    .await;
    let r = edit(
        &app,
        Some(&token),
        &id,
        None,
        json!({ "baseRevision": 1, "title": "v2", "files": files(&[("main.rs", "fn main() { run() }\n"), ("new.md", "# hi")]) }),
    )
    .await;
    let p = &r["data"]["updatePaste"];
    assert_eq!(p["revision"], 2, "{r}");
    assert_eq!(p["latestRevision"], 2);
    assert!(p["editedAt"].is_string());
    assert_eq!(p["content"], "fn main() { run() }\n");

    let other = TestApp::instance(&app.deployment, |c| c.object_store.inline_max = 0).await;
    let q = "query($id: ID!, $r: Int) { paste(id: $id, revision: $r) { revision latestRevision title editedAt files { name content rawUrl } } }";
    let now = other.gql(q, json!({ "id": id })).await;
    assert_eq!(now["data"]["paste"]["title"], "v2");
    assert_eq!(now["data"]["paste"]["files"][1]["name"], "new.md");
    let then = other.gql(q, json!({ "id": id, "r": 1 })).await;
    let p = &then["data"]["paste"];
    assert_eq!(
        (p["revision"].clone(), p["latestRevision"].clone()),
        (json!(1), json!(2)),
        "{then}"
    );
    assert_eq!(p["title"], "v1");
    assert_eq!(p["editedAt"], Value::Null);
    assert_eq!(p["files"][1]["content"], "bye");
    assert_eq!(
        p["files"][1]["rawUrl"],
        format!("http://127.0.0.1:8080/raw/{id}/old.txt?rev=1")
    );
    for missing in [0, 3, -1] {
        let r = other.gql(q, json!({ "id": id, "r": missing })).await;
        assert_eq!(error_code(&r), Some("NOT_FOUND"), "revision {missing}: {r}");
    }

    // Raw URLs pin a revision.
    let other_ref = &other;
    let raw = |path: String| async move {
        let r = other_ref
            .http
            .get(other_ref.url(&path))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(raw(format!("/raw/{id}")).await.1, "fn main() { run() }\n");
    assert_eq!(raw(format!("/raw/{id}?rev=1")).await.1, "fn main() {}\n");
    assert_eq!(
        raw(format!("/raw/{id}/old.txt?rev=1")).await,
        (200, "bye".to_owned())
    );
    assert_eq!(
        raw(format!("/raw/{id}/old.txt")).await.0,
        404,
        "gone from revision 2"
    );
    assert_eq!(raw(format!("/raw/{id}?rev=9")).await.0, 404);
    assert_eq!(raw(format!("/raw/{id}?rev=x")).await.0, 400);
    let zip = other
        .http
        .get(other.url(&format!("/zip/{id}?rev=1")))
        .send()
        .await
        .unwrap();
    assert!(
        zip.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("{id}-r1.zip"))
    );

    // The history, newest first, says what changed.
    let h = other
        .gql(
            "query($id: ID!) { paste(id: $id) { revisions(first: 1) { pageInfo { hasNextPage endCursor } nodes { number title summary fileCount createdAt } } } }",
            json!({ "id": id }),
        )
        .await;
    let page = &h["data"]["paste"]["revisions"];
    assert_eq!(page["nodes"][0]["number"], 2, "{h}");
    assert_eq!(
        page["nodes"][0]["summary"],
        "Edited main.rs; added new.md; removed old.txt; changed the title"
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let h = other
        .gql(
            "query($id: ID!, $a: String) { paste(id: $id) { revisions(after: $a) { pageInfo { hasNextPage } nodes { number summary } } } }",
            json!({ "id": id, "a": page["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        h["data"]["paste"]["revisions"]["nodes"],
        json!([{ "number": 1, "summary": "Created with 2 files" }])
    );

    // Every revision's objects are kept, each under its own attempt.
    let keys = object_keys(&app, &id).await;
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert_eq!(objects_of(&app, &id).await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_base_is_a_conflict_and_of_two_concurrent_edits_one_wins() {
    let app = TestApp::spawn_with(|c| c.object_store.inline_max = 0).await;
    let (id, token) = app.create_paste("base").await;
    let token = token.unwrap();
    let (a, b) = tokio::join!(
        edit(
            &app,
            None,
            &id,
            Some(&token),
            json!({ "baseRevision": 1, "content": "from a" })
        ),
        edit(
            &app,
            None,
            &id,
            Some(&token),
            json!({ "baseRevision": 1, "content": "from b" })
        ),
    );
    let codes = [error_code(&a), error_code(&b)];
    assert!(
        codes.contains(&None) && codes.contains(&Some("CONFLICT")),
        "{a} {b}"
    );
    let loser = if error_code(&a).is_some() { &a } else { &b };
    assert!(
        loser["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("current revision is 2"),
        "the message names the current revision: {loser}"
    );
    let r = edit(
        &app,
        None,
        &id,
        Some(&token),
        json!({ "baseRevision": 1, "content": "late" }),
    )
    .await;
    assert_eq!(error_code(&r), Some("CONFLICT"));
    // The losers' objects are gone: only the two revisions' objects remain.
    app.wait_until_idle().await;
    let mut recorded = object_keys(&app, &id).await;
    recorded.sort();
    assert_eq!(objects_of(&app, &id).await, recorded);
    assert_eq!(object_keys(&app, &id).await.len(), 2);
    let r = edit(
        &app,
        None,
        &id,
        Some(&token),
        json!({ "baseRevision": 2, "content": "third" }),
    )
    .await;
    assert_eq!(r["data"]["updatePaste"]["revision"], 3, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_or_the_delete_token_edits_and_guarded_pastes_never() {
    let app = TestApp::spawn().await;
    let alice = app.register(&unique("alice"), "a good long password").await;
    let bob = app.register(&unique("bob"), "a good long password").await;
    let (mine, _) = app
        .create_paste_with(
            Some(&alice),
            json!({ "content": "alice's", "visibility": "PUBLIC" }),
        )
        .await;
    let change = json!({ "baseRevision": 1, "content": "changed" });
    assert_eq!(
        error_code(&edit(&app, Some(&bob), &mine, None, change.clone()).await),
        Some("FORBIDDEN")
    );
    assert_eq!(
        error_code(&edit(&app, None, &mine, None, change.clone()).await),
        Some("FORBIDDEN")
    );
    assert_eq!(
        error_code(
            &edit(
                &app,
                None,
                &mine,
                Some("not-the-token-at-all-000"),
                change.clone()
            )
            .await
        ),
        Some("FORBIDDEN")
    );
    let r = edit(&app, Some(&alice), &mine, None, change.clone()).await;
    assert_eq!(r["data"]["updatePaste"]["revision"], 2, "{r}");

    let (private, _) = app
        .create_paste_with(
            Some(&alice),
            json!({ "content": "secret", "visibility": "PRIVATE" }),
        )
        .await;
    assert_eq!(
        error_code(&edit(&app, Some(&bob), &private, None, change.clone()).await),
        Some("NOT_FOUND")
    );

    let (anon, token) = app.create_paste("anonymous").await;
    assert_eq!(
        error_code(&edit(&app, None, &anon, None, change.clone()).await),
        Some("FORBIDDEN")
    );
    let r = edit(&app, Some(&bob), &anon, token.as_deref(), change.clone()).await;
    assert_eq!(
        r["data"]["updatePaste"]["revision"], 2,
        "the token holder edits: {r}"
    );

    for guard in [
        json!({ "burnAfterReading": true }),
        json!({ "maxViews": 5 }),
    ] {
        let mut input = json!({ "content": "guarded" });
        input
            .as_object_mut()
            .unwrap()
            .extend(guard.as_object().unwrap().clone());
        let (id, _) = app.create_paste_with(Some(&alice), input).await;
        let r = edit(&app, Some(&alice), &id, None, change.clone()).await;
        assert_eq!(error_code(&r), Some("FORBIDDEN"), "{guard}: {r}");
        let r = app
            .gql_as(
                Some(&bob),
                "mutation($id: ID!) { forkPaste(id: $id) { paste { id } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(error_code(&r), Some("FORBIDDEN"), "{guard} fork: {r}");
    }

    let same = edit(
        &app,
        Some(&alice),
        &mine,
        None,
        json!({ "baseRevision": 2, "content": "changed" }),
    )
    .await;
    assert_eq!(
        error_code(&same),
        Some("BAD_USER_INPUT"),
        "an edit that changes nothing: {same}"
    );
    let both = edit(
        &app,
        Some(&alice),
        &mine,
        None,
        json!({ "baseRevision": 2, "content": "x", "files": files(&[("a", "b")]) }),
    )
    .await;
    assert_eq!(error_code(&both), Some("BAD_USER_INPUT"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caches_etags_and_subscribers_of_every_instance_see_the_new_revision() {
    let a = TestApp::spawn().await;
    let b = TestApp::instance(&a.deployment, |_| {}).await;
    let (id, token) = a.create_paste("first version").await;
    // B reads it: now in B's in-process tier and in Redis.
    assert_eq!(b.read_paste(None, &id).await.unwrap(), "first version");
    let r = b.raw(&id).await;
    let old_etag = r.headers()["etag"].to_str().unwrap().to_owned();
    assert!(b.app.stores().cache.get_local(&id).is_some());
    let mut sub = b
        .subscribe(
            None,
            "subscription($id: ID!) { pasteRevisions(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        sub.next(Duration::from_secs(10)).await,
        Some(Delivery::Data(json!({ "pasteRevisions": 1 })))
    );

    let old = b.app.stores().cache.get_local(&id).unwrap();
    let r = edit(
        &a,
        None,
        &id,
        token.as_deref(),
        json!({ "baseRevision": 1, "content": "second version" }),
    )
    .await;
    assert_eq!(r["data"]["updatePaste"]["revision"], 2, "{r}");
    // Redis holds no entry of the old revision the moment the edit is answered, and a reader
    // that loaded the old revision before the edit cannot put it back.
    let c = TestApp::instance(&a.deployment, |_| {}).await;
    let cache = &c.app.stores().cache;
    assert!(cache.get(&id).await.is_none(), "the edit left a tombstone");
    let compressed = pastebin::services::blob::codec::compress(&old.files[0].content.text).unwrap();
    cache.fill(cache.ticket(), &old, &[compressed]).await;
    cache.invalidate_local(&id);
    assert!(
        cache.get(&id).await.is_none(),
        "a late fill of revision 1 is refused"
    );
    assert_eq!(
        a.raw(&id).await.text().await.unwrap(),
        "second version",
        "A at once"
    );
    eventually(
        "B serves the new revision",
        Duration::from_secs(5),
        || async { b.read_paste(None, &id).await.as_deref() == Ok("second version") },
    )
    .await;
    // ...while the new revision is cached again at once (not only once the tombstone expires).
    eventually("Redis holds revision 2", Duration::from_secs(5), || async {
        cache.invalidate_local(&id);
        cache
            .get(&id)
            .await
            .is_some_and(|(p, _)| p.meta.row.revision == 2)
    })
    .await;
    let r = b
        .http
        .get(b.url(&format!("/raw/{id}")))
        .header("if-none-match", &old_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the old ETag no longer matches");
    assert_ne!(r.headers()["etag"].to_str().unwrap(), old_etag);
    assert_eq!(r.text().await.unwrap(), "second version");
    assert_eq!(
        sub.next(Duration::from_secs(10)).await,
        Some(Delivery::Data(json!({ "pasteRevisions": 2 })))
    );

    // The live view count goes on across an edit (an edit is not a delete).
    let mut views = b.watch_views(None, &id).await;
    assert!(views.next_count(Duration::from_secs(10)).await.is_some());
    edit(
        &a,
        None,
        &id,
        token.as_deref(),
        json!({ "baseRevision": 2, "content": "third" }),
    )
    .await;
    assert_eq!(
        sub.next(Duration::from_secs(10)).await,
        Some(Delivery::Data(json!({ "pasteRevisions": 3 })))
    );
    assert_eq!(b.read_paste(None, &id).await.unwrap(), "third");
    let next = views.next(Duration::from_secs(2)).await;
    assert!(
        !matches!(next, Some(Delivery::Complete)),
        "the view stream did not end: {next:?}"
    );

    // A delete ends the revision stream.
    a.gql(
        "mutation($id: ID!, $t: String) { deletePaste(id: $id, deleteToken: $t) }",
        json!({ "id": id, "t": token }),
    )
    .await;
    assert_eq!(
        sub.next(Duration::from_secs(10)).await,
        Some(Delivery::Complete)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_is_bounded_in_revisions_and_in_bytes() {
    let app = TestApp::spawn_with(|c| {
        c.limits.max_bytes = 100;
        c.limits.rate_create_per_min = 0;
    })
    .await;
    let (id, token) = app.create_paste(&"a".repeat(90)).await;
    let token = token.unwrap();
    // 5 × 100 bytes in all: revision 1 holds 90, four more of 90 fit, a sixth does not.
    for (n, c) in (2..=5).zip(['b', 'c', 'd', 'e']) {
        let r = edit(
            &app,
            None,
            &id,
            Some(&token),
            json!({ "baseRevision": n - 1, "content": c.to_string().repeat(90) }),
        )
        .await;
        assert_eq!(r["data"]["updatePaste"]["revision"], n, "{r}");
    }
    let r = edit(
        &app,
        None,
        &id,
        Some(&token),
        json!({ "baseRevision": 5, "content": "f".repeat(90) }),
    )
    .await;
    assert_eq!(error_code(&r), Some("PAYLOAD_TOO_LARGE"), "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("fork it"),
        "{r}"
    );

    // At the most revisions a paste keeps (set up directly: a hundred edits are slow).
    let (full, token) = app.create_paste("x").await;
    app.sql(&format!(
        "INSERT INTO paste_revisions (paste_id, number, size_bytes, content_sha256, file_count, summary, attempt) \
         SELECT '{full}', n, 0, '\\x00', 1, 'filler', 'test' FROM generate_series(2, 100) n; \
         UPDATE pastes SET revision = 100 WHERE id = '{full}'"
    ))
    .await;
    let r = edit(
        &app,
        None,
        &full,
        token.as_deref(),
        json!({ "baseRevision": 100, "content": "y" }),
    )
    .await;
    assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("100 revisions"),
        "{r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_that_cannot_store_its_bodies_leaves_no_revision() {
    use crate::cluster::{ChaosProxy, socket_of};
    use crate::harness::env;
    let s3 = ChaosProxy::start(socket_of(&env("PASTEBIN_S3_ENDPOINT"))).await;
    let endpoint = format!("http://{}", s3.addr);
    let app = TestApp::spawn_with(|c| {
        c.object_store.s3_endpoint = endpoint.clone();
        c.object_store.s3_timeout_ms = 2000;
        c.object_store.inline_max = 1024;
    })
    .await;
    let (id, token) = app.create_paste("small, inline").await;
    s3.cut();
    let large = "x".repeat(4096);
    let r = edit(
        &app,
        None,
        &id,
        token.as_deref(),
        json!({ "baseRevision": 1, "files": files(&[("small.txt", "still small"), ("large.txt", &large)]) }),
    )
    .await;
    assert_eq!(error_code(&r), Some("SERVICE_UNAVAILABLE"), "{r}");
    let r = app
        .gql(
            "query($id: ID!) { paste(id: $id) { revision latestRevision content revisions { nodes { number } } } }",
            json!({ "id": id }),
        )
        .await;
    let p = &r["data"]["paste"];
    assert_eq!(
        (p["revision"].clone(), p["latestRevision"].clone()),
        (json!(1), json!(1)),
        "{r}"
    );
    assert_eq!(p["content"], "small, inline");
    assert_eq!(p["revisions"]["nodes"], json!([{ "number": 1 }]));
    s3.restore();
    let r = edit(
        &app,
        None,
        &id,
        token.as_deref(),
        json!({ "baseRevision": 1, "files": files(&[("small.txt", "still small"), ("large.txt", &large)]) }),
    )
    .await;
    assert_eq!(
        r["data"]["updatePaste"]["revision"], 2,
        "the same edit once the store is back: {r}"
    );
    assert_eq!(
        r["data"]["updatePaste"]["files"][1]["content"],
        large.as_str()
    );
}
