//! Reading a paste: metadata lookups, content reads, earlier revisions, its history, and
//! claiming guarded pastes.

use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use futures_util::Stream;

use super::{
    CachedPaste, Content, Paste, PasteFile, Pastes, Repr, Revision, RevisionPage, check_readable,
    detach, is_guarded, is_owner,
};
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::ids;
use crate::services::blob::{BlobError, codec};
use crate::services::budgets::Operation;
use crate::services::cache::watchers::RevisionEvent;
use crate::services::db::models::{FileRow, PasteMeta, PasteWithFiles, StoredFile};
use crate::services::db::pastes as q;

/// Most revisions on one page of a paste's history.
pub const MAX_REVISION_PAGE: i64 = 100;

impl Pastes {
    /// A paste this caller may see, metadata only: never loads the body. Charges one read.
    pub async fn find(&self, caller: &Caller, id: &str) -> AppResult<Paste> {
        self.find_at(caller, id, None, false).await
    }

    /// A paste this caller may see, with its content when the caller may have it without
    /// spending a view (a plain paste; a guarded paste of the caller's own), in one query.
    /// Charges one read; counts no view ([`Pastes::open`] does).
    pub async fn find_with_content(&self, caller: &Caller, id: &str) -> AppResult<Paste> {
        self.find_at(caller, id, None, true).await
    }

    /// [`Pastes::find`] / [`Pastes::find_with_content`] as of a revision (`None`: the current
    /// one). A revision the paste does not have is `NOT_FOUND`. Charges one read.
    pub async fn find_at(
        &self,
        caller: &Caller,
        id: &str,
        revision: Option<i32>,
        with_content: bool,
    ) -> AppResult<Paste> {
        self.inner.budgets.charge(caller, Operation::Read).await?;
        let current = self.lookup(caller, id, with_content).await?;
        match revision {
            None => Ok(current),
            Some(n) if n == current.revision() => Ok(current),
            Some(n) => self.pin(&current, n, with_content).await,
        }
    }

    /// The paste as of an earlier revision: that revision's title, language and size, and its
    /// files (with their bodies when asked). Earlier revisions are immutable and not cached.
    pub(super) async fn pin(
        &self,
        current: &Paste,
        number: i32,
        with_content: bool,
    ) -> AppResult<Paste> {
        if number < 1 || number > current.latest_revision() {
            return Err(AppError::NotFound);
        }
        let id = current.id();
        let rev = self
            .read_replica_then_primary(async |c| q::revision(c, id, number).await)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut meta = current.meta().clone();
        let row = &mut meta.row;
        row.title = rev.title;
        row.language = rev.language;
        row.size_bytes = rev.size_bytes;
        row.content_sha256 = rev.content_sha256;
        row.file_count = rev.file_count;
        row.revision = number;
        row.edited_at = (number > 1).then_some(rev.created_at);
        let latest = current.latest_revision();
        if !with_content || is_guarded(&meta) {
            return Ok(Paste::meta_only(meta).pinned(latest));
        }
        let stored = self
            .read_replica_then_primary(async |c| {
                let files = q::revision_files(c, id, number).await?;
                Ok((!files.is_empty()).then_some(files))
            })
            .await?
            .ok_or(AppError::NotFound)?;
        let (files, _) = self.load_files(&meta, stored).await?;
        Ok(Paste::full(Arc::new(CachedPaste::new(meta, files))).pinned(latest))
    }

    /// The content of a paste found for this caller (every file of its revision), counting
    /// the view. This is the reveal of a guarded paste (GraphQL `content` and `revealPaste`,
    /// `POST /raw/{id}`: never a GET): a burn-after-reading paste is claimed (exactly one caller
    /// gets it, then it is gone), a `maxViews` paste spends one of its views (atomically on the
    /// primary). Its owner reads it without spending anything.
    pub async fn open(&self, caller: &Caller, paste: &Paste) -> AppResult<Paste> {
        let meta = paste.meta();
        if !is_guarded(meta) {
            let opened = match &paste.repr {
                Repr::Full(_) => paste.clone(),
                Repr::Meta(_) => self.reload(caller, paste).await?,
            };
            self.inner.counts.record(&meta.row.id);
            return Ok(opened);
        }
        if is_owner(meta, &caller.viewer) {
            return match &paste.repr {
                Repr::Full(_) => Ok(paste.clone()),
                Repr::Meta(_) => self.reload(caller, paste).await,
            };
        }
        self.refuse_writes_when_read_only()?;
        let (this, id) = (self.clone(), meta.row.id.clone());
        if meta.row.burn_after_reading {
            return detach(async move { this.claim_burn(&id).await }).await;
        }
        let claimed = detach(async move { this.claim_view(&id).await }).await?;
        Ok(Paste::full(Arc::new(claimed)))
    }

    /// The content of a paste that came from a listing: charged per paste, then as
    /// [`Pastes::open`].
    pub async fn open_listed(&self, caller: &Caller, paste: &Paste) -> AppResult<Paste> {
        self.inner
            .budgets
            .charge(caller, Operation::ListedContent)
            .await?;
        let found = self.lookup(caller, paste.id(), true).await?;
        self.open(caller, &found).await
    }

    /// Raw text and the REST API: the first file's content, counting the view. A guarded
    /// paste (burn after reading, `maxViews`) of someone else is refused on these GET routes
    /// (and so on HEAD and conditional GETs), so a link preview cannot spend it.
    pub async fn read(&self, caller: &Caller, id: &str) -> AppResult<(Paste, Content)> {
        let paste = self.read_at(caller, id, None).await?;
        let content = paste
            .content()
            .cloned()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("an opened paste has content")))?;
        Ok((paste, content))
    }

    /// [`Pastes::read`] as of a revision, with every file: per-file raw text and downloads.
    pub async fn read_at(
        &self,
        caller: &Caller,
        id: &str,
        revision: Option<i32>,
    ) -> AppResult<Paste> {
        let paste = self.find_at(caller, id, revision, true).await?;
        self.open_for_get(caller, &paste).await
    }

    /// Opens a paste found for a GET door (raw, REST), counting the view. A guarded paste
    /// (burn after reading, `maxViews`) of someone else is refused with a hint (so HEAD and
    /// conditional GETs are too): a link preview cannot spend it.
    pub(super) async fn open_for_get(&self, caller: &Caller, paste: &Paste) -> AppResult<Paste> {
        if paste.is_guarded() && !paste.is_owned_by(&caller.viewer) {
            return Err(AppError::Forbidden(if paste.burn_after_reading() {
                "this paste is deleted after reading: reveal it with POST /raw/{id} or the revealPaste mutation"
            } else {
                "this paste can be read a limited number of times: reveal it with POST /raw/{id} or the revealPaste mutation"
            }));
        }
        self.open(caller, paste).await
    }

    /// Reveals a paste (`revealPaste`, `POST /raw/{id}`): its content, spending a view of a
    /// guarded paste as [`Pastes::open`] does.
    pub async fn reveal(&self, caller: &Caller, id: &str) -> AppResult<Paste> {
        let paste = self.find_with_content(caller, id).await?;
        self.open(caller, &paste).await
    }

    /// Claims a burn-after-reading paste: deletes it and returns it, atomically; of concurrent
    /// callers exactly one gets it.
    async fn claim_burn(&self, id: &str) -> AppResult<Paste> {
        let claimed = self
            .inner
            .db
            .write(async |c| q::claim_burn(c, id).await)
            .await?;
        let PasteWithFiles { meta, files } = claimed.ok_or(AppError::NotFound)?;
        let keys = object_keys(&files);
        let loaded = self.load_files(&meta, files).await;
        // Gone whether or not the body could be read: the claim is what counts.
        self.inner.counts.record(id);
        self.forget(id, &keys).await;
        tracing::info!(paste.id = %id, "burn-after-reading paste read and removed");
        Ok(Paste::full(Arc::new(CachedPaste::new(meta, loaded?.0))))
    }

    /// The files of a paste found for this caller (names, languages, sizes), without their
    /// content. Part of reading the paste: not charged.
    pub async fn file_list(&self, paste: &Paste) -> AppResult<Vec<PasteFile>> {
        if let Some(files) = paste.files() {
            return Ok(files
                .into_iter()
                .map(|f| PasteFile { content: None, ..f })
                .collect());
        }
        let (id, revision) = (paste.id(), paste.revision());
        let rows = self
            .read_replica_then_primary(async |c| {
                let rows = q::file_list(c, id, revision).await?;
                Ok((!rows.is_empty()).then_some(rows))
            })
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|row| PasteFile { row, content: None })
            .collect())
    }

    /// A page of a paste's revisions, newest first, before revision `before`. Charges one
    /// read (a page of a listing).
    pub async fn revisions(
        &self,
        caller: &Caller,
        paste: &Paste,
        first: i64,
        before: Option<i32>,
    ) -> AppResult<RevisionPage> {
        self.inner
            .budgets
            .charge(caller, Operation::ListPage)
            .await?;
        let first = first.clamp(1, MAX_REVISION_PAGE);
        let id = paste.id();
        let before = before.map(|b| b.min(paste.latest_revision() + 1));
        let mut rows = self
            .inner
            .db
            .read_prefer_primary(async |c| q::revisions(c, id, before, first + 1).await)
            .await?;
        let has_next = rows.len() as i64 > first;
        rows.truncate(first as usize);
        Ok(RevisionPage {
            items: rows.into_iter().map(Revision).collect(),
            has_next,
        })
    }

    /// How many forks were made of a paste: for its owner only (`None` for anyone else).
    pub async fn fork_count(&self, caller: &Caller, paste: &Paste) -> AppResult<Option<i64>> {
        if !paste.is_owned_by(&caller.viewer) {
            return Ok(None);
        }
        let id = paste.id();
        Ok(Some(
            self.inner
                .db
                .read_prefer_primary(async |c| q::fork_count(c, id).await)
                .await?,
        ))
    }

    /// The paste's current revision number now, then each new one; ends when the paste is
    /// gone. Charges one read (as a subscription).
    pub async fn watch_revisions(
        &self,
        caller: &Caller,
        id: &str,
    ) -> AppResult<impl Stream<Item = i32> + Send + 'static + use<>> {
        self.inner
            .budgets
            .charge(caller, Operation::Subscribe)
            .await?;
        let paste = self.lookup(caller, id, false).await?;
        let rx = self.inner.watchers.watch_revisions(id, paste.revision());
        let (this, caller, id) = (self.clone(), caller.clone(), id.to_owned());
        let start = (rx, None::<i32>);
        Ok(futures_util::stream::unfold(
            start,
            move |(mut rx, last)| {
                let (this, caller, id) = (this.clone(), caller.clone(), id.clone());
                async move {
                    loop {
                        if last.is_some() {
                            rx.changed().await.ok()?;
                        }
                        let event = *rx.borrow_and_update();
                        let current = match event {
                            RevisionEvent::Current(n) => n,
                            RevisionEvent::Gone => return None,
                            // Announcements may have been missed: ask the database.
                            RevisionEvent::Resync => match this.lookup(&caller, &id, false).await {
                                Ok(p) => p.revision(),
                                Err(AppError::NotFound) => return None,
                                Err(_) => continue,
                            },
                        };
                        if last.is_none_or(|l| current > l) {
                            return Some((current, (rx, Some(current))));
                        }
                    }
                }
            },
        ))
    }

    /// [`Pastes::find`] without the charge, for services whose own operation was charged
    /// (statistics, subscriptions).
    pub(in crate::services) async fn lookup_meta(
        &self,
        caller: &Caller,
        id: &str,
    ) -> AppResult<Paste> {
        self.lookup(caller, id, false).await
    }

    /// Finds a paste (its current revision) for this caller without charging: the caches,
    /// then the database. With `with_body`, one query loads metadata and the files' bodies,
    /// and the object store is asked for large bodies; without, neither the body column nor
    /// the object store is touched.
    pub(super) async fn lookup(
        &self,
        caller: &Caller,
        id: &str,
        with_body: bool,
    ) -> AppResult<Paste> {
        let this = &self.inner;
        if !ids::looks_like_id(id) {
            return Err(AppError::NotFound);
        }
        let now = Utc::now();
        let hit = if with_body {
            this.cache.get(id).await.map(|(hit, _)| hit)
        } else {
            // A Redis entry carries the body: a metadata lookup does not fetch it.
            this.cache.get_local(id)
        };
        if let Some(hit) = hit {
            check_readable(&hit.meta, &caller.viewer, now)?;
            return Ok(Paste::full(hit));
        }
        if !with_body {
            let meta = self
                .read_replica_then_primary(async |c| q::find_meta(c, id).await)
                .await?
                .ok_or(AppError::NotFound)?;
            check_readable(&meta, &caller.viewer, now)?;
            return Ok(Paste::meta_only(meta));
        }
        let ticket = this.cache.ticket();
        let PasteWithFiles { meta, files } = self
            .read_replica_then_primary(async |c| q::find_with_files(c, id).await)
            .await?
            .ok_or(AppError::NotFound)?;
        check_readable(&meta, &caller.viewer, now)?;
        if is_guarded(&meta) && !is_owner(&meta, &caller.viewer) {
            return Ok(Paste::meta_only(meta));
        }
        let guarded = is_guarded(&meta);
        let (files, compressed) = self.load_files(&meta, files).await?;
        let entry = Arc::new(CachedPaste::new(meta, files));
        if !guarded {
            this.cache.fill(ticket, &entry, &compressed).await;
        }
        Ok(Paste::full(entry))
    }

    /// Runs a lookup on the replica, and on the primary when the replica does not have the
    /// row (it may not have applied a very recent create yet).
    async fn read_replica_then_primary<T, F>(&self, f: F) -> AppResult<Option<T>>
    where
        F: for<'c> crate::services::db::DbFn<
                &'c mut diesel_async::AsyncPgConnection,
                Result<Option<T>, diesel::result::Error>,
            > + Sync,
        for<'c> <F as crate::services::db::DbFn<
            &'c mut diesel_async::AsyncPgConnection,
            Result<Option<T>, diesel::result::Error>,
        >>::Fut: Send,
    {
        let db = &self.inner.db;
        let found = db.read(&f).await?;
        if found.is_none() && db.has_replica() {
            return Ok(db.read_prefer_primary(&f).await?);
        }
        Ok(found)
    }

    /// The content of a paste found earlier without it (a listed paste, a guarded paste of
    /// the caller's own, an earlier revision), preferring the primary.
    async fn reload(&self, caller: &Caller, paste: &Paste) -> AppResult<Paste> {
        let (id, revision) = (paste.id(), paste.revision());
        if revision != paste.latest_revision() {
            return self.pin(paste, revision, true).await;
        }
        let PasteWithFiles { meta, files } = self
            .inner
            .db
            .read_prefer_primary(async |c| q::find_with_files(c, id).await)
            .await?
            .ok_or(AppError::NotFound)?;
        check_readable(&meta, &caller.viewer, Utc::now())?;
        let (files, _) = self.load_files(&meta, files).await?;
        Ok(Paste::full(Arc::new(CachedPaste::new(meta, files))))
    }

    /// Reads a `maxViews` paste once; removes it when that was its last view.
    async fn claim_view(&self, id: &str) -> AppResult<CachedPaste> {
        let db = &self.inner.db;
        let claimed = db.write(async |c| q::claim_view(c, id).await).await?;
        // Readability was checked when the paste was found; the claim re-checks expiry and
        // views left. The returned row already counts this view.
        let PasteWithFiles { meta, files } = claimed.ok_or(AppError::NotFound)?;
        let (files, _) = self.load_files(&meta, files).await?;
        self.inner.counts.record(id);
        if meta
            .row
            .max_views
            .is_some_and(|max| meta.row.views_used >= max)
        {
            match db
                .write(async |c| q::delete_if_exhausted(c, id).await)
                .await
            {
                Ok(Some(keys)) => self.forget(id, &keys).await,
                Ok(None) => {}
                // The expiry sweep removes exhausted pastes too.
                Err(e) => {
                    tracing::warn!(paste.id = %id, error = ?e, "could not remove exhausted paste")
                }
            }
        }
        Ok(CachedPaste::new(meta, files))
    }

    /// Decompresses a revision's bodies, fetching those that are not inline from the object
    /// store (concurrently). Returns each file with its text, and the compressed bytes (what
    /// the shared cache keeps).
    pub(super) async fn load_files(
        &self,
        meta: &PasteMeta,
        stored: Vec<StoredFile>,
    ) -> AppResult<(Vec<(FileRow, Bytes)>, Vec<Vec<u8>>)> {
        if stored.is_empty() {
            return Err(AppError::internal(anyhow::anyhow!(
                "paste {} has no files",
                meta.row.id
            )));
        }
        let loads = stored.into_iter().map(|file| self.load_file(meta, file));
        let loaded = futures_util::future::try_join_all(loads).await?;
        Ok(loaded.into_iter().unzip())
    }

    async fn load_file(
        &self,
        meta: &PasteMeta,
        file: StoredFile,
    ) -> AppResult<((FileRow, Bytes), Vec<u8>)> {
        let compressed = match (file.body, &file.row.object_key) {
            (Some(b), _) => b,
            (None, Some(key)) => match self.inner.blobs.get(key).await {
                Ok(body) => body,
                // A delete or an expiry got there between the row and its object: the paste is
                // gone, not broken. An object missing under a row that is still there is.
                Err(BlobError::NotFound) => {
                    let id = meta.row.id.as_str();
                    let still = self
                        .inner
                        .db
                        .read_prefer_primary(async |c| q::exists(c, id).await)
                        .await?;
                    return Err(if still {
                        AppError::internal(anyhow::anyhow!("object {key} of paste {id} is missing"))
                    } else {
                        AppError::NotFound
                    });
                }
                Err(e) => return Err(e.into()),
            },
            (None, None) => {
                return Err(AppError::internal(anyhow::anyhow!(
                    "file {} of paste {} has no body",
                    file.row.position,
                    meta.row.id
                )));
            }
        };
        let text = codec::decompress_async(compressed.clone(), file.row.size_bytes as usize)
            .await
            .map_err(AppError::internal)?;
        Ok(((file.row, text), compressed))
    }
}

/// The object keys of a revision's files.
pub(super) fn object_keys(files: &[StoredFile]) -> Vec<String> {
    files
        .iter()
        .filter_map(|f| f.row.object_key.clone())
        .collect()
}
