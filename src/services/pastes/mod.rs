//! The paste service: the rules every door (GraphQL, raw text, `POST /`, the REST API) and the
//! jobs share. One file per use case — [`create`], [`read`], [`edit`], [`fork`], [`delete`],
//! [`list`] — and the types they hand out here.
//!
//! A paste has revisions (immutable; the newest is current; an edit names the revision it
//! starts from and a stale one is refused with `CONFLICT`), and each revision has 1 to
//! [`MAX_FILES`] files ([`files`]). The paste's row holds the current revision's title,
//! language, size and digest, so metadata lookups and listings read one row; reading the
//! current revision's content is one query joining the row to its files by primary key (plus
//! the object store for large bodies).
//!
//! Read path: in-process cache → Redis → replica (primary when the replica lacks it) → object
//! store for large bodies → fill the caches. After any hit the paste is checked again: not
//! expired, views left, visible to this caller (a private paste of someone else is reported
//! exactly like a missing one). A lookup that does not need the content (ids, titles, counts,
//! statistics, subscriptions) never selects the body or touches the object store.
//! Burn-after-reading and `maxViews` pastes are never cached; their content is claimed
//! atomically on the primary.
//!
//! Write path: validate → compress → large bodies to the object store first, under keys of
//! their own attempt → INSERT on the primary (row, revision and files in one transaction) →
//! answer. A failed INSERT removes that attempt's objects; an INSERT whose outcome is unknown
//! (connection lost after COMMIT was sent) is resolved by looking the id up before answering,
//! and a client `idempotencyKey` makes a retry return the same paste. An edit is acknowledged
//! after the caches of every instance were told (as for a delete).

mod create;
mod delete;
mod edit;
mod encrypted;
mod files;
mod fork;
mod group_commit;
mod languages;
mod list;
mod read;
mod validate;

use std::sync::Arc;

use chrono::{DateTime, Utc};
pub use pastebin_envelope::Envelope;
use uuid::Uuid;

use super::blob::Blobs;
use super::budgets::Budgets;
use super::cache::PasteCache;
use super::cache::live_counts::LiveCounts;
use super::cache::watchers::Watchers;
use super::db::Db;
use super::db::models::{FileRow, PasteMeta, RevisionRow};
use super::invalidations;
use crate::caller::Viewer;
use crate::config::Config;
use crate::error::{AppError, AppResult};

use super::cache::CachedPaste;
pub use super::cache::Content;
pub use edit::{MAX_HISTORY_FACTOR, MAX_REVISIONS};
pub use files::{MAX_FILE_NAME_LEN, MAX_FILES, NewFile};
pub use list::MAX_PAGE;
pub use validate::{MAX_LANGUAGE_LEN, MAX_TITLE_LEN, MAX_VIEWS_LIMIT};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Listed in recent pastes.
    Public,
    /// Readable by anyone with the link.
    Unlisted,
    /// Owner only.
    Private,
}

impl Visibility {
    pub(crate) fn to_db(self) -> i16 {
        match self {
            Self::Public => 0,
            Self::Unlisted => 1,
            Self::Private => 2,
        }
    }

    pub(crate) fn from_db(v: i16) -> Self {
        match v {
            0 => Self::Public,
            1 => Self::Unlisted,
            _ => Self::Private,
        }
    }
}

/// What a client asks to create.
#[derive(Clone, Debug)]
pub struct NewPaste {
    /// A one-file paste: its text (the file is named after the language). Exactly one of
    /// `content` and `files` is given.
    pub content: Option<String>,
    /// The files of the paste, in order.
    pub files: Option<Vec<NewFile>>,
    /// An end-to-end encrypted paste's envelope (docs/encryption.md), instead of `content` or
    /// `files`; then `title` and `language` must be `None` (they are inside it).
    pub encrypted: Option<Envelope>,
    pub title: Option<String>,
    /// The paste's language; `None` with `files`: the first file's.
    pub language: Option<String>,
    /// Seconds from now; `None` = never.
    pub expires_in: Option<i64>,
    pub visibility: Visibility,
    pub burn_after_reading: bool,
    pub max_views: Option<i32>,
    pub idempotency_key: Option<String>,
}

impl NewPaste {
    /// An unlisted paste of `content` that never expires: what `POST /` and the REST API start
    /// from.
    pub fn text(content: String) -> Self {
        Self {
            content: Some(content),
            files: None,
            encrypted: None,
            title: None,
            language: None,
            expires_in: None,
            visibility: Visibility::Unlisted,
            burn_after_reading: false,
            max_views: None,
            idempotency_key: None,
        }
    }
}

/// An edit: a new revision of title, language and files, made from revision `base_revision`.
#[derive(Clone, Debug)]
pub struct Edit {
    /// The revision the edit starts from; when it is no longer the current one the edit is
    /// refused with `CONFLICT`.
    pub base_revision: i32,
    pub title: Option<String>,
    pub language: Option<String>,
    /// Exactly one of `content` (one file), `files` and `encrypted`, as for a create; an
    /// encrypted paste's edit is a new envelope (and a plain paste's is never one).
    pub content: Option<String>,
    pub files: Option<Vec<NewFile>>,
    pub encrypted: Option<Envelope>,
}

/// How a fork is made: from which revision (the current one by default), and the new paste's
/// visibility and expiry (the create rules apply).
#[derive(Clone, Debug)]
pub struct ForkOptions {
    pub revision: Option<i32>,
    pub visibility: Visibility,
    pub expires_in: Option<i64>,
}

/// A paste just created (or forked).
pub struct Created {
    pub paste: Paste,
    /// For anonymous pastes: the secret that allows deleting it, shown once.
    pub delete_token: Option<String>,
}

/// A paste a caller may see, as of one revision (the current one unless a revision was asked
/// for): its metadata, and its files' content when it was loaded with them.
#[derive(Clone, Debug)]
pub struct Paste {
    repr: Repr,
    /// The number of the paste's current revision.
    latest: i32,
}

#[derive(Clone, Debug)]
enum Repr {
    /// Metadata and content (a cache entry, or loaded with its bodies).
    Full(Arc<CachedPaste>),
    /// Metadata only.
    Meta(Arc<PasteMeta>),
}

impl Paste {
    fn full(entry: Arc<CachedPaste>) -> Self {
        let latest = entry.meta.row.revision;
        Self {
            repr: Repr::Full(entry),
            latest,
        }
    }

    fn meta_only(meta: PasteMeta) -> Self {
        let latest = meta.row.revision;
        Self {
            repr: Repr::Meta(Arc::new(meta)),
            latest,
        }
    }

    /// This paste as of an earlier revision (`latest` stays the current one's number).
    fn pinned(mut self, latest: i32) -> Self {
        self.latest = latest;
        self
    }

    fn meta(&self) -> &PasteMeta {
        match &self.repr {
            Repr::Full(entry) => &entry.meta,
            Repr::Meta(meta) => meta,
        }
    }

    pub fn id(&self) -> &str {
        &self.meta().row.id
    }

    pub fn title(&self) -> Option<&str> {
        self.meta().row.title.as_deref()
    }

    pub fn language(&self) -> Option<&str> {
        self.meta().row.language.as_deref()
    }

    pub fn visibility(&self) -> Visibility {
        Visibility::from_db(self.meta().row.visibility)
    }

    pub fn created_at(&self) -> DateTime<Utc> {
        self.meta().row.created_at
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.meta().row.expires_at
    }

    /// Size of the content in bytes (UTF-8), all files together; an encrypted paste's
    /// ciphertext.
    pub fn size_bytes(&self) -> i32 {
        self.meta().row.size_bytes
    }

    pub fn burn_after_reading(&self) -> bool {
        self.meta().row.burn_after_reading
    }

    pub fn max_views(&self) -> Option<i32> {
        self.meta().row.max_views
    }

    /// For `maxViews` pastes: how many reads remain.
    pub fn remaining_views(&self) -> Option<i32> {
        let row = &self.meta().row;
        row.max_views.map(|max| (max - row.views_used).max(0))
    }

    /// The owner's username; `None` for anonymous pastes.
    pub fn author(&self) -> Option<&str> {
        self.meta().author.as_deref()
    }

    pub fn owner_id(&self) -> Option<Uuid> {
        self.meta().row.owner_id
    }

    pub fn is_owned_by(&self, viewer: &Viewer) -> bool {
        is_owner(self.meta(), viewer)
    }

    /// When an admin hid it (only admins see a hidden paste).
    pub fn hidden_at(&self) -> Option<DateTime<Utc>> {
        self.meta().row.hidden_at
    }

    /// Burn-after-reading and `maxViews` pastes: never cached, their content claimed on read,
    /// never edited or forked.
    pub fn is_guarded(&self) -> bool {
        is_guarded(self.meta())
    }

    /// The number of the revision this paste shows.
    pub fn revision(&self) -> i32 {
        self.meta().row.revision
    }

    /// The number of the paste's current revision.
    pub fn latest_revision(&self) -> i32 {
        self.latest
    }

    /// When the revision shown was made by an edit; `None` for revision 1.
    pub fn edited_at(&self) -> Option<DateTime<Utc>> {
        self.meta().row.edited_at
    }

    /// The id of the paste this one was forked from, while that one exists.
    pub fn forked_from(&self) -> Option<&str> {
        self.meta().row.forked_from.as_deref()
    }

    pub fn file_count(&self) -> i32 {
        self.meta().row.file_count.into()
    }

    /// A strong validator of the whole revision (its files, names and languages).
    pub fn revision_tag(&self) -> bytes::Bytes {
        super::cache::content_tag(&self.meta().row.content_sha256)
    }

    /// The first file's text and its ETag, when this paste was loaded with its content. (A
    /// one-file paste's text; the REST API and `/raw/{id}` serve the first file of any paste.)
    pub fn content(&self) -> Option<&Content> {
        match &self.repr {
            Repr::Full(entry) => entry.first(),
            Repr::Meta(_) => None,
        }
    }

    /// The files with their content, when this paste was loaded with its content.
    pub fn files(&self) -> Option<Vec<PasteFile>> {
        match &self.repr {
            Repr::Full(entry) => Some(
                entry
                    .files
                    .iter()
                    .map(|f| PasteFile {
                        row: f.row.clone(),
                        content: Some(f.content.clone()),
                    })
                    .collect(),
            ),
            Repr::Meta(_) => None,
        }
    }

    /// Its position in a newest-first listing (an opaque cursor).
    pub fn cursor(&self) -> String {
        list::encode_cursor(self.meta())
    }
}

/// One file of a paste: its name, language and size, and its text when loaded.
#[derive(Clone, Debug)]
pub struct PasteFile {
    row: FileRow,
    content: Option<Content>,
}

impl PasteFile {
    pub fn name(&self) -> &str {
        &self.row.name
    }

    pub fn language(&self) -> Option<&str> {
        self.row.language.as_deref()
    }

    pub fn size_bytes(&self) -> i32 {
        self.row.size_bytes
    }

    /// The text and its ETag, when loaded.
    pub fn content(&self) -> Option<&Content> {
        self.content.as_ref()
    }
}

/// One revision in a paste's history.
#[derive(Clone, Debug)]
pub struct Revision(RevisionRow);

impl Revision {
    pub fn number(&self) -> i32 {
        self.0.number
    }

    pub fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    pub fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }

    pub fn language(&self) -> Option<&str> {
        self.0.language.as_deref()
    }

    pub fn size_bytes(&self) -> i32 {
        self.0.size_bytes
    }

    pub fn file_count(&self) -> i32 {
        self.0.file_count.into()
    }

    /// What changed from the revision before ("Edited main.rs; added notes.md").
    pub fn summary(&self) -> &str {
        &self.0.summary
    }
}

/// One page of a paste's revisions, newest first.
pub struct RevisionPage {
    pub items: Vec<Revision>,
    pub has_next: bool,
}

/// One page of a newest-first listing.
pub struct Page {
    pub items: Vec<Paste>,
    pub has_next: bool,
}

/// The paste service. Cheap to clone.
#[derive(Clone)]
pub struct Pastes {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    db: Db,
    blobs: Blobs,
    cache: PasteCache,
    counts: Arc<LiveCounts>,
    watchers: Arc<Watchers>,
    budgets: Budgets,
    /// New pastes are inserted through it, many to a transaction.
    commits: group_commit::GroupCommit,
}

impl Pastes {
    pub(super) fn new(
        config: Arc<Config>,
        db: Db,
        blobs: Blobs,
        cache: PasteCache,
        counts: Arc<LiveCounts>,
        watchers: Arc<Watchers>,
        budgets: Budgets,
    ) -> Self {
        let commits = group_commit::GroupCommit::start(db.clone());
        Self {
            inner: Arc::new(Inner {
                config,
                db,
                blobs,
                cache,
                counts,
                watchers,
                budgets,
                commits,
            }),
        }
    }

    /// After a paste's row is gone: its objects (of every revision), its cache entries
    /// everywhere, its live counter and watchers. Each step is idempotent; sweeps repeat what
    /// fails here. Returns once the caches are sure not to serve it (see
    /// `services::invalidations`), so a delete is acknowledged only then.
    pub(crate) async fn forget(&self, id: &str, object_keys: &[String]) {
        self.forget_all(&[(id.to_owned(), object_keys.to_vec())])
            .await;
    }

    /// [`Pastes::forget`] for many pastes at once (the expiry sweep): `(id, object keys)`.
    pub(crate) async fn forget_all(&self, gone: &[(String, Vec<String>)]) {
        use futures_util::{StreamExt, stream};
        let this = &self.inner;
        stream::iter(gone)
            .for_each_concurrent(16, |(id, keys)| self.remove_objects(id, keys))
            .await;
        let ids: Vec<String> = gone.iter().map(|(id, _)| id.clone()).collect();
        if !invalidations::deliver(&this.db, &this.cache, &ids).await {
            // Recorded in Postgres (by the delete's own transaction): once this grace is over,
            // every instance has read the record or stopped serving from its caches.
            tokio::time::sleep(invalidations::DELIVERY_GRACE).await;
        }
        for id in &ids {
            this.counts.forget(id).await;
            this.watchers.end(id);
        }
    }

    /// After a hide (an admin's, or a ban's): every instance's caches drop the pastes and
    /// their watchers end, as for a delete; returns once no cache serves them (see
    /// `services::invalidations`). The rows stay.
    pub(crate) async fn forget_hidden(&self, ids: &[String]) {
        let this = &self.inner;
        if ids.is_empty() {
            return;
        }
        if !invalidations::deliver(&this.db, &this.cache, ids).await {
            tokio::time::sleep(invalidations::DELIVERY_GRACE).await;
        }
        for id in ids {
            this.watchers.end(id);
        }
    }

    /// After an unhide: the caches may hold the paste again (its revision's tombstone lets
    /// fills land). Nothing to wait for: no cache held the hidden paste.
    pub(crate) async fn forget_unhidden(&self, shown: &[(String, i32)]) {
        let this = &self.inner;
        for (id, revision) in shown {
            invalidations::deliver_edited(&this.db, &this.cache, id, *revision).await;
        }
    }

    /// After an edit: every instance's caches drop the paste (as for a delete), and its
    /// revision watchers hear of the new revision.
    async fn forget_revision(&self, id: &str, revision: i32) {
        let this = &self.inner;
        if !invalidations::deliver_edited(&this.db, &this.cache, id, revision).await {
            // Recorded in Postgres by the edit's own transaction (see forget_all).
            tokio::time::sleep(invalidations::DELIVERY_GRACE).await;
        }
        this.watchers.revised(id, revision);
    }

    /// Removes objects (of a paste that is gone, or of an attempt that failed).
    async fn remove_objects(&self, id: &str, keys: &[String]) {
        let blobs = &self.inner.blobs;
        let removals = keys.iter().map(|key| async move {
            if let Err(e) = blobs.delete(key).await {
                tracing::warn!(paste.id = %id, key = %key, error = %e, "could not remove object; the orphan sweep will");
            }
        });
        futures_util::future::join_all(removals).await;
    }

    fn refuse_writes_when_read_only(&self) -> AppResult<()> {
        if self.inner.db.read_only() {
            return Err(AppError::read_only());
        }
        Ok(())
    }
}

/// Runs a write to completion on its own task: if the request that started it is dropped (the
/// client went away), the write and its clean-up still finish. Writes in progress are counted
/// in `pastebin_writes_in_flight` (from before the task starts until it ends).
pub(in crate::services) async fn detach<T: Send + 'static>(
    f: impl Future<Output = AppResult<T>> + Send + 'static,
) -> AppResult<T> {
    let in_flight = WriteInFlight::start();
    tokio::spawn(async move {
        let _in_flight = in_flight;
        f.await
    })
    .await
    .map_err(AppError::internal)?
}

struct WriteInFlight(metrics::Gauge);

impl WriteInFlight {
    fn start() -> Self {
        let gauge = metrics::gauge!("pastebin_writes_in_flight");
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for WriteInFlight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

fn is_guarded(meta: &PasteMeta) -> bool {
    meta.row.burn_after_reading || meta.row.max_views.is_some()
}

fn is_owner(meta: &PasteMeta, viewer: &Viewer) -> bool {
    meta.row.owner_id.is_some() && meta.row.owner_id == viewer.user_id()
}

/// Live and visible to this viewer; otherwise `NOT_FOUND`, whatever the reason. A paste an
/// admin hid is visible to admins only (for review), its owner included in "everyone else".
fn check_readable(meta: &PasteMeta, viewer: &Viewer, now: DateTime<Utc>) -> AppResult<()> {
    let row = &meta.row;
    let expired = row.expires_at.is_some_and(|t| t <= now);
    let used_up = row.max_views.is_some_and(|max| row.views_used >= max);
    let private =
        Visibility::from_db(row.visibility) == Visibility::Private && !is_owner(meta, viewer);
    let hidden = row.hidden_at.is_some() && !viewer.is_admin();
    if expired || used_up || private || hidden {
        Err(AppError::NotFound)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::{Credential, Role, Scopes, Standing, User};
    use crate::services::db::models::PasteRow;

    pub(super) fn meta(owner: Option<Uuid>, visibility: Visibility) -> PasteMeta {
        PasteMeta {
            row: PasteRow {
                id: "Ab3dE9xYz1".into(),
                owner_id: owner,
                title: None,
                language: None,
                visibility: visibility.to_db(),
                created_at: Utc::now(),
                expires_at: None,
                burn_after_reading: false,
                max_views: None,
                views_used: 0,
                size_bytes: 1,
                content_sha256: vec![],
                revision: 1,
                edited_at: None,
                forked_from: None,
                file_count: 1,
                hidden_at: None,
                encrypted: false,
            },
            author: None,
        }
    }

    fn user(id: Uuid, name: &str) -> Viewer {
        Viewer::User(User {
            id,
            username: name.into(),
            credential: Credential::Session,
            scopes: Scopes::ALL,
            standing: Standing::Active,
            role: Role::Member,
            expires_at: None,
        })
    }

    #[test]
    fn private_pastes_read_as_missing_to_everyone_but_the_owner() {
        let owner = Uuid::new_v4();
        let m = meta(Some(owner), Visibility::Private);
        let now = Utc::now();
        assert!(check_readable(&m, &user(owner, "alice"), now).is_ok());
        assert!(matches!(
            check_readable(&m, &user(Uuid::new_v4(), "bob"), now),
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            check_readable(&m, &Viewer::Anonymous, now),
            Err(AppError::NotFound)
        ));
    }

    #[test]
    fn expired_and_used_up_pastes_are_missing() {
        let now = Utc::now();
        let mut m = meta(None, Visibility::Public);
        m.row.expires_at = Some(now);
        assert!(check_readable(&m, &Viewer::Anonymous, now).is_err());
        m.row.expires_at = Some(now + chrono::Duration::seconds(1));
        assert!(check_readable(&m, &Viewer::Anonymous, now).is_ok());
        m.row.max_views = Some(2);
        m.row.views_used = 2;
        assert!(check_readable(&m, &Viewer::Anonymous, now).is_err());
    }
}
