//! The `pastebin` binary as a process: for what only `main` wires up (listeners, refusing to
//! start) and for environments the test process must not take on (AWS variables).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use crate::harness::{Deployment, eventually, unique};

pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The environment of one instance of `deployment`, and nothing else (no AWS variables of the
/// machine's, no S3 settings: a test adds what it means).
pub fn base_env(deployment: &Deployment) -> Vec<(String, String)> {
    let c = deployment.config();
    [
        ("PASTEBIN_DATABASE_URL", c.database.database_url),
        (
            "PASTEBIN_REPLICA_DATABASE_URL",
            c.database.replica_database_url,
        ),
        (
            "PASTEBIN_ANALYTICS_DATABASE_URL",
            c.database.analytics_database_url,
        ),
        ("PASTEBIN_REDIS_URL", c.cache.redis_url),
        ("PASTEBIN_REDIS_PREFIX", c.cache.redis_prefix),
        ("PASTEBIN_JWT_SECRET", c.auth.jwt_secret),
        ("PASTEBIN_DB_POOL_SIZE", "4".into()),
        ("PASTEBIN_LOG", "warn".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A running `pastebin` process, killed when dropped.
pub struct Process {
    child: tokio::process::Child,
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Process {
    /// Starts `pastebin <args>` with exactly `vars` (plus `PASTEBIN_ADDR`), its output in a file.
    pub fn spawn(args: &[&str], vars: &[(String, String)]) -> Self {
        let addr = free_addr();
        let log = std::env::temp_dir().join(unique("pastebin-process-") + ".log");
        let out = std::fs::File::create(&log).unwrap();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pastebin"))
            .args(args)
            .env_clear()
            .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("PASTEBIN_ADDR", addr.to_string())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .expect("the pastebin binary starts");
        Self { child, addr, log }
    }

    /// The process id (for reading `/proc/{pid}`).
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the process is running")
    }

    /// What the process wrote so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `url` answers (any status), or panics with the output.
    pub async fn wait_answering(&mut self, url: &str, within: Duration) {
        let http = reqwest::Client::new();
        let mut exited = None;
        let answered = crate::harness::wait_for(within, || {
            exited = exited.or(self.child.try_wait().ok().flatten());
            let (http, done) = (&http, exited.is_some());
            async move { done || http.get(url).send().await.is_ok() }
        })
        .await;
        if let Some(status) = exited {
            panic!("pastebin exited ({status}):\n{}", self.output());
        }
        assert!(
            answered,
            "{url} did not answer within {within:?}:\n{}",
            self.output()
        );
    }

    /// Waits until the public listener answers `/healthz`.
    pub async fn wait_serving(&mut self) {
        let url = format!("http://{}/healthz", self.addr);
        self.wait_answering(&url, Duration::from_secs(15)).await;
    }

    /// Waits for the process to exit by itself (within `within`); its status and output.
    pub async fn exit(mut self, within: Duration) -> (std::process::ExitStatus, String) {
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("still running after {within:?}:\n{}", self.output()))
            .unwrap();
        (status, self.output())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Waits until `url` answers `status`.
pub async fn eventually_status(http: &reqwest::Client, url: &str, status: u16, within: Duration) {
    eventually(&format!("{url} answers {status}"), within, || async {
        http.get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().as_u16() == status)
    })
    .await;
}
