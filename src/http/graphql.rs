//! `/graphql` (POST queries and batches, GET the bundled GraphiQL playground) and `/graphql/ws`
//! (subscriptions).

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{BatchRequest, BatchResponse, Data, Response as GqlResponse, ServerError};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::body::Body;
use axum::extract::{Extension, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::body::read_limited;
use super::{AppState, caller_from_headers};
use crate::auth::bearer;
use crate::caller::ClientAddr;
use crate::error::{AppError, ErrorCode};
use crate::graphql::MAX_BATCH;

/// The playground (GraphiQL, bundled by the web build as `playground.html`) runs from this
/// origin only, with no inline script or style and no eval: as strict as the app's policy,
/// and its connections limited to this origin (`'self'` covers ws/wss to the same host).
const GRAPHIQL_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'none'";

pub async fn graphiql(State(state): State<AppState>) -> Response {
    if !state.app.config().server.graphiql {
        return AppError::NotFound.into_response();
    }
    let page = state.app.config().server.web_dir.join("playground.html");
    let html = match tokio::fs::read(&page).await {
        Ok(html) => html,
        Err(e) => {
            tracing::warn!(path = %page.display(), error = %e, "GraphQL playground page missing");
            return (
                StatusCode::NOT_FOUND,
                "The GraphQL playground is part of the web build (web/dist/playground.html), \
                 which this server does not have. POST /graphql works without it.\n",
            )
                .into_response();
        }
    };
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(GRAPHIQL_CSP),
    );
    // It names hashed assets: revalidate it, like index.html.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A GraphQL-shaped error for a failure before execution, with its own HTTP status.
fn error_response(e: AppError) -> Response {
    e.log();
    let mut response = request_error(e.code().status(), e.code(), &e.public_message());
    if let Some(s) = e.retry_after() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    response
}

/// A GraphQL-shaped error for failures before execution.
fn request_error(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
    (status, axum::Json(GqlResponse::from_errors(vec![error]))).into_response()
}

pub async fn execute(
    State(state): State<AppState>,
    Extension(addr): Extension<ClientAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = state.app.config().limits.max_request_bytes();
    let bytes = match read_limited(body, &headers, limit).await {
        Ok(b) => b,
        Err(e) => return error_response(e),
    };
    let batch: BatchRequest = match serde_json::from_slice(&bytes) {
        Ok(b) => b,
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &format!("invalid GraphQL request: {e}"),
            );
        }
    };
    if let BatchRequest::Batch(requests) = &batch
        && requests.len() > MAX_BATCH
    {
        return request_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            &format!("too many operations in one batch (limit {MAX_BATCH})"),
        );
    }
    // Resolving the caller fails before execution: its error answers with its own status
    // (401 for a bad token, 503 when the account cannot be looked up).
    let caller = match caller_from_headers(&state.app, addr, &headers).await {
        Ok(c) => c,
        Err(e) => return error_response(e),
    };
    let batch = batch.data(caller);
    let response: BatchResponse = state.schema.execute_batch(batch).await;
    let mut http = axum::Json(&response).into_response();
    if let Some(retry) = retry_after(&response) {
        http.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry));
    }
    http
}

fn retry_after(response: &BatchResponse) -> Option<u64> {
    let responses: Vec<&GqlResponse> = match response {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(rs) => rs.iter().collect(),
    };
    responses
        .iter()
        .flat_map(|r| &r.errors)
        .filter_map(|e| e.extensions.as_ref()?.get("retryAfter"))
        .filter_map(|v| match v {
            async_graphql::Value::Number(n) => n.as_u64(),
            _ => None,
        })
        .max()
}

pub async fn subscriptions(
    State(state): State<AppState>,
    Extension(addr): Extension<ClientAddr>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let app = state.app.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // tungstenite zero-fills its read buffer (128 KiB by default) on every read; a
        // subscription connection carries a few small messages. 4 KiB took 10,000
        // subscribers from 1.4 GB to 0.2 GB and cut the fan-out CPU by a third.
        .read_buffer_size(4096)
        .max_message_size(64 * 1024)
        .on_upgrade(move |stream| {
            GraphQLWebSocket::new(stream, state.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let token = payload
                        .get("Authorization")
                        .or_else(|| payload.get("authorization"))
                        .and_then(|v| v.as_str())
                        .and_then(bearer)
                        .or_else(|| payload.get("token").and_then(|v| v.as_str()));
                    let caller = app
                        .accounts()
                        .caller(addr, token)
                        .await
                        .map_err(|e| async_graphql::Error::new(e.public_message()))?;
                    let mut data = Data::default();
                    data.insert(caller);
                    Ok(data)
                })
                .serve()
        })
}
