//! `/graphql`: POST queries and batches, GET the bundled GraphiQL playground. Subscriptions
//! (`/graphql/ws`) are in `ws`.

use async_graphql::{Response as GqlResponse, ServerError};
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::body::read_limited;
use super::gql_request;
use super::same_site::NotCrossSite;
use super::{AppState, caller_from_headers};
use crate::caller::ClientAddr;
use crate::error::AppError;

/// The playground (GraphiQL, bundled by the web build as `playground.html`) runs from this
/// origin only, with no inline script or style and no eval: as strict as the app's policy,
/// and its connections limited to this origin (`'self'` covers ws/wss to the same host).
const GRAPHIQL_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'none'";

pub async fn graphiql(State(state): State<AppState>) -> Response {
    if !state.app.config().server.graphiql_enabled() {
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
    let status = e.code().status();
    with_status(status, e)
}

/// A GraphQL-shaped error answered with `status`.
fn with_status(status: StatusCode, e: AppError) -> Response {
    e.log();
    let mut response = (
        status,
        axum::Json(GqlResponse::from_errors(vec![server_error(&e)])),
    )
        .into_response();
    if let Some(s) = e.retry_after() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    response
}

/// The error as GraphQL shows it, with its code.
fn server_error(e: &AppError) -> ServerError {
    let mut error = ServerError::new(e.public_message(), None);
    let ext = error.extensions.get_or_insert_with(Default::default);
    ext.set("code", e.code().as_str());
    if let Some(s) = e.retry_after() {
        ext.set("retryAfter", s);
    }
    error
}

/// The media type of the answer (GraphQL over HTTP): `application/graphql-response+json` when
/// the client accepts it, `application/json` (the legacy one) otherwise.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    GraphqlResponseJson,
    Json,
}

impl Answer {
    fn of(headers: &HeaderMap) -> Self {
        let accepts = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| {
                let t = t.trim();
                media_type(t) == GRAPHQL_RESPONSE_JSON
                    && !t.replace(' ', "").contains(";q=0;")
                    && !t.replace(' ', "").ends_with(";q=0")
            });
        if accepts {
            Self::GraphqlResponseJson
        } else {
            Self::Json
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json",
        })
    }
}

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// `type/subtype` of a media type, lower-cased, without parameters.
fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The header a multipart request (uploads) must carry: a form cannot send it, and a script
/// on another site cannot send it without a CORS preflight (Apollo's convention).
const PREFLIGHT_HEADER: &str = "apollo-require-preflight";

/// `/graphql` takes JSON, and multipart (uploads) only with [`PREFLIGHT_HEADER`]: a form
/// (which any site can make a browser send) cannot reach it, and a POST that does not say what
/// it carries is refused. Returns why the request is refused (answered 415), if it is.
fn unsupported_content_type(headers: &HeaderMap) -> Option<&'static str> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    match value.map(media_type).as_deref() {
        None => Some("a GraphQL POST needs `Content-Type: application/json`"),
        Some("application/json" | GRAPHQL_RESPONSE_JSON) => None,
        Some(MULTIPART) if headers.contains_key(PREFLIGHT_HEADER) => None,
        Some(MULTIPART) => Some(
            "a multipart GraphQL request (uploads) needs an `apollo-require-preflight: true` header",
        ),
        Some(_) => Some("GraphQL requests are JSON: `Content-Type: application/json`"),
    }
}

const MULTIPART: &str = "multipart/form-data";

/// A response that never reached execution (a request error: parse, validation, variables):
/// no data, and every error without a path.
fn is_request_error(r: &GqlResponse) -> bool {
    r.data == async_graphql::Value::Null
        && !r.errors.is_empty()
        && r.errors.iter().all(|e| e.path.is_empty())
}

pub async fn execute(
    State(state): State<AppState>,
    _: NotCrossSite,
    Extension(addr): Extension<ClientAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(why) = unsupported_content_type(&headers) {
        return with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE, AppError::bad_input(why));
    }
    let answer = Answer::of(&headers);
    let limits = &state.app.config().limits;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let parsed = if media_type(content_type) == MULTIPART {
        // Files go to temporary files as they arrive; the whole request is bounded as a
        // JSON one is.
        gql_request::parse_multipart(content_type, body, limits).await
    } else {
        match read_limited(body, &headers, limits.max_request_bytes()).await {
            Ok(bytes) => gql_request::parse(&bytes, &state.persisted),
            Err(e) => Err(e),
        }
    };
    let parsed = match parsed {
        Ok(p) => p,
        Err(e) => return error_response(e),
    };
    if !parsed.batch
        && let Some(Err(e)) = parsed.requests.first()
    {
        return error_response(AppError::bad_input(e.public_message()));
    }
    // Resolving the caller fails before execution: its error answers with its own status
    // (401 for a bad token, 503 when the account cannot be looked up).
    let caller = match caller_from_headers(&state.app, addr, &headers).await {
        Ok(c) => c,
        Err(e) => return error_response(e),
    };
    let mut responses = Vec::with_capacity(parsed.requests.len());
    for request in parsed.requests {
        responses.push(match request {
            Ok(r) => state.schema.execute(r.data(caller.clone())).await,
            Err(e) => GqlResponse::from_errors(vec![server_error(&e)]),
        });
    }
    let retry = retry_after(&responses);
    let mut http = if parsed.batch {
        axum::Json(&responses).into_response()
    } else {
        let response = responses.pop().unwrap_or_default();
        if answer == Answer::GraphqlResponseJson && is_request_error(&response) {
            let body = serde_json::json!({ "errors": response.errors });
            (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
        } else {
            axum::Json(&response).into_response()
        }
    };
    let h = http.headers_mut();
    h.insert(header::CONTENT_TYPE, answer.content_type());
    h.insert(header::VARY, HeaderValue::from_static("accept"));
    if let Some(retry) = retry {
        h.insert(header::RETRY_AFTER, HeaderValue::from(retry));
    }
    http
}

fn retry_after(responses: &[GqlResponse]) -> Option<u64> {
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
