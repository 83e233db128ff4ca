//! Rows as they come out of and go into the main database.

use chrono::{DateTime, Utc};
use diesel::{Insertable, Queryable, Selectable};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schema::{
    access_tokens, moderation_log, paste_files, paste_reports, paste_revisions, pastes, users,
};

/// A paste's metadata (everything but the bodies and the secrets). Title, language, size,
/// digest and file count are those of its current revision.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Serialize, Deserialize)]
#[diesel(table_name = pastes, check_for_backend(diesel::pg::Pg))]
pub struct PasteRow {
    pub id: String,
    pub owner_id: Option<Uuid>,
    pub title: Option<String>,
    pub language: Option<String>,
    pub visibility: i16,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub burn_after_reading: bool,
    pub max_views: Option<i32>,
    pub views_used: i32,
    /// Total UTF-8 bytes of the files.
    pub size_bytes: i32,
    /// sha256 of the revision (of one file's text for a one-file paste).
    pub content_sha256: Vec<u8>,
    /// The current revision's number.
    pub revision: i32,
    pub edited_at: Option<DateTime<Utc>>,
    pub forked_from: Option<String>,
    pub file_count: i16,
    /// End-to-end encrypted: its one file is the envelope (docs/encryption.md), title and
    /// language are NULL, and `size_bytes` is the ciphertext's.
    #[serde(default)]
    pub encrypted: bool,
    /// Hidden by an admin (or a ban): served to admins only. (Cache entries written before the
    /// column existed have none: `default`.)
    #[serde(default)]
    pub hidden_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = pastes)]
pub struct NewPasteRow {
    pub id: String,
    pub owner_id: Option<Uuid>,
    pub title: Option<String>,
    pub language: Option<String>,
    pub visibility: i16,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub burn_after_reading: bool,
    pub max_views: Option<i32>,
    pub size_bytes: i32,
    pub content_sha256: Vec<u8>,
    /// Legacy columns (see the files-and-revisions migration): always NULL and false now.
    pub body: Option<Vec<u8>>,
    pub in_blob: bool,
    pub delete_token_sha256: Option<Vec<u8>>,
    /// sha256 of the idempotency key and whose it is (see the idempotency migration).
    pub idempotency_scope: Option<Vec<u8>>,
    /// sha256 of the whole normalized input, for comparing a retry with the first create.
    pub input_sha256: Option<Vec<u8>>,
    pub revision: i32,
    pub forked_from: Option<String>,
    pub file_count: i16,
    pub encrypted: bool,
}

/// One file of a revision, without its body.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Serialize, Deserialize)]
#[diesel(table_name = paste_files, check_for_backend(diesel::pg::Pg))]
pub struct FileRow {
    pub position: i16,
    pub name: String,
    pub language: Option<String>,
    pub size_bytes: i32,
    pub content_sha256: Vec<u8>,
    /// Key below the deployment's prefix when the body is in the object store.
    pub object_key: Option<String>,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = paste_files)]
pub struct NewFileRow {
    pub paste_id: String,
    pub revision: i32,
    pub position: i16,
    pub name: String,
    pub language: Option<String>,
    pub size_bytes: i32,
    pub content_sha256: Vec<u8>,
    pub body: Option<Vec<u8>>,
    pub object_key: Option<String>,
}

/// One revision of a paste, as its history lists it.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = paste_revisions, check_for_backend(diesel::pg::Pg))]
pub struct RevisionRow {
    pub number: i32,
    pub created_at: DateTime<Utc>,
    pub title: Option<String>,
    pub language: Option<String>,
    pub size_bytes: i32,
    pub content_sha256: Vec<u8>,
    pub file_count: i16,
    pub summary: String,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = paste_revisions)]
pub struct NewRevisionRow {
    pub paste_id: String,
    pub number: i32,
    pub created_at: DateTime<Utc>,
    pub title: Option<String>,
    pub language: Option<String>,
    pub size_bytes: i32,
    pub content_sha256: Vec<u8>,
    pub file_count: i16,
    pub summary: String,
    pub attempt: String,
}

/// Metadata plus the owner's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasteMeta {
    #[serde(flatten)]
    pub row: PasteRow,
    pub author: Option<String>,
}

/// A file and its stored body: zstd bytes when inline, `None` when in the object store.
#[derive(Debug)]
pub struct StoredFile {
    pub row: FileRow,
    pub body: Option<Vec<u8>>,
}

/// Metadata plus one revision's files with their stored bodies, in order.
#[derive(Debug)]
pub struct PasteWithFiles {
    pub meta: PasteMeta,
    pub files: Vec<StoredFile>,
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub password_hash: Option<String>,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub banned_at: Option<DateTime<Utc>>,
    /// The identity provider's admin claim at the last sign-in.
    pub idp_admin: bool,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: Uuid,
    pub username: &'a str,
    pub password_hash: Option<&'a str>,
    pub external_id: Option<&'a str>,
    pub created_at: DateTime<Utc>,
}

/// A personal access token (its digest stays in the database).
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = access_tokens, check_for_backend(diesel::pg::Pg))]
pub struct AccessTokenRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub scopes: i16,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = access_tokens)]
pub struct NewAccessToken<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: &'a str,
    pub scopes: i16,
    pub secret_sha256: &'a [u8],
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A report of a paste.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = paste_reports, check_for_backend(diesel::pg::Pg))]
pub struct ReportRow {
    pub id: Uuid,
    pub paste_id: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = paste_reports)]
pub struct NewReport<'a> {
    pub id: Uuid,
    pub paste_id: &'a str,
    pub reporter_id: Option<Uuid>,
    pub reason: &'a str,
    pub created_at: DateTime<Utc>,
}

/// One admin action in the audit log.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = moderation_log, check_for_backend(diesel::pg::Pg))]
pub struct LogRow {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_name: String,
    pub action: String,
    pub target: String,
    pub reason: String,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = moderation_log)]
pub struct NewLogRow<'a> {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_name: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub reason: &'a str,
}
