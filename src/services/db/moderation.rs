//! Queries of moderation: hiding pastes, bans, reports and the audit log. Every admin action
//! writes its audit record in the transaction that does it, so the log cannot miss one.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::result::Error as DieselError;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, NullableExpressionMethods,
    OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::{LogRow, NewLogRow, NewReport, ReportRow};
use super::schema::{moderation_log, paste_reports, pastes, users};

type QueryResult<T> = Result<T, DieselError>;

/// Keyset position in a listing by (time, id).
#[derive(Clone, Copy, Debug)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

pub async fn insert_report(conn: &mut AsyncPgConnection, new: &NewReport<'_>) -> QueryResult<()> {
    diesel::insert_into(paste_reports::table)
        .values(new)
        .execute(conn)
        .await
        .map(drop)
}

/// Open reports, oldest first, after the cursor, with the reporter's name.
pub async fn open_reports(
    conn: &mut AsyncPgConnection,
    after: Option<Cursor>,
    limit: i64,
) -> QueryResult<Vec<(ReportRow, Option<String>)>> {
    let mut query = paste_reports::table
        .left_join(users::table.on(users::id.nullable().eq(paste_reports::reporter_id)))
        .filter(paste_reports::resolved_at.is_null())
        .order((paste_reports::created_at, paste_reports::id))
        .limit(limit)
        .select((ReportRow::as_select(), users::username.nullable()))
        .into_boxed();
    if let Some(c) = after {
        query = query.filter(
            paste_reports::created_at
                .gt(c.at)
                .or(paste_reports::created_at
                    .eq(c.at)
                    .and(paste_reports::id.gt(c.id))),
        );
    }
    query.load(conn).await
}

/// The audit log, newest first, after the cursor.
pub async fn log_page(
    conn: &mut AsyncPgConnection,
    after: Option<Cursor>,
    limit: i64,
) -> QueryResult<Vec<LogRow>> {
    let mut query = moderation_log::table
        .order((moderation_log::at.desc(), moderation_log::id.desc()))
        .limit(limit)
        .select(LogRow::as_select())
        .into_boxed();
    if let Some(c) = after {
        query = query.filter(
            moderation_log::at
                .lt(c.at)
                .or(moderation_log::at.eq(c.at).and(moderation_log::id.lt(c.id))),
        );
    }
    query.load(conn).await
}

async fn log(conn: &mut AsyncPgConnection, entry: &NewLogRow<'_>) -> QueryResult<()> {
    diesel::insert_into(moderation_log::table)
        .values(entry)
        .execute(conn)
        .await
        .map(drop)
}

/// Resolves the open reports of these pastes.
async fn resolve_reports_of(
    conn: &mut AsyncPgConnection,
    paste_ids: &[String],
    by: Option<Uuid>,
    resolution: &str,
) -> QueryResult<()> {
    diesel::update(paste_reports::table)
        .filter(paste_reports::paste_id.eq_any(paste_ids))
        .filter(paste_reports::resolved_at.is_null())
        .set((
            paste_reports::resolved_at.eq(now),
            paste_reports::resolved_by.eq(by),
            paste_reports::resolution.eq(resolution),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Hides a live paste (and resolves its reports). `false`: no such paste, or already hidden.
pub async fn hide(
    conn: &mut AsyncPgConnection,
    id: &str,
    entry: &NewLogRow<'_>,
) -> QueryResult<bool> {
    conn.transaction(async |c| {
        let n = diesel::update(pastes::table)
            .filter(pastes::id.eq(id))
            .filter(pastes::hidden_at.is_null())
            .set(pastes::hidden_at.eq(now))
            .execute(c)
            .await?;
        if n == 0 {
            return Ok(false);
        }
        resolve_reports_of(c, &[id.to_owned()], entry.actor_id, "hidden").await?;
        log(c, entry).await?;
        Ok(true)
    })
    .await
}

/// Shows a hidden paste again; its current revision, or `None` when there is no such paste
/// or it is not hidden.
pub async fn unhide(
    conn: &mut AsyncPgConnection,
    id: &str,
    entry: &NewLogRow<'_>,
) -> QueryResult<Option<i32>> {
    conn.transaction(async |c| {
        let revision: Option<i32> = diesel::update(pastes::table)
            .filter(pastes::id.eq(id))
            .filter(pastes::hidden_at.is_not_null())
            .set((
                pastes::hidden_at.eq(None::<DateTime<Utc>>),
                pastes::hidden_by_ban.eq(false),
            ))
            .returning(pastes::revision)
            .get_result(c)
            .await
            .optional()?;
        if revision.is_some() {
            log(c, entry).await?;
        }
        Ok(revision)
    })
    .await
}

/// Deletes any paste (resolving its reports); its object keys, or `None` when there is none.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    id: &str,
    entry: &NewLogRow<'_>,
) -> QueryResult<Option<Vec<String>>> {
    conn.transaction(async |c| {
        let Some(keys) = super::pastes::delete_any(c, id).await? else {
            return Ok(None);
        };
        resolve_reports_of(c, &[id.to_owned()], entry.actor_id, "deleted").await?;
        log(c, entry).await?;
        Ok(Some(keys))
    })
    .await
}

/// Bans an account and hides its visible pastes (marked as hidden by the ban). Returns the
/// ids hidden, or `None` when there is no such account or it is banned already.
pub async fn ban(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    entry: &NewLogRow<'_>,
) -> QueryResult<Option<Vec<String>>> {
    conn.transaction(async |c| {
        let n = diesel::update(users::table)
            .filter(users::id.eq(user_id))
            .filter(users::banned_at.is_null())
            .set(users::banned_at.eq(now))
            .execute(c)
            .await?;
        if n == 0 {
            return Ok(None);
        }
        let hidden: Vec<String> = diesel::update(pastes::table)
            .filter(pastes::owner_id.eq(user_id))
            .filter(pastes::hidden_at.is_null())
            .set((pastes::hidden_at.eq(now), pastes::hidden_by_ban.eq(true)))
            .returning(pastes::id)
            .get_results(c)
            .await?;
        resolve_reports_of(c, &hidden, entry.actor_id, "banned").await?;
        log(c, entry).await?;
        Ok(Some(hidden))
    })
    .await
}

/// Lifts a ban and shows again the pastes it hid. Returns their ids and revisions, or `None`
/// when there is no such account or it is not banned.
pub async fn unban(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    entry: &NewLogRow<'_>,
) -> QueryResult<Option<Vec<(String, i32)>>> {
    conn.transaction(async |c| {
        let n = diesel::update(users::table)
            .filter(users::id.eq(user_id))
            .filter(users::banned_at.is_not_null())
            .set(users::banned_at.eq(None::<DateTime<Utc>>))
            .execute(c)
            .await?;
        if n == 0 {
            return Ok(None);
        }
        let shown: Vec<(String, i32)> = diesel::update(pastes::table)
            .filter(pastes::owner_id.eq(user_id))
            .filter(pastes::hidden_by_ban.eq(true))
            .set((
                pastes::hidden_at.eq(None::<DateTime<Utc>>),
                pastes::hidden_by_ban.eq(false),
            ))
            .returning((pastes::id, pastes::revision))
            .get_results(c)
            .await?;
        log(c, entry).await?;
        Ok(Some(shown))
    })
    .await
}

/// Dismisses one open report. `false`: no such open report.
pub async fn dismiss(
    conn: &mut AsyncPgConnection,
    report: Uuid,
    entry: &NewLogRow<'_>,
) -> QueryResult<bool> {
    conn.transaction(async |c| {
        let n = diesel::update(paste_reports::table)
            .filter(paste_reports::id.eq(report))
            .filter(paste_reports::resolved_at.is_null())
            .set((
                paste_reports::resolved_at.eq(now),
                paste_reports::resolved_by.eq(entry.actor_id),
                paste_reports::resolution.eq("dismissed"),
            ))
            .execute(c)
            .await?;
        if n == 0 {
            return Ok(false);
        }
        log(c, entry).await?;
        Ok(true)
    })
    .await
}

/// An account's id and name as registered, by its name (without regard to case).
pub async fn user_by_name(
    conn: &mut AsyncPgConnection,
    username: &str,
) -> QueryResult<Option<(Uuid, String)>> {
    diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);
    users::table
        .filter(lower(users::username).eq(username.to_lowercase()))
        .select((users::id, users::username))
        .first(conn)
        .await
        .optional()
}
