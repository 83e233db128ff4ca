//! Queries on `access_tokens`.

use chrono::{DateTime, Utc};
use diesel::result::Error as DieselError;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::{AccessTokenRow, NewAccessToken};
use super::schema::{access_tokens, users};

type QueryResult<T> = Result<T, DieselError>;

/// A token found by its digest, with what the caller needs of its account.
pub struct TokenOwner {
    pub token: AccessTokenRow,
    pub username: String,
    pub banned_at: Option<DateTime<Utc>>,
    pub idp_admin: bool,
}

/// Inserts a token unless the user already has `max` of them (checked under a lock on the
/// user's row, so concurrent creates cannot pass the cap). Returns whether it was inserted.
pub async fn insert_capped(
    conn: &mut AsyncPgConnection,
    new: &NewAccessToken<'_>,
    max: i64,
) -> QueryResult<bool> {
    conn.transaction(async |c| {
        users::table
            .find(new.user_id)
            .select(users::id)
            .for_update()
            .first::<Uuid>(c)
            .await?;
        let n: i64 = access_tokens::table
            .filter(access_tokens::user_id.eq(new.user_id))
            .count()
            .get_result(c)
            .await?;
        if n >= max {
            return Ok(false);
        }
        diesel::insert_into(access_tokens::table)
            .values(new)
            .execute(c)
            .await?;
        Ok(true)
    })
    .await
}

/// One user's tokens, newest first.
pub async fn of_user(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> QueryResult<Vec<AccessTokenRow>> {
    access_tokens::table
        .filter(access_tokens::user_id.eq(user_id))
        .order(access_tokens::created_at.desc())
        .select(AccessTokenRow::as_select())
        .load(conn)
        .await
}

/// Deletes one of a user's tokens; whether there was one.
pub async fn delete(conn: &mut AsyncPgConnection, user_id: Uuid, id: Uuid) -> QueryResult<bool> {
    let n = diesel::delete(access_tokens::table)
        .filter(access_tokens::id.eq(id))
        .filter(access_tokens::user_id.eq(user_id))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// The token with this digest and its owner (through the unique index on the digest).
pub async fn find_by_digest(
    conn: &mut AsyncPgConnection,
    digest: &[u8],
) -> QueryResult<Option<TokenOwner>> {
    let found: Option<(AccessTokenRow, String, Option<DateTime<Utc>>, bool)> = access_tokens::table
        .inner_join(users::table)
        .filter(access_tokens::secret_sha256.eq(digest))
        .select((
            AccessTokenRow::as_select(),
            users::username,
            users::banned_at,
            users::idp_admin,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(
        found.map(|(token, username, banned_at, idp_admin)| TokenOwner {
            token,
            username,
            banned_at,
            idp_admin,
        }),
    )
}

/// Records when tokens were last used (one statement for a batch); never moves a time back.
pub async fn record_uses(
    conn: &mut AsyncPgConnection,
    uses: &[(Uuid, DateTime<Utc>)],
) -> QueryResult<usize> {
    let (ids, times): (Vec<Uuid>, Vec<DateTime<Utc>>) = uses.iter().copied().unzip();
    diesel::sql_query(
        "UPDATE access_tokens t SET last_used_at = u.at \
         FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at) \
         WHERE t.id = u.id AND (t.last_used_at IS NULL OR t.last_used_at < u.at)",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Timestamptz>, _>(times)
    .execute(conn)
    .await
}
