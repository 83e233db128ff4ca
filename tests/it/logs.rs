//! Passwords and tokens never reach the logs. Runs under nextest (one process per test), so
//! the capturing subscriber installed here is the process-wide one.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::harness::{TestApp, unique};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_and_tokens_never_appear_in_the_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_writer(move || writer.clone())
        .try_init()
        .expect("this test's subscriber is the first");

    let app = TestApp::spawn_with(|c| c.server.log = "trace".into()).await;
    let password = "Sup3r-Secret-Passw0rd-4242";
    let name = unique("logged");
    let token = app.register(&name, password).await;
    let login =
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
    app.gql(login, json!({ "u": name, "p": password })).await;
    app.gql(
        login,
        json!({ "u": name, "p": format!("{password}-wrong") }),
    )
    .await;
    let (id, delete_token) = app.create_paste("logged paste").await;
    app.gql_as(Some(&token), "{ me { username } }", json!({}))
        .await;
    app.gql_as(Some("forged.token.value"), "{ me { username } }", json!({}))
        .await;
    app.http
        .get(app.url(&format!("/raw/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let delete_token = delete_token.unwrap();
    app.gql(
        "mutation($id: ID!, $t: String) { deletePaste(id: $id, deleteToken: $t) }",
        json!({ "id": id, "t": delete_token }),
    )
    .await;
    drop(app);

    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(
        logs.len() > 10_000,
        "trace logging captured ({} bytes)",
        logs.len()
    );
    assert!(
        logs.contains(&id),
        "the paste id is logged (the capture works)"
    );
    let signature = token.rsplit('.').next().unwrap();
    for (what, secret) in [
        ("password", password),
        ("token signature", signature),
        ("delete token", delete_token.as_str()),
    ] {
        assert!(!logs.contains(secret), "the {what} appears in the logs");
    }
}
