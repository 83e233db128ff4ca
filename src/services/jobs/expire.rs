//! Expiry sweep: deletes expired pastes (and `maxViews` pastes with no views left) in bounded
//! batches on the primary, then the objects of all their revisions and their cache entries. Reads never depend on it: an
//! expired paste is refused on every path even before it is swept.

use crate::error::AppResult;
use crate::services::App;
use crate::services::db::pastes as q;

/// Pastes deleted per run at most; the next run goes on.
pub const MAX_PER_RUN: usize = 100_000;

/// One sweep. Idempotent; concurrent sweeps split the rows between them (`SKIP LOCKED`).
/// Returns how many pastes it removed.
pub async fn sweep(app: &App) -> AppResult<usize> {
    let batch = app.config.jobs.expiry_batch.max(1);
    let mut total = 0;
    while total < MAX_PER_RUN {
        let swept = app
            .stores
            .db
            .write(async |c| q::delete_expired(c, batch).await)
            .await?;
        let n = swept.len();
        app.pastes.forget_all(&swept).await;
        total += n;
        if (n as i64) < batch {
            break;
        }
    }
    if total > 0 {
        metrics::counter!("pastebin_pastes_expired_total").increment(total as u64);
        tracing::info!(pastes = total, "expired pastes swept");
    }
    Ok(total)
}
