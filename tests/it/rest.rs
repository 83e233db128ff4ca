//! The seed's REST API, for its existing clients.

use serde_json::{Value, json};

use crate::harness::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_curl_example_works_as_written() {
    let app = TestApp::spawn().await;
    // The seed README's example, verbatim but for the host.
    let out = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-X",
            "POST",
            "--data",
            r#"{ "expiration_length_in_minutes": "60", "paste_contents": "Hello World!" }"#,
            &app.url("/api/v1/paste"),
        ])
        .output()
        .await
        .expect("curl runs");
    let created: Value = serde_json::from_slice(&out.stdout).expect("JSON answer");
    let shortlink = created["shortlink"].as_str().expect("a shortlink");

    let r = app
        .http
        .get(app.url(&format!("/api/v1/paste?shortlink={shortlink}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let paste: Value = r.json().await.unwrap();
    assert_eq!(paste["paste_contents"], "Hello World!");
    let created_at =
        chrono::DateTime::parse_from_rfc3339(paste["created_at"].as_str().unwrap()).unwrap();
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(paste["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires_at - created_at).num_minutes(), 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minutes_may_be_a_number_and_bad_input_is_a_json_400() {
    let app = TestApp::spawn().await;
    let post = |body: String| app.http.post(app.url("/api/v1/paste")).body(body).send();
    let ok = post(json!({ "expiration_length_in_minutes": 5, "paste_contents": "n" }).to_string())
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    for bad in [
        json!({ "expiration_length_in_minutes": "60" }).to_string(),
        json!({ "expiration_length_in_minutes": "sixty", "paste_contents": "x" }).to_string(),
        json!({ "expiration_length_in_minutes": -1, "paste_contents": "x" }).to_string(),
        json!({ "paste_contents": 42 }).to_string(),
        // Not a string either, and large enough to take the in-place path (over 64 KiB).
        json!({ "paste_contents": vec![1; 40_000] }).to_string(),
        "not json".to_owned(),
    ] {
        let r = post(bad.clone()).await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "BAD_USER_INPUT", "{bad}");
    }
    let missing = app.http.get(app.url("/api/v1/paste")).send().await.unwrap();
    assert_eq!(missing.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_expired_pastes_are_a_json_404() {
    let app = TestApp::spawn().await;
    let r = app
        .http
        .get(app.url("/api/v1/paste?shortlink=Nope000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NOT_FOUND");

    let (id, _) = app
        .create_paste_with(None, json!({ "content": "brief", "expiresIn": 3600 }))
        .await;
    app.sql(&format!(
        "UPDATE pastes SET expires_at = now() - interval '1 second' WHERE id = '{id}'"
    ))
    .await;
    // Another instance: the creator's in-process cache still holds the paste as it was made.
    let app = TestApp::instance(&app.deployment, |_| {}).await;
    let r = app
        .http
        .get(app.url(&format!("/api/v1/paste?shortlink={id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_data_binary_creates_a_paste_and_answers_its_url() {
    let app = TestApp::spawn().await;
    let dir = std::env::temp_dir().join(crate::harness::unique("curl-"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("notes.txt");
    std::fs::write(&file, "line one\nline two\n").unwrap();
    let out = tokio::process::Command::new("curl")
        .args([
            "-s",
            "--data-binary",
            &format!("@{}", file.display()),
            &app.url("/"),
        ])
        .output()
        .await
        .unwrap();
    let url = String::from_utf8(out.stdout).unwrap();
    let id = url.trim().rsplit('/').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:8080/p/"), "{url}");
    assert_eq!(
        app.raw(&id).await.text().await.unwrap(),
        "line one\nline two\n"
    );
    std::fs::remove_dir_all(dir).ok();

    let not_utf8 = app
        .http
        .post(app.url("/"))
        .body(vec![0xff, 0xfe, 0x00])
        .send()
        .await
        .unwrap();
    assert_eq!(not_utf8.status(), 400);
}
