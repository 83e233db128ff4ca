//! The layer every request goes through: the client's address, the latency histogram, and the
//! headers every response carries. A plain tower service (no boxed future per request): it
//! is on the hot path of every read.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::Response;
use metrics::Gauge;
use tower::{Layer, Service};

use super::web;
use crate::caller::ClientAddr;

#[derive(Clone)]
pub struct ObserveLayer {
    trusted_header: Option<Arc<HeaderName>>,
    in_flight: Gauge,
}

impl ObserveLayer {
    /// `trusted_header`: where a trusted proxy puts the client IP; empty for the TCP peer.
    pub fn new(trusted_header: &str) -> Self {
        let trusted_header = (!trusted_header.is_empty())
            .then(|| HeaderName::try_from(trusted_header).ok())
            .flatten()
            .map(Arc::new);
        Self {
            trusted_header,
            in_flight: metrics::gauge!("pastebin_http_requests_in_flight"),
        }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observe {
            inner,
            trusted_header: self.trusted_header.clone(),
            in_flight: self.in_flight.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    trusted_header: Option<Arc<HeaderName>>,
    in_flight: Gauge,
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ObserveFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let start = Instant::now();
        let ip = client_ip(self.trusted_header.as_deref(), &request);
        request.extensions_mut().insert(ClientAddr(ip));
        let route = route_label(request.uri().path());
        let method = method_label(request.method());
        ObserveFuture {
            inner: self.inner.call(request),
            start,
            route,
            method,
            _in_flight: InFlight::start(&self.in_flight),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct ObserveFuture<F> {
        #[pin]
        inner: F,
        start: Instant,
        route: &'static str,
        method: &'static str,
        _in_flight: InFlight,
    }
}

/// Counts a request in `pastebin_http_requests_in_flight` until its future completes or is
/// dropped (the client went away).
pub struct InFlight(Gauge);

impl InFlight {
    fn start(gauge: &Gauge) -> Self {
        gauge.increment(1.0);
        Self(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

impl<F, E> Future for ObserveFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = match this.inner.poll(cx) {
            Poll::Ready(Ok(r)) => r,
            other => return other,
        };
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
            .entry(header::X_FRAME_OPTIONS)
            .or_insert(HeaderValue::from_static("DENY"));
        // Static labels: no allocation per request.
        metrics::histogram!(
            "pastebin_http_request_duration_seconds",
            "route" => *this.route,
            "method" => *this.method,
            "status" => status_label(response.status()),
        )
        .record(this.start.elapsed().as_secs_f64());
        Poll::Ready(Ok(response))
    }
}

fn client_ip(trusted_header: Option<&HeaderName>, request: &Request) -> IpAddr {
    if let Some(name) = trusted_header
        && let Some(ip) = request
            .headers()
            .get(name)
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
