//! View counts: `pasteStats` (hourly) and the live `pasteViews` subscription.

use async_graphql::{Context, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};

use super::{app, caller};

#[derive(SimpleObject)]
pub struct PasteStat {
    hour: DateTime<Utc>,
    views: i64,
}

#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    /// Views per hour between from and to (hours without views are left out). For anyone who
    /// may read the paste. At most 62 days per call.
    async fn paste_stats(
        &self,
        ctx: &Context<'_>,
        id: ID,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> async_graphql::Result<Vec<PasteStat>> {
        let rows = app(ctx)
            .view_stats()
            .hourly(caller(ctx)?, &id, from, to)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| PasteStat {
                hour: r.hour,
                views: r.views,
            })
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
        let counts = app(ctx).view_stats().watch(caller(ctx)?, &id).await?;
        Ok(counts.map(|n| n as i64))
    }
}
