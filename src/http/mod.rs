//! HTTP: the router and the routes that are not GraphQL.
//!
//! | route | does |
//! |---|---|
//! | `GET /` and other non-API paths | the web app (`PASTEBIN_WEB_DIR`), history-mode fallback |
//! | `POST /` | create from a raw body (`curl --data-binary @file`), answers the URL |
//! | `GET /graphql` / `POST /graphql` / `GET /graphql/ws` | GraphiQL / queries / subscriptions |
//! | `GET /raw/{id}` / `POST /raw/{id}` | raw text / reveal a burn-after-reading paste |
//! | `/api/v1/paste`, `/api/v1/stats/hits` | the seed's REST API |
//! | `/healthz`, `/readyz`, `/metrics` | liveness, readiness per component, Prometheus |

mod graphql;
mod health;
mod raw;
mod rest;
mod web;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header, request::Parts};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, get_service};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::App;
use crate::auth::{Viewer, bearer};
use crate::error::AppError;
use crate::graphql::AppSchema;

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub schema: AppSchema,
}

/// The client's IP: the TCP peer, or the configured trusted proxy header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The viewer of a non-GraphQL request, from an optional `Authorization: Bearer` header. A
/// header that does not verify is refused, never treated as anonymous.
pub struct Authenticated(pub Viewer);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        viewer_from_headers(&state.app, &parts.headers)
            .await
            .map(Self)
    }
}

pub(crate) async fn viewer_from_headers(
    app: &App,
    headers: &axum::http::HeaderMap,
) -> Result<Viewer, AppError> {
    match headers.get(header::AUTHORIZATION) {
        None => Ok(Viewer::Anonymous),
        Some(value) => {
            let token = value
                .to_str()
                .ok()
                .and_then(bearer)
                .ok_or(AppError::Unauthenticated(
                    "the Authorization header must be `Bearer <token>`",
                ))?;
            app.viewer_from_token(token).await
        }
    }
}

pub fn router(app: Arc<App>) -> Router {
    let schema = crate::graphql::schema(Arc::clone(&app));
    let state = AppState {
        app: Arc::clone(&app),
        schema,
    };
    let cors = cors_layer(&app.config.cors_origin_list());

    let web = web::service(&app.config.web_dir);
    // CORS only where other origins may call: the API. (On every route it cost the raw path
    // half a microsecond per request for nothing.)
    let api = Router::new()
        .route("/graphql", get(graphql::graphiql).post(graphql::execute))
        .route(
            "/api/v1/paste",
            get(rest::get_paste).post(rest::create_paste),
        )
        .route("/api/v1/stats/hits", get(rest::hits))
        .route_layer(cors);
    let router = Router::new()
        .route("/", get_service(web.clone()).post(raw::create_from_body))
        .route("/graphql/ws", get(graphql::subscriptions))
        .route("/raw/{id}", get(raw::get_raw).post(raw::reveal_raw))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(api);
    let router = if app.config.metrics_addr.is_empty() {
        router.route("/metrics", get(health::metrics))
    } else {
        router
    };
    router
        .fallback_service(web)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::internal(anyhow::anyhow!("handler panicked")).into_response_with_log()
        }))
        .with_state(state)
}

impl AppError {
    fn into_response_with_log(self) -> Response {
        axum::response::IntoResponse::into_response(self)
    }
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600))
}

/// Client IP, latency metric, and the headers every response carries.
async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let start = Instant::now();
    let ip = client_ip(&state.app.config.trusted_proxy_header, &request);
    request.extensions_mut().insert(ClientIp(ip));
    let route = route_label(request.uri().path());
    let method = method_label(request.method());
    let mut response = next.run(request).await;

    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Unlisted paste URLs are secrets: never leak them to other sites through Referer.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(web::CSP));
    headers
        .entry(HeaderName::from_static("x-frame-options"))
        .or_insert(HeaderValue::from_static("DENY"));

    // Static labels: no allocation per request.
    metrics::histogram!(
        "pastebin_http_request_duration_seconds",
        "route" => route,
        "method" => method,
        "status" => status_label(response.status()),
    )
    .record(start.elapsed().as_secs_f64());
    response
}

/// The route a path belongs to (this runs before routing, so `MatchedPath` is not known yet).
fn route_label(path: &str) -> &'static str {
    match path {
        "/" => "/",
        "/graphql" => "/graphql",
        "/graphql/ws" => "/graphql/ws",
        "/api/v1/paste" => "/api/v1/paste",
        "/api/v1/stats/hits" => "/api/v1/stats/hits",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        p if p.starts_with("/raw/") => "/raw/{id}",
        _ => "web",
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_label(status: axum::http::StatusCode) -> &'static str {
    match status.as_u16() {
        200 => "200",
        201 => "201",
        101 => "101",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        413 => "413",
        429 => "429",
        500 => "500",
        503 => "503",
        s if s < 400 => "other_ok",
        _ => "other_error",
    }
}

fn client_ip(trusted_header: &str, request: &Request) -> IpAddr {
    if !trusted_header.is_empty()
        && let Some(ip) = request
            .headers()
            .get(trusted_header)
            .and_then(|v| v.to_str().ok())
            // The right-most entry is the one our trusted proxy wrote.
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return ip;
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

/// Serves `/metrics` alone (the separate metrics listener of `PASTEBIN_METRICS_ADDR`).
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let schema = crate::graphql::schema(Arc::clone(&app));
    let router = Router::new()
        .route("/metrics", get(health::metrics))
        .with_state(AppState { app, schema });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves the router until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router(app);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
