//! TLS to Postgres: `sslmode=require` reaches a server that presents a certificate signed by
//! `PASTEBIN_DB_CA_FILE`, and refuses one that does not.

use diesel_async::RunQueryDsl;

use crate::cluster::PgPair;
use crate::harness::{Deployment, TestApp, eventually, unique};

#[derive(diesel::QueryableByName)]
struct Ssl {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ssl: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_require_verifies_the_server_against_the_configured_ca() {
    let server = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let stranger = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let pair = PgPair::start_with_tls(server.cert.pem(), server.signing_key.serialize_pem()).await;
    let dir = std::env::temp_dir().join(unique("pastebin-ca-"));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, wrong_ca) = (dir.join("ca.pem"), dir.join("wrong.pem"));
    std::fs::write(&ca, server.cert.pem()).unwrap();
    std::fs::write(&wrong_ca, stranger.cert.pem()).unwrap();

    let url = format!("{}&sslmode=require", pair.primary_url());
    pastebin::migrate::run_with_tls(&url, pastebin::migrate::MAIN, Some(&ca))
        .await
        .expect("migrate over TLS");
    let mut conn = pastebin::services::db::connect(&url, Some(&ca))
        .await
        .unwrap();
    let ssl: Ssl = diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert!(ssl.ssl, "the session is encrypted");
    assert!(
        pastebin::services::db::connect(&url, Some(&wrong_ca))
            .await
            .is_err(),
        "a server the CA did not sign is refused"
    );

    let replica = format!("{}&sslmode=require", pair.replica_url());
    let deployment = Deployment::with_main_database(url, replica).await;
    let app = TestApp::instance(&deployment, |c| c.database.db_ca_file = Some(ca.clone())).await;
    let (id, _) = app.create_paste("over TLS").await;
    let fresh = TestApp::instance(&deployment, |c| c.database.db_ca_file = Some(ca.clone())).await;
    assert_eq!(fresh.read_paste(None, &id).await.unwrap(), "over TLS");
    std::fs::remove_dir_all(dir).ok();
}

/// A `redis-server` with TLS only, stopped (by its PID) when dropped.
struct TlsRedis {
    child: std::process::Child,
    port: u16,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_urls_reach_a_tls_redis_verified_against_the_configured_ca() {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let dir = TempDir(std::env::temp_dir().join(unique("pastebin-redis-tls-")));
    std::fs::create_dir_all(&dir.0).unwrap();
    let (crt, key) = (dir.0.join("redis.crt"), dir.0.join("redis.key"));
    std::fs::write(&crt, cert.cert.pem()).unwrap();
    std::fs::write(&key, cert.signing_key.serialize_pem()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--tls-auth-clients", "no", "--tls-cert-file"])
        .arg(&crt)
        .arg("--tls-key-file")
        .arg(&key)
        .arg("--tls-ca-cert-file")
        .arg(&crt)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server (installed by scripts/stack)");
    let redis = TlsRedis {
        child,
        port,
        _dir: dir,
    };
    let addr = format!("127.0.0.1:{}", redis.port);
    eventually(
        "the TLS redis-server accepts connections",
        std::time::Duration::from_secs(10),
        || async { tokio::net::TcpStream::connect(&addr).await.is_ok() },
    )
    .await;

    let url = format!("rediss://127.0.0.1:{}/", redis.port);
    let ca = crt.clone();
    let a = TestApp::spawn_with(|c| {
        c.cache.redis_url = url.clone();
        c.cache.redis_ca_file = Some(ca.clone());
    })
    .await;
    assert!(
        a.app.stores().cache.local_trusted(),
        "the pub/sub listener subscribed over TLS"
    );
    let (id, _) = a.create_paste("through TLS redis").await;
    assert!(
        a.app.stores().cache.get(&id).await.is_some(),
        "cached in the TLS Redis"
    );
    eventually(
        "readyz says the TLS Redis is up",
        std::time::Duration::from_secs(10),
        || async { a.readyz().await["redis"] == "up" },
    )
    .await;
    drop(crt);
}
