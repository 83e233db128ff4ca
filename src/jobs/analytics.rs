//! Analytics hand-off: moves view counts from Redis into the analytics database, so that no
//! view is lost or counted twice, whatever step a run dies at (see `cache::analytics` for the
//! three steps and why each crash point is safe).

use crate::App;
use crate::cache::analytics as pending;
use crate::db::analytics::{self as q, HourlyViews};
use crate::error::{AppError, AppResult};

/// What one run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Handoff {
    /// Batches written to the analytics database by this run.
    pub applied: usize,
    /// Batches found already written (a run died after writing them) and finished now.
    pub already_applied: usize,
}

/// One run: finishes batches earlier runs left behind, then moves what is pending.
pub async fn handoff(app: &App) -> AppResult<Handoff> {
    let mut report = Handoff::default();
    let unavailable = |_| AppError::unavailable("redis is unavailable; the hand-off waits");
    for batch in pending::open_batches(&app.redis)
        .await
        .map_err(unavailable)?
    {
        apply(app, &batch, &mut report).await?;
    }
    if let Some(batch) = pending::claim_batch(&app.redis)
        .await
        .map_err(unavailable)?
    {
        apply(app, &batch, &mut report).await?;
    }
    Ok(report)
}

/// Steps 2 and 3 for one claimed batch.
pub async fn apply(app: &App, batch_id: &str, report: &mut Handoff) -> AppResult<()> {
    let analytics = app
        .analytics
        .as_ref()
        .ok_or(AppError::unavailable("no analytics database configured"))?;
    let unavailable = |_| AppError::unavailable("redis is unavailable; the hand-off waits");
    let rows: Vec<HourlyViews> = pending::read_batch(&app.redis, batch_id)
        .await
        .map_err(unavailable)?
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
    pending::finish_batch(&app.redis, batch_id)
        .await
        .map_err(unavailable)?;
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
