//! The statement of a group commit ([`super::pastes::insert_batch`]): many new pastes, their
//! first revisions and their files in one statement.
//!
//! Each column travels as one array parameter and `unnest` turns the arrays back into rows, so
//! the statement's text is the same for every batch size: it is prepared once per connection
//! and then costs one round trip (a multi-row `VALUES` has a different text for every size, so
//! diesel prepares it anew each time: a round trip to prepare, one to execute, and Postgres
//! parses and plans thousands of parameters). The revisions and files are inserted by the same
//! statement, only for the pastes that went in (`RETURNING`), which also makes the whole batch
//! atomic without `BEGIN`/`COMMIT`: one round trip where there were eight.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, Binary, Bool, Int2, Int4, Nullable, Text, Timestamptz, Uuid};
use diesel::{QueryResult, serialize::ToSql, sql_types::HasSqlType};

use super::models::NewFileRow;
use super::pastes::NewPasteWrite;

/// One column's values, with the SQL that goes before its parameter.
struct Column<T> {
    sql: &'static str,
    values: Vec<T>,
}

fn column<T>(sql: &'static str, values: Vec<T>) -> Column<T> {
    Column { sql, values }
}

impl<T> Column<T> {
    fn walk<'b, ST>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>
    where
        ST: 'static,
        Pg: HasSqlType<ST>,
        Vec<T>: ToSql<Array<ST>, Pg>,
    {
        out.push_sql(self.sql);
        out.push_bind_param::<Array<ST>, _>(&self.values)
    }
}

/// `WITH p AS (INSERT INTO pastes … RETURNING id), r AS (…revisions…), f AS (…files…)
/// SELECT id FROM p`: the ids of the pastes that went in (a paste whose id or idempotency scope
/// is taken, by another paste or an earlier one of the batch, is skipped).
pub(super) struct InsertBatch<'a> {
    id: Column<&'a str>,
    owner_id: Column<Option<uuid::Uuid>>,
    title: Column<Option<&'a str>>,
    language: Column<Option<&'a str>>,
    visibility: Column<i16>,
    created_at: Column<DateTime<Utc>>,
    expires_at: Column<Option<DateTime<Utc>>>,
    burn_after_reading: Column<bool>,
    max_views: Column<Option<i32>>,
    size_bytes: Column<i32>,
    content_sha256: Column<&'a [u8]>,
    body: Column<Option<&'a [u8]>>,
    in_blob: Column<bool>,
    delete_token_sha256: Column<Option<&'a [u8]>>,
    idempotency_scope: Column<Option<&'a [u8]>>,
    input_sha256: Column<Option<&'a [u8]>>,
    revision: Column<i32>,
    forked_from: Column<Option<&'a str>>,
    file_count: Column<i16>,
    encrypted: Column<bool>,

    r_paste_id: Column<&'a str>,
    r_number: Column<i32>,
    r_created_at: Column<DateTime<Utc>>,
    r_title: Column<Option<&'a str>>,
    r_language: Column<Option<&'a str>>,
    r_size_bytes: Column<i32>,
    r_content_sha256: Column<&'a [u8]>,
    r_file_count: Column<i16>,
    r_summary: Column<&'a str>,
    r_attempt: Column<&'a str>,

    f_paste_id: Column<&'a str>,
    f_revision: Column<i32>,
    f_position: Column<i16>,
    f_name: Column<&'a str>,
    f_language: Column<Option<&'a str>>,
    f_size_bytes: Column<i32>,
    f_content_sha256: Column<&'a [u8]>,
    f_body: Column<Option<&'a [u8]>>,
    f_object_key: Column<Option<&'a str>>,
}

impl<'a> InsertBatch<'a> {
    pub(super) fn new(batch: &[&'a NewPasteWrite]) -> Self {
        Self {
            id: column("unnest(", each(batch, |w| w.paste.id.as_str())),
            owner_id: column(", ", each(batch, |w| w.paste.owner_id)),
            title: column(", ", each(batch, |w| w.paste.title.as_deref())),
            language: column(", ", each(batch, |w| w.paste.language.as_deref())),
            visibility: column(", ", each(batch, |w| w.paste.visibility)),
            created_at: column(", ", each(batch, |w| w.paste.created_at)),
            expires_at: column(", ", each(batch, |w| w.paste.expires_at)),
            burn_after_reading: column(", ", each(batch, |w| w.paste.burn_after_reading)),
            max_views: column(", ", each(batch, |w| w.paste.max_views)),
            size_bytes: column(", ", each(batch, |w| w.paste.size_bytes)),
            content_sha256: column(", ", each(batch, |w| w.paste.content_sha256.as_slice())),
            body: column(", ", each(batch, |w| w.paste.body.as_deref())),
            in_blob: column(", ", each(batch, |w| w.paste.in_blob)),
            delete_token_sha256: column(
                ", ",
                each(batch, |w| w.paste.delete_token_sha256.as_deref()),
            ),
            idempotency_scope: column(", ", each(batch, |w| w.paste.idempotency_scope.as_deref())),
            input_sha256: column(", ", each(batch, |w| w.paste.input_sha256.as_deref())),
            revision: column(", ", each(batch, |w| w.paste.revision)),
            forked_from: column(", ", each(batch, |w| w.paste.forked_from.as_deref())),
            file_count: column(", ", each(batch, |w| w.paste.file_count)),
            encrypted: column(", ", each(batch, |w| w.paste.encrypted)),

            r_paste_id: column("unnest(", each(batch, |w| w.revision.paste_id.as_str())),
            r_number: column(", ", each(batch, |w| w.revision.number)),
            r_created_at: column(", ", each(batch, |w| w.revision.created_at)),
            r_title: column(", ", each(batch, |w| w.revision.title.as_deref())),
            r_language: column(", ", each(batch, |w| w.revision.language.as_deref())),
            r_size_bytes: column(", ", each(batch, |w| w.revision.size_bytes)),
            r_content_sha256: column(", ", each(batch, |w| w.revision.content_sha256.as_slice())),
            r_file_count: column(", ", each(batch, |w| w.revision.file_count)),
            r_summary: column(", ", each(batch, |w| w.revision.summary.as_str())),
            r_attempt: column(", ", each(batch, |w| w.revision.attempt.as_str())),

            f_paste_id: column("unnest(", each_file(batch, |f| f.paste_id.as_str())),
            f_revision: column(", ", each_file(batch, |f| f.revision)),
            f_position: column(", ", each_file(batch, |f| f.position)),
            f_name: column(", ", each_file(batch, |f| f.name.as_str())),
            f_language: column(", ", each_file(batch, |f| f.language.as_deref())),
            f_size_bytes: column(", ", each_file(batch, |f| f.size_bytes)),
            f_content_sha256: column(", ", each_file(batch, |f| f.content_sha256.as_slice())),
            f_body: column(", ", each_file(batch, |f| f.body.as_deref())),
            f_object_key: column(", ", each_file(batch, |f| f.object_key.as_deref())),
        }
    }
}

/// One value per paste of the batch.
fn each<'a, T>(batch: &[&'a NewPasteWrite], f: impl Fn(&'a NewPasteWrite) -> T) -> Vec<T> {
    batch.iter().map(|w| f(w)).collect()
}

/// One value per file of the batch's pastes.
fn each_file<'a, T>(batch: &[&'a NewPasteWrite], f: impl Fn(&'a NewFileRow) -> T) -> Vec<T> {
    batch.iter().flat_map(|w| w.files.iter()).map(f).collect()
}

impl QueryFragment<Pg> for InsertBatch<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let o = &mut out;
        o.push_sql(
            "WITH p AS (INSERT INTO pastes (id, owner_id, title, language, visibility, \
             created_at, expires_at, burn_after_reading, max_views, size_bytes, content_sha256, \
             body, in_blob, delete_token_sha256, idempotency_scope, input_sha256, revision, \
             forked_from, file_count, encrypted) SELECT * FROM ",
        );
        self.id.walk::<Text>(o)?;
        self.owner_id.walk::<Nullable<Uuid>>(o)?;
        self.title.walk::<Nullable<Text>>(o)?;
        self.language.walk::<Nullable<Text>>(o)?;
        self.visibility.walk::<Int2>(o)?;
        self.created_at.walk::<Timestamptz>(o)?;
        self.expires_at.walk::<Nullable<Timestamptz>>(o)?;
        self.burn_after_reading.walk::<Bool>(o)?;
        self.max_views.walk::<Nullable<Int4>>(o)?;
        self.size_bytes.walk::<Int4>(o)?;
        self.content_sha256.walk::<Binary>(o)?;
        self.body.walk::<Nullable<Binary>>(o)?;
        self.in_blob.walk::<Bool>(o)?;
        self.delete_token_sha256.walk::<Nullable<Binary>>(o)?;
        self.idempotency_scope.walk::<Nullable<Binary>>(o)?;
        self.input_sha256.walk::<Nullable<Binary>>(o)?;
        self.revision.walk::<Int4>(o)?;
        self.forked_from.walk::<Nullable<Text>>(o)?;
        self.file_count.walk::<Int2>(o)?;
        self.encrypted.walk::<Bool>(o)?;
        o.push_sql(
            ") ON CONFLICT DO NOTHING RETURNING id), \
             r AS (INSERT INTO paste_revisions (paste_id, number, created_at, title, language, \
             size_bytes, content_sha256, file_count, summary, attempt) \
             SELECT * FROM ",
        );
        self.r_paste_id.walk::<Text>(o)?;
        self.r_number.walk::<Int4>(o)?;
        self.r_created_at.walk::<Timestamptz>(o)?;
        self.r_title.walk::<Nullable<Text>>(o)?;
        self.r_language.walk::<Nullable<Text>>(o)?;
        self.r_size_bytes.walk::<Int4>(o)?;
        self.r_content_sha256.walk::<Binary>(o)?;
        self.r_file_count.walk::<Int2>(o)?;
        self.r_summary.walk::<Text>(o)?;
        self.r_attempt.walk::<Text>(o)?;
        o.push_sql(
            ") AS r(paste_id) WHERE r.paste_id IN (SELECT id FROM p)), \
             f AS (INSERT INTO paste_files (paste_id, revision, position, name, language, \
             size_bytes, content_sha256, body, object_key) SELECT * FROM ",
        );
        self.f_paste_id.walk::<Text>(o)?;
        self.f_revision.walk::<Int4>(o)?;
        self.f_position.walk::<Int2>(o)?;
        self.f_name.walk::<Text>(o)?;
        self.f_language.walk::<Nullable<Text>>(o)?;
        self.f_size_bytes.walk::<Int4>(o)?;
        self.f_content_sha256.walk::<Binary>(o)?;
        self.f_body.walk::<Nullable<Binary>>(o)?;
        self.f_object_key.walk::<Nullable<Text>>(o)?;
        o.push_sql(") AS f(paste_id) WHERE f.paste_id IN (SELECT id FROM p)) SELECT id FROM p");
        Ok(())
    }
}

/// The text depends on nothing but the columns: diesel keeps it prepared, keyed by its SQL.
impl QueryId for InsertBatch<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for InsertBatch<'_> {
    type SqlType = Text;
}
