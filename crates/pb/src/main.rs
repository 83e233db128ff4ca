//! `pb`: the command-line client of pastebin. It speaks GraphQL only (`POST /graphql`, and
//! `graphql-transport-ws` on `/graphql/ws` for `pb watch`), like any other client.
//!
//! Where the server is: `--url`, else `PASTEBIN_URL`, else `url` in the config file, else
//! `http://127.0.0.1:8080`. Who you are: `--token`, else `PASTEBIN_TOKEN`, else `token` in the
//! config file (`pb login` writes it there, mode 0600), else anonymous. The config file is
//! `$PB_CONFIG`, or `config.toml` in the user's config directory (`~/.config/pb/` on Linux).
//!
//! Exit codes: 0 success; 1 the server refused (the message names its error code); 2 bad
//! usage; 3 the server could not be reached or answered something that is not GraphQL.

mod client;
mod commands;
mod config;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "pb",
    version,
    about = "Paste from the terminal: pastebin's command-line client"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
pub struct Global {
    /// The server's base URL (default: `PASTEBIN_URL`, the config file, http://127.0.0.1:8080).
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,
    /// A personal access token to use instead of the stored one (also `PASTEBIN_TOKEN`).
    #[arg(
        long,
        global = true,
        value_name = "TOKEN",
        env = "PASTEBIN_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// The config file (default: `PB_CONFIG`, or config.toml in the user's config directory).
    #[arg(long, global = true, value_name = "FILE", env = "PB_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Create a paste from files, or from standard input when no file is given; prints its URL.
    Paste(PasteArgs),
    /// Print a paste's content (decrypting it when the link carries a key).
    Get(GetArgs),
    /// Delete a paste (yours, or with its delete token).
    Rm(RmArgs),
    /// List your pastes, newest first.
    Ls(LsArgs),
    /// Store a personal access token (made in the web app, Settings) for the next commands.
    Login(LoginArgs),
    /// Forget the stored token.
    Logout,
    /// Follow a paste's view count live (one line per change) until it is gone or Ctrl-C.
    Watch(WatchArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Visibility {
    /// Listed on the recent page.
    Public,
    /// Readable by anyone with the link.
    Unlisted,
    /// Only you (needs a token).
    Private,
}

#[derive(Args)]
pub struct PasteArgs {
    /// Files to paste (several make one paste with several files). None: standard input.
    pub files: Vec<PathBuf>,
    #[arg(short, long)]
    pub title: Option<String>,
    /// Language for highlighting, e.g. rust (default: guessed by the server from file names).
    #[arg(short, long)]
    pub language: Option<String>,
    /// Expiry: `never`, seconds, or a number with s, m, h, d or w (e.g. 10m, 1d).
    #[arg(short, long, default_value = "never")]
    pub expires: String,
    #[arg(short, long, value_enum, default_value = "unlisted")]
    pub visibility: Visibility,
    /// Delete the paste after its first reading.
    #[arg(long)]
    pub burn: bool,
    /// Delete the paste after this many readings.
    #[arg(long, value_name = "N")]
    pub max_views: Option<i32>,
    /// Encrypt in this process before sending: the key goes in the link's `#k=` fragment,
    /// never to the server.
    #[arg(long)]
    pub encrypt: bool,
    /// A password for an encrypted paste (also `PB_PASSWORD`); implies --encrypt.
    #[arg(long, env = "PB_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// The file name for standard input (default: from the language).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Never show the upload progress bar (shown on a terminal for large uploads).
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Args)]
pub struct GetArgs {
    /// The paste's URL (with its `#k=…` for an encrypted paste) or id.
    pub paste: String,
    /// Only this file of a paste with several.
    #[arg(short, long)]
    pub file: Option<String>,
    /// Read a burn-after-reading paste (it is deleted by this reading) or a paste with a view
    /// limit (this reading spends one).
    #[arg(long)]
    pub reveal: bool,
    /// The password of an encrypted paste (also `PB_PASSWORD`).
    #[arg(long, env = "PB_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

#[derive(Args)]
pub struct RmArgs {
    /// The paste's URL or id.
    pub paste: String,
    /// The delete token printed when an anonymous paste was made.
    #[arg(long, value_name = "TOKEN")]
    pub delete_token: Option<String>,
}

#[derive(Args)]
pub struct LsArgs {
    /// How many pastes (1-100).
    #[arg(short = 'n', long, default_value_t = 20)]
    pub first: i32,
}

#[derive(Args)]
pub struct LoginArgs {
    /// The token (`pbt_…`). Default: read from standard input (so it stays out of the shell's
    /// history).
    #[arg(value_name = "TOKEN")]
    pub access_token: Option<String>,
}

#[derive(Args)]
pub struct WatchArgs {
    /// The paste's URL or id.
    pub paste: String,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Paste(a) => commands::paste(&cli.global, a).await,
        Command::Get(a) => commands::get(&cli.global, a).await,
        Command::Rm(a) => commands::rm(&cli.global, a).await,
        Command::Ls(a) => commands::ls(&cli.global, a).await,
        Command::Login(a) => commands::login(&cli.global, a).await,
        Command::Logout => commands::logout(&cli.global),
        Command::Watch(a) => watch::run(&cli.global, a).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pb: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
