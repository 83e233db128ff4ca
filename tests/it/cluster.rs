//! Throw-away infrastructure for failure tests: a Postgres primary with a synchronous streaming
//! standby of its own (so killing and promoting servers does not disturb other tests), and a
//! TCP proxy that can cut a store off (Redis, S3) and let it back.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::harness::{env, unique};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

/// Runs a Postgres tool, as the `postgres` user when we are root (Postgres refuses root).
fn pg(bin: &Path, tool: &str, args: &[&str]) -> std::process::Output {
    let exe = bin.join(tool);
    if is_root() {
        Command::new("runuser")
            .arg("-u")
            .arg("postgres")
            .arg("--")
            .arg(&exe)
            .args(args)
            .output()
    } else {
        Command::new(&exe).args(args).output()
    }
    .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

fn must(out: std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two Postgres servers: node 0 starts as the primary, node 1 as its synchronous standby.
pub struct PgPair {
    bin: PathBuf,
    dir: PathBuf,
    pub ports: [u16; 2],
    tls: bool,
}

impl PgPair {
    pub async fn start() -> Self {
        tokio::task::spawn_blocking(|| Self::start_blocking(None))
            .await
            .unwrap()
    }

    /// A pair whose servers accept TLS with this certificate and key (PEM).
    pub async fn start_with_tls(cert: String, key: String) -> Self {
        tokio::task::spawn_blocking(move || Self::start_blocking(Some((cert, key))))
            .await
            .unwrap()
    }

    fn start_blocking(tls: Option<(String, String)>) -> Self {
        let bin = PathBuf::from(env("PASTEBIN_PG_BIN"));
        // Somewhere the postgres user can reach (a mode-700 checkout may not be).
        let dir = std::env::temp_dir().join(unique("pastebin-pair-"));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            must(
                Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(&dir)
                    .output()
                    .unwrap(),
                "chown",
            );
        }
        let pair = Self {
            bin,
            dir,
            ports: [free_port(), free_port()],
            tls: tls.is_some(),
        };
        if let Some((cert, key)) = &tls {
            let key_path = pair.dir.join("server.key");
            pair.write_as_postgres(&pair.dir.join("server.crt"), cert);
            pair.write_as_postgres(&key_path, key);
            let private = std::os::unix::fs::PermissionsExt::from_mode(0o600);
            std::fs::set_permissions(key_path, private).unwrap();
        }
        let a = pair.data(0);
        must(
            pg(
                &pair.bin,
                "initdb",
                &[
                    "-D",
                    a.to_str().unwrap(),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
            ),
            "initdb",
        );
        std::fs::write(a.join("postgresql.auto.conf"), pair.conf(0)).unwrap();
        std::fs::write(
            a.join("pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        pair.start_node(0);
        pair.psql(
            0,
            "CREATE ROLE pastebin LOGIN SUPERUSER PASSWORD 'pastebin'",
        );
        pair.psql(0, "CREATE DATABASE pastebin OWNER pastebin");
        let b = pair.data(1);
        let port = pair.ports[0].to_string();
        must(
            pg(
                &pair.bin,
                "pg_basebackup",
                &[
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-U",
                    "postgres",
                    "-D",
                    b.to_str().unwrap(),
                    "-C",
                    "-S",
                    "node1",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                ],
            ),
            "pg_basebackup",
        );
        pair.make_standby(1, 0);
        pair.start_node(1);
        pair.wait_streaming(0);
        // Synchronous from now on (before, the set-up commits had no standby to wait for).
        pair.sync(0, true);
        pair
    }

    fn data(&self, node: usize) -> PathBuf {
        self.dir.join(format!("node{node}"))
    }

    fn conf(&self, node: usize) -> String {
        let tls = if self.tls {
            format!(
                "ssl = on\nssl_cert_file = '{0}/server.crt'\nssl_key_file = '{0}/server.key'\n",
                self.dir.display()
            )
        } else {
            String::new()
        };
        tls + &format!(
            "port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nwal_level = replica\n\
             wal_log_hints = on\nmax_wal_senders = 10\nmax_replication_slots = 10\nhot_standby = on\n\
             synchronous_commit = remote_apply\nfsync = off\n\
             shared_buffers = 32MB\nmax_connections = 100\nwal_receiver_status_interval = 1s\n",
            self.ports[node],
            self.dir.display()
        )
    }

    /// Makes `node` a standby of `primary` (its config is rewritten).
    fn make_standby(&self, node: usize, primary: usize) {
        let d = self.data(node);
        let conf = format!(
            "{}primary_conninfo = 'host=127.0.0.1 port={} user=postgres application_name=node{node}'\nprimary_slot_name = 'node{node}'\n",
            self.conf(node),
            self.ports[primary]
        );
        self.write_as_postgres(&d.join("postgresql.auto.conf"), &conf);
        self.write_as_postgres(&d.join("standby.signal"), "");
    }

    fn write_as_postgres(&self, path: &Path, content: &str) {
        std::fs::write(path, content).unwrap();
        if is_root() {
            must(
                Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(path)
                    .output()
                    .unwrap(),
                "chown",
            );
        }
    }

    pub fn start_node(&self, node: usize) {
        let d = self.data(node);
        let log = self.dir.join(format!("node{node}.log"));
        must(
            pg(
                &self.bin,
                "pg_ctl",
                &[
                    "-D",
                    d.to_str().unwrap(),
                    "-l",
                    log.to_str().unwrap(),
                    "-w",
                    "-t",
                    "30",
                    "start",
                ],
            ),
            "pg_ctl start",
        );
    }

    /// Like a crash: no shutdown checkpoint, connections cut.
    pub fn kill(&self, node: usize) {
        let d = self.data(node);
        must(
            pg(
                &self.bin,
                "pg_ctl",
                &["-D", d.to_str().unwrap(), "-m", "immediate", "-w", "stop"],
            ),
            "pg_ctl stop",
        );
    }

    /// Promotes a standby and relaxes synchronous replication on it (it has no standby now):
    /// the "preferred" durability policy, as `scripts/stack failover` does.
    pub fn promote(&self, node: usize) {
        let d = self.data(node);
        must(
            pg(
                &self.bin,
                "pg_ctl",
                &["-D", d.to_str().unwrap(), "-w", "-t", "30", "promote"],
            ),
            "pg_ctl promote",
        );
        self.sync(node, false);
    }

    /// Turns synchronous replication on or off on the primary `node`.
    pub fn sync(&self, node: usize, on: bool) {
        let names = if on { "*" } else { "" };
        self.psql(
            node,
            &format!("ALTER SYSTEM SET synchronous_standby_names = '{names}'"),
        );
        self.psql(node, "SELECT pg_reload_conf()");
    }

    pub fn psql(&self, node: usize, sql: &str) -> String {
        self.psql_db(node, "postgres", sql)
    }

    pub fn psql_db(&self, node: usize, db: &str, sql: &str) -> String {
        let port = self.ports[node].to_string();
        let out = pg(
            &self.bin,
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                db,
                "-Atqc",
                sql,
            ],
        );
        must(out.clone(), sql);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn wait_streaming(&self, primary: usize) {
        for _ in 0..100 {
            if self.psql(
                primary,
                "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
            ) == "1"
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the standby did not start streaming");
    }

    /// The primary URL as deployments write it: both hosts, the writable one is used.
    pub fn primary_url(&self) -> String {
        format!(
            "postgres://pastebin:pastebin@127.0.0.1:{},127.0.0.1:{}/pastebin?target_session_attrs=read-write",
            self.ports[0], self.ports[1]
        )
    }

    /// The replica URL: whichever host is a standby.
    pub fn replica_url(&self) -> String {
        format!(
            "postgres://pastebin:pastebin@127.0.0.1:{},127.0.0.1:{}/pastebin?target_session_attrs=read-only",
            self.ports[1], self.ports[0]
        )
    }

    /// Applies the migrations to the pair's `pastebin` database.
    pub async fn migrate(&self) {
        pastebin::migrate::run(&self.primary_url(), pastebin::migrate::MAIN)
            .await
            .expect("migrations");
    }
}

impl Drop for PgPair {
    fn drop(&mut self) {
        for node in 0..2 {
            let d = self.data(node);
            let _ = pg(
                &self.bin,
                "pg_ctl",
                &["-D", d.to_str().unwrap(), "-m", "immediate", "stop"],
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A `redis-server` of a test's own (failure tests stall or cut it through a [`ChaosProxy`]
/// instead of touching the shared one), stopped by its PID when dropped.
pub struct PrivateRedis {
    child: std::process::Child,
    pub addr: SocketAddr,
}

impl PrivateRedis {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (installed by scripts/stack)");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        crate::harness::eventually(
            "the private redis-server accepts connections",
            Duration::from_secs(10),
            || async { TcpStream::connect(addr).await.is_ok() },
        )
        .await;
        Self { child, addr }
    }

    /// Its `redis://` URL, for an instance's configuration.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// A client of its own, to look at what the instances did.
    pub fn client(&self) -> ::redis::Client {
        ::redis::Client::open(self.url()).unwrap()
    }

    /// A connection of its own, to look at what the instances did.
    pub async fn connect(&self) -> ::redis::aio::MultiplexedConnection {
        self.client()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a [`ChaosProxy`] does with traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Forward everything.
    Pass,
    /// Existing connections dropped, new ones refused: the store died.
    Cut,
    /// Connections (existing and new) accepted and kept open, nothing forwarded either way
    /// until [`ChaosProxy::restore`]: a store that stopped answering (a stall, or across a
    /// region cut, where connections are accepted and never answered).
    Stall,
}

/// A TCP proxy to a store that can be cut, stalled and restored: the store "dies", "hangs" or
/// "comes back" without touching the real server (which other tests share).
pub struct ChaosProxy {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    stopped: Arc<AtomicBool>,
}

impl ChaosProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, _) = watch::channel(Mode::Pass);
        let stopped = Arc::new(AtomicBool::new(false));
        let rx = mode.subscribe();
        let stop = Arc::clone(&stopped);
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept().await else {
                    break;
                };
                if *rx.borrow() == Mode::Cut {
                    drop(client);
                    continue;
                }
                tokio::spawn(Self::serve(client, target, rx.clone()));
            }
        });
        Self {
            addr,
            mode,
            stopped,
        }
    }

    async fn serve(client: TcpStream, target: SocketAddr, mut rx: watch::Receiver<Mode>) {
        // A stalled proxy does not even connect upstream until it is restored.
        if rx.wait_for(|m| *m == Mode::Pass).await.is_err() {
            return;
        }
        let Ok(server) = TcpStream::connect(target).await else {
            return;
        };
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        tokio::select! {
            () = pump(client_read, server_write, rx.clone()) => {}
            () = pump(server_read, client_write, rx.clone()) => {}
            _ = rx.wait_for(|m| *m == Mode::Cut) => {}
        }
    }

    /// The store dies: connections dropped, new ones refused.
    pub fn cut(&self) {
        self.mode.send_replace(Mode::Cut);
    }

    /// The store stops answering: connections stay open, nothing gets through.
    pub fn stall(&self) {
        self.mode.send_replace(Mode::Stall);
    }

    /// Connections are accepted and never answered (a region cut): the same as a stall.
    pub fn hold(&self) {
        self.stall();
    }

    pub fn restore(&self) {
        self.mode.send_replace(Mode::Pass);
    }
}

/// Copies one direction, holding what it read while the proxy is stalled.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut rx: watch::Receiver<Mode>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        match rx.wait_for(|m| *m != Mode::Stall).await {
            Ok(m) if *m == Mode::Pass => {}
            _ => return,
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Relaxed);
        self.mode.send_replace(Mode::Cut);
    }
}

/// `host:port` of a URL like `redis://127.0.0.1:6379/` or `http://127.0.0.1:8333`.
pub fn socket_of(url: &str) -> SocketAddr {
    let rest = url.split("://").nth(1).unwrap();
    let hostport = rest.split('/').next().unwrap();
    hostport.parse().unwrap()
}

/// The proxy itself: a stall holds bytes (both ways, new connections too) and loses none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chaos_proxy_stalls_holds_and_resumes_without_losing_bytes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = echo.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = echo.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    let proxy = ChaosProxy::start(target).await;
    let mut a = TcpStream::connect(proxy.addr).await.unwrap();
    let mut buf = [0u8; 1];
    a.write_all(b"1").await.unwrap();
    a.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"1");

    proxy.stall();
    a.write_all(b"2").await.unwrap();
    // Accepted, never answered.
    let mut b = TcpStream::connect(proxy.addr).await.unwrap();
    b.write_all(b"3").await.unwrap();
    let quiet = tokio::time::timeout(Duration::from_millis(300), a.read_exact(&mut buf)).await;
    assert!(quiet.is_err(), "nothing gets through a stall");

    proxy.restore();
    a.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"2", "held, not lost");
    b.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"3");

    proxy.hold();
    let mut c = TcpStream::connect(proxy.addr).await.unwrap();
    c.write_all(b"4").await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), c.read_exact(&mut buf))
            .await
            .is_err()
    );
    proxy.cut();
    let mut gone = [0u8; 1];
    assert!(
        matches!(a.read(&mut gone).await, Ok(0) | Err(_)),
        "a cut drops connections"
    );
}
