//! The `pb` command-line client (crates/pb), run as a built binary against a real instance:
//! paste from standard input and from files, get, rm, ls, login, watch, encryption, errors
//! with the server's code, `--help` everywhere.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::harness::TestApp;
use crate::tokens::make_token;

/// The `pb` binary of this build (`cargo nextest run --workspace` builds it beside the test
/// binary); built here when missing (a run of this package alone).
fn pb_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().unwrap();
            let dir = exe.parent().unwrap().parent().unwrap();
            let pb = dir.join("pb");
            if !pb.exists() {
                let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
                let status = std::process::Command::new(cargo)
                    .args(["build", "--locked", "-p", "pb"])
                    .current_dir(env!("CARGO_MANIFEST_DIR"))
                    .status()
                    .expect("cargo runs");
                assert!(status.success(), "building pb failed");
            }
            pb
        })
        .clone()
}

/// `pb` with its own config file, pointed at one instance.
struct Pb {
    dir: PathBuf,
    url: String,
}

impl Pb {
    fn new(app: &TestApp) -> Self {
        let dir = std::env::temp_dir().join(crate::harness::unique("pb-test-"));
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            dir,
            url: app.url(""),
        }
    }

    fn config(&self) -> PathBuf {
        self.dir.join("conf").join("config.toml")
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(pb_binary());
        c.args(args)
            .env("PASTEBIN_URL", &self.url)
            .env("PB_CONFIG", self.config())
            .env_remove("PASTEBIN_TOKEN")
            .env_remove("PB_PASSWORD")
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        c
    }

    async fn run(&self, args: &[&str]) -> Output {
        tokio::time::timeout(Duration::from_secs(60), self.command(args).output())
            .await
            .expect("pb finishes")
            .unwrap()
    }

    async fn run_with_input(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).await.unwrap();
        drop(stdin);
        tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("pb finishes")
            .unwrap()
    }

    fn file(&self, name: &str, text: &str) -> String {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "pb failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn refused(out: &Output, code: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(code), "want {code}: {stderr}");
}

fn id_of(url: &str) -> String {
    url.trim()
        .rsplit('/')
        .next()
        .unwrap()
        .split('#')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pb_pastes_gets_lists_and_removes_as_a_user_would() {
    let app = TestApp::spawn().await;
    let pb = Pb::new(&app);

    // Anonymous, from standard input: the URL on stdout, the delete token on stderr.
    let out = pb
        .run_with_input(&["paste", "--title", "hello"], "hello from stdin\n")
        .await;
    let url = ok(&out);
    // (The link names the configured public URL; pb talks to PASTEBIN_URL.)
    assert!(url.starts_with("http") && url.contains("/p/"), "{url}");
    let delete_token = String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| {
            l.strip_prefix("delete token (shown once): ")
                .map(str::to_owned)
        })
        .expect("a delete token");
    assert_eq!(
        ok(&pb.run(&["get", url.trim()]).await),
        "hello from stdin\n"
    );
    refused(&pb.run(&["rm", url.trim()]).await, "FORBIDDEN");
    ok(&pb
        .run(&["rm", url.trim(), "--delete-token", &delete_token])
        .await);
    refused(&pb.run(&["get", url.trim()]).await, "NOT_FOUND");

    // Login takes a personal access token (from standard input) and keeps it with mode 0600.
    let session = app.register("pbuser", "correct horse battery").await;
    let (token, _) = make_token(&app, &session, "laptop", &["READ", "WRITE", "DELETE"]).await;
    refused(
        &pb.run_with_input(&["login"], &made_up_token()).await,
        "UNAUTHENTICATED",
    );
    assert!(!pb.config().exists());
    let out = pb.run_with_input(&["login"], &format!("{token}\n")).await;
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("as pbuser"));
    let stored = std::fs::read_to_string(pb.config()).unwrap();
    assert!(stored.contains(&token));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(pb.config()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    // Several files, private, with an expiry: one paste.
    let a = pb.file("main.rs", "fn main() {}\n");
    let b = pb.file("notes.md", "# notes\n");
    let url = ok(&pb
        .run(&[
            "paste",
            &a,
            &b,
            "--visibility",
            "private",
            "--expires",
            "1h",
            "-t",
            "two",
        ])
        .await);
    let id = id_of(&url);
    assert_eq!(app.read_paste(None, &id).await, Err("NOT_FOUND".into()));
    assert_eq!(
        ok(&pb.run(&["get", &id, "--file", "notes.md"]).await),
        "# notes\n"
    );
    assert_eq!(
        ok(&pb.run(&["get", url.trim()]).await),
        "==> main.rs <==\nfn main() {}\n\n==> notes.md <==\n# notes\n"
    );
    let r = app
        .gql_as(
            Some(&session),
            "query($id: ID!) { paste(id: $id) { title visibility expiresAt files { name language } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(r["data"]["paste"]["title"], "two", "{r}");
    assert_eq!(r["data"]["paste"]["files"][0]["language"], "rust");
    assert!(r["data"]["paste"]["expiresAt"].is_string());

    // ls lists the user's pastes; rm deletes one of them.
    let listed = ok(&pb.run(&["ls"]).await);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&format!("{id}\t")) && l.contains("private")),
        "{listed}"
    );
    ok(&pb.run(&["rm", &id]).await);
    assert!(!ok(&pb.run(&["ls"]).await).contains(&id));

    // Burn after reading: a plain get says how to read it; --reveal reads it once.
    let url = ok(&pb.run_with_input(&["paste", "--burn"], "once").await);
    let anon = Pb::new(&app);
    let out = anon.run(&["get", url.trim()]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--reveal"));
    assert_eq!(
        ok(&anon.run(&["get", "--reveal", url.trim()]).await),
        "once"
    );
    refused(
        &anon.run(&["get", "--reveal", url.trim()]).await,
        "NOT_FOUND",
    );
    // A view-limited paste: a plain get spends nothing; each --reveal spends one.
    let url = ok(&pb
        .run_with_input(&["paste", "--max-views", "2"], "twice")
        .await);
    let out = anon.run(&["get", url.trim()]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--reveal"));
    for _ in 0..2 {
        assert_eq!(
            ok(&anon.run(&["get", "--reveal", url.trim()]).await),
            "twice"
        );
    }
    refused(
        &anon.run(&["get", "--reveal", url.trim()]).await,
        "NOT_FOUND",
    );

    // The server's rules come back with their code: a read-only token cannot paste.
    let (reader, _) = make_token(&app, &session, "reader", &["READ"]).await;
    refused(
        &pb.run_with_input(&["--token", &reader, "paste"], "x").await,
        "FORBIDDEN",
    );
    refused(
        &pb.run_with_input(&["paste", "--expires", "5"], "x").await,
        "BAD_USER_INPUT",
    );
    // Bad usage is exit 2, an unreachable server exit 3.
    assert_eq!(
        pb.run(&["paste", "--expires", "soon"]).await.status.code(),
        Some(2)
    );
    assert_eq!(pb.run(&["frobnicate"]).await.status.code(), Some(2));
    let down = pb
        .run(&["--url", "http://127.0.0.1:1", "get", "abcdefgh"])
        .await;
    assert_eq!(
        down.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );

    // Logout forgets the token.
    ok(&pb.run(&["logout"]).await);
    assert!(
        !std::fs::read_to_string(pb.config())
            .unwrap()
            .contains("pbt_")
    );
    assert_eq!(pb.run(&["ls"]).await.status.code(), Some(2));
}

fn made_up_token() -> String {
    format!("{}\n", pastebin::auth::access_token::generate())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pb_command_has_help() {
    let app = TestApp::spawn().await;
    let pb = Pb::new(&app);
    let top = ok(&pb.run(&["--help"]).await);
    for command in ["paste", "get", "rm", "ls", "login", "logout", "watch"] {
        assert!(top.contains(command), "{top}");
        let help = ok(&pb.run(&[command, "--help"]).await);
        assert!(help.contains("Usage: pb"), "{command}: {help}");
    }
    let paste = ok(&pb.run(&["paste", "--help"]).await);
    for flag in [
        "--title",
        "--language",
        "--expires",
        "--visibility",
        "--burn",
        "--max-views",
        "--encrypt",
        "--password",
    ] {
        assert!(paste.contains(flag), "{flag}: {paste}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pb_watch_prints_each_new_view_count() {
    let app = TestApp::spawn().await;
    let pb = Pb::new(&app);
    let (id, delete_token) = app.create_paste("watched").await;
    let mut child = pb
        .command(&["watch", &app.url(&format!("/p/{id}"))])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let next = async |lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>| {
        tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("a count in time")
            .unwrap()
            .expect("a line")
    };
    assert_eq!(next(&mut lines).await, "0");
    assert_eq!(app.read_paste(None, &id).await.as_deref(), Ok("watched"));
    assert_eq!(next(&mut lines).await, "1");
    // The paste goes: watch ends by itself, successfully.
    let r = app
        .gql(
            "mutation($id: ID!, $t: String) { deletePaste(id: $id, deleteToken: $t) }",
            json!({ "id": id, "t": delete_token }),
        )
        .await;
    assert_eq!(r["data"]["deletePaste"], true, "{r}");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("watch ends when the paste is gone")
        .unwrap();
    assert!(status.success());
    // A missing paste: the server's code, exit 1.
    refused(&pb.run(&["watch", "nosuchpaste"]).await, "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pb_encrypts_in_process_and_decrypts_from_the_links_key() {
    let app = TestApp::spawn().await;
    let pb = Pb::new(&app);
    let fields = app
        .gql(
            "{ __type(name: \"CreatePasteInput\") { inputFields { name } } }",
            json!({}),
        )
        .await;
    let server_takes_envelopes = fields.to_string().contains("\"encrypted\"");
    let out = pb
        .run_with_input(
            &[
                "paste",
                "--encrypt",
                "--password",
                "hunter2!",
                "-t",
                "secret",
            ],
            "the plaintext",
        )
        .await;
    if !server_takes_envelopes {
        // The server API of encrypted pastes (issue 13) is not in this build: pb reports the
        // server's refusal with its code, and never falls back to sending the plaintext.
        refused(&out, "BAD_USER_INPUT");
        eprintln!("this server does not take encrypted pastes yet: round trip not run");
        return;
    }
    let url = ok(&out);
    assert!(url.contains("#k="), "{url}");
    let id = id_of(&url);
    // The server never saw the text or the title.
    let r = app
        .gql(
            "query($id: ID!) { paste(id: $id) { title } }",
            json!({ "id": id }),
        )
        .await;
    assert!(!r.to_string().contains("secret"), "{r}");
    refused(&pb.run(&["get", url.trim()]).await, "PASSWORD_REQUIRED");
    refused(
        &pb.run(&["get", url.trim(), "--password", "wrong"]).await,
        "WRONG_KEY_OR_PASSWORD",
    );
    assert_eq!(
        ok(&pb.run(&["get", url.trim(), "--password", "hunter2!"]).await),
        "the plaintext"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_uploads_show_a_progress_bar_on_a_terminal() {
    let app = TestApp::spawn().await;
    let pb = Pb::new(&app);
    let big = pb.file("big.txt", &"0123456789abcdef\n".repeat(64 * 1024));
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("util-linux `script` is missing: no terminal to show the bar in");
        return;
    }
    // `script` gives pb a terminal; the bar is drawn on it, the URL still printed.
    let cmd = format!(
        "PASTEBIN_URL={} PB_CONFIG={} {} paste {big}",
        pb.url,
        pb.config().display(),
        pb_binary().display()
    );
    let out = tokio::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .await
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(screen.contains("uploading"), "{screen}");
    assert!(screen.contains("/p/"), "{screen}");
    // Without a terminal (a pipe), no bar.
    let quiet = pb.run(&["paste", &big]).await;
    ok(&quiet);
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("uploading"));
}
