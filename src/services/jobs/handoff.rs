//! The analytics hand-off: moves view counts from Redis into the analytics database, so that
//! no view is lost or counted twice, whatever step a run dies at (see `cache::handoff` for the
//! three steps and why each crash point is safe).

use crate::error::{AppError, AppResult};
use crate::services::App;
use crate::services::cache::handoff as pending;
use crate::services::db::hourly_views::{self as q, HourlyViews};

/// What one run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Handoff {
    /// Batches written to the analytics database by this run.
    pub applied: usize,
    /// Batches found already written (a run died after writing them) and finished now.
    pub already_applied: usize,
}

/// One run: finishes batches earlier runs left behind, then moves what is pending.
pub async fn run(app: &App) -> AppResult<Handoff> {
    let mut report = Handoff::default();
    let redis = &app.stores.redis;
    for batch in pending::open_batches(redis).await? {
        apply(app, &batch, &mut report).await?;
    }
    if let Some(batch) = pending::claim_batch(redis).await? {
        apply(app, &batch, &mut report).await?;
    }
    Ok(report)
}

/// Steps 2 and 3 for one claimed batch.
pub async fn apply(app: &App, batch_id: &str, report: &mut Handoff) -> AppResult<()> {
    let analytics = app
        .stores
        .analytics
        .as_ref()
        .ok_or(AppError::unavailable("no analytics database configured"))?;
    let redis = &app.stores.redis;
    let rows: Vec<HourlyViews> = pending::read_batch(redis, batch_id)
        .await?
        .into_iter()
        .map(|p| HourlyViews {
            paste_id: p.paste_id,
            hour: p.hour,
            views: p.views,
        })
        .collect();
    let applied = analytics
        .run(async |c| q::apply_batch(c, batch_id, &rows).await)
        .await?;
    pending::finish_batch(redis, batch_id).await?;
    if applied {
        report.applied += 1;
        let views: i64 = rows.iter().map(|r| r.views).sum();
        metrics::counter!("pastebin_analytics_views_moved_total").increment(views as u64);
        tracing::debug!(
            batch = batch_id,
            rows = rows.len(),
            views,
            "analytics batch applied"
        );
    } else {
        report.already_applied += 1;
        tracing::info!(
            batch = batch_id,
            "analytics batch was already applied; finished it"
        );
    }
    Ok(())
}
