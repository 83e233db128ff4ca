//! Moderation: reports from anyone (rate-limited), admins from configuration who hide, show,
//! delete and ban, and the audit log. Hidden pastes answer NOT_FOUND on every door and leave
//! every listing; a ban hides the account's pastes and refuses its tokens everywhere.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Delivery, TestApp, error_code, eventually};
use crate::tokens::make_token;

const PASSWORD: &str = "correct horse battery";

async fn admin_app() -> TestApp {
    TestApp::spawn_with(|c| c.auth.admin_usernames = "Moderator".into()).await
}

async fn act(app: &TestApp, token: &str, mutation: &str, arg: &str, value: &str) -> Value {
    app.gql_as(
        Some(token),
        &format!(
            "mutation($v: {}, $r: String!) {{ {mutation}({arg}: $v, reason: $r) }}",
            if arg == "id" { "ID!" } else { "String!" }
        ),
        json!({ "v": value, "r": format!("{mutation} for the test") }),
    )
    .await
}

async fn audit(app: &TestApp, admin: &str) -> Vec<Value> {
    let r = app
        .gql_as(
            Some(admin),
            "{ auditLog(first: 100) { nodes { actor action target reason at } } }",
            json!({}),
        )
        .await;
    r["data"]["auditLog"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("auditLog: {r}"))
        .clone()
}

async fn recent_ids(app: &TestApp) -> Vec<String> {
    let r = app
        .gql("{ recentPastes(first: 100) { nodes { id } } }", json!({}))
        .await;
    r["data"]["recentPastes"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn status(app: &TestApp, path: &str, token: Option<&str>) -> u16 {
    let mut req = app.http.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anyone_reports_what_they_can_see_and_only_admins_read_the_reports() {
    let app = TestApp::spawn_with(|c| {
        c.auth.admin_usernames = "moderator".into();
        c.limits.rate_report_per_min = 5;
    })
    .await;
    let admin = app.register("moderator", PASSWORD).await;
    let member = app.register("member", PASSWORD).await;
    let (public, _) = app
        .create_paste_with(
            None,
            json!({ "content": "spam spam", "visibility": "PUBLIC" }),
        )
        .await;
    let (private, _) = app
        .create_paste_with(
            Some(&admin),
            json!({ "content": "mine", "visibility": "PRIVATE" }),
        )
        .await;
    let report = "mutation($id: ID!, $r: String!) { reportPaste(id: $id, reason: $r) }";
    let r = app.gql(report, json!({ "id": public, "r": "spam" })).await;
    assert_eq!(r["data"]["reportPaste"], true, "{r}");
    let r = app
        .gql_as(
            Some(&member),
            report,
            json!({ "id": public, "r": "links to malware" }),
        )
        .await;
    assert_eq!(r["data"]["reportPaste"], true, "{r}");
    // What the reporter cannot see cannot be reported; a reason is needed.
    for (id, reason, code) in [
        (private.as_str(), "x", "NOT_FOUND"),
        ("nosuchpaste1", "x", "NOT_FOUND"),
        (public.as_str(), "  ", "BAD_USER_INPUT"),
    ] {
        let r = app
            .gql_as(Some(&member), report, json!({ "id": id, "r": reason }))
            .await;
        assert_eq!(error_code(&r), Some(code), "{r}");
    }
    // Rate-limited (5 per minute per address here; the refused ones above were charged too).
    let r = app.gql(report, json!({ "id": public, "r": "again" })).await;
    assert_eq!(error_code(&r), Some("RATE_LIMITED"), "{r}");

    let reports = "{ reports { nodes { pasteId reason reporter paste { id content } } } }";
    assert_eq!(
        error_code(&app.gql(reports, json!({})).await),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        error_code(&app.gql_as(Some(&member), reports, json!({})).await),
        Some("FORBIDDEN")
    );
    let r = app.gql_as(Some(&admin), reports, json!({})).await;
    let nodes = r["data"]["reports"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2, "{r}");
    assert_eq!(nodes[0]["reason"], "spam");
    assert_eq!(nodes[0]["reporter"], Value::Null);
    assert_eq!(nodes[1]["reporter"], "member");
    assert_eq!(nodes[1]["paste"]["content"], "spam spam");
    let me = app
        .gql_as(Some(&admin), "{ me { isAdmin } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["isAdmin"], true);
    let me = app
        .gql_as(Some(&member), "{ me { isAdmin } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["isAdmin"], false);

    // Members cannot act; a dismissal resolves a report and is logged.
    let r = act(&app, &member, "hidePaste", "id", &public).await;
    assert_eq!(error_code(&r), Some("FORBIDDEN"), "{r}");
    let ids = app
        .gql_as(Some(&admin), "{ reports { nodes { id } } }", json!({}))
        .await;
    let first = ids["data"]["reports"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = act(&app, &admin, "dismissReport", "id", &first).await;
    assert_eq!(r["data"]["dismissReport"], true, "{r}");
    let r = app.gql_as(Some(&admin), reports, json!({})).await;
    assert_eq!(r["data"]["reports"]["nodes"].as_array().unwrap().len(), 1);
    let log = audit(&app, &admin).await;
    assert_eq!(log[0]["action"], "dismiss");
    assert_eq!(log[0]["actor"], "moderator");
    assert_eq!(log[0]["target"], first);
    assert_eq!(log[0]["reason"], "dismissReport for the test");
    assert_eq!(
        error_code(
            &app.gql_as(Some(&member), "{ auditLog { nodes { id } } }", json!({}))
                .await
        ),
        Some("FORBIDDEN")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_paste_is_not_found_on_every_door_of_every_instance_and_leaves_the_lists() {
    let a = admin_app().await;
    let b = TestApp::instance(&a.deployment, |c| {
        c.auth.admin_usernames = "Moderator".into()
    })
    .await;
    let admin = a.register("moderator", PASSWORD).await;
    let owner = a.register("owner", PASSWORD).await;
    let (id, _) = a
        .create_paste_with(
            Some(&owner),
            json!({ "files": [{ "name": "a.txt", "content": "abuse" }, { "name": "b.txt", "content": "more" }], "visibility": "PUBLIC" }),
        )
        .await;
    // Both instances have read it (and cached it); a subscription watches it on B.
    for app in [&a, &b] {
        assert_eq!(status(app, &format!("/raw/{id}"), None).await, 200);
        assert_eq!(app.read_paste(None, &id).await.as_deref(), Ok("abuse"));
    }
    assert!(recent_ids(&b).await.contains(&id));
    let mut sub = b.watch_views(None, &id).await;
    assert!(matches!(
        sub.next(Duration::from_secs(5)).await,
        Some(Delivery::Data(_))
    ));

    let r = act(&a, &admin, "hidePaste", "id", &id).await;
    assert_eq!(r["data"]["hidePaste"], true, "{r}");
    // Acknowledged only once no cache serves it: at once, on both instances, every door.
    for app in [&a, &b] {
        for token in [None, Some(owner.as_str())] {
            assert_eq!(app.read_paste(token, &id).await, Err("NOT_FOUND".into()));
            for path in [
                format!("/raw/{id}"),
                format!("/raw/{id}/b.txt"),
                format!("/zip/{id}"),
                format!("/api/v1/paste?shortlink={id}"),
            ] {
                assert_eq!(status(app, &path, token).await, 404, "{path}");
            }
        }
        let r = app
            .gql(
                "mutation($id: ID!) { revealPaste(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(error_code(&r), Some("NOT_FOUND"), "{r}");
        assert!(!recent_ids(app).await.contains(&id));
    }
    // The open subscription ended; a new one is refused.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match sub
            .next(deadline.saturating_duration_since(Instant::now()))
            .await
        {
            Some(Delivery::Complete) => break,
            Some(Delivery::Data(_)) => continue,
            other => panic!("the subscription of a hidden paste goes on: {other:?}"),
        }
    }
    let mut again = b.watch_views(None, &id).await;
    assert_eq!(
        again.next(Duration::from_secs(5)).await,
        Some(Delivery::Error(Some("NOT_FOUND".into())))
    );
    // Gone from the owner's own list; the owner can neither delete nor edit it.
    let mine = a
        .gql_as(Some(&owner), "{ myPastes { nodes { id } } }", json!({}))
        .await;
    assert_eq!(mine["data"]["myPastes"]["nodes"], json!([]), "{mine}");
    let r = a
        .gql_as(
            Some(&owner),
            "mutation($id: ID!) { deletePaste(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&r), Some("NOT_FOUND"), "{r}");
    // Kept for review: the admin reads it.
    let r = a
        .gql_as(
            Some(&admin),
            "query($id: ID!) { paste(id: $id) { content hiddenAt } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(r["data"]["paste"]["content"], "abuse", "{r}");
    assert!(r["data"]["paste"]["hiddenAt"].is_string());
    // Hiding twice says so.
    let r = act(&a, &admin, "hidePaste", "id", &id).await;
    assert_eq!(error_code(&r), Some("BAD_USER_INPUT"), "{r}");

    // Shown again: served and listed on both instances.
    let r = act(&a, &admin, "unhidePaste", "id", &id).await;
    assert_eq!(r["data"]["unhidePaste"], true, "{r}");
    for app in [&a, &b] {
        assert_eq!(app.read_paste(None, &id).await.as_deref(), Ok("abuse"));
        assert!(recent_ids(app).await.contains(&id));
    }
    // An admin's delete.
    let r = act(&a, &admin, "removePaste", "id", &id).await;
    assert_eq!(r["data"]["removePaste"], true, "{r}");
    assert_eq!(status(&b, &format!("/raw/{id}"), None).await, 404);
    let actions: Vec<String> = audit(&a, &admin)
        .await
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["actor"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["target"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            format!("moderator delete {id}"),
            format!("moderator unhide {id}"),
            format!("moderator hide {id}"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recent_list_reads_an_index_without_hidden_pastes() {
    let app = admin_app().await;
    // The listing's WHERE (as diesel writes it, with the other conditions), with sequential
    // scans priced out so the tiny test table cannot hide the index choice.
    app.sql(
        "SET enable_seqscan = off; \
         DO $$ DECLARE p text := ''; r record; BEGIN \
           FOR r IN EXECUTE 'EXPLAIN SELECT id FROM pastes WHERE visibility = 0 AND hidden_at IS NULL \
             AND burn_after_reading = false AND (expires_at IS NULL OR expires_at > now()) \
             ORDER BY created_at DESC, id DESC LIMIT 21' LOOP p := p || r.\"QUERY PLAN\"; END LOOP; \
           IF p NOT LIKE '%pastes_public_visible_recent_idx%' THEN RAISE EXCEPTION 'plan: %', p; END IF; \
         END $$;",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_hides_the_accounts_pastes_and_refuses_its_tokens_on_every_door() {
    let a = admin_app().await;
    let b = TestApp::instance(&a.deployment, |c| {
        c.auth.admin_usernames = "Moderator".into()
    })
    .await;
    let admin = a.register("moderator", PASSWORD).await;
    let session = a.register("spammer", PASSWORD).await;
    let (token, _) = make_token(&a, &session, "bot", &["READ", "WRITE"]).await;
    let (id, _) = a
        .create_paste_with(
            Some(&token),
            json!({ "content": "buy now", "visibility": "PUBLIC" }),
        )
        .await;
    // B has verified the token and has a socket open with it.
    assert_eq!(
        b.read_paste(Some(&token), &id).await.as_deref(),
        Ok("buy now")
    );
    let mut sub = b.watch_views(Some(&token), &id).await;
    assert!(matches!(
        sub.next(Duration::from_secs(5)).await,
        Some(Delivery::Data(_))
    ));

    let r = act(&a, &admin, "banAccount", "username", "SPAMMER").await;
    assert_eq!(r["data"]["banAccount"], true, "{r}");
    // Its pastes are hidden at once everywhere.
    for app in [&a, &b] {
        assert_eq!(app.read_paste(None, &id).await, Err("NOT_FOUND".into()));
        assert_eq!(status(app, &format!("/raw/{id}"), None).await, 404);
        assert!(!recent_ids(app).await.contains(&id));
    }
    // Its token (cached on B) and its session are refused on every door, within a second.
    eventually(
        "B refuses the banned account's token",
        Duration::from_secs(3),
        || async {
            let r = b
                .gql_as(Some(&token), "{ recentPastes { nodes { id } } }", json!({}))
                .await;
            error_code(&r) == Some("FORBIDDEN")
        },
    )
    .await;
    let r = a
        .gql_as(
            Some(&session),
            "mutation { createPaste(input: { content: \"x\" }) { paste { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&r), Some("FORBIDDEN"), "{r}");
    assert_eq!(status(&b, "/raw/anything1", Some(&token)).await, 403);
    let post = b
        .http
        .post(b.url("/api/v1/paste"))
        .bearer_auth(&token)
        .body(json!({ "paste_contents": "x" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 403);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match sub
            .next(deadline.saturating_duration_since(Instant::now()))
            .await
        {
            Some(Delivery::Complete) => break,
            Some(Delivery::Data(_)) => continue,
            other => panic!("the banned account's socket stays open: {other:?}"),
        }
    }
    let mut refused = b.watch_views(Some(&token), "whatever1").await;
    assert_eq!(
        refused.next(Duration::from_secs(5)).await,
        Some(Delivery::Error(Some("FORBIDDEN".into())))
    );
    let login = a
        .gql(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
            json!({ "u": "spammer", "p": PASSWORD }),
        )
        .await;
    assert_eq!(error_code(&login), Some("FORBIDDEN"), "{login}");
    // An admin cannot ban themself; unknown accounts are NOT_FOUND.
    assert_eq!(
        error_code(&act(&a, &admin, "banAccount", "username", "moderator").await),
        Some("BAD_USER_INPUT")
    );
    assert_eq!(
        error_code(&act(&a, &admin, "banAccount", "username", "nobody").await),
        Some("NOT_FOUND")
    );

    // Lifting the ban shows the pastes again and lets the token work.
    let r = act(&a, &admin, "unbanAccount", "username", "spammer").await;
    assert_eq!(r["data"]["unbanAccount"], true, "{r}");
    assert_eq!(b.read_paste(None, &id).await.as_deref(), Ok("buy now"));
    eventually("the token works again", Duration::from_secs(3), || async {
        b.read_paste(Some(&token), &id).await.as_deref() == Ok("buy now")
    })
    .await;
    let actions: Vec<String> = audit(&a, &admin)
        .await
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap(),
                e["target"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(actions, ["unban spammer", "ban spammer"]);
}
