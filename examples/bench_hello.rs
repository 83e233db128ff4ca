//! The machine's ceiling for `make bench`: a bare axum handler answering `GET /` with a fixed
//! 1 KiB text body (the size of the raw-read benchmark's paste), on the same axum, hyper and
//! tokio (multi-thread runtime, one worker per core) as the service.
//!
//! Usage: `bench_hello [ADDR]` (or `BENCH_HELLO_ADDR`; default `127.0.0.1:0`). Prints
//! `listening on <addr>` once bound, then serves until killed.

use std::net::SocketAddr;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

/// Same length as the paste the raw and GraphQL read scenarios serve.
const BODY_LEN: usize = 1024;

static BODY: [u8; BODY_LEN] = {
    let mut body = [b'x'; BODY_LEN];
    body[BODY_LEN - 1] = b'\n';
    body
};

async fn hello() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        &BODY[..],
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("BENCH_HELLO_ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:0".to_owned())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let app = Router::new().route("/", get(hello));
    axum::serve(listener, app).await
}
