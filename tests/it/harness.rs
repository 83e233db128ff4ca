//! `TestApp`: the real router on 127.0.0.1:0 against the real local stack (`scripts/stack`),
//! with its own main and analytics databases (cloned from migrated templates), its own Redis
//! key prefix and its own S3 key prefix. Helpers read like a user's actions.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use pastebin::App;
use pastebin::config::Config;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

/// A stack variable; the suite cannot run without the stack.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with `make test` (it starts scripts/stack and exports its env)")
    })
}

/// `postgres://u:p@hosts/OLD?params` → `postgres://u:p@hosts/NEW?params`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        pastebin::ids::random_base62(10).to_lowercase()
    )
}

/// Hash of the migration files: a template is rebuilt whenever they change.
fn migrations_hash(dir: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut entries: Vec<_> = walk(&root);
    entries.sort();
    let mut h = Sha256::new();
    for path in entries {
        h.update(path.to_string_lossy().as_bytes());
        h.update(std::fs::read(&path).expect("migration file"));
    }
    hex::encode(&h.finalize()[..6])
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("migrations dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Creates (once per migration set, across test processes) a migrated template database on the
/// server of `admin_url`, then a fresh database cloned from it.
async fn fresh_database(
    admin_url: &str,
    kind: &str,
    migrations: diesel_migrations::EmbeddedMigrations,
) -> String {
    let template = format!(
        "tpl_{kind}_{}",
        migrations_hash(if kind == "main" {
            "migrations"
        } else {
            "migrations-analytics"
        })
    );
    let mut admin = AsyncPgConnection::establish(&with_database(admin_url, "postgres"))
        .await
        .expect("admin connection");
    // One process builds the template; the others wait for it.
    admin
        .batch_execute("SELECT pg_advisory_lock(7477)")
        .await
        .unwrap();
    let exists: bool = {
        use diesel_async::RunQueryDsl;
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{template}')"
        )))
        .get_result(&mut admin)
        .await
        .unwrap()
    };
    if !exists {
        // Built under another name and renamed when complete: a run that dies half-way
        // leaves no half-migrated template behind.
        let building = format!("{template}_building");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .await
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {building}"))
            .await
            .unwrap();
        pastebin::migrate::run(&with_database(admin_url, &building), migrations)
            .await
            .expect("migrate template");
        admin
            .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}"))
            .await
            .unwrap();
    }
    drop_stale_test_databases(&mut admin).await;
    let name = format!("t_{kind}_{}_{}", chrono::Utc::now().timestamp(), unique(""));
    admin
        .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .await
        .unwrap();
    admin
        .batch_execute("SELECT pg_advisory_unlock(7477)")
        .await
        .unwrap();
    name
}

/// Test databases of earlier runs (older than an hour): each test leaves its databases for
/// inspection; the next runs drop them.
async fn drop_stale_test_databases(admin: &mut AsyncPgConnection) {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Db {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let dbs: Vec<Db> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 't\\_%' ORDER BY split_part(datname, '_', 3) LIMIT 20")
            .load(admin)
            .await
            .unwrap_or_default();
    let cutoff = chrono::Utc::now().timestamp() - 3600;
    for db in dbs {
        let ts = db
            .datname
            .split('_')
            .nth(2)
            .and_then(|t| t.parse::<i64>().ok());
        if ts.is_some_and(|t| t < cutoff) {
            let _ = admin
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    db.datname
                ))
                .await;
        }
    }
}

/// What several `TestApp`s share when they play instances of one deployment.
#[derive(Clone)]
pub struct Deployment {
    /// Main database URLs when not on the stack's servers (failure tests bring their own).
    pub urls: Option<(String, String)>,
    pub main_db: String,
    pub analytics_db: String,
    pub redis_prefix: String,
    pub s3_prefix: String,
    pub jwt_secret: String,
}

impl Deployment {
    pub async fn new() -> Self {
        let primary = env("PASTEBIN_DATABASE_URL");
        let analytics = env("PASTEBIN_ANALYTICS_DATABASE_URL");
        let (main_db, analytics_db) = tokio::join!(
            fresh_database(&primary, "main", pastebin::migrate::MAIN),
            fresh_database(&analytics, "analytics", pastebin::migrate::ANALYTICS),
        );
        Self {
            urls: None,
            main_db,
            analytics_db,
            redis_prefix: unique("test:") + ":",
            s3_prefix: unique("test-") + "/",
            jwt_secret: unique("secret-").repeat(3),
        }
    }

    /// A deployment whose main database is on other servers (already migrated).
    pub async fn with_main_database(primary_url: String, replica_url: String) -> Self {
        let analytics = env("PASTEBIN_ANALYTICS_DATABASE_URL");
        let analytics_db =
            fresh_database(&analytics, "analytics", pastebin::migrate::ANALYTICS).await;
        Self {
            urls: Some((primary_url, replica_url)),
            main_db: String::new(),
            analytics_db,
            redis_prefix: unique("test:") + ":",
            s3_prefix: unique("test-") + "/",
            jwt_secret: unique("secret-").repeat(3),
        }
    }

    /// The config of one instance of this deployment: every store of the stack.
    pub fn config(&self) -> Config {
        let (primary, replica) = match &self.urls {
            Some((p, r)) => (p.clone(), r.clone()),
            None => (
                with_database(&env("PASTEBIN_DATABASE_URL"), &self.main_db),
                with_database(&env("PASTEBIN_REPLICA_DATABASE_URL"), &self.main_db),
            ),
        };
        let mut c = Config::for_database(primary);
        c.server.addr = "127.0.0.1:0".parse().unwrap();
        c.database.replica_database_url = replica;
        c.database.analytics_database_url =
            with_database(&env("PASTEBIN_ANALYTICS_DATABASE_URL"), &self.analytics_db);
        c.cache.redis_url = env("PASTEBIN_REDIS_URL");
        c.cache.redis_prefix = self.redis_prefix.clone();
        c.object_store.s3_endpoint = env("PASTEBIN_S3_ENDPOINT");
        c.object_store.s3_bucket = env("PASTEBIN_S3_BUCKET");
        c.object_store.s3_region = env("PASTEBIN_S3_REGION");
        c.object_store.s3_access_key = env("PASTEBIN_S3_ACCESS_KEY");
        c.object_store.s3_secret_key = env("PASTEBIN_S3_SECRET_KEY");
        c.object_store.s3_prefix = self.s3_prefix.clone();
        c.auth.jwt_secret = self.jwt_secret.clone();
        c.database.db_pool_size = 4;
        c.server.log = "warn".into();
        c
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    pub deployment: Deployment,
    pub http: reqwest::Client,
    stop: CancellationToken,
    server: Option<tokio::task::JoinHandle<()>>,
}

static LOGS: OnceCell<()> = OnceCell::const_new();

impl TestApp {
    /// A fresh deployment with every default.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A fresh deployment with a modified config.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> Self {
        Self::instance(&Deployment::new().await, tweak).await
    }

    /// Another instance of the same deployment (same databases, Redis prefix and bucket prefix).
    pub async fn instance(deployment: &Deployment, tweak: impl FnOnce(&mut Config)) -> Self {
        LOGS.get_or_init(|| async {
            pastebin::telemetry::init_logging(
                &std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into()),
                pastebin::config::LogFormat::Text,
            );
            pastebin::telemetry::metrics();
        })
        .await;
        let mut config = deployment.config();
        tweak(&mut config);
        let app = App::build(config).await.expect("app builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let shutdown = stop.clone();
        let server = tokio::spawn({
            let app = Arc::clone(&app);
            async move {
                pastebin::http::serve(listener, app, async move { shutdown.cancelled().await })
                    .await
                    .unwrap();
            }
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let me = Self {
            addr,
            app,
            deployment: deployment.clone(),
            http,
            stop,
            server: Some(server),
        };
        me.wait_until_subscribed().await;
        me
    }

    /// Tests start once the caches are in use: the pub/sub listener subscribed and the pending
    /// invalidations read. An instance whose stores are down (tests of an outage) never gets
    /// there: it is given up on after a while, without failing.
    async fn wait_until_subscribed(&self) {
        let url = &self.app.config().cache.redis_url;
        if !url.is_empty()
            && tokio::net::TcpStream::connect(crate::cluster::socket_of(url))
                .await
                .is_err()
        {
            return;
        }
        let cache = &self.app.stores().cache;
        wait_for(Duration::from_secs(10), || async { cache.serving() }).await;
    }

    /// Waits until this instance has no request and no write in progress but the scrape
    /// asking (writes continue after their client leaves).
    pub async fn wait_until_idle(&self) {
        eventually(
            "requests and writes finish",
            Duration::from_secs(30),
            || async {
                let page = self.metrics().await;
                metric(&page, "pastebin_http_requests_in_flight") <= 1.0
                    && metric(&page, "pastebin_writes_in_flight") == 0.0
            },
        )
        .await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a GraphQL operation; returns the whole JSON response.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_as(None, query, variables).await
    }

    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
            .await
            .expect("graphql request")
            .json()
            .await
            .expect("graphql JSON")
    }

    /// Creates a paste through GraphQL; returns `(id, deleteToken)`.
    pub async fn create_paste(&self, content: &str) -> (String, Option<String>) {
        self.create_paste_with(None, json!({ "content": content }))
            .await
    }

    pub async fn create_paste_with(
        &self,
        token: Option<&str>,
        input: Value,
    ) -> (String, Option<String>) {
        let r = self
            .gql_as(
                token,
                "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id } deleteToken } }",
                json!({ "i": input }),
            )
            .await;
        assert!(r["errors"].is_null(), "createPaste failed: {r}");
        let p = &r["data"]["createPaste"];
        (
            p["paste"]["id"].as_str().unwrap().to_owned(),
            p["deleteToken"].as_str().map(str::to_owned),
        )
    }

    /// Reads a paste's content through GraphQL; `Err(code)` on error.
    pub async fn read_paste(&self, token: Option<&str>, id: &str) -> Result<String, String> {
        let r = self
            .gql_as(
                token,
                "query($id: ID!) { paste(id: $id) { content } }",
                json!({ "id": id }),
            )
            .await;
        match r["errors"][0]["extensions"]["code"].as_str() {
            Some(code) => Err(code.to_owned()),
            None => Ok(r["data"]["paste"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned()),
        }
    }

    /// POSTs a JSON body to `/graphql` as it is (batches, persisted-query hashes, …).
    pub async fn post_graphql(&self, body: &Value) -> Value {
        self.http
            .post(self.url("/graphql"))
            .json(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `/readyz` as JSON.
    pub async fn readyz(&self) -> Value {
        self.http
            .get(self.url("/readyz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A readiness probe (`/readyz` or `/readyz/write`): its HTTP status and JSON body.
    pub async fn probe(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    /// `/metrics` as text.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Subscribes to a paste's live view count.
    pub async fn watch_views(&self, token: Option<&str>, id: &str) -> Subscription {
        self.subscribe(
            token,
            "subscription($id: ID!) { pasteViews(id: $id) }",
            json!({ "id": id }),
        )
        .await
    }

    pub async fn raw(&self, id: &str) -> reqwest::Response {
        self.http
            .get(self.url(&format!("/raw/{id}")))
            .send()
            .await
            .unwrap()
    }

    /// Registers an account; returns its token.
    pub async fn register(&self, username: &str, password: &str) -> String {
        let r = self
            .gql(
                "mutation($u: String!, $p: String!) { register(username: $u, password: $p) { token } }",
                json!({ "u": username, "p": password }),
            )
            .await;
        r["data"]["register"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("register failed: {r}"))
            .to_owned()
    }

    /// Runs SQL on this deployment's primary database (to set up states a user cannot).
    pub async fn sql(&self, sql: &str) {
        self.primary().await.batch_execute(sql).await.unwrap();
    }

    /// A connection of its own to this deployment's primary database.
    pub async fn primary(&self) -> AsyncPgConnection {
        let url = pastebin::services::db::primary_url(self.app.config());
        AsyncPgConnection::establish(&url).await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
        self.app.shutdown().cancel();
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Asks `check` every 20 ms until it holds (`true`) or `within` passes (`false`). The one
/// place tests poll: they wait for conditions like this, never for a fixed time.
pub async fn wait_for<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `check` holds; panics naming `what` when `within` passes first.
pub async fn eventually<F, Fut>(what: &str, within: Duration, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    assert!(
        wait_for(within, check).await,
        "{what}: not within {within:?}"
    );
}

/// The value of one series of a Prometheus text page (0 when absent).
pub fn metric(page: &str, series: &str) -> f64 {
    page.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The `extensions.code` of the first error of a GraphQL response.
pub fn error_code(r: &Value) -> Option<&str> {
    r["errors"][0]["extensions"]["code"].as_str()
}

/// A GraphQL subscription over WebSocket (`graphql-transport-ws`, or the legacy `graphql-ws`).
pub struct Subscription {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    legacy: bool,
}

/// What a subscription delivered next.
#[derive(Debug, PartialEq)]
pub enum Delivery {
    Data(Value),
    /// The server reported an error for the operation (its `extensions.code`, if any).
    Error(Option<String>),
    Complete,
}

impl TestApp {
    pub async fn subscribe(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Subscription {
        self.subscribe_with("graphql-transport-ws", token, query, variables)
            .await
    }

    pub async fn subscribe_with(
        &self,
        protocol: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Subscription {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://{}/graphql/ws", self.addr)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocol.parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket connects");
        let legacy = protocol == "graphql-ws";
        let payload = match token {
            Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
            None => json!({}),
        };
        ws.send(Message::text(
            json!({ "type": "connection_init", "payload": payload }).to_string(),
        ))
        .await
        .unwrap();
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
                .await
                .expect("ack in time");
            let text = match msg {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(_)) => continue,
                other => panic!("no connection_ack: {other:?}"),
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            match v["type"].as_str() {
                Some("connection_ack") => break,
                Some("ka") => continue,
                _ => panic!("unexpected before ack: {v}"),
            }
        }
        let start = if legacy { "start" } else { "subscribe" };
        ws.send(Message::text(
            json!({ "id": "1", "type": start, "payload": { "query": query, "variables": variables } }).to_string(),
        ))
        .await
        .unwrap();
        Subscription { ws, legacy }
    }
}

impl Subscription {
    /// The next delivery, or `None` after `wait` without one.
    pub async fn next(&mut self, wait: Duration) -> Option<Delivery> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()?;
            let text = match msg {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    return Some(Delivery::Complete);
                }
                Some(Ok(_)) => continue,
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            match v["type"].as_str() {
                Some("next") | Some("data") => {
                    if let Some(errors) = v["payload"]["errors"].as_array() {
                        return Some(Delivery::Error(
                            errors[0]["extensions"]["code"].as_str().map(str::to_owned),
                        ));
                    }
                    return Some(Delivery::Data(v["payload"]["data"].clone()));
                }
                Some("error") => {
                    let first = if self.legacy {
                        &v["payload"]
                    } else {
                        &v["payload"][0]
                    };
                    return Some(Delivery::Error(
                        first["extensions"]["code"].as_str().map(str::to_owned),
                    ));
                }
                Some("complete") => return Some(Delivery::Complete),
                _ => continue,
            }
        }
    }

    /// The next view count delivered (skipping nothing).
    pub async fn next_count(&mut self, wait: Duration) -> Option<i64> {
        match self.next(wait).await? {
            Delivery::Data(d) => d["pasteViews"].as_i64(),
            other => panic!("expected a count, got {other:?}"),
        }
    }
}
