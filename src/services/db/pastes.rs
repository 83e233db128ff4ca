//! Queries on `pastes`. Each takes a connection so callers choose the server through
//! [`super::Db`]'s routing.
//!
//! Only the queries whose name says so select the body column; each of them counts itself in
//! `pastebin_db_body_reads_total`, so a test (or an operator) can see that metadata lookups
//! never load a body.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::result::Error as DieselError;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, NullableExpressionMethods,
    OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::{NewPasteRow, PasteMeta, PasteRow, PasteWithBody};
use super::schema::{pastes, users};

type QueryResult<T> = Result<T, DieselError>;

/// Name of the primary key index, to tell an id collision from other unique violations.
pub const PRIMARY_KEY: &str = "pastes_pkey";
pub const IDEMPOTENCY_INDEX: &str = "pastes_idempotency_key_idx";

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewPasteRow) -> QueryResult<()> {
    diesel::insert_into(pastes::table)
        .values(new)
        .execute(conn)
        .await
        .map(|_| ())
}

fn count_body_read() {
    metrics::counter!("pastebin_db_body_reads_total").increment(1);
}

/// Metadata and author of a paste, whatever its state (callers check expiry). No body.
pub async fn find_meta(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<Option<PasteMeta>> {
    let found: Option<(PasteRow, Option<String>)> = pastes::table
        .left_join(users::table.on(users::id.nullable().eq(pastes::owner_id)))
        .filter(pastes::id.eq(id))
        .select((PasteRow::as_select(), users::username.nullable()))
        .first(conn)
        .await
        .optional()?;
    Ok(found.map(|(row, author)| PasteMeta { row, author }))
}

/// Metadata, author and stored body of a paste, whatever its state (callers check expiry).
pub async fn find_with_body(
    conn: &mut AsyncPgConnection,
    id: &str,
) -> QueryResult<Option<PasteWithBody>> {
    count_body_read();
    let found: Option<(PasteRow, Option<String>, Option<Vec<u8>>)> = pastes::table
        .left_join(users::table.on(users::id.nullable().eq(pastes::owner_id)))
        .filter(pastes::id.eq(id))
        .select((
            PasteRow::as_select(),
            users::username.nullable(),
            pastes::body,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(found.map(|(row, author, body)| PasteWithBody {
        meta: PasteMeta { row, author },
        body,
    }))
}

/// The paste a client created earlier with the same idempotency key, if any.
pub async fn find_by_idempotency_key(
    conn: &mut AsyncPgConnection,
    owner: Option<Uuid>,
    key: &str,
) -> QueryResult<Option<PasteWithBody>> {
    count_body_read();
    let query = pastes::table
        .left_join(users::table.on(users::id.nullable().eq(pastes::owner_id)))
        .filter(pastes::idempotency_key.eq(key))
        .select((
            PasteRow::as_select(),
            users::username.nullable(),
            pastes::body,
        ))
        .into_boxed();
    let query = match owner {
        Some(owner) => query.filter(pastes::owner_id.eq(owner)),
        None => query.filter(pastes::owner_id.is_null()),
    };
    let found: Option<(PasteRow, Option<String>, Option<Vec<u8>>)> =
        query.first(conn).await.optional()?;
    Ok(found.map(|(row, author, body)| PasteWithBody {
        meta: PasteMeta { row, author },
        body,
    }))
}

/// Who may delete: the owner, or the holder of the delete token.
pub struct DeleteProof<'a> {
    pub owner: Option<Uuid>,
    pub token_sha256: Option<&'a [u8]>,
}

pub enum DeleteOutcome {
    Deleted { in_blob: bool },
    NotAllowed,
    Missing,
}

/// Deletes a paste when the proof matches, in one statement.
pub async fn delete_authorized(
    conn: &mut AsyncPgConnection,
    id: &str,
    proof: DeleteProof<'_>,
) -> QueryResult<DeleteOutcome> {
    if proof.owner.is_none() && proof.token_sha256.is_none() {
        return Ok(if exists(conn, id).await? {
            DeleteOutcome::NotAllowed
        } else {
            DeleteOutcome::Missing
        });
    }
    let mut query = diesel::delete(pastes::table)
        .filter(pastes::id.eq(id))
        .into_boxed();
    query = match (proof.owner, proof.token_sha256) {
        (Some(owner), Some(token)) => query.filter(
            pastes::owner_id
                .eq(owner)
                .or(pastes::delete_token_sha256.eq(token)),
        ),
        (Some(owner), None) => query.filter(pastes::owner_id.eq(owner)),
        (None, Some(token)) => query.filter(pastes::delete_token_sha256.eq(token)),
        (None, None) => unreachable!("checked above"),
    };
    let deleted: Option<bool> = query
        .returning(pastes::in_blob)
        .get_result(conn)
        .await
        .optional()?;
    Ok(match deleted {
        Some(in_blob) => DeleteOutcome::Deleted { in_blob },
        None if exists(conn, id).await? => DeleteOutcome::NotAllowed,
        None => DeleteOutcome::Missing,
    })
}

/// Whether a paste row exists (whatever its state).
pub async fn exists(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(pastes::table.filter(pastes::id.eq(id))))
        .get_result(conn)
        .await
}

/// Claims a burn-after-reading paste: deletes it and returns it, atomically. Of concurrent
/// callers exactly one gets `Some`.
pub async fn claim_burn(
    conn: &mut AsyncPgConnection,
    id: &str,
) -> QueryResult<Option<PasteWithBody>> {
    count_body_read();
    let claimed: Option<(PasteRow, Option<Vec<u8>>)> = diesel::delete(pastes::table)
        .filter(pastes::id.eq(id))
        .filter(pastes::burn_after_reading.eq(true))
        .filter(pastes::expires_at.is_null().or(pastes::expires_at.gt(now)))
        .returning((PasteRow::as_returning(), pastes::body))
        .get_result(conn)
        .await
        .optional()?;
    with_author(conn, claimed).await
}

/// Consumes one view of a `maxViews` paste and returns it; `None` when none is left (or it
/// is gone). The row is updated atomically, so N concurrent readers of a paste with k views
/// left give exactly k successes.
pub async fn claim_view(
    conn: &mut AsyncPgConnection,
    id: &str,
) -> QueryResult<Option<PasteWithBody>> {
    count_body_read();
    let claimed: Option<(PasteRow, Option<Vec<u8>>)> = diesel::update(pastes::table)
        .filter(pastes::id.eq(id))
        .filter(pastes::max_views.is_not_null())
        .filter(pastes::views_used.nullable().lt(pastes::max_views))
        .filter(pastes::expires_at.is_null().or(pastes::expires_at.gt(now)))
        .set(pastes::views_used.eq(pastes::views_used + 1))
        .returning((PasteRow::as_returning(), pastes::body))
        .get_result(conn)
        .await
        .optional()?;
    with_author(conn, claimed).await
}

/// Removes a `maxViews` paste whose views are all used. Returns whether its body is in the
/// object store (for the caller to delete it), or `None` when nothing was deleted.
pub async fn delete_if_exhausted(
    conn: &mut AsyncPgConnection,
    id: &str,
) -> QueryResult<Option<bool>> {
    diesel::delete(pastes::table)
        .filter(pastes::id.eq(id))
        .filter(pastes::views_used.nullable().ge(pastes::max_views))
        .returning(pastes::in_blob)
        .get_result(conn)
        .await
        .optional()
}

async fn with_author(
    conn: &mut AsyncPgConnection,
    claimed: Option<(PasteRow, Option<Vec<u8>>)>,
) -> QueryResult<Option<PasteWithBody>> {
    let Some((row, body)) = claimed else {
        return Ok(None);
    };
    let author = match row.owner_id {
        Some(owner) => users::table
            .find(owner)
            .select(users::username)
            .first(conn)
            .await
            .optional()?,
        None => None,
    };
    Ok(Some(PasteWithBody {
        meta: PasteMeta { row, author },
        body,
    }))
}

/// Keyset position in a newest-first listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListCursor {
    pub created_at: DateTime<Utc>,
    pub id: String,
}

/// Whose pastes a listing shows.
#[derive(Clone, Copy, Debug)]
pub enum Listing {
    Public,
    Owner(Uuid),
}

/// Live pastes, newest first, after the cursor; at most `limit`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    listing: Listing,
    after: Option<&ListCursor>,
    limit: i64,
) -> QueryResult<Vec<PasteMeta>> {
    let mut query = pastes::table
        .left_join(users::table.on(users::id.nullable().eq(pastes::owner_id)))
        .filter(pastes::expires_at.is_null().or(pastes::expires_at.gt(now)))
        .filter(
            pastes::max_views
                .is_null()
                .or(pastes::views_used.nullable().lt(pastes::max_views)),
        )
        .select((PasteRow::as_select(), users::username.nullable()))
        .order((pastes::created_at.desc(), pastes::id.desc()))
        .limit(limit)
        .into_boxed();
    query = match listing {
        // Burn-after-reading pastes are never listed publicly: a listing is not a reader.
        Listing::Public => query
            .filter(pastes::visibility.eq(0))
            .filter(pastes::burn_after_reading.eq(false)),
        Listing::Owner(owner) => query.filter(pastes::owner_id.eq(owner)),
    };
    if let Some(c) = after {
        query = query.filter(
            pastes::created_at.lt(c.created_at).or(pastes::created_at
                .eq(c.created_at)
                .and(pastes::id.lt(c.id.clone()))),
        );
    }
    let rows: Vec<(PasteRow, Option<String>)> = query.load(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(row, author)| PasteMeta { row, author })
        .collect())
}

#[derive(diesel::QueryableByName)]
struct Swept {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    in_blob: bool,
}

/// Deletes up to `limit` expired pastes (and `maxViews` pastes with no views left) and
/// returns `(id, in_blob)` of each. Concurrent sweepers skip each other's rows instead of
/// waiting on them.
pub async fn delete_expired(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> QueryResult<Vec<(String, bool)>> {
    let swept: Vec<Swept> = diesel::sql_query(
        "DELETE FROM pastes WHERE id IN ( \
             SELECT id FROM pastes \
             WHERE expires_at <= now() OR (max_views IS NOT NULL AND views_used >= max_views) \
             LIMIT $1 FOR UPDATE SKIP LOCKED) \
         RETURNING id, in_blob",
    )
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
    .await?;
    Ok(swept.into_iter().map(|s| (s.id, s.in_blob)).collect())
}

/// The subset of `ids` that still have a row.
pub async fn existing_ids(
    conn: &mut AsyncPgConnection,
    ids: &[String],
) -> QueryResult<Vec<String>> {
    pastes::table
        .select(pastes::id)
        .filter(pastes::id.eq_any(ids))
        .load(conn)
        .await
}
