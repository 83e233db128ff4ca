//! TLS to Postgres: `sslmode=require` reaches a server that presents a certificate signed by
//! `PASTEBIN_DB_CA_FILE`, and refuses one that does not.

use diesel_async::RunQueryDsl;

use crate::cluster::PgPair;
use crate::harness::{Deployment, TestApp, unique};

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
    let mut conn = pastebin::db::connect(&url, Some(&ca)).await.unwrap();
    let ssl: Ssl = diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert!(ssl.ssl, "the session is encrypted");
    assert!(
        pastebin::db::connect(&url, Some(&wrong_ca)).await.is_err(),
        "a server the CA did not sign is refused"
    );

    let replica = format!("{}&sslmode=require", pair.replica_url());
    let deployment = Deployment::with_main_database(url, replica).await;
    let app = TestApp::instance(&deployment, |c| c.db_ca_file = Some(ca.clone())).await;
    let (id, _) = app.create_paste("over TLS").await;
    let fresh = TestApp::instance(&deployment, |c| c.db_ca_file = Some(ca.clone())).await;
    assert_eq!(fresh.read_paste(None, &id).await.unwrap(), "over TLS");
    std::fs::remove_dir_all(dir).ok();
}
