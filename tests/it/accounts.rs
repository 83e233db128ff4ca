//! Accounts, tokens and ownership.

use serde_json::json;

use crate::harness::{TestApp, error_code, unique};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_then_me_and_login_with_any_case() {
    let app = TestApp::spawn().await;
    let name = unique("Alice");
    let token = app.register(&name, "correct horse battery").await;
    let me = app
        .gql_as(Some(&token), "{ me { username createdAt } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["username"], name.as_str(), "{me}");
    assert!(me["data"]["me"]["createdAt"].is_string());

    let login = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token user { username } } }";
    let r = app
        .gql(
            login,
            json!({ "u": name.to_lowercase(), "p": "correct horse battery" }),
        )
        .await;
    assert_eq!(r["data"]["login"]["user"]["username"], name.as_str(), "{r}");

    let dup = app
        .gql(
            "mutation($u: String!) { register(username: $u, password: \"another good one\") { token } }",
            json!({ "u": name.to_uppercase() }),
        )
        .await;
    assert_eq!(
        error_code(&dup),
        Some("BAD_USER_INPUT"),
        "usernames are unique without regard to case"
    );
}
