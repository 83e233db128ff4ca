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
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::{
    FileRow, NewFileRow, NewPasteRow, NewRevisionRow, PasteMeta, PasteRow, PasteWithFiles,
    RevisionRow, StoredFile,
};
use super::schema::{paste_files, paste_revisions, pastes, users};

type QueryResult<T> = Result<T, DieselError>;

/// Inserts a revision and its files (of an edit).
async fn insert_revision(
    conn: &mut AsyncPgConnection,
    revision: &NewRevisionRow,
    files: &[NewFileRow],
) -> QueryResult<()> {
    diesel::insert_into(paste_revisions::table)
        .values(revision)
        .execute(conn)
        .await?;
    diesel::insert_into(paste_files::table)
        .values(files)
        .execute(conn)
        .await?;
    Ok(())
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

type Joined = (PasteRow, Option<String>, FileRow, Option<Vec<u8>>);

fn gather(rows: Vec<Joined>) -> Option<PasteWithFiles> {
    let mut rows = rows.into_iter();
    let (row, author, file, body) = rows.next()?;
    let mut files = vec![StoredFile { row: file, body }];
    files.extend(rows.map(|(_, _, row, body)| StoredFile { row, body }));
    Some(PasteWithFiles {
        meta: PasteMeta { row, author },
        files,
    })
}

/// Metadata, author and the current revision's files with their stored bodies, whatever its
/// state (callers check expiry): one query, on the primary keys of `pastes` and `paste_files`.
pub async fn find_with_files(
    conn: &mut AsyncPgConnection,
    id: &str,
) -> QueryResult<Option<PasteWithFiles>> {
    count_body_read();
    let rows: Vec<Joined> = pastes::table
        .left_join(users::table.on(users::id.nullable().eq(pastes::owner_id)))
        .inner_join(
            paste_files::table.on(paste_files::paste_id
                .eq(pastes::id)
                .and(paste_files::revision.eq(pastes::revision))),
        )
        .filter(pastes::id.eq(id))
        .order(paste_files::position)
        .select((
            PasteRow::as_select(),
            users::username.nullable(),
            FileRow::as_select(),
            paste_files::body,
        ))
        .load(conn)
        .await?;
    Ok(gather(rows))
}

/// The files of one revision with their stored bodies (empty when there is no such revision).
pub async fn revision_files(
    conn: &mut AsyncPgConnection,
    id: &str,
    revision: i32,
) -> QueryResult<Vec<StoredFile>> {
    count_body_read();
    let rows: Vec<(FileRow, Option<Vec<u8>>)> = paste_files::table
        .filter(paste_files::paste_id.eq(id))
        .filter(paste_files::revision.eq(revision))
        .order(paste_files::position)
        .select((FileRow::as_select(), paste_files::body))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(row, body)| StoredFile { row, body })
        .collect())
}

/// The files of one revision without their bodies.
pub async fn file_list(
    conn: &mut AsyncPgConnection,
    id: &str,
    revision: i32,
) -> QueryResult<Vec<FileRow>> {
    paste_files::table
        .filter(paste_files::paste_id.eq(id))
        .filter(paste_files::revision.eq(revision))
        .order(paste_files::position)
        .select(FileRow::as_select())
        .load(conn)
        .await
}

/// One revision's row.
pub async fn revision(
    conn: &mut AsyncPgConnection,
    id: &str,
    number: i32,
) -> QueryResult<Option<RevisionRow>> {
    paste_revisions::table
        .filter(paste_revisions::paste_id.eq(id))
        .filter(paste_revisions::number.eq(number))
        .select(RevisionRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Revisions newest first, numbered below `before` (all when `None`); at most `limit`.
pub async fn revisions(
    conn: &mut AsyncPgConnection,
    id: &str,
    before: Option<i32>,
    limit: i64,
) -> QueryResult<Vec<RevisionRow>> {
    let mut query = paste_revisions::table
        .filter(paste_revisions::paste_id.eq(id))
        .order(paste_revisions::number.desc())
        .limit(limit)
        .select(RevisionRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(paste_revisions::number.lt(before));
    }
    query.load(conn).await
}

/// How many pastes name this one as their source.
pub async fn fork_count(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<i64> {
    pastes::table
        .filter(pastes::forked_from.eq(id))
        .count()
        .get_result(conn)
        .await
}

/// The paste a client created earlier with the same idempotency key, if any, with its
/// current revision's files.
/// A paste created earlier under an idempotency scope (see [`NewPasteRow::idempotency_scope`]):
/// its id, the digest of the input it was made with, and whether it is still live (not expired,
/// views left). Found through `pastes_idempotency_scope_idx`.
pub async fn find_by_idempotency_scope(
    conn: &mut AsyncPgConnection,
    scope: &[u8],
) -> QueryResult<Option<(String, Option<Vec<u8>>, bool)>> {
    let live = pastes::expires_at
        .is_null()
        .or(pastes::expires_at.gt(now))
        .and(
            pastes::max_views
                .is_null()
                .or(pastes::views_used.nullable().lt(pastes::max_views)),
        );
    let found: Option<(String, Option<Vec<u8>>, Option<bool>)> = pastes::table
        .filter(pastes::idempotency_scope.eq(scope))
        .select((pastes::id, pastes::input_sha256, live))
        .first(conn)
        .await
        .optional()?;
    Ok(found.map(|(id, input, live)| (id, input, live.unwrap_or(false))))
}

/// Frees an idempotency scope held by a paste that is no longer live (expired or used up, not
/// swept yet), so a new create with the same key is not blocked until the sweep runs.
pub async fn release_idempotency_scope(
    conn: &mut AsyncPgConnection,
    scope: &[u8],
) -> QueryResult<usize> {
    diesel::update(pastes::table)
        .filter(pastes::idempotency_scope.eq(scope))
        .filter(
            pastes::expires_at.le(now).or(pastes::max_views
                .is_not_null()
                .and(pastes::views_used.nullable().ge(pastes::max_views))),
        )
        .set(pastes::idempotency_scope.eq(None::<Vec<u8>>))
        .execute(conn)
        .await
}

/// Who may delete or edit: the owner, or the holder of the delete token.
#[derive(Clone, Copy)]
pub struct DeleteProof<'a> {
    pub owner: Option<Uuid>,
    pub token_sha256: Option<&'a [u8]>,
}

pub enum DeleteOutcome {
    /// Deleted; the object keys of all its revisions' files, for the caller to remove.
    Deleted {
        object_keys: Vec<String>,
    },
    NotAllowed,
    Missing,
}

/// The object keys of every revision of a paste.
async fn object_keys(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<Vec<String>> {
    let keys: Vec<Option<String>> = paste_files::table
        .filter(paste_files::paste_id.eq(id))
        .filter(paste_files::object_key.is_not_null())
        .select(paste_files::object_key)
        .load(conn)
        .await?;
    Ok(keys.into_iter().flatten().collect())
}

/// Locks a paste's row for the rest of the transaction (edits take the same lock, so the
/// object keys read next are all there are).
async fn lock(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<bool> {
    let found: Option<String> = pastes::table
        .filter(pastes::id.eq(id))
        .select(pastes::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

/// Deletes a paste when the proof matches, in one transaction, and returns its object keys.
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
    conn.transaction(async |c| {
        if !lock(c, id).await? {
            return Ok(DeleteOutcome::Missing);
        }
        let keys = object_keys(c, id).await?;
        // A hidden paste is kept for the admins' review: its owner cannot remove it.
        let query = diesel::delete(pastes::table)
            .filter(pastes::id.eq(id))
            .filter(pastes::hidden_at.is_null())
            .filter(authorized(proof));
        let deleted = query.execute(c).await?;
        Ok(if deleted == 1 {
            DeleteOutcome::Deleted { object_keys: keys }
        } else {
            DeleteOutcome::NotAllowed
        })
    })
    .await
}

/// Deletes a paste whatever its owner (an admin's removal), in the caller's transaction;
/// returns its object keys, or `None` when there is no such paste.
pub async fn delete_any(
    conn: &mut AsyncPgConnection,
    id: &str,
) -> QueryResult<Option<Vec<String>>> {
    if !lock(conn, id).await? {
        return Ok(None);
    }
    let keys = object_keys(conn, id).await?;
    diesel::delete(pastes::table.filter(pastes::id.eq(id)))
        .execute(conn)
        .await?;
    Ok(Some(keys))
}

type Authorized = Box<
    dyn diesel::BoxableExpression<
            pastes::table,
            diesel::pg::Pg,
            SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>,
        >,
>;

/// The owner, or the holder of the delete token (nothing matches without either).
fn authorized(proof: DeleteProof<'_>) -> Authorized {
    match (proof.owner, proof.token_sha256) {
        (Some(owner), Some(token)) => Box::new(
            pastes::owner_id
                .eq(owner)
                .or(pastes::delete_token_sha256.eq(token.to_vec())),
        ),
        (Some(owner), None) => Box::new(pastes::owner_id.eq(owner)),
        (None, Some(token)) => Box::new(pastes::delete_token_sha256.eq(token.to_vec())),
        (None, None) => Box::new(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::Bool>,
        >("false")),
    }
}

/// Whether a paste row exists (whatever its state).
pub async fn exists(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(pastes::table.filter(pastes::id.eq(id))))
        .get_result(conn)
        .await
}

/// Whether a revision written by this attempt exists (an edit whose answer was lost).
pub async fn revision_exists(
    conn: &mut AsyncPgConnection,
    id: &str,
    number: i32,
    attempt: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        paste_revisions::table
            .filter(paste_revisions::paste_id.eq(id))
            .filter(paste_revisions::number.eq(number))
            .filter(paste_revisions::attempt.eq(attempt)),
    ))
    .get_result(conn)
    .await
}

/// Claims a burn-after-reading paste: deletes it and returns it with its files, atomically.
/// Of concurrent callers exactly one gets `Some` (the others wait on the row lock, then find
/// it gone).
pub async fn claim_burn(
    conn: &mut AsyncPgConnection,
    id: &str,
) -> QueryResult<Option<PasteWithFiles>> {
    count_body_read();
    conn.transaction(async |c| {
        let row: Option<PasteRow> = pastes::table
            .filter(pastes::id.eq(id))
            .filter(pastes::burn_after_reading.eq(true))
            .filter(pastes::hidden_at.is_null())
            .filter(pastes::expires_at.is_null().or(pastes::expires_at.gt(now)))
            .select(PasteRow::as_select())
            .for_update()
            .first(c)
            .await
            .optional()?;
        let Some(row) = row else { return Ok(None) };
        let files = revision_files(c, id, row.revision).await?;
        diesel::delete(pastes::table.filter(pastes::id.eq(id)))
            .execute(c)
            .await?;
        with_author(c, row, files).await.map(Some)
    })
    .await
}

/// Consumes one view of a `maxViews` paste and returns it with its files; `None` when none is
/// left (or it is gone). The row is updated atomically, so N concurrent readers of a paste with
/// k views left give exactly k successes.
pub async fn claim_view(
    conn: &mut AsyncPgConnection,
    id: &str,
) -> QueryResult<Option<PasteWithFiles>> {
    count_body_read();
    conn.transaction(async |c| {
        let claimed: Option<PasteRow> = diesel::update(pastes::table)
            .filter(pastes::id.eq(id))
            .filter(pastes::max_views.is_not_null())
            .filter(pastes::hidden_at.is_null())
            .filter(pastes::views_used.nullable().lt(pastes::max_views))
            .filter(pastes::expires_at.is_null().or(pastes::expires_at.gt(now)))
            .set(pastes::views_used.eq(pastes::views_used + 1))
            .returning(PasteRow::as_returning())
            .get_result(c)
            .await
            .optional()?;
        let Some(row) = claimed else { return Ok(None) };
        let files = revision_files(c, id, row.revision).await?;
        with_author(c, row, files).await.map(Some)
    })
    .await
}

/// Removes a `maxViews` paste whose views are all used. Returns its object keys (for the
/// caller to delete), or `None` when nothing was deleted.
pub async fn delete_if_exhausted(
    conn: &mut AsyncPgConnection,
    id: &str,
) -> QueryResult<Option<Vec<String>>> {
    conn.transaction(async |c| {
        if !lock(c, id).await? {
            return Ok(None);
        }
        let keys = object_keys(c, id).await?;
        let deleted = diesel::delete(pastes::table)
            .filter(pastes::id.eq(id))
            .filter(pastes::views_used.nullable().ge(pastes::max_views))
            .execute(c)
            .await?;
        Ok((deleted == 1).then_some(keys))
    })
    .await
}

async fn with_author(
    conn: &mut AsyncPgConnection,
    row: PasteRow,
    files: Vec<StoredFile>,
) -> QueryResult<PasteWithFiles> {
    let author = match row.owner_id {
        Some(owner) => users::table
            .find(owner)
            .select(users::username)
            .first(conn)
            .await
            .optional()?,
        None => None,
    };
    Ok(PasteWithFiles {
        meta: PasteMeta { row, author },
        files,
    })
}

/// What an edit writes on the paste's row: the new current revision's summary.
pub struct Head {
    pub title: Option<String>,
    pub language: Option<String>,
    pub size_bytes: i32,
    pub content_sha256: Vec<u8>,
    pub file_count: i16,
    pub edited_at: DateTime<Utc>,
}

/// Limits on a paste's history, checked in the edit's transaction.
#[derive(Clone, Copy)]
pub struct HistoryLimits {
    pub max_revisions: i64,
    pub max_total_bytes: i64,
}

pub enum EditOutcome {
    Edited(Box<PasteRow>),
    /// No such paste (or expired, or used up).
    Missing,
    /// Neither the owner nor the holder of the delete token.
    NotAllowed,
    /// Burn-after-reading and `maxViews` pastes cannot be edited.
    Guarded,
    /// The edit starts from an older revision than the current one.
    Conflict {
        current: i32,
    },
    TooManyRevisions,
    HistoryTooLarge,
}

/// An edit as the database sees it.
pub struct EditWrite<'a> {
    /// The revision the edit starts from.
    pub base: i32,
    pub proof: DeleteProof<'a>,
    pub head: &'a Head,
    pub revision: &'a NewRevisionRow,
    pub files: &'a [NewFileRow],
    pub limits: HistoryLimits,
}

/// Makes `revision` (numbered `base + 1`) the current revision of a paste, in one transaction,
/// if the proof matches, the paste is live and editable and its current revision is `base`.
pub async fn edit(
    conn: &mut AsyncPgConnection,
    id: &str,
    edit: &EditWrite<'_>,
) -> QueryResult<EditOutcome> {
    let EditWrite {
        base,
        proof,
        head,
        revision,
        files,
        limits,
    } = *edit;
    conn.transaction(async |c| {
        let row: Option<PasteRow> = pastes::table
            .filter(pastes::id.eq(id))
            .filter(pastes::hidden_at.is_null())
            .filter(pastes::expires_at.is_null().or(pastes::expires_at.gt(now)))
            .select(PasteRow::as_select())
            .for_update()
            .first(c)
            .await
            .optional()?;
        let Some(row) = row else {
            return Ok(EditOutcome::Missing);
        };
        let allowed: bool = diesel::select(diesel::dsl::exists(
            pastes::table
                .filter(pastes::id.eq(id))
                .filter(authorized(proof)),
        ))
        .get_result(c)
        .await?;
        if !allowed {
            return Ok(EditOutcome::NotAllowed);
        }
        if row.burn_after_reading || row.max_views.is_some() {
            return Ok(EditOutcome::Guarded);
        }
        if row.revision != base {
            return Ok(EditOutcome::Conflict {
                current: row.revision,
            });
        }
        let (count, total): (i64, Option<i64>) = paste_revisions::table
            .filter(paste_revisions::paste_id.eq(id))
            .select((
                diesel::dsl::count_star(),
                diesel::dsl::sum(paste_revisions::size_bytes),
            ))
            .first(c)
            .await?;
        if count >= limits.max_revisions {
            return Ok(EditOutcome::TooManyRevisions);
        }
        if total.unwrap_or(0) + i64::from(head.size_bytes) > limits.max_total_bytes {
            return Ok(EditOutcome::HistoryTooLarge);
        }
        insert_revision(c, revision, files).await?;
        let row = diesel::update(pastes::table.filter(pastes::id.eq(id)))
            .set((
                pastes::revision.eq(revision.number),
                pastes::title.eq(&head.title),
                pastes::language.eq(&head.language),
                pastes::size_bytes.eq(head.size_bytes),
                pastes::content_sha256.eq(&head.content_sha256),
                pastes::file_count.eq(head.file_count),
                pastes::edited_at.eq(head.edited_at),
            ))
            .returning(PasteRow::as_returning())
            .get_result(c)
            .await?;
        Ok(EditOutcome::Edited(Box::new(row)))
    })
    .await
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
        // Hidden pastes are listed to nobody (the public listing's index holds none).
        .filter(pastes::hidden_at.is_null())
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
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    object_key: Option<String>,
}

/// Deletes up to `limit` expired pastes (and `maxViews` pastes with no views left) and
/// returns each one's id and the object keys of all its revisions. Concurrent sweepers skip
/// each other's rows instead of waiting on them.
pub async fn delete_expired(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> QueryResult<Vec<(String, Vec<String>)>> {
    // The final SELECT sees the files as they were before the cascade (one snapshot).
    let swept: Vec<Swept> = diesel::sql_query(
        "WITH gone AS ( \
             DELETE FROM pastes WHERE id IN ( \
                 SELECT id FROM pastes \
                 WHERE expires_at <= now() OR (max_views IS NOT NULL AND views_used >= max_views) \
                 LIMIT $1 FOR UPDATE SKIP LOCKED) \
             RETURNING id) \
         SELECT gone.id, f.object_key FROM gone \
         LEFT JOIN paste_files f ON f.paste_id = gone.id AND f.object_key IS NOT NULL \
         ORDER BY gone.id",
    )
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
    .await?;
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for s in swept {
        match out.last_mut() {
            Some((id, keys)) if *id == s.id => keys.extend(s.object_key),
            _ => out.push((s.id, s.object_key.into_iter().collect())),
        }
    }
    Ok(out)
}

/// The subset of `keys` (object keys below the prefix) that a file row records.
pub async fn recorded_keys(
    conn: &mut AsyncPgConnection,
    keys: &[String],
) -> QueryResult<Vec<String>> {
    let found: Vec<Option<String>> = paste_files::table
        .select(paste_files::object_key)
        .filter(paste_files::object_key.eq_any(keys))
        .load(conn)
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// One new paste of a batch: its row, its first revision and that revision's files.
pub struct NewPasteWrite {
    pub paste: NewPasteRow,
    pub revision: NewRevisionRow,
    pub files: Vec<NewFileRow>,
}

/// What became of one paste of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchInsert {
    Inserted,
    /// Another paste holds the id.
    IdTaken,
    /// Another paste holds the idempotency key (possibly one of the same batch).
    KeyTaken,
}

/// Inserts many new pastes at once (group commit): one statement, one round trip, atomic
/// ([`super::batch_insert`]), whatever the batch's size. A paste that collides with another
/// (its id, its idempotency key) is skipped, not the batch; each gets its own outcome.
pub async fn insert_batch(
    conn: &mut AsyncPgConnection,
    batch: &[&NewPasteWrite],
) -> QueryResult<Vec<BatchInsert>> {
    let inserted: Vec<String> = super::batch_insert::InsertBatch::new(batch)
        .load(conn)
        .await?;
    // Of two with the same id in one batch, only the first is the one that went in.
    let mut inserted: std::collections::HashSet<String> = inserted.into_iter().collect();
    let mut outcomes: Vec<BatchInsert> = batch
        .iter()
        .map(|w| {
            if inserted.remove(&w.paste.id) {
                BatchInsert::Inserted
            } else {
                BatchInsert::IdTaken
            }
        })
        .collect();
    // Skipped pastes with a key: was it the key that was taken? (Rare: a retry racing its
    // first attempt, or two requests with one key in the same batch.)
    let taken_scopes: Vec<&[u8]> = batch
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == BatchInsert::IdTaken)
        .filter_map(|(w, _)| w.paste.idempotency_scope.as_deref())
        .collect();
    if !taken_scopes.is_empty() {
        let held: Vec<Option<Vec<u8>>> = pastes::table
            .filter(pastes::idempotency_scope.eq_any(&taken_scopes))
            .select(pastes::idempotency_scope)
            .load(conn)
            .await?;
        for (w, outcome) in batch.iter().zip(outcomes.iter_mut()) {
            if *outcome == BatchInsert::IdTaken
                && w.paste.idempotency_scope.is_some()
                && held.contains(&w.paste.idempotency_scope)
            {
                *outcome = BatchInsert::KeyTaken;
            }
        }
    }
    Ok(outcomes)
}
