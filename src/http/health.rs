//! `/healthz` (the process answers), `/readyz` (can serve reads), `/readyz/write` (can take
//! writes), `/metrics`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::AppState;
use crate::error::AppError;
use crate::services::health::{Readiness, Status};

pub async fn healthz() -> &'static str {
    "ok"
}

#[derive(Serialize)]
pub struct ReadinessBody {
    status: Status,
    #[serde(flatten)]
    readiness: Readiness,
}

fn answer(status: Status, readiness: Readiness) -> Response {
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

/// "Can serve reads" (the Kubernetes readiness probe): 200 for `ok` and `degraded` (a
/// read-only instance still serves reads: keep it in rotation), 503 for `down`. Answered from
/// the state the background probes keep; never waits on a store.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let readiness = state.app.health().readiness();
    answer(readiness.reads(), readiness)
}

/// "Can take writes" (the DNS failover health check of the primary region): 200 only while a
/// writable primary answers and the read-only switch is off, else 503.
pub async fn readyz_write(State(state): State<AppState>) -> Response {
    let readiness = state.app.health().readiness();
    answer(readiness.writes(), readiness)
}

/// `/metrics` on the public listener when it must not serve them (production, or a separate
/// metrics listener configured).
pub async fn metrics_elsewhere() -> AppError {
    AppError::NotFound
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    state.app.health().record_gauges();
    let handle = crate::telemetry::metrics();
    let body = tokio::time::timeout(Duration::from_secs(5), async { handle.render() })
        .await
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
