//! The `pastebin` binary: subcommand dispatch only; everything lives in the library.

use std::sync::Arc;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc malloc: measured under load, glibc spent ~10% of the server's CPU
/// in its arena locks, and the GraphQL read path allocates a lot. Built with arenas committed
/// lazily (`.cargo/config.toml`), which keeps the peak RSS near glibc's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use pastebin::config::Config;
use pastebin::{App, graphql, http, jobs, migrate, telemetry};

#[derive(Parser)]
#[command(
    name = "pastebin",
    version,
    about = "A paste service with a GraphQL API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP: the web app, GraphQL, raw text, the REST API, health and metrics.
    Serve {
        /// Also run the job workers and schedules in this process (the local `make run`).
        #[arg(long)]
        workers: bool,
        #[command(flatten)]
        config: Config,
    },
    /// Run the job workers and schedules (expiry, analytics hand-off, orphan sweep).
    Worker {
        #[command(flatten)]
        config: Config,
    },
    /// Apply pending migrations to the main and analytics databases, then exit.
    Migrate {
        #[command(flatten)]
        config: Config,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Schema = cli.command {
        print!("{}", graphql::sdl());
        return Ok(());
    }
    // A worker thread per core; blocking work goes to the blocking pool.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve { workers, config } => serve(config, workers).await,
            Command::Worker { config } => worker(config).await,
            Command::Migrate { config } => run_migrations(config).await,
            Command::Schema => unreachable!("handled above"),
        }
    })
}

async fn serve(config: Config, with_workers: bool) -> anyhow::Result<()> {
    telemetry::init_logging(&config.server.log, config.server.log_format);
    telemetry::metrics();
    let addr = config.server.addr;
    let app = App::build(config).await?;
    http::spawn_metrics_listener(&app).await?;
    let workers =
        with_workers.then(|| tokio::spawn(jobs::run(Arc::clone(&app), app.shutdown().clone())));
    let listener = listen(addr)?;
    tracing::info!(%addr, workers = with_workers, "serving");
    http::serve(listener, Arc::clone(&app), shutdown_signal()).await?;
    tracing::info!("stopped accepting; flushing");
    app.stop().await;
    if let Some(w) = workers {
        w.await??;
    }
    Ok(())
}

async fn worker(config: Config) -> anyhow::Result<()> {
    telemetry::init_logging(&config.server.log, config.server.log_format);
    telemetry::metrics();
    let app = App::build(config).await?;
    http::spawn_metrics_listener(&app).await?;
    let stop = app.shutdown().clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.cancel();
    });
    jobs::run(Arc::clone(&app), app.shutdown().clone()).await?;
    app.stop().await;
    Ok(())
}

/// Binds with a deep accept queue: tokio's default backlog (128) overflows when thousands of
/// WebSocket clients (re)connect at once, and each overflow costs the client a 1 s SYN retry.
fn listen(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

async fn run_migrations(config: Config) -> anyhow::Result<()> {
    telemetry::init_logging(&config.server.log, config.server.log_format);
    migrate::run_configured(&config).await
}

/// SIGTERM (Kubernetes) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}
