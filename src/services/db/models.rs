//! Rows as they come out of and go into the main database.

use chrono::{DateTime, Utc};
use diesel::{Insertable, Queryable, Selectable};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schema::{pastes, users};

/// A paste's metadata (everything but the body and the secrets).
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
    pub size_bytes: i32,
    pub content_sha256: Vec<u8>,
    pub in_blob: bool,
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
    pub body: Option<Vec<u8>>,
    pub in_blob: bool,
    pub delete_token_sha256: Option<Vec<u8>>,
    pub idempotency_key: Option<String>,
}

/// Metadata plus the owner's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasteMeta {
    #[serde(flatten)]
    pub row: PasteRow,
    pub author: Option<String>,
}

/// Metadata plus the stored body: zstd bytes when inline, `None` when in the object store.
#[derive(Debug)]
pub struct PasteWithBody {
    pub meta: PasteMeta,
    pub body: Option<Vec<u8>>,
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub password_hash: Option<String>,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
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
