//! Queries on `pending_invalidations`: the record, kept in the transaction that removes a
//! paste, that its caches must still be told.

use chrono::{DateTime, Utc};
use diesel::result::Error as DieselError;
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::pending_invalidations as pending;

type QueryResult<T> = Result<T, DieselError>;

/// Every pending invalidation: `(paste id, since)`. Usually none.
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, DateTime<Utc>)>> {
    pending::table
        .select((pending::paste_id, pending::created_at))
        .limit(100_000)
        .load(conn)
        .await
}

/// Forgets the invalidations of `ids` recorded at or before `delivered_at` (a later one, of an
/// edit say, stays until it is delivered too).
pub async fn delivered(
    conn: &mut AsyncPgConnection,
    ids: &[String],
    delivered_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(pending::table)
        .filter(pending::paste_id.eq_any(ids))
        .filter(pending::created_at.le(delivered_at))
        .execute(conn)
        .await
}

/// The current revision of each of `ids` that still exists and is not hidden (a hidden
/// paste's invalidation is delivered like a delete's).
pub async fn revisions_of(
    conn: &mut AsyncPgConnection,
    ids: &[String],
) -> QueryResult<Vec<(String, i32)>> {
    use super::schema::pastes;
    pastes::table
        .filter(pastes::id.eq_any(ids))
        .filter(pastes::hidden_at.is_null())
        .select((pastes::id, pastes::revision))
        .load(conn)
        .await
}
