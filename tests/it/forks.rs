//! Forks: a new paste of the caller's from any paste they can read, linked to its source; the
//! source's owner sees the count; anonymous forks follow the anonymous create rules.

use serde_json::{Value, json};

use crate::files::{create_files, files};
use crate::harness::{TestApp, error_code, unique};
use crate::revisions::{edit, objects_of};

const FORK: &str = "mutation($id: ID!, $r: Int, $v: Visibility) { forkPaste(id: $id, revision: $r, visibility: $v) { deleteToken paste { id title revision viewerIsOwner author forkedFrom { id } files { name content } revisions { nodes { summary } } } } }";

async fn fork(app: &TestApp, token: Option<&str>, vars: Value) -> Value {
    app.gql_as(token, FORK, vars).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_is_the_callers_copy_linked_to_its_source() {
    let app = TestApp::spawn_with(|c| c.object_store.inline_max = 0).await;
    let alice_name = unique("alice");
    let alice = app.register(&alice_name, "a good long password").await;
    let bob_name = unique("bob");
    let bob = app.register(&bob_name, "a good long password").await;
    let (source, _) = create_files(
        &app,
        Some(&alice),
        json!({ "files": files(&[("a.rs", "fn a() {}"), ("b.md", "# b")]), "title": "src", "visibility": "PUBLIC" }),
    )
    .await;
    edit(
        &app,
        Some(&alice),
        &source,
        None,
        json!({ "baseRevision": 1, "title": "src", "files": files(&[("a.rs", "fn a2() {}")]) }),
    )
    .await;

    let r = fork(&app, Some(&bob), json!({ "id": source })).await;
    let f = &r["data"]["forkPaste"];
    let id = f["paste"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned();
    assert_ne!(id, source);
    assert_eq!(
        f["deleteToken"],
        Value::Null,
        "a signed-in fork needs no token"
    );
    let p = &f["paste"];
    assert_eq!(
        (p["viewerIsOwner"].clone(), p["author"].clone()),
        (json!(true), json!(bob_name))
    );
    assert_eq!(p["revision"], 1);
    assert_eq!(p["title"], "src");
    assert_eq!(p["forkedFrom"]["id"], source.as_str());
    assert_eq!(
        p["files"],
        json!([{ "name": "a.rs", "content": "fn a2() {}" }])
    );
    assert_eq!(
        p["revisions"]["nodes"][0]["summary"],
        format!("Forked from {source} with 1 file")
    );

    // A fork of an earlier revision.
    let r = fork(&app, Some(&bob), json!({ "id": source, "r": 1 })).await;
    assert_eq!(
        r["data"]["forkPaste"]["paste"]["files"][1]["content"], "# b",
        "{r}"
    );

    // The source's owner sees how many forks it has; nobody else does.
    let count = "query($id: ID!) { paste(id: $id) { forkCount } }";
    assert_eq!(
        app.gql_as(Some(&alice), count, json!({ "id": source }))
            .await["data"]["paste"]["forkCount"],
        2
    );
    assert_eq!(
        app.gql_as(Some(&bob), count, json!({ "id": source })).await["data"]["paste"]["forkCount"],
        Value::Null
    );

    // Anonymous forks follow the anonymous create rules.
    let r = fork(&app, None, json!({ "id": source })).await;
    assert!(r["data"]["forkPaste"]["deleteToken"].is_string(), "{r}");
    let r = fork(&app, None, json!({ "id": source, "v": "PRIVATE" })).await;
    assert_eq!(error_code(&r), Some("UNAUTHENTICATED"), "{r}");

    // The fork has its own objects: deleting the source leaves it whole.
    let r = app
        .gql_as(
            Some(&alice),
            "mutation($id: ID!) { deletePaste(id: $id) }",
            json!({ "id": source }),
        )
        .await;
    assert_eq!(r["data"]["deletePaste"], true, "{r}");
    assert!(
        objects_of(&app, &source).await.is_empty(),
        "every revision's objects went with it"
    );
    let other = TestApp::instance(&app.deployment, |c| c.object_store.inline_max = 0).await;
    let r = other
        .gql_as(
            Some(&bob),
            "query($id: ID!) { paste(id: $id) { forkedFrom { id } files { content } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        r["data"]["paste"]["files"][0]["content"], "fn a2() {}",
        "{r}"
    );
    assert_eq!(
        r["data"]["paste"]["forkedFrom"],
        Value::Null,
        "the source is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_caller_cannot_read_cannot_be_forked_and_links_hide_it() {
    let app = TestApp::spawn().await;
    let alice = app.register(&unique("alice"), "a good long password").await;
    let bob = app.register(&unique("bob"), "a good long password").await;
    let (private, _) = app
        .create_paste_with(
            Some(&alice),
            json!({ "content": "mine only", "visibility": "PRIVATE" }),
        )
        .await;
    assert_eq!(
        error_code(&fork(&app, Some(&bob), json!({ "id": private })).await),
        Some("NOT_FOUND")
    );
    // The owner forks it (publicly): readers of the fork do not see the private source.
    let r = fork(&app, Some(&alice), json!({ "id": private, "v": "PUBLIC" })).await;
    let id = r["data"]["forkPaste"]["paste"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        r["data"]["forkPaste"]["paste"]["forkedFrom"]["id"],
        private.as_str()
    );
    let seen = app
        .gql_as(
            Some(&bob),
            "query($id: ID!) { paste(id: $id) { content forkedFrom { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(seen["data"]["paste"]["content"], "mine only");
    assert_eq!(seen["data"]["paste"]["forkedFrom"], Value::Null, "{seen}");
    assert!(seen["errors"].is_null(), "{seen}");
}
