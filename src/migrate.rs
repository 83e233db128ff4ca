//! `pastebin migrate`: the main database's `migrations/` and the analytics database's
//! `migrations-analytics/`, embedded in the binary. Never run at `serve` start-up.

use diesel_async::AsyncMigrationHarness;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const MAIN: EmbeddedMigrations = embed_migrations!("migrations");
pub const ANALYTICS: EmbeddedMigrations = embed_migrations!("migrations-analytics");

/// Applies pending migrations; returns how many ran. Needs a multi-thread runtime (the
/// harness blocks in place).
pub async fn run(url: &str, migrations: EmbeddedMigrations) -> anyhow::Result<usize> {
    run_with_tls(url, migrations, None).await
}

/// [`run`], verifying a TLS server against `ca_file` (see `PASTEBIN_DB_CA_FILE`).
pub async fn run_with_tls(
    url: &str,
    migrations: EmbeddedMigrations,
    ca_file: Option<&std::path::Path>,
) -> anyhow::Result<usize> {
    let conn = crate::db::connect(url, ca_file).await?;
    let mut harness = AsyncMigrationHarness::new(conn);
    let applied = tokio::task::block_in_place(|| harness.run_pending_migrations(migrations))
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.len())
}
