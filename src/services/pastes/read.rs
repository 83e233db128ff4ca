//! Reading a paste: metadata lookups, content reads, and claiming guarded pastes.

use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;

use super::{
    CachedPaste, Content, Paste, Pastes, Repr, check_readable, detach, is_guarded, is_owner,
};
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::ids;
use crate::services::blob::codec;
use crate::services::budgets::Operation;
use crate::services::db::models::{PasteMeta, PasteWithBody};
use crate::services::db::pastes as q;

impl Pastes {
    /// A paste this caller may see, metadata only: never loads the body. Charges one read.
    pub async fn find(&self, caller: &Caller, id: &str) -> AppResult<Paste> {
        self.inner.budgets.charge(caller, Operation::Read).await?;
        self.lookup(caller, id, false).await
    }

    /// A paste this caller may see, with its content when the caller may have it without
    /// spending a view (a plain paste; a guarded paste of the caller's own), in one query.
    /// Charges one read; counts no view ([`Pastes::open`] does).
    pub async fn find_with_content(&self, caller: &Caller, id: &str) -> AppResult<Paste> {
        self.inner.budgets.charge(caller, Operation::Read).await?;
        self.lookup(caller, id, true).await
    }

    /// The content of a paste found for this caller, counting the view. `None` for a
    /// burn-after-reading paste of someone else (it is read with [`Pastes::reveal`]). A
    /// `maxViews` paste spends one of its views (atomically on the primary).
    pub async fn open(&self, caller: &Caller, paste: &Paste) -> AppResult<Option<Content>> {
        let meta = paste.meta();
        if !is_guarded(meta) {
            let content = match paste.content() {
                Some(c) => c.clone(),
                None => self.reload(caller, meta.row.id.as_str()).await?,
            };
            self.inner.counts.record(&meta.row.id);
            return Ok(Some(content));
        }
        if is_owner(meta, &caller.viewer) {
            // The owner reads without spending a view or burning the paste.
            return match paste.content() {
                Some(c) => Ok(Some(c.clone())),
                None => self.reload(caller, meta.row.id.as_str()).await.map(Some),
            };
        }
        if meta.row.burn_after_reading {
            return Ok(None);
        }
        let (this, id) = (self.clone(), meta.row.id.clone());
        let claimed = detach(async move { this.claim_view(&id).await }).await?;
        Ok(Some(claimed.content.clone()))
    }

    /// The content of a paste that came from a listing: charged per paste, then as
    /// [`Pastes::open`].
    pub async fn open_listed(&self, caller: &Caller, paste: &Paste) -> AppResult<Option<Content>> {
        self.inner
            .budgets
            .charge(caller, Operation::ListedContent)
            .await?;
        let found = self.lookup(caller, paste.id(), true).await?;
        self.open(caller, &found).await
    }

    /// Raw text and the REST API: the content, counting the view. A burn-after-reading paste
    /// is refused on these GET routes so a link preview cannot consume it.
    pub async fn read(&self, caller: &Caller, id: &str) -> AppResult<(Paste, Content)> {
        let paste = self.find_with_content(caller, id).await?;
        match self.open(caller, &paste).await? {
            Some(content) => Ok((paste, content)),
            None => Err(AppError::Forbidden(
                "this paste is deleted after reading: reveal it with POST /raw/{id} or the revealPaste mutation",
            )),
        }
    }

    /// Reads a burn-after-reading paste: exactly one caller gets it, then it is gone. Other
    /// pastes are read as by [`Pastes::read`].
    pub async fn reveal(&self, caller: &Caller, id: &str) -> AppResult<Paste> {
        let paste = self.find_with_content(caller, id).await?;
        let meta = paste.meta();
        if !meta.row.burn_after_reading || is_owner(meta, &caller.viewer) {
            let content = self.open(caller, &paste).await?.ok_or(AppError::NotFound)?;
            return Ok(match &paste.0 {
                Repr::Full(_) => paste,
                Repr::Meta(meta) => Paste::full(Arc::new(CachedPaste {
                    meta: PasteMeta::clone(meta),
                    content,
                })),
            });
        }
        self.refuse_writes_when_read_only()?;
        let (this, id, in_blob) = (self.clone(), id.to_owned(), meta.row.in_blob);
        detach(async move {
            let db = &this.inner.db;
            let id = id.as_str();
            let claimed = db.write(async |c| q::claim_burn(c, id).await).await?;
            let PasteWithBody { meta, body } = claimed.ok_or(AppError::NotFound)?;
            let loaded = this.load_body(&meta, body).await;
            // Gone whether or not the body could be read: the claim is what counts.
            this.inner.counts.record(id);
            this.forget(id, in_blob).await;
            tracing::info!(paste.id = %id, "burn-after-reading paste read and removed");
            Ok(Paste::full(Arc::new(CachedPaste::new(meta, loaded?.0))))
        })
        .await
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

    /// Finds a paste for this caller without charging: the caches, then the database. With
    /// `with_body`, one query loads metadata and body, and the object store is asked for
    /// large bodies; without, neither the body column nor the object store is touched.
    async fn lookup(&self, caller: &Caller, id: &str, with_body: bool) -> AppResult<Paste> {
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
        let PasteWithBody { meta, body } = self
            .read_replica_then_primary(async |c| q::find_with_body(c, id).await)
            .await?
            .ok_or(AppError::NotFound)?;
        check_readable(&meta, &caller.viewer, now)?;
        if is_guarded(&meta) && !is_owner(&meta, &caller.viewer) {
            return Ok(Paste::meta_only(meta));
        }
        let guarded = is_guarded(&meta);
        let (text, compressed) = self.load_body(&meta, body).await?;
        let entry = Arc::new(CachedPaste::new(meta, text));
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
    /// the caller's own): one query for metadata and body, preferring the primary.
    async fn reload(&self, caller: &Caller, id: &str) -> AppResult<Content> {
        let PasteWithBody { meta, body } = self
            .inner
            .db
            .read_prefer_primary(async |c| q::find_with_body(c, id).await)
            .await?
            .ok_or(AppError::NotFound)?;
        check_readable(&meta, &caller.viewer, Utc::now())?;
        let (text, _) = self.load_body(&meta, body).await?;
        Ok(CachedPaste::new(meta, text).content)
    }

    /// Reads a `maxViews` paste once; removes it when that was its last view.
    async fn claim_view(&self, id: &str) -> AppResult<CachedPaste> {
        let db = &self.inner.db;
        let claimed = db.write(async |c| q::claim_view(c, id).await).await?;
        // Readability was checked when the paste was found; the claim re-checks expiry and
        // views left. The returned row already counts this view.
        let PasteWithBody { meta, body } = claimed.ok_or(AppError::NotFound)?;
        let (text, _) = self.load_body(&meta, body).await?;
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
                Ok(Some(in_blob)) => self.forget(id, in_blob).await,
                Ok(None) => {}
                // The expiry sweep removes exhausted pastes too.
                Err(e) => {
                    tracing::warn!(paste.id = %id, error = ?e, "could not remove exhausted paste")
                }
            }
        }
        Ok(CachedPaste::new(meta, text))
    }

    /// Decompresses a body, fetching it from the object store when it is not inline. Returns
    /// the text and the compressed bytes (what the shared cache keeps).
    pub(super) async fn load_body(
        &self,
        meta: &PasteMeta,
        inline: Option<Vec<u8>>,
    ) -> AppResult<(Bytes, Vec<u8>)> {
        let compressed = match inline {
            Some(b) => b,
            None if meta.row.in_blob => self.inner.blobs.get(&meta.row.id).await?,
            None => {
                return Err(AppError::internal(anyhow::anyhow!(
                    "paste {} has no body",
                    meta.row.id
                )));
            }
        };
        let text = codec::decompress_async(compressed.clone(), meta.row.size_bytes as usize)
            .await
            .map_err(AppError::internal)?;
        Ok((text, compressed))
    }
}
