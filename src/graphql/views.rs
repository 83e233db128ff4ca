//! View counts: `pasteStats` (hourly, from the analytics database) and the live
//! `pasteViews` subscription.

use std::time::Duration;

use async_graphql::{Context, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use futures_util::stream;

use super::pastes::limit;
use super::{app, viewer};
use crate::cache::pubsub::ViewEvent;
use crate::cache::ratelimit::Budget;

/// At most this many updates per second reach one subscriber; bursts are coalesced.
const MIN_UPDATE_GAP: Duration = Duration::from_millis(100);

#[derive(SimpleObject)]
pub struct PasteStat {
    hour: DateTime<Utc>,
    views: i64,
}

#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    /// Views per hour between from and to (hours without views are left out). For the
    /// owner, or anyone for public pastes. At most 62 days per call.
    async fn paste_stats(
        &self,
        ctx: &Context<'_>,
        id: ID,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> async_graphql::Result<Vec<PasteStat>> {
        limit(ctx, Budget::Read).await?;
        let rows = app(ctx).paste_stats(viewer(ctx), &id, from, to).await?;
        Ok(rows
            .into_iter()
            .map(|(hour, views)| PasteStat { hour, views })
            .collect())
    }
}

#[derive(Default)]
pub struct ViewSubscription;

#[Subscription]
impl ViewSubscription {
    /// The view count now, then each change (at most 10 updates/s). Ends when the paste is
    /// deleted, burned or expires.
    async fn paste_views(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<impl Stream<Item = i64> + use<>> {
        let watch = app(ctx).watch_views(viewer(ctx), &id).await?;
        let (rx, expires_at) = (watch.counts, watch.expires_at);
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
                    ViewEvent::Count(n) => {
                        Some((n as i64, (rx, Some(tokio::time::Instant::now()))))
                    }
                    ViewEvent::Gone => None,
                }
            }
        }))
    }
}
