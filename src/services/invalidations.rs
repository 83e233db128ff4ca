//! Deletes are never undone by a cache, even when Redis cannot be told at once.
//!
//! A paste that leaves (deleted, burned, expired, used up) or moves to a new revision (an edit)
//! is recorded in `pending_invalidations` by a trigger, in the transaction that changes it. The instance that
//! removed it then delivers the invalidation to Redis (tombstones, pub/sub) and deletes the
//! record. Every instance reads the pending records every [`POLL`] (from the replica, or the
//! primary): it serves none of those ids from a cache, and nothing from a cache when it could
//! not read them for [`FRESH_FOR`]. Records older than [`RETRY_AFTER`] are delivered by
//! whichever instance reads them, so a crash between the delete and the delivery is repaired.
//!
//! The bound: a delete whose invalidation Redis did not take is acknowledged only
//! [`DELIVERY_GRACE`] after its commit; by then every instance has read the record or has
//! stopped serving from its caches. With a synchronous replica (the default) the record is on
//! the replica at commit; with an asynchronous one, add its lag.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::cache::PasteCache;
use super::db::Db;
use super::db::invalidations as q;

/// How often every instance reads the pending invalidations.
pub const POLL: Duration = Duration::from_millis(250);
/// How long a read of them counts as current.
pub const FRESH_FOR: Duration = Duration::from_secs(1);
/// How long a delete whose invalidation Redis did not take waits before it is acknowledged.
pub const DELIVERY_GRACE: Duration = Duration::from_millis(1250);
/// Records older than this are delivered by any instance (their own deleter gave up or died).
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// Delivers invalidations of pastes whose rows are gone: Redis first, then the record.
/// Returns whether Redis took them.
pub(super) async fn deliver(db: &Db, cache: &PasteCache, ids: &[String]) -> bool {
    let started = Utc::now();
    if !cache.invalidate(ids).await {
        metrics::counter!("pastebin_invalidations_deferred_total").increment(ids.len() as u64);
        return false;
    }
    // Best effort: a record left behind is delivered again (harmlessly) by the poller.
    let _ = db
        .write(async |c| q::delivered(c, ids, started).await)
        .await;
    true
}

/// Delivers the invalidation of an edit (its tombstone and message name the new revision).
/// Returns whether Redis took it.
pub(super) async fn deliver_edited(db: &Db, cache: &PasteCache, id: &str, revision: i32) -> bool {
    let started = Utc::now();
    if !cache.invalidate_edited(id, revision).await {
        metrics::counter!("pastebin_invalidations_deferred_total").increment(1);
        return false;
    }
    let ids = [id.to_owned()];
    let _ = db
        .write(async |c| q::delivered(c, &ids, started).await)
        .await;
    true
}

/// Delivers records an instance left behind: as an edit for a paste that still exists (its
/// current revision), as a delete otherwise.
async fn deliver_left_behind(db: &Db, cache: &PasteCache, ids: Vec<String>) {
    let ids_ref = &ids;
    let Ok(live) = db
        .read_prefer_primary(async |c| q::revisions_of(c, ids_ref).await)
        .await
    else {
        return;
    };
    let gone: Vec<String> = ids
        .iter()
        .filter(|id| !live.iter().any(|(l, _)| l == *id))
        .cloned()
        .collect();
    if !gone.is_empty() {
        deliver(db, cache, &gone).await;
    }
    for (id, revision) in &live {
        deliver_edited(db, cache, id, *revision).await;
    }
}

/// Reads the pending invalidations every [`POLL`] until shutdown, and retries old ones.
pub(super) fn spawn_poller(db: Db, cache: PasteCache, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = shutdown.cancelled() => break,
            }
            match db.read(async |c| q::all(c).await).await {
                Ok(rows) => {
                    let ids: HashSet<String> = rows.iter().map(|(id, _)| id.clone()).collect();
                    metrics::gauge!("pastebin_invalidations_pending").set(ids.len() as f64);
                    cache.set_pending(ids, FRESH_FOR);
                    let old =
                        Utc::now() - chrono::Duration::from_std(RETRY_AFTER).unwrap_or_default();
                    let stale: Vec<String> = rows
                        .into_iter()
                        .filter(|(_, at)| *at < old)
                        .map(|(id, _)| id)
                        .collect();
                    if !stale.is_empty() && !db.read_only() {
                        deliver_left_behind(&db, &cache, stale).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = ?e, "pending invalidations unreadable; caches not served");
                    cache.set_pending_unknown();
                }
            }
        }
    });
}
