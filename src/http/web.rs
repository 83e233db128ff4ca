//! The web app: static files from `PASTEBIN_WEB_DIR`, `index.html` for every other path
//! (history-mode routing), hashed assets cached for a year. The build writes a brotli and a
//! gzip copy beside each text file (`web/scripts/compress-dist.mjs`); the one the browser
//! accepts is sent as it is, so nothing is compressed per request.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::services::{ServeDir, ServeFile};

/// The policy of every page that is not raw text or GraphiQL: scripts and styles only from
/// this origin, no framing, no plugins.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self' data:; object-src 'none'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

pub fn service(dir: &Path) -> Router {
    let index = ServeFile::new(dir.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
}

async fn cache_headers(request: Request, next: Next) -> Response {
    let immutable = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let value = if immutable && response.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    // The body depends on Accept-Encoding (precompressed copies): caches must key on it.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}
