//! Orphan sweep: removes objects that no file row records, left by a crash between the object
//! upload and the INSERT of a create, edit or fork (or a delete whose object removal failed).
//! Keys are parsed ([`parse_key`]): `pastes/{id}/{attempt}/{position}` and the legacy
//! `pastes/{id}`; anything else under the prefix is left alone. The check is by key, not by
//! paste id, so the objects of a failed edit of a paste that lives are swept too. Objects
//! younger than the grace period are left alone: their INSERT may still be on its way.

use chrono::Utc;

use crate::error::AppResult;
use crate::services::App;
use crate::services::blob::parse_key;
use crate::services::db::{hourly_views as hq, pastes as q};

const PAGE: usize = 1000;

/// One sweep over the bucket; returns how many objects it removed.
pub async fn sweep(app: &App) -> AppResult<usize> {
    let cutoff = Utc::now() - chrono::Duration::seconds(app.config.jobs.orphan_grace_secs);
    let mut removed = 0;
    let mut continuation = None;
    loop {
        let (objects, next) = app.stores.blobs.list_page(continuation, PAGE).await?;
        let old: Vec<String> = objects
            .into_iter()
            .filter(|o| o.last_modified.is_some_and(|t| t < cutoff))
            .filter(|o| parse_key(&o.key).is_some())
            .map(|o| o.key)
            .collect();
        if !old.is_empty() {
            let old_ref = &old;
            let recorded = app
                .stores
                .db
                .read_prefer_primary(async |c| q::recorded_keys(c, old_ref).await)
                .await?;
            for key in old.iter().filter(|key| !recorded.contains(key)) {
                app.stores.blobs.delete(key).await?;
                removed += 1;
            }
        }
        match next {
            Some(token) => continuation = Some(token),
            None => break,
        }
    }
    if removed > 0 {
        metrics::counter!("pastebin_orphans_removed_total").increment(removed as u64);
        tracing::info!(objects = removed, "orphan objects removed");
    }
    // Housekeeping of the analytics hand-off: batch ids are only needed while Redis may still
    // hold the batch (minutes); a week is a wide margin.
    if let Some(analytics) = &app.stores.analytics {
        let _ = analytics
            .run(async |c| hq::prune_applied_batches(c, 7).await)
            .await;
    }
    Ok(removed)
}
