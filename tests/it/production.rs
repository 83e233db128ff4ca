//! What the production profile turns off unless asked: the GraphQL playground, and `/metrics`
//! on the public listener (served on `PASTEBIN_METRICS_ADDR` only, by `serve` and `worker`).

use std::time::Duration;

use pastebin::config::{Profile, Switch};

use crate::harness::{Deployment, TestApp, unique};
use crate::process::{Process, base_env, eventually_status, free_addr};

/// A web directory with a playground page, so "off" cannot be confused with "not built".
fn web_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique("pastebin-web-"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("playground.html"), "<html>the playground</html>").unwrap();
    dir
}

async fn playground(app: &TestApp) -> (u16, String) {
    let r = app.http.get(app.url("/graphql")).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_is_off_in_production_unless_asked_for() {
    let dir = web_dir();
    let development = TestApp::spawn_with(|c| c.server.web_dir = dir.clone()).await;
    let (status, page) = playground(&development).await;
    assert_eq!(
        (status, page.as_str()),
        (200, "<html>the playground</html>")
    );

    let production = TestApp::instance(&development.deployment, |c| {
        c.server.web_dir = dir.clone();
        c.server.profile = Profile::Production;
    })
    .await;
    let (status, body) = playground(&production).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("NOT_FOUND"), "a coded error: {body}");

    let asked = TestApp::instance(&development.deployment, |c| {
        c.server.web_dir = dir.clone();
        c.server.profile = Profile::Production;
        c.server.graphiql = Switch(Some(true));
    })
    .await;
    assert_eq!(playground(&asked).await.0, 200, "asked for explicitly");

    let declined = TestApp::instance(&development.deployment, |c| {
        c.server.web_dir = dir.clone();
        c.server.graphiql = Switch(Some(false));
    })
    .await;
    assert_eq!(
        playground(&declined).await.0,
        404,
        "turned off in development"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_refuses_metrics_on_the_public_listener() {
    let app = TestApp::spawn_with(|c| {
        c.server.profile = Profile::Production;
        c.server.metrics_addr = "127.0.0.1:0".into();
    })
    .await;
    assert!(app.app.config().auth.jwt_secret.len() >= 32);
    let metrics_addr = pastebin::http::spawn_metrics_listener(&app.app)
        .await
        .unwrap()
        .expect("a metrics listener");
    app.create_paste("counted").await;
    let public = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);
    let body = public.text().await.unwrap();
    assert!(
        body.contains("NOT_FOUND") && !body.contains("pastebin_"),
        "{body}"
    );
    let private = app
        .http
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(private.contains("pastebin_http_request"), "{private}");

    // Without a metrics listener production serves them nowhere (and says so in its log).
    let bare = TestApp::instance(&app.deployment, |c| c.server.profile = Profile::Production).await;
    assert_eq!(
        pastebin::http::spawn_metrics_listener(&bare.app)
            .await
            .unwrap(),
        None
    );
    let public = bare.http.get(bare.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_and_worker_serve_metrics_on_their_metrics_listener_in_production() {
    let deployment = Deployment::new().await;
    let http = reqwest::Client::new();
    let serve_metrics = free_addr();
    let mut vars = base_env(&deployment);
    vars.push(("PASTEBIN_PROFILE".into(), "production".into()));
    vars.push(("PASTEBIN_METRICS_ADDR".into(), serve_metrics.to_string()));
    let mut server = Process::spawn(&["serve"], &vars);
    server.wait_serving().await;
    let within = Duration::from_secs(15);
    eventually_status(
        &http,
        &format!("http://{serve_metrics}/metrics"),
        200,
        within,
    )
    .await;
    eventually_status(
        &http,
        &format!("http://{}/metrics", server.addr),
        404,
        within,
    )
    .await;

    let worker_metrics = free_addr();
    let mut vars = base_env(&deployment);
    vars.push(("PASTEBIN_PROFILE".into(), "production".into()));
    vars.push(("PASTEBIN_METRICS_ADDR".into(), worker_metrics.to_string()));
    let mut worker = Process::spawn(&["worker"], &vars);
    let url = format!("http://{worker_metrics}/metrics");
    worker.wait_answering(&url, within).await;
    let page = http.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("pastebin_"), "{page}");
}
