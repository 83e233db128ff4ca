//! `pastebin migrate`: the main database's `migrations/` and the analytics database's
//! `migrations-analytics/`, embedded in the binary. Never run at `serve` start-up.

use diesel_async::AsyncMigrationHarness;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::Config;

pub const MAIN: EmbeddedMigrations = embed_migrations!("migrations");
pub const ANALYTICS: EmbeddedMigrations = embed_migrations!("migrations-analytics");

/// Migrates both databases of `config` (nothing in read-only mode). Needs a multi-thread
/// runtime (the harness blocks in place).
pub async fn run_configured(config: &Config) -> anyhow::Result<()> {
    if config.server.read_only {
        tracing::info!("read-only mode: migrations skipped");
        return Ok(());
    }
    let db = &config.database;
    let ca = db.db_ca_file.as_deref();
    let n = run_with_tls(&super::db::primary_url(config), MAIN, ca).await?;
    tracing::info!(applied = n, "main database migrated");
    if !db.analytics_database_url.is_empty() {
        let n = run_with_tls(&db.analytics_database_url, ANALYTICS, ca).await?;
        tracing::info!(applied = n, "analytics database migrated");
    }
    Ok(())
}

/// Applies pending migrations; returns how many ran.
pub async fn run(url: &str, migrations: EmbeddedMigrations) -> anyhow::Result<usize> {
    run_with_tls(url, migrations, None).await
}

/// [`run`], verifying a TLS server against `ca_file` (see `PASTEBIN_DB_CA_FILE`).
pub async fn run_with_tls(
    url: &str,
    migrations: EmbeddedMigrations,
    ca_file: Option<&std::path::Path>,
) -> anyhow::Result<usize> {
    let conn = super::db::connect(url, ca_file).await?;
    let mut harness = AsyncMigrationHarness::new(conn);
    let applied = tokio::task::block_in_place(|| harness.run_pending_migrations(migrations))
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.len())
}
