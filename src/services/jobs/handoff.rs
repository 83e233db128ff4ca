//! The analytics hand-off: moves view counts from Redis into the analytics database, so that
//! no view is lost or counted twice, whatever step a run dies at, and statistics never go back
//! while it runs (see `cache::handoff` for the three steps and why each is safe).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::{AppError, AppResult};
use crate::services::App;
use crate::services::cache::handoff as pending;
use crate::services::db::hourly_views::{self as q, HourlyViews};

/// What one run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Handoff {
    /// Batches written to the analytics database by this run.
    pub applied: usize,
    /// Batches found already written (a run died after writing them).
    pub already_applied: usize,
    /// Batches removed from Redis (written at least `FINISH_AFTER` before).
    pub finished: usize,
}

/// One run: finishes batches written long enough ago, writes the ones earlier runs left
/// behind, then moves what is pending.
pub async fn run(app: &App) -> AppResult<Handoff> {
    run_finishing_after(app, pending::FINISH_AFTER).await
}

/// [`run`], finishing the batches written at least `finish_after` ago (tests pass zero).
pub async fn run_finishing_after(app: &App, finish_after: Duration) -> AppResult<Handoff> {
    let mut report = Handoff::default();
    let redis = &app.stores.redis;
    let analytics = app
        .stores
        .analytics
        .as_ref()
        .ok_or(AppError::unavailable("no analytics database configured"))?;
    let open = pending::open_batches(redis).await?;
    let open_ref = &open;
    let written: HashMap<String, DateTime<Utc>> = analytics
        .run(async |c| q::applied_at(c, open_ref).await)
        .await?
        .into_iter()
        .collect();
    let finish_before = Utc::now() - chrono::Duration::from_std(finish_after).unwrap_or_default();
    for batch in &open {
        match written.get(batch) {
            Some(at) if *at <= finish_before => {
                pending::finish_batch(redis, batch).await?;
                report.finished += 1;
            }
            Some(_) => {}
            None => apply(app, batch, &mut report).await?,
        }
    }
    if let Some(batch) = pending::claim_batch(redis).await? {
        apply(app, &batch, &mut report).await?;
    }
    Ok(report)
}

/// Step 2 for one claimed batch (step 3 is a later run's).
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
        tracing::info!(batch = batch_id, "analytics batch was already applied");
    }
    Ok(())
}
