//! Jobs (expiry, analytics hand-off, orphans), burn-after-reading, maxViews, view counts and
//! live subscriptions.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use pastebin::jobs;
use serde_json::json;

use crate::harness::{Delivery, TestApp, error_code, eventually, unique};

async fn count(app: &TestApp, sql_where: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!("SELECT count(*) AS n FROM pastes WHERE {sql_where}");
    let sql = sql.as_str();
    app.app
        .stores()
        .db
        .read_prefer_primary(async |c| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query(sql).get_result::<N>(c).await
        })
        .await
        .unwrap()
        .n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sweep_removes_expired_pastes_from_table_bucket_and_caches() {
    let app = TestApp::spawn_with(|c| c.object_store.inline_max = 0).await;
    let (gone, _) = app.create_paste("expired").await;
    let (kept, _) = app.create_paste("kept").await;
    assert_eq!(app.read_paste(None, &gone).await.unwrap(), "expired");
    app.sql(&format!(
        "UPDATE pastes SET expires_at = now() - interval '1 minute' WHERE id = '{gone}'"
    ))
    .await;

    assert_eq!(jobs::expire::sweep(&app.app).await.unwrap(), 1);
    assert_eq!(count(&app, &format!("id = '{gone}'")).await, 0);
    assert!(!app.app.stores().blobs.exists(&gone).await.unwrap());
    assert!(
        app.app.stores().cache.get(&gone).await.is_none(),
        "gone from both cache tiers"
    );
    assert!(app.app.stores().blobs.exists(&kept).await.unwrap());
    assert_eq!(app.read_paste(None, &kept).await.unwrap(), "kept");
    assert_eq!(
        jobs::expire::sweep(&app.app).await.unwrap(),
        0,
        "a second sweep finds nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_expired_pastes_are_swept_in_bounded_batches_by_two_workers_once() {
    let a = TestApp::spawn_with(|c| c.jobs.expiry_batch = 500).await;
    let b = TestApp::instance(&a.deployment, |c| c.jobs.expiry_batch = 500).await;
    a.sql(
        "INSERT INTO pastes (id, visibility, expires_at, size_bytes, content_sha256, body, in_blob) \
         SELECT 'x' || lpad(g::text, 9, '0'), 1, now() - interval '1 hour', 1, '\\x00', '\\x00', false \
         FROM generate_series(1, 10000) g",
    )
    .await;
    let (live, _) = a.create_paste("still live").await;
    let (ra, rb) = tokio::join!(jobs::expire::sweep(&a.app), jobs::expire::sweep(&b.app));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(
        ra + rb,
        10_000,
        "each expired paste swept once: {ra} + {rb}"
    );
    assert_eq!(count(&a, "expires_at <= now()").await, 0);
    assert_eq!(a.read_paste(None, &live).await.unwrap(), "still live");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_worker_sweeps_expired_pastes_by_itself() {
    let schedule = |c: &mut pastebin::config::Config| {
        c.jobs.expiry_schedule = "* * * * * *".into();
        c.jobs.analytics_schedule = "* * * * * *".into();
    };
    let a = TestApp::spawn_with(schedule).await;
    let b = TestApp::instance(&a.deployment, schedule).await;
    for app in [&a, &b] {
        tokio::spawn(jobs::run(Arc::clone(&app.app), app.app.shutdown().clone()));
    }
    let (id, _) = a.create_paste("expires now").await;
    a.sql(&format!(
        "UPDATE pastes SET expires_at = now() - interval '1 second' WHERE id = '{id}'"
    ))
    .await;
    eventually(
        "the workers sweep the expired paste",
        Duration::from_secs(10),
        || async { count(&a, &format!("id = '{id}'")).await == 0 },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphan_objects_older_than_the_grace_period_are_removed() {
    let app = TestApp::spawn_with(|c| {
        c.object_store.inline_max = 0;
        c.jobs.orphan_grace_secs = 0;
    })
    .await;
    let (id, _) = app.create_paste("has a row").await;
    // An object without a row: a crash between the upload and the INSERT (a key of the
    // format from before files and revisions).
    app.app
        .stores()
        .blobs
        .put("pastes/Orphan0001", b"whatever")
        .await
        .unwrap();
    // Object times have a resolution of a second: the orphan is past the grace period (0 s)
    // once a second has turned.
    eventually(
        "the sweep removes the orphan",
        Duration::from_secs(10),
        || async { jobs::orphans::sweep(&app.app).await.unwrap() == 1 },
    )
    .await;
    assert!(!app.app.stores().blobs.exists("Orphan0001").await.unwrap());
    assert!(
        app.app.stores().blobs.exists(&id).await.unwrap(),
        "objects with a row stay"
    );
    assert_eq!(app.read_paste(None, &id).await.unwrap(), "has a row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_fifty_concurrent_readers_of_a_burn_after_reading_paste_exactly_one_gets_it() {
    let app = TestApp::spawn().await;
    let (id, _) = app
        .create_paste_with(
            None,
            json!({ "content": "secret", "burnAfterReading": true }),
        )
        .await;
    // Reading metadata (what the page does first) does not burn it.
    let meta = app
        .gql(
            "query($id: ID!) { paste(id: $id) { burnAfterReading title sizeBytes } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(meta["data"]["paste"]["burnAfterReading"], true);
    assert_eq!(
        app.raw(&id).await.status(),
        403,
        "GET /raw does not burn it either"
    );

    let reveal = "mutation($id: ID!) { revealPaste(id: $id) { content } }";
    let results = join_all((0..50).map(|_| app.gql(reveal, json!({ "id": id })))).await;
    let winners: Vec<_> = results
        .iter()
        .filter(|r| r["data"]["revealPaste"]["content"] == "secret")
        .collect();
    assert_eq!(winners.len(), 1, "exactly one reader gets the content");
    assert!(
        results
            .iter()
            .filter(|r| r["errors"].is_array())
            .all(|r| error_code(r) == Some("NOT_FOUND"))
    );
    assert_eq!(app.read_paste(None, &id).await, Err("NOT_FOUND".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_reads_a_burn_after_reading_paste_without_burning_it() {
    let app = TestApp::spawn().await;
    let token = app.register(&unique("owner"), "a good long password").await;
    let (id, _) = app
        .create_paste_with(
            Some(&token),
            json!({ "content": "mine", "burnAfterReading": true }),
        )
        .await;
    assert_eq!(app.read_paste(Some(&token), &id).await.unwrap(), "mine");
    assert_eq!(app.read_paste(Some(&token), &id).await.unwrap(), "mine");
    let r = app
        .gql(
            "mutation($id: ID!) { revealPaste(id: $id) { content } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        r["data"]["revealPaste"]["content"], "mine",
        "someone else burns it: {r}"
    );
    assert_eq!(
        app.read_paste(Some(&token), &id).await,
        Err("NOT_FOUND".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_views_three_allows_exactly_three_reads_under_concurrency() {
    let app = TestApp::spawn_with(|c| c.object_store.inline_max = 0).await;
    let (id, _) = app
        .create_paste_with(None, json!({ "content": "three times", "maxViews": 3 }))
        .await;
    let reads = join_all((0..20).map(|_| app.read_paste(None, &id))).await;
    let ok = reads
        .iter()
        .filter(|r| r.as_ref().ok().map(String::as_str) == Some("three times"))
        .count();
    assert_eq!(ok, 3, "{reads:?}");
    assert!(
        reads
            .iter()
            .filter(|r| r.is_err())
            .all(|r| r.as_ref().err().map(String::as_str) == Some("NOT_FOUND"))
    );
    // The paste and its object are removed with its last view, before that view is answered.
    assert_eq!(count(&app, &format!("id = '{id}'")).await, 0);
    assert!(!app.app.stores().blobs.exists(&id).await.unwrap());
}

/// Steps 1 and 2 of a hand-off, as a run that dies before step 3 leaves them.
async fn apply_without_finishing(app: &TestApp) {
    let redis = &app.app.stores().redis;
    let batch = pastebin::services::cache::handoff::claim_batch(redis)
        .await
        .unwrap()
        .unwrap();
    let rows: Vec<_> = pastebin::services::cache::handoff::read_batch(redis, &batch)
        .await
        .unwrap()
        .into_iter()
        .map(|p| pastebin::services::db::hourly_views::HourlyViews {
            paste_id: p.paste_id,
            hour: p.hour,
            views: p.views,
        })
        .collect();
    let analytics = app.app.stores().analytics.as_ref().unwrap();
    let batch_ref = batch.as_str();
    assert!(
        analytics
            .run(
                async |c| pastebin::services::db::hourly_views::apply_batch(c, batch_ref, &rows)
                    .await
            )
            .await
            .unwrap()
    );
}

async fn analytics_total(app: &TestApp, id: &str) -> i64 {
    let from = chrono::Utc::now() - chrono::Duration::days(1);
    let to = chrono::Utc::now() + chrono::Duration::hours(2);
    let id = id.to_owned();
    app.app
        .stores()
        .analytics
        .as_ref()
        .unwrap()
        .run(async |c| pastebin::services::db::hourly_views::total(c, &id, from, to).await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_on_two_instances_reach_the_analytics_database_exactly_once() {
    let a = TestApp::spawn().await;
    let b = TestApp::instance(&a.deployment, |_| {}).await;
    let (id, _) = a
        .create_paste_with(
            None,
            json!({ "content": "counted", "visibility": "PUBLIC" }),
        )
        .await;
    for i in 0..30 {
        let app = if i % 2 == 0 { &a } else { &b };
        assert_eq!(app.raw(&id).await.status(), 200);
    }
    a.app.stores().counts.flush().await;
    b.app.stores().counts.flush().await;
    let report = jobs::handoff::run(&a.app).await.unwrap();
    assert_eq!(report.applied, 1);
    assert_eq!(analytics_total(&a, &id).await, 30);
    // Run twice: nothing new, nothing doubled; the batch stays in Redis (for readers) until a
    // run a minute later finishes it.
    let report = jobs::handoff::run(&b.app).await.unwrap();
    assert_eq!((report.applied, report.finished), (0, 0));
    assert_eq!(analytics_total(&a, &id).await, 30);
    let report = jobs::handoff::run_finishing_after(&b.app, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(report.finished, 1);
    assert_eq!(analytics_total(&a, &id).await, 30);

    // Interrupted after claiming (step 1): the next run applies the claimed batch.
    for _ in 0..5 {
        a.raw(&id).await;
    }
    a.app.stores().counts.flush().await;
    pastebin::services::cache::handoff::claim_batch(&a.app.stores().redis)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        analytics_total(&a, &id).await,
        30,
        "claimed, not yet applied"
    );
    jobs::handoff::run_finishing_after(&b.app, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(analytics_total(&a, &id).await, 35);
    jobs::handoff::run_finishing_after(&b.app, Duration::ZERO)
        .await
        .unwrap();
    assert!(
        pastebin::services::cache::handoff::open_batches(&a.app.stores().redis)
            .await
            .unwrap()
            .is_empty()
    );

    // Interrupted after writing (step 2) but before finishing (step 3): not applied twice.
    for _ in 0..7 {
        b.raw(&id).await;
    }
    b.app.stores().counts.flush().await;
    apply_without_finishing(&a).await;
    assert_eq!(analytics_total(&a, &id).await, 42);
    let report = jobs::handoff::run_finishing_after(&a.app, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!((report.applied, report.finished), (0, 1));
    assert_eq!(
        analytics_total(&a, &id).await,
        42,
        "the rerun did not count the batch again"
    );

    // Stats through the API: the live total, hourly buckets and the seed's monthly endpoint.
    let r = a
        .gql(
            "query($id: ID!) { paste(id: $id) { views } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(r["data"]["paste"]["views"], 42);
    let period = chrono::Utc::now().format("%Y-%m").to_string();
    let hits: serde_json::Value = a
        .http
        .get(a.url(&format!(
            "/api/v1/stats/hits?period={period}&shortlink={id}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hits["hits"], 42);
    let from = (chrono::Utc::now() - chrono::Duration::hours(3)).to_rfc3339();
    let to = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let stats = a
        .gql(
            "query($id: ID!, $f: DateTime!, $t: DateTime!) { pasteStats(id: $id, from: $f, to: $t) { hour views } }",
            json!({ "id": id, "f": from, "t": to }),
        )
        .await;
    let total: i64 = stats["data"]["pasteStats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["views"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 42, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unflushed_views_count_in_the_monthly_hits_too() {
    let app = TestApp::spawn().await;
    let (id, _) = app.create_paste("hits").await;
    for _ in 0..4 {
        app.raw(&id).await;
    }
    let period = chrono::Utc::now().format("%Y-%m").to_string();
    let url = app.url(&format!(
        "/api/v1/stats/hits?period={period}&shortlink={id}"
    ));
    let hits: serde_json::Value = app
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hits["hits"], 4, "pending counts are included: {hits}");
    let bad = app
        .http
        .get(app.url(&format!("/api/v1/stats/hits?period=2026-13&shortlink={id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let past: serde_json::Value = app
        .http
        .get(app.url(&format!("/api/v1/stats/hits?period=2020-01&shortlink={id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(past["hits"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_on_one_instance_sees_views_made_on_another_within_a_second() {
    let a = TestApp::spawn().await;
    let b = TestApp::instance(&a.deployment, |_| {}).await;
    let (id, token) = a.create_paste("watched").await;
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let mut sub = b
            .subscribe_with(
                protocol,
                None,
                "subscription($id: ID!) { pasteViews(id: $id) }",
                json!({ "id": id }),
            )
            .await;
        let first = sub
            .next_count(Duration::from_secs(5))
            .await
            .expect("the current count at once");
        let started = std::time::Instant::now();
        assert_eq!(a.raw(&id).await.status(), 200);
        let mut seen = first;
        while seen < first + 1 {
            seen = sub
                .next_count(Duration::from_secs(1))
                .await
                .expect("the new count within 1 s");
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{protocol}: {:?}",
            started.elapsed()
        );
    }
    // The stream ends when the paste is deleted.
    let mut sub = b.watch_views(None, &id).await;
    sub.next_count(Duration::from_secs(5)).await.unwrap();
    let r = a
        .gql(
            "mutation($id: ID!, $t: String) { deletePaste(id: $id, deleteToken: $t) }",
            json!({ "id": id, "t": token }),
        )
        .await;
    assert_eq!(r["data"]["deletePaste"], true);
    assert_eq!(
        sub.next(Duration::from_secs(2)).await,
        Some(Delivery::Complete)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_paste_view_count_is_refused_to_a_stranger() {
    let app = TestApp::spawn().await;
    let owner = app.register(&unique("own"), "a good long password").await;
    let stranger = app.register(&unique("str"), "a good long password").await;
    let (id, _) = app
        .create_paste_with(
            Some(&owner),
            json!({ "content": "mine", "visibility": "PRIVATE" }),
        )
        .await;
    let q = "subscription($id: ID!) { pasteViews(id: $id) }";
    let mut theirs = app.subscribe(Some(&stranger), q, json!({ "id": id })).await;
    assert_eq!(
        theirs.next(Duration::from_secs(5)).await,
        Some(Delivery::Error(Some("NOT_FOUND".into())))
    );
    let mut anon = app.subscribe(None, q, json!({ "id": id })).await;
    assert_eq!(
        anon.next(Duration::from_secs(5)).await,
        Some(Delivery::Error(Some("NOT_FOUND".into())))
    );
    let mut mine = app.subscribe(Some(&owner), q, json!({ "id": id })).await;
    assert!(mine.next_count(Duration::from_secs(5)).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeps_remove_every_revisions_objects_and_only_objects_without_a_row() {
    use crate::revisions::{edit, objects_of};
    use pastebin::services::blob::file_key;
    let app = TestApp::spawn_with(|c| {
        c.object_store.inline_max = 0;
        c.jobs.orphan_grace_secs = 0;
    })
    .await;
    let (id, token) = app.create_paste("revision one").await;
    let r = edit(
        &app,
        None,
        &id,
        token.as_deref(),
        json!({ "baseRevision": 1, "content": "revision two" }),
    )
    .await;
    assert_eq!(r["data"]["updatePaste"]["revision"], 2, "{r}");
    assert_eq!(objects_of(&app, &id).await.len(), 2);

    // An attempt that lost its id to this paste (or failed) wrote under its own key: it never
    // touched this paste's objects, and the sweep removes it alone. Keys it cannot read stay.
    let blobs = &app.app.stores().blobs;
    let losing = file_key(&id, "LostAttempt1", 0);
    blobs.put(&losing, b"another attempt's body").await.unwrap();
    let stray = format!("pastes/{id}/not/a/key");
    blobs.put(&stray, b"not ours").await.unwrap();
    eventually(
        "the sweep removes the losing attempt's object",
        Duration::from_secs(10),
        || async {
            jobs::orphans::sweep(&app.app).await.unwrap();
            !blobs.exists_key(&losing).await.unwrap()
        },
    )
    .await;
    assert!(
        blobs.exists_key(&stray).await.unwrap(),
        "keys it cannot parse are left alone"
    );
    blobs.delete(&stray).await.unwrap();
    assert_eq!(
        objects_of(&app, &id).await.len(),
        2,
        "the paste's own objects stay"
    );
    assert_eq!(app.read_paste(None, &id).await.unwrap(), "revision two");
    let r = app
        .http
        .get(app.url(&format!("/raw/{id}?rev=1")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "revision one");

    // Expiry removes every revision's objects.
    app.sql(&format!(
        "UPDATE pastes SET expires_at = now() - interval '1 minute' WHERE id = '{id}'"
    ))
    .await;
    assert_eq!(jobs::expire::sweep(&app.app).await.unwrap(), 1);
    assert!(objects_of(&app, &id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pastes_written_by_the_previous_release_read_as_revision_one() {
    let app = TestApp::spawn().await;
    // What the previous release inserts: the body in the row (inline), or an object under the
    // legacy key.
    let inline = pastebin::services::blob::codec::compress(b"old and inline").unwrap();
    app.sql(&format!(
        "INSERT INTO pastes (id, visibility, language, size_bytes, content_sha256, body, in_blob) \
         VALUES ('LegacyIn01', 1, 'rust', 14, '\\x01', '\\x{}', false), \
                ('LegacyOb01', 1, NULL, 14, '\\x02', NULL, true)",
        hex::encode(&inline)
    ))
    .await;
    let object = pastebin::services::blob::codec::compress(b"old and object").unwrap();
    app.app
        .stores()
        .blobs
        .put("pastes/LegacyOb01", &object)
        .await
        .unwrap();
    let q = "query($id: ID!) { paste(id: $id) { revision content files { name language } revisions { nodes { number summary } } } }";
    let r = app.gql(q, json!({ "id": "LegacyIn01" })).await;
    let p = &r["data"]["paste"];
    assert_eq!(p["content"], "old and inline", "{r}");
    assert_eq!(
        p["files"],
        json!([{ "name": "paste.rs", "language": "rust" }])
    );
    assert_eq!(
        p["revisions"]["nodes"],
        json!([{ "number": 1, "summary": "Created" }])
    );
    let r = app.gql(q, json!({ "id": "LegacyOb01" })).await;
    assert_eq!(r["data"]["paste"]["content"], "old and object", "{r}");
    // Deleting it removes the legacy object too.
    app.sql("UPDATE pastes SET expires_at = now() - interval '1 minute' WHERE id = 'LegacyOb01'")
        .await;
    jobs::expire::sweep(&app.app).await.unwrap();
    assert!(
        !app.app
            .stores()
            .blobs
            .exists_key("pastes/LegacyOb01")
            .await
            .unwrap()
    );
}
