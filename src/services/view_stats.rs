//! The view statistics service: a paste's live total, a live stream of it, its hourly series
//! (from the analytics database, plus the counts still on their way there — in Redis, or in
//! this process — so a number never goes back when a batch moves) and the seed's monthly hits.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use futures_util::Stream;
use futures_util::stream;

use super::budgets::{Budgets, Operation};
use super::cache::handoff;
use super::cache::live_counts::LiveCounts;
use super::cache::redis::Redis;
use super::cache::watchers::{ViewEvent, Watchers};
use super::db::AnalyticsDb;
use super::db::hourly_views as q;
use super::pastes::Pastes;
use crate::caller::Caller;
use crate::error::{AppError, AppResult};

/// Statistics are asked for within these years (chrono's range ends far beyond; an hour near
/// its end cannot even be rounded up).
const EARLIEST_YEAR: i32 = 2000;
const LATEST_YEAR: i32 = 9999;

/// Longest range `pasteStats` answers in one call.
pub const MAX_RANGE_HOURS: i64 = 24 * 62;

/// At most this many updates per second reach one subscriber; bursts are coalesced.
const MIN_UPDATE_GAP: Duration = Duration::from_millis(100);

/// Views of a paste in one hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HourlyViews {
    pub hour: DateTime<Utc>,
    pub views: i64,
}

/// The view statistics service. Cheap to clone.
#[derive(Clone)]
pub struct ViewStats {
    pastes: Pastes,
    counts: Arc<LiveCounts>,
    watchers: Arc<Watchers>,
    redis: Redis,
    analytics: Option<AnalyticsDb>,
    budgets: Budgets,
}

impl ViewStats {
    pub(super) fn new(
        pastes: Pastes,
        counts: Arc<LiveCounts>,
        watchers: Arc<Watchers>,
        redis: Redis,
        analytics: Option<AnalyticsDb>,
        budgets: Budgets,
    ) -> Self {
        Self {
            pastes,
            counts,
            watchers,
            redis,
            analytics,
            budgets,
        }
    }

    /// The live total of views of a paste already found for the caller (Redis plus what this
    /// process has not flushed). Part of reading the paste: not charged.
    pub async fn live_total(&self, id: &str) -> u64 {
        self.counts.total(id).await
    }

    /// The live view count of a paste this caller may see: the current total at once, then
    /// each change (at most 10 per second); the stream ends when the paste is deleted, burned
    /// or expires. Charges one read.
    pub async fn watch(
        &self,
        caller: &Caller,
        id: &str,
    ) -> AppResult<impl Stream<Item = u64> + Send + 'static + use<>> {
        self.budgets.charge(caller, Operation::Subscribe).await?;
        let paste = self.pastes.lookup_meta(caller, id).await?;
        let expires_at = paste.expires_at();
        let rx = self.watchers.watch(id).await;
        let until_expiry = move || {
            let left = expires_at.map(|t| (t - Utc::now()).to_std().unwrap_or_default());
            async move {
                match left {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            }
        };
        // Wait for a change first, then for what is left of the gap since the last update: at
        // most 10 updates/s, and no timer at all while nothing changes.
        let start = (rx, None::<tokio::time::Instant>);
        Ok(stream::unfold(start, move |(mut rx, last_sent)| {
            let until_expiry = until_expiry();
            async move {
                if let Some(last) = last_sent {
                    tokio::select! {
                        changed = rx.changed() => changed.ok()?,
                        () = until_expiry => return None,
                    }
                    tokio::time::sleep_until(last + MIN_UPDATE_GAP).await;
                }
                let event = *rx.borrow_and_update();
                match event {
                    ViewEvent::Count(n) => Some((n, (rx, Some(tokio::time::Instant::now())))),
                    ViewEvent::Gone => None,
                }
            }
        }))
    }

    /// Views per hour of one paste in `[from, to)`; hours without views are left out.
    /// Statistics follow readability: anyone who may read the paste may see them (a private
    /// paste's only its owner). Charges one read.
    pub async fn hourly(
        &self,
        caller: &Caller,
        id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> AppResult<Vec<HourlyViews>> {
        self.budgets.charge(caller, Operation::Stats).await?;
        self.pastes.lookup_meta(caller, id).await?;
        let in_range = |t: DateTime<Utc>| (EARLIEST_YEAR..=LATEST_YEAR).contains(&t.year());
        if !in_range(from) || !in_range(to) {
            return Err(AppError::bad_input(format!(
                "`from` and `to` must lie between the years {EARLIEST_YEAR} and {LATEST_YEAR}"
            )));
        }
        let from_hour = from.timestamp().div_euclid(3600);
        let to_hour = (to.timestamp() + 3599).div_euclid(3600);
        if to_hour <= from_hour {
            return Err(AppError::bad_input("`to` must be after `from`"));
        }
        if to_hour - from_hour > MAX_RANGE_HOURS {
            return Err(AppError::bad_input(format!(
                "the range must be at most {MAX_RANGE_HOURS} hours"
            )));
        }
        self.hourly_views(id, from_hour, to_hour).await
    }

    /// The seed's monthly hit count (`period` is `YYYY-MM`). Charges one read.
    pub async fn monthly_hits(&self, caller: &Caller, id: &str, period: &str) -> AppResult<i64> {
        self.budgets.charge(caller, Operation::Stats).await?;
        let bad = || AppError::bad_input("period must be YYYY-MM");
        let (y, m) = period.split_once('-').ok_or_else(bad)?;
        let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        let start = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
        let end = if m == 12 {
            NaiveDate::from_ymd_opt(y + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(y, m + 1, 1)
        }
        .ok_or_else(bad)?;
        if !(EARLIEST_YEAR..=LATEST_YEAR).contains(&y) {
            return Err(bad());
        }
        let hour = |d: NaiveDate| {
            Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN))
                .timestamp()
                / 3600
        };
        self.pastes.lookup_meta(caller, id).await?;
        let rows = self.hourly_views(id, hour(start), hour(end)).await?;
        Ok(rows.iter().map(|r| r.views).sum())
    }

    async fn hourly_views(
        &self,
        id: &str,
        from_hour: i64,
        to_hour: i64,
    ) -> AppResult<Vec<HourlyViews>> {
        let at = |h: i64| {
            Utc.timestamp_opt(h * 3600, 0)
                .single()
                .ok_or_else(|| AppError::bad_input("the range lies outside the calendar"))
        };
        let (from, to) = (at(from_hour)?, at(to_hour)?);
        let analytics = self
            .analytics
            .as_ref()
            .ok_or(AppError::unavailable("view statistics are not configured"))?;
        // First the analytics database (its counts, and which batches they include), then
        // Redis: a batch applied in between is still in Redis (a run finishes a batch only
        // FINISH_AFTER after applying it), so every view is counted once and a number never
        // goes back while a hand-off runs.
        let started = std::time::Instant::now();
        let since = Utc::now()
            - chrono::Duration::from_std(handoff::FINISH_AFTER * 10)
                .unwrap_or_else(|_| chrono::Duration::hours(1));
        let (stored, applied) = analytics
            .run(async |c| q::snapshot(c, id, from, to, since).await)
            .await?;
        let applied: std::collections::HashSet<String> = applied.into_iter().collect();
        let mut by_hour: BTreeMap<i64, i64> = stored
            .into_iter()
            .map(|(t, v)| (t.timestamp().div_euclid(3600), v))
            .collect();
        // Counts not yet in the analytics database. If Redis cannot say, the stored part stands.
        let _consistent = self.counts.hold_flushes().await;
        let extra = handoff::unapplied_counts(&self.redis, id, from_hour, to_hour, &applied).await;
        if started.elapsed() > handoff::FINISH_AFTER / 2 {
            return Err(AppError::unavailable(
                "view statistics took too long; retry",
            ));
        }
        if let Ok(extra) = extra {
            for (h, v) in extra {
                *by_hour.entry(h).or_insert(0) += v;
            }
        }
        for (h, n) in self.counts.unflushed_by_hour(id) {
            if (from_hour..to_hour).contains(&h) {
                *by_hour.entry(h).or_insert(0) += n as i64;
            }
        }
        Ok(by_hour
            .into_iter()
            .filter(|(_, v)| *v > 0)
            .filter_map(|(h, views)| {
                Some(HourlyViews {
                    hour: at(h).ok()?,
                    views,
                })
            })
            .collect())
    }
}
