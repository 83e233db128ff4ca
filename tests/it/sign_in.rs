//! Web sign-in with an OpenID provider, the parts a browser is not needed for: without a
//! provider nothing is offered; a callback that does not carry this browser's signed state is
//! refused without a call to the provider; the session hand-over is same-site only and once.
//! (The whole flow runs in Chromium against a real provider: web/tests/e2e/oidc.e2e.mjs.)

use serde_json::json;

use crate::harness::TestApp;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_provider_nothing_is_offered() {
    let app = TestApp::spawn().await;
    let r = app
        .gql("{ identityProvider { name startUrl } }", json!({}))
        .await;
    assert!(r["data"]["identityProvider"].is_null(), "{r}");
    let r = no_redirects()
        .get(app.url("/auth/oidc/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/signin/oidc?error=NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_without_this_browsers_state_is_refused() {
    // A provider that is never reached: the state check comes first.
    let app = TestApp::spawn_with(|c| {
        c.auth.oidc_issuer = "http://127.0.0.1:1".into();
        c.auth.oidc_client_id = "pastebin".into();
        c.auth.oidc_name = "Example SSO".into();
    })
    .await;
    let r = app
        .gql("{ identityProvider { name startUrl } }", json!({}))
        .await;
    assert_eq!(r["data"]["identityProvider"]["name"], "Example SSO", "{r}");
    assert_eq!(
        r["data"]["identityProvider"]["startUrl"],
        "/auth/oidc/start"
    );
    let http = no_redirects();
    for (path, cookie) in [
        ("/auth/oidc/callback?code=c&state=s", None),
        (
            "/auth/oidc/callback?code=c&state=s",
            Some("pb_oidc=forged.state.cookie.1.AAAA"),
        ),
        ("/auth/oidc/callback?error=access_denied&state=s", None),
    ] {
        let mut req = http.get(app.url(path));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(
            r.headers()["location"],
            "/signin/oidc?error=UNAUTHENTICATED",
            "{path}"
        );
        assert!(
            !r.headers().contains_key("set-cookie")
                || !r.headers()["set-cookie"]
                    .to_str()
                    .unwrap()
                    .contains("pb_oidc_session=e")
        );
    }
    // The provider down at the start: the web app is told to retry.
    let r = http.get(app.url("/auth/oidc/start")).send().await.unwrap();
    assert_eq!(
        r.headers()["location"],
        "/signin/oidc?error=SERVICE_UNAVAILABLE"
    );
    // The hand-over: nothing to hand over; and never to another site.
    let r = http
        .post(app.url("/auth/oidc/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let session = app.register("ssouser", "correct horse battery").await;
    let r = http
        .post(app.url("/auth/oidc/session"))
        .header("cookie", format!("pb_oidc_session={session}"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .post(app.url("/auth/oidc/session"))
        .header("cookie", format!("pb_oidc_session={session}"))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("pb_oidc_session=; Path=/auth/oidc; Max-Age=0")
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["user"]["username"], "ssouser");
    assert_eq!(body["token"], session.as_str());
}
