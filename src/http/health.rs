//! `/healthz` (the process answers), `/readyz` (each store, and an overall status), `/metrics`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Reads and writes work.
    Ok,
    /// Reads work; writes do not (no primary, read-only mode) or a store is down.
    Degraded,
    /// Reads do not work.
    Down,
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    Up,
    Down,
    /// Not configured.
    Absent,
}

impl From<Option<bool>> for Component {
    fn from(v: Option<bool>) -> Self {
        match v {
            Some(true) => Self::Up,
            Some(false) => Self::Down,
            None => Self::Absent,
        }
    }
}

#[derive(Serialize)]
pub struct Readiness {
    status: Status,
    read_only: bool,
    /// Whether the service accepts writes right now.
    writable: bool,
    primary: Component,
    replica: Component,
    analytics: Component,
    redis: Component,
    s3: Component,
}

/// 200 for `ok` and `degraded` (a read-only instance still serves reads: keep it in rotation),
/// 503 for `down`.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let app = &state.app;
    let analytics = async {
        match &app.analytics {
            Some(a) => Some(a.ping().await),
            None => None,
        }
    };
    let (db, analytics, redis, s3) = tokio::join!(
        app.db.health(),
        analytics,
        app.redis.ping(),
        app.blobs.ping()
    );
    let readable = db.primary || db.replica == Some(true);
    let writable = db.primary && !app.db.read_only();
    let all_up = [analytics, redis, s3].iter().all(|c| *c != Some(false));
    let status = match (readable, writable && all_up) {
        (false, _) => Status::Down,
        (true, true) => Status::Ok,
        (true, false) => Status::Degraded,
    };
    let body = Readiness {
        status,
        read_only: app.db.read_only(),
        writable,
        primary: Some(db.primary).into(),
        replica: db.replica.into(),
        analytics: analytics.into(),
        redis: redis.into(),
        s3: s3.into(),
    };
    let code = if status == Status::Down {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let mut r = (code, Json(body)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let app = &state.app;
    app.db.record_pool_metrics();
    metrics::gauge!("pastebin_cache_local_bytes").set(app.cache.local_weight() as f64);
    metrics::gauge!("pastebin_subscriptions_watched_pastes").set(app.hub.watched() as f64);
    let handle = crate::telemetry::metrics();
    let body = tokio::time::timeout(Duration::from_secs(5), async { handle.render() })
        .await
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
