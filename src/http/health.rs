//! `/healthz` (the process answers), `/readyz` (each store, and an overall status), `/metrics`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::AppState;
use crate::services::health::Readiness;

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

#[derive(Serialize)]
pub struct ReadinessBody {
    status: Status,
    #[serde(flatten)]
    readiness: Readiness,
}

/// 200 for `ok` and `degraded` (a read-only instance still serves reads: keep it in rotation),
/// 503 for `down`.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let readiness = state.app.health().readiness().await;
    let status = match (readiness.readable, readiness.all_up()) {
        (false, _) => Status::Down,
        (true, true) => Status::Ok,
        (true, false) => Status::Degraded,
    };
    let code = if status == Status::Down {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let mut r = (code, Json(ReadinessBody { status, readiness })).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    state.app.health().record_gauges();
    let handle = crate::telemetry::metrics();
    let body = tokio::time::timeout(Duration::from_secs(5), async { handle.render() })
        .await
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
