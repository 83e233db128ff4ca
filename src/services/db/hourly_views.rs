//! Queries on the analytics database: hourly view counts and the batches already applied.

use chrono::{DateTime, Utc};
use diesel::result::Error as DieselError;
use diesel::upsert::excluded;
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::analytics::{applied_batches, paste_views_hourly};

type QueryResult<T> = Result<T, DieselError>;

/// One row of a batch: views of one paste in one hour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HourlyViews {
    pub paste_id: String,
    pub hour: DateTime<Utc>,
    pub views: i64,
}

/// Adds a batch of counts, exactly once per `batch_id`: the batch id is recorded in the same
/// transaction, and a batch seen before is skipped. Returns whether it was applied now.
pub async fn apply_batch(
    conn: &mut AsyncPgConnection,
    batch_id: &str,
    rows: &[HourlyViews],
) -> QueryResult<bool> {
    let batch_id = batch_id.to_owned();
    let rows = rows.to_vec();
    conn.transaction::<bool, DieselError, _>(async move |conn| {
        let inserted = diesel::insert_into(applied_batches::table)
            .values(applied_batches::batch_id.eq(&batch_id))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if inserted == 0 {
            return Ok(false);
        }
        // Postgres limits one statement to 65535 parameters; 3 per row.
        for chunk in rows.chunks(10_000) {
            let values: Vec<_> = chunk
                .iter()
                .map(|r| {
                    (
                        paste_views_hourly::paste_id.eq(&r.paste_id),
                        paste_views_hourly::hour.eq(r.hour),
                        paste_views_hourly::views.eq(r.views),
                    )
                })
                .collect();
            diesel::insert_into(paste_views_hourly::table)
                .values(values)
                .on_conflict((paste_views_hourly::paste_id, paste_views_hourly::hour))
                .do_update()
                .set(
                    paste_views_hourly::views
                        .eq(paste_views_hourly::views + excluded(paste_views_hourly::views)),
                )
                .execute(conn)
                .await?;
        }
        Ok(true)
    })
    .await
}

/// Hourly counts of one paste in `[from, to)`, oldest first.
pub async fn hourly(
    conn: &mut AsyncPgConnection,
    paste_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<(DateTime<Utc>, i64)>> {
    paste_views_hourly::table
        .filter(paste_views_hourly::paste_id.eq(paste_id))
        .filter(paste_views_hourly::hour.ge(from))
        .filter(paste_views_hourly::hour.lt(to))
        .order(paste_views_hourly::hour.asc())
        .select((paste_views_hourly::hour, paste_views_hourly::views))
        .load(conn)
        .await
}

/// Total views of one paste in `[from, to)` (tests).
#[cfg(feature = "test-support")]
pub async fn total(
    conn: &mut AsyncPgConnection,
    paste_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<i64> {
    use diesel::OptionalExtension;
    let total: Option<i64> = paste_views_hourly::table
        .filter(paste_views_hourly::paste_id.eq(paste_id))
        .filter(paste_views_hourly::hour.ge(from))
        .filter(paste_views_hourly::hour.lt(to))
        .select(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        >("sum(views)::bigint"))
        .first(conn)
        .await
        .optional()?
        .flatten();
    Ok(total.unwrap_or(0))
}

/// What the analytics database holds for one paste, seen at one instant: its hourly counts in
/// `[from, to)` and the ids of the batches applied since `since` (a reader adds the Redis
/// counts of the batches not among them).
pub async fn snapshot(
    conn: &mut AsyncPgConnection,
    paste_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    since: DateTime<Utc>,
) -> QueryResult<(Vec<(DateTime<Utc>, i64)>, Vec<String>)> {
    let paste_id = paste_id.to_owned();
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run(async move |conn| {
            let counts = hourly(conn, &paste_id, from, to).await?;
            let applied = applied_batches::table
                .filter(applied_batches::applied_at.ge(since))
                .select(applied_batches::batch_id)
                .load(conn)
                .await?;
            Ok((counts, applied))
        })
        .await
}

/// When each of `batch_ids` was applied (those not applied are left out).
pub async fn applied_at(
    conn: &mut AsyncPgConnection,
    batch_ids: &[String],
) -> QueryResult<Vec<(String, DateTime<Utc>)>> {
    applied_batches::table
        .filter(applied_batches::batch_id.eq_any(batch_ids))
        .select((applied_batches::batch_id, applied_batches::applied_at))
        .load(conn)
        .await
}

/// Forgets batch ids older than `days` days.
pub async fn prune_applied_batches(conn: &mut AsyncPgConnection, days: i64) -> QueryResult<usize> {
    diesel::delete(applied_batches::table)
        .filter(applied_batches::applied_at.lt(Utc::now() - chrono::Duration::days(days)))
        .execute(conn)
        .await
}
