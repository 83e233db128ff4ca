//! A store that stops answering must not hold the service: failures are injected on private
//! servers only.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::AsyncReadExt;

use crate::harness::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_accepts_and_never_answers_does_not_keep_a_pool_slot() {
    // Accepts, reads, never answers; counts the connections the client gave up on.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let abandoned = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&abandoned);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
                count.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    let mut config =
        pastebin::config::Config::for_database(format!("postgres://pastebin@{addr}/pastebin"));
    config.database.db_connect_timeout_ms = 500;
    config.database.db_pool_size = 2;
    let app = pastebin::App::build(config).await.unwrap();
    let db = &app.stores().db;
    eventually(
        "the unanswered handshakes are given up",
        Duration::from_secs(15),
        || async {
            let write = db
                .write(async |c| {
                    use diesel_async::SimpleAsyncConnection;
                    c.batch_execute("SELECT 1").await
                })
                .await;
            assert!(write.is_err(), "nothing answers");
            abandoned.load(Ordering::SeqCst) >= 2
        },
    )
    .await;
    app.shutdown().cancel();
}
