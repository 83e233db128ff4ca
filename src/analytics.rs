//! View statistics: hourly counts from the analytics database, plus the counts still on their
//! way there (in Redis, or in this process), so a number never goes back when a batch moves.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::App;
use crate::auth::Viewer;
use crate::cache::analytics as pending;
use crate::cache::pubsub::ViewEvent;
use crate::db::analytics as q;
use crate::error::{AppError, AppResult};
use crate::pastes::{self, Visibility};

/// Longest range `pasteStats` answers in one call.
pub const MAX_RANGE_HOURS: i64 = 24 * 62;

/// A live view count a viewer may watch.
pub struct ViewWatch {
    pub counts: tokio::sync::watch::Receiver<ViewEvent>,
    /// When the paste expires (its watchers end then).
    pub expires_at: Option<DateTime<Utc>>,
}

impl App {
    /// The live total of views of a paste (Redis plus what this process has not flushed).
    pub async fn view_count(&self, id: &str) -> u64 {
        self.views.total(id).await
    }

    /// The live view count of a paste this viewer may see, from now on.
    pub async fn watch_views(&self, viewer: &Viewer, id: &str) -> AppResult<ViewWatch> {
        let loaded = self.find_paste(viewer, id).await?;
        let expires_at = loaded.meta().row.expires_at;
        Ok(ViewWatch {
            counts: self.hub.watch(id).await,
            expires_at,
        })
    }

    /// Views per hour of one paste in `[from, to)`; hours without views are left out. The
    /// owner may see them, and anyone for a public paste.
    pub async fn paste_stats(
        &self,
        viewer: &Viewer,
        id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> AppResult<Vec<(DateTime<Utc>, i64)>> {
        let loaded = self.find_paste(viewer, id).await?;
        let meta = loaded.meta();
        if Visibility::from_db(meta.row.visibility) != Visibility::Public
            && !pastes::is_owner(meta, viewer)
        {
            return Err(AppError::Forbidden(
                "statistics of this paste are for its owner",
            ));
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

    /// The seed's monthly hit count (`period` is `YYYY-MM`).
    pub async fn monthly_hits(&self, viewer: &Viewer, id: &str, period: &str) -> AppResult<i64> {
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
        let hour = |d: NaiveDate| {
            Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
                .timestamp()
                / 3600
        };
        self.find_paste(viewer, id).await?;
        let rows = self.hourly_views(id, hour(start), hour(end)).await?;
        Ok(rows.iter().map(|(_, v)| v).sum())
    }

    async fn hourly_views(
        &self,
        id: &str,
        from_hour: i64,
        to_hour: i64,
    ) -> AppResult<Vec<(DateTime<Utc>, i64)>> {
        let at = |h: i64| {
            Utc.timestamp_opt(h * 3600, 0)
                .single()
                .expect("hour in range")
        };
        let (from, to) = (at(from_hour), at(to_hour));
        let analytics = self
            .analytics
            .as_ref()
            .ok_or(AppError::unavailable("view statistics are not configured"))?;
        let stored = analytics
            .run(async |c| q::hourly(c, id, from, to).await)
            .await?;
        let mut by_hour: BTreeMap<i64, i64> = stored
            .into_iter()
            .map(|(t, v)| (t.timestamp().div_euclid(3600), v))
            .collect();
        // Counts not yet in the analytics database. If Redis cannot say, the stored part stands.
        let _consistent = self.views.hold_flushes().await;
        if let Ok(extra) = pending::not_yet_applied(&self.redis, id, from_hour, to_hour).await {
            for (h, v) in extra {
                *by_hour.entry(h).or_insert(0) += v;
            }
        }
        for (h, n) in self.views.unflushed_by_hour(id) {
            if (from_hour..to_hour).contains(&h) {
                *by_hour.entry(h).or_insert(0) += n as i64;
            }
        }
        Ok(by_hour
            .into_iter()
            .filter(|(_, v)| *v > 0)
            .map(|(h, v)| (at(h), v))
            .collect())
    }
}
