//! HTTP: the router and the routes that are not GraphQL.
//!
//! | route | does |
//! |---|---|
//! | `GET /` and other non-API paths | the web app (`PASTEBIN_WEB_DIR`), history-mode fallback |
//! | `POST /` | create from a raw body (`curl --data-binary @file`), answers the URL |
//! | `GET /graphql` / `POST /graphql` / `GET /graphql/ws` | GraphiQL / queries / subscriptions |
//! | `GET /raw/{id}` / `POST /raw/{id}` | raw text / reveal a burn-after-reading paste |
//! | `GET /raw/{id}/{filename}`, `GET /zip/{id}` | one file / every file as a zip (`?rev=N` pins a revision, on `/raw/{id}` too) |
//! | `/api/v1/paste`, `/api/v1/stats/hits` | the seed's REST API |
//! | `/healthz` | liveness: the process answers |
//! | `/readyz`, `/readyz/write` | can serve reads / can take writes, from background state |
//! | `/metrics` | Prometheus; on the public listener only in development without `PASTEBIN_METRICS_ADDR` |
//! | `/auth/oidc/start`, `/auth/oidc/callback`, `POST /auth/oidc/session` | web sign-in with an OpenID provider ([`oidc`]) |

mod archive;
mod body;
mod fanout;
mod gql_request;
mod graphql;
mod health;
mod json;
mod observe;
mod oidc;
mod raw;
mod rest;
mod same_site;
mod web;
mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderValue, Method, header, request::Parts};
use axum::response::Response;
use axum::routing::{get, get_service};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::App;
use crate::auth::bearer;
use crate::caller::{Caller, ClientAddr};
use crate::error::AppError;
use crate::graphql::AppSchema;

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub schema: AppSchema,
    /// Query texts of persisted queries, by hash (see `gql_request`).
    persisted: gql_request::PersistedQueries,
    /// Other origins allowed to call (`PASTEBIN_CORS_ORIGINS`), also for writes.
    allowed_origins: Arc<[String]>,
    /// Open WebSocket connections per client (see `ws`).
    connections: ws::Connections,
    /// Groups of shared subscriptions (see `fanout`).
    fanout: fanout::Fanout,
}

/// The caller of a request: the client address (set by the observe layer) and the viewer of an
/// optional `Authorization: Bearer` header. A header that does not verify is refused, never
/// treated as anonymous.
impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let addr = client_addr(parts);
        caller_from_headers(&state.app, addr, &parts.headers).await
    }
}

fn client_addr(parts: &Parts) -> ClientAddr {
    parts
        .extensions
        .get::<ClientAddr>()
        .copied()
        .unwrap_or(ClientAddr([127, 0, 0, 1].into()))
}

async fn caller_from_headers(
    app: &App,
    addr: ClientAddr,
    headers: &HeaderMap,
) -> Result<Caller, AppError> {
    let token = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => Some(value.to_str().ok().and_then(bearer).ok_or(
            AppError::Unauthenticated("the Authorization header must be `Bearer <token>`"),
        )?),
    };
    app.accounts().caller(addr, token).await
}

pub fn router(app: Arc<App>) -> Router {
    let schema = crate::graphql::schema(Arc::clone(&app));
    let state = AppState {
        app: Arc::clone(&app),
        schema,
        persisted: gql_request::PersistedQueries::default(),
        allowed_origins: app.config().server.cors_origin_list().into(),
        connections: ws::Connections::default(),
        fanout: fanout::Fanout::default(),
    };
    let server = &app.config().server;
    let cors = cors_layer(&server.cors_origin_list());

    let web = web::service(&server.web_dir);
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
        .route("/graphql/ws", get(ws::subscriptions))
        .route("/raw/{id}", get(raw::get_raw).post(raw::reveal_raw))
        .route("/raw/{id}/{filename}", get(raw::get_raw_file))
        .route("/zip/{id}", get(raw::get_zip))
        .route("/auth/oidc/start", get(oidc::start))
        .route("/auth/oidc/callback", get(oidc::callback))
        .route("/auth/oidc/session", axum::routing::post(oidc::session))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/readyz/write", get(health::readyz_write))
        .merge(api);
    // Refused rather than left to the web app's fallback, which would answer 200 with a page.
    let router = if server.metrics_on_public_listener() {
        router.route("/metrics", get(health::metrics))
    } else {
        router.route("/metrics", get(health::metrics_elsewhere))
    };
    router
        .fallback_service(web)
        .layer(observe::ObserveLayer::new(&server.trusted_proxy_header))
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
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("apollo-require-preflight"),
        ])
        .max_age(Duration::from_secs(600))
}

/// Starts the separate `/metrics` listener of `PASTEBIN_METRICS_ADDR`, if configured, until the
/// app shuts down; returns the address it listens on. `serve` and `worker` both call it.
pub async fn spawn_metrics_listener(app: &Arc<App>) -> anyhow::Result<Option<SocketAddr>> {
    let server = &app.config().server;
    let Some(addr) = server.metrics_socket()? else {
        if !server.metrics_on_public_listener() {
            tracing::warn!("PASTEBIN_METRICS_ADDR is empty: /metrics is served nowhere");
        }
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("PASTEBIN_METRICS_ADDR {addr}: {e}"))?;
    let bound = listener.local_addr()?;
    tracing::info!(addr = %bound, "metrics listener");
    let stop = app.shutdown().clone();
    tokio::spawn(serve_metrics(listener, Arc::clone(app), async move {
        stop.cancelled().await
    }));
    Ok(Some(bound))
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
        .with_state(AppState {
            app,
            schema,
            persisted: gql_request::PersistedQueries::default(),
            allowed_origins: Arc::from([]),
            connections: ws::Connections::default(),
            fanout: fanout::Fanout::default(),
        });
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
