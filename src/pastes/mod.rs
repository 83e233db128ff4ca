//! The paste rules, shared by GraphQL, raw text, the REST API and the jobs.
//!
//! Read path: in-process cache → Redis → replica (primary when the replica lacks it) → object
//! store for large bodies → fill the caches. After any hit the paste is checked again: not
//! expired, views left, visible to this viewer (a private paste of someone else is reported
//! exactly like a missing one). Burn-after-reading and `maxViews` pastes are never cached;
//! their content is claimed atomically on the primary.
//!
//! Write path: validate → compress → body to the object store first when large → INSERT on
//! the primary → answer. A failed INSERT removes the object; an INSERT whose outcome is
//! unknown (connection lost after COMMIT was sent) is resolved by looking the id up before
//! answering, and a client `idempotencyKey` makes a retry return the same paste.

pub mod id;
mod validate;

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::App;
use crate::auth::Viewer;
use crate::blob::{Placement, codec};
use crate::cache::CachedPaste;
use crate::db::models::{NewPaste, PasteMeta, PasteWithBody};
use crate::db::pastes::{self as q, DeleteOutcome, DeleteProof, ListCursor, Listing};
use crate::db::{DbFailure, is_unique_violation};
use crate::error::{AppError, AppResult};

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
    pub fn to_db(self) -> i16 {
        match self {
            Self::Public => 0,
            Self::Unlisted => 1,
            Self::Private => 2,
        }
    }

    pub fn from_db(v: i16) -> Self {
        match v {
            0 => Self::Public,
            1 => Self::Unlisted,
            _ => Self::Private,
        }
    }
}

/// What a client asks to create.
#[derive(Clone, Debug)]
pub struct NewPasteInput {
    pub content: String,
    pub title: Option<String>,
    pub language: Option<String>,
    /// Seconds from now; `None` = never.
    pub expires_in: Option<i64>,
    pub visibility: Visibility,
    pub burn_after_reading: bool,
    pub max_views: Option<i32>,
    pub idempotency_key: Option<String>,
}

pub struct Created {
    pub paste: Arc<CachedPaste>,
    /// For anonymous pastes: the secret that allows deleting it, shown once.
    pub delete_token: Option<String>,
}

/// A paste a viewer may see.
#[derive(Clone, Debug)]
pub enum Loaded {
    /// A plain paste, body included.
    Plain(Arc<CachedPaste>),
    /// Burn-after-reading or `maxViews`: metadata only; the content is claimed on read.
    Guarded(PasteMeta),
}

impl Loaded {
    pub fn meta(&self) -> &PasteMeta {
        match self {
            Self::Plain(p) => &p.meta,
            Self::Guarded(m) => m,
        }
    }

    /// A strong validator of the content (made once per cache entry for plain pastes).
    pub fn etag(&self) -> Bytes {
        match self {
            Self::Plain(p) => p.etag.clone(),
            Self::Guarded(meta) => crate::cache::content_tag(meta),
        }
    }
}

enum InsertOutcome {
    Durable,
    Absent,
    Unknown,
}

/// One page of a newest-first listing.
pub struct Page {
    pub items: Vec<PasteMeta>,
    pub has_next: bool,
}

pub const MAX_PAGE: i64 = 100;

/// Create attempts when a fresh id collides with an existing one.
const ID_ATTEMPTS: usize = 3;

impl App {
    /// Creates a paste. Runs to completion even if the caller goes away (a client that
    /// disconnects mid-request), so the compensations on failure always run.
    pub async fn create_paste(
        self: &Arc<Self>,
        viewer: &Viewer,
        input: NewPasteInput,
    ) -> AppResult<Created> {
        let (app, viewer) = (Arc::clone(self), viewer.clone());
        detach(async move { app.create_paste_now(&viewer, input).await }).await
    }

    #[tracing::instrument(skip_all, fields(paste.id))]
    async fn create_paste_now(&self, viewer: &Viewer, input: NewPasteInput) -> AppResult<Created> {
        if self.db.read_only() {
            return Err(DbFailure::ReadOnlyMode.into());
        }
        let input = validate::new_paste(&self.config, viewer, input)?;
        let owner = viewer.user_id();
        let sha = Sha256::digest(input.content.as_bytes()).to_vec();

        if let Some(key) = &input.idempotency_key
            && let Some(existing) = self.find_idempotent(owner, key).await?
        {
            return self.replay(existing, &sha, key).await;
        }

        let text = Bytes::from(input.content);
        let size = text.len();
        let compressed = codec::compress_async(text.clone())
            .await
            .map_err(AppError::internal)?;
        let placement = self.blobs.placement(size);
        let now = Utc::now();
        let expires_at = input.expires_in.map(|s| now + chrono::Duration::seconds(s));
        let ticket = self.cache.ticket();

        for _ in 0..ID_ATTEMPTS {
            let id = id::new_paste_id();
            tracing::Span::current().record("paste.id", id.as_str());
            let delete_token = owner.is_none().then(|| match &input.idempotency_key {
                Some(key) => self.auth.derive_secret(&["delete-token", &id, key]),
                None => id::random_base62(id::TOKEN_LEN),
            });
            let row = NewPaste {
                id: id.clone(),
                owner_id: owner,
                title: input.title.clone(),
                language: input.language.clone(),
                visibility: input.visibility.to_db(),
                created_at: now,
                expires_at,
                burn_after_reading: input.burn_after_reading,
                max_views: input.max_views,
                size_bytes: size as i32,
                content_sha256: sha.clone(),
                body: (placement == Placement::Inline).then(|| compressed.clone()),
                in_blob: placement == Placement::Object,
                delete_token_sha256: delete_token.as_deref().map(|t| Sha256::digest(t).to_vec()),
                idempotency_key: input.idempotency_key.clone(),
            };
            if placement == Placement::Object {
                self.blobs.put(&id, &compressed).await?;
            }
            match self.db.write(async |c| q::insert(c, &row).await).await {
                Ok(()) => {}
                Err(DbFailure::Query(e)) if is_unique_violation(&e, q::PRIMARY_KEY) => {
                    tracing::warn!("paste id collision; drawing another");
                    self.remove_object(&id, placement).await;
                    continue;
                }
                Err(DbFailure::Query(e)) if is_unique_violation(&e, q::IDEMPOTENCY_INDEX) => {
                    // A concurrent request with the same key won the race: answer with its paste.
                    self.remove_object(&id, placement).await;
                    let key = input.idempotency_key.as_deref().unwrap_or_default();
                    let existing =
                        self.find_idempotent(owner, key)
                            .await?
                            .ok_or(AppError::unavailable(
                                "a request with the same idempotency key is in progress; retry",
                            ))?;
                    return self.replay(existing, &sha, key).await;
                }
                Err(failure @ (DbFailure::ConnectionLost(_) | DbFailure::Timeout)) => {
                    // COMMIT may or may not have happened: find out before answering.
                    tracing::warn!(error = ?failure, "insert outcome unknown; resolving it");
                    match self.insert_outcome(&id).await {
                        InsertOutcome::Durable => {}
                        InsertOutcome::Absent => {
                            self.remove_object(&id, placement).await;
                            return Err(failure.into());
                        }
                        // Keep the object: the row may exist (the orphan sweep removes the
                        // object if it does not).
                        InsertOutcome::Unknown => {
                            return Err(AppError::Unavailable {
                                reason: "the paste may not have been saved; retry with the same idempotencyKey",
                                retry_after: 2,
                            });
                        }
                    }
                }
                Err(other) => {
                    self.remove_object(&id, placement).await;
                    return Err(other.into());
                }
            }
            metrics::counter!("pastebin_pastes_created_total", "storage" => match placement {
                Placement::Inline => "inline",
                Placement::Object => "object",
            })
            .increment(1);
            tracing::info!(paste.id = %id, bytes = size, "paste created");
            let meta = PasteMeta {
                row: crate::db::models::PasteRow {
                    id,
                    owner_id: owner,
                    title: row.title,
                    language: row.language,
                    visibility: row.visibility,
                    created_at: now,
                    expires_at,
                    burn_after_reading: row.burn_after_reading,
                    max_views: row.max_views,
                    views_used: 0,
                    size_bytes: row.size_bytes,
                    content_sha256: sha,
                    in_blob: row.in_blob,
                },
                author: match viewer {
                    Viewer::User { username, .. } => Some(username.clone()),
                    Viewer::Anonymous => None,
                },
            };
            let paste = Arc::new(CachedPaste::new(meta, text));
            self.cache.fill_local(ticket, &paste);
            return Ok(Created {
                paste,
                delete_token,
            });
        }
        Err(AppError::internal(anyhow::anyhow!(
            "no free paste id after {ID_ATTEMPTS} attempts"
        )))
    }

    /// After an INSERT whose answer was lost: is the row on the synchronous standby (durable,
    /// answer success), absent from the primary (never committed), or neither for sure?
    async fn insert_outcome(&self, id: &str) -> InsertOutcome {
        let exists = async |c: &mut diesel_async::AsyncPgConnection| q::exists(c, id).await;
        match self.db.read_replica(exists).await {
            Some(Ok(true)) => return InsertOutcome::Durable,
            None => {
                return match self.db.read_primary(exists).await {
                    Ok(true) => InsertOutcome::Durable,
                    Ok(false) => InsertOutcome::Absent,
                    Err(_) => InsertOutcome::Unknown,
                };
            }
            Some(_) => {}
        }
        match self.db.read_primary(exists).await {
            Ok(false) => InsertOutcome::Absent,
            // Committed on the primary but not (yet) on the standby, or no answer.
            Ok(true) | Err(_) => InsertOutcome::Unknown,
        }
    }

    async fn find_idempotent(
        &self,
        owner: Option<Uuid>,
        key: &str,
    ) -> AppResult<Option<PasteWithBody>> {
        Ok(self
            .db
            .read_prefer_primary(async |c| q::find_by_idempotency_key(c, owner, key).await)
            .await?)
    }

    /// Answers a retried create with the paste the first attempt made.
    async fn replay(&self, existing: PasteWithBody, sha: &[u8], key: &str) -> AppResult<Created> {
        if existing.meta.row.content_sha256 != sha {
            return Err(AppError::bad_input(
                "idempotencyKey was already used for different content",
            ));
        }
        let delete_token = existing.meta.row.owner_id.is_none().then(|| {
            self.auth
                .derive_secret(&["delete-token", &existing.meta.row.id, key])
        });
        let (body, _) = self.load_body(&existing.meta, existing.body).await?;
        Ok(Created {
            paste: Arc::new(CachedPaste::new(existing.meta, body)),
            delete_token,
        })
    }

    async fn remove_object(&self, id: &str, placement: Placement) {
        if placement == Placement::Object
            && let Err(e) = self.blobs.delete(id).await
        {
            tracing::warn!(paste.id = %id, error = %e, "could not remove object; the orphan sweep will");
        }
    }

    /// A paste this viewer may see, with its body unless it is guarded.
    pub async fn find_paste(&self, viewer: &Viewer, id: &str) -> AppResult<Loaded> {
        if !id::looks_like_id(id) {
            return Err(AppError::NotFound);
        }
        let now = Utc::now();
        if let Some((hit, _)) = self.cache.get(id).await {
            check_readable(&hit.meta, viewer, now)?;
            return Ok(Loaded::Plain(hit));
        }
        let ticket = self.cache.ticket();
        let mut found = self
            .db
            .read(async |c| q::find_with_body(c, id).await)
            .await?;
        if found.is_none() && self.db.has_replica() {
            // The replica may not have applied a very recent create yet.
            found = self
                .db
                .read_prefer_primary(async |c| q::find_with_body(c, id).await)
                .await?;
        }
        let PasteWithBody { meta, body } = found.ok_or(AppError::NotFound)?;
        check_readable(&meta, viewer, now)?;
        if is_guarded(&meta) {
            return Ok(Loaded::Guarded(meta));
        }
        let (text, compressed) = self.load_body(&meta, body).await?;
        let entry = Arc::new(CachedPaste::new(meta, text));
        self.cache.fill(ticket, &entry, &compressed).await;
        Ok(Loaded::Plain(entry))
    }

    /// The content of a loaded paste for this viewer, counting the view. `None` for a
    /// burn-after-reading paste (it is read with [`App::reveal_paste`]) unless the viewer
    /// owns it. A `maxViews` paste spends one of its views (atomically on the primary).
    pub async fn deliver(
        self: &Arc<Self>,
        viewer: &Viewer,
        loaded: &Loaded,
    ) -> AppResult<Option<Bytes>> {
        match loaded {
            Loaded::Plain(p) => {
                self.views.record(&p.meta.row.id);
                Ok(Some(p.body.clone()))
            }
            Loaded::Guarded(meta) if is_owner(meta, viewer) => {
                // The owner reads without spending a view or burning the paste.
                let id = meta.row.id.as_str();
                let found = self
                    .db
                    .read_prefer_primary(async |c| q::find_with_body(c, id).await)
                    .await?;
                let found = found.ok_or(AppError::NotFound)?;
                Ok(Some(self.load_body(&found.meta, found.body).await?.0))
            }
            Loaded::Guarded(meta) if meta.row.burn_after_reading => Ok(None),
            Loaded::Guarded(meta) => {
                let (app, id) = (Arc::clone(self), meta.row.id.clone());
                let claimed = detach(async move { app.claim_view(&id).await }).await?;
                Ok(Some(claimed.body.clone()))
            }
        }
    }

    /// Reads a `maxViews` paste once; removes it when that was its last view.
    async fn claim_view(&self, id: &str) -> AppResult<Arc<CachedPaste>> {
        let claimed = self.db.write(async |c| q::claim_view(c, id).await).await?;
        // Readability was checked when the paste was found; the claim re-checks expiry and
        // views left. The returned row already counts this view.
        let PasteWithBody { meta, body } = claimed.ok_or(AppError::NotFound)?;
        let (text, _) = self.load_body(&meta, body).await?;
        self.views.record(id);
        if meta
            .row
            .max_views
            .is_some_and(|max| meta.row.views_used >= max)
        {
            match self
                .db
                .write(async |c| q::delete_if_exhausted(c, id).await)
                .await
            {
                Ok(Some(in_blob)) => self.forget_paste(id, in_blob).await,
                Ok(None) => {}
                // The expiry sweep removes exhausted pastes too.
                Err(e) => {
                    tracing::warn!(paste.id = %id, error = ?e, "could not remove exhausted paste")
                }
            }
        }
        Ok(Arc::new(CachedPaste::new(meta, text)))
    }

    /// Reads a burn-after-reading paste: exactly one caller gets it, then it is gone. Other
    /// pastes are read normally.
    pub async fn reveal_paste(
        self: &Arc<Self>,
        viewer: &Viewer,
        id: &str,
    ) -> AppResult<Arc<CachedPaste>> {
        let loaded = self.find_paste(viewer, id).await?;
        let meta = match &loaded {
            Loaded::Guarded(meta) if meta.row.burn_after_reading && !is_owner(meta, viewer) => meta,
            _ => {
                let body = self
                    .deliver(viewer, &loaded)
                    .await?
                    .ok_or(AppError::NotFound)?;
                return Ok(Arc::new(CachedPaste::new(loaded.meta().clone(), body)));
            }
        };
        if self.db.read_only() {
            return Err(DbFailure::ReadOnlyMode.into());
        }
        let (app, id, in_blob) = (Arc::clone(self), id.to_owned(), meta.row.in_blob);
        detach(async move {
            let id = id.as_str();
            let claimed = app.db.write(async |c| q::claim_burn(c, id).await).await?;
            let PasteWithBody { meta, body } = claimed.ok_or(AppError::NotFound)?;
            let loaded = app.load_body(&meta, body).await;
            // Gone whether or not the body could be read: the claim is what counts.
            app.views.record(id);
            app.forget_paste(id, in_blob).await;
            tracing::info!(paste.id = %id, "burn-after-reading paste read and removed");
            Ok(Arc::new(CachedPaste::new(meta, loaded?.0)))
        })
        .await
    }

    /// Raw text and the REST API: the content, counting the view. A burn-after-reading paste
    /// is refused on these GET routes so a link preview cannot consume it.
    pub async fn read_content(
        self: &Arc<Self>,
        viewer: &Viewer,
        id: &str,
    ) -> AppResult<(Loaded, Bytes)> {
        let loaded = self.find_paste(viewer, id).await?;
        match self.deliver(viewer, &loaded).await? {
            Some(body) => Ok((loaded, body)),
            None => Err(AppError::Forbidden(
                "this paste is deleted after reading: reveal it with POST /raw/{id} or the revealPaste mutation",
            )),
        }
    }

    /// Deletes a paste: its owner, or anyone with its delete token.
    pub async fn delete_paste(
        self: &Arc<Self>,
        viewer: &Viewer,
        id: &str,
        token: Option<&str>,
    ) -> AppResult<()> {
        let (app, viewer, id, token) = (
            Arc::clone(self),
            viewer.clone(),
            id.to_owned(),
            token.map(str::to_owned),
        );
        detach(async move { app.delete_paste_now(&viewer, &id, token.as_deref()).await }).await
    }

    #[tracing::instrument(skip_all, fields(paste.id = %id))]
    async fn delete_paste_now(
        &self,
        viewer: &Viewer,
        id: &str,
        token: Option<&str>,
    ) -> AppResult<()> {
        if !id::looks_like_id(id) {
            return Err(AppError::NotFound);
        }
        if self.db.read_only() {
            return Err(DbFailure::ReadOnlyMode.into());
        }
        let token_sha = token.map(|t| Sha256::digest(t.as_bytes()).to_vec());
        let proof = || DeleteProof {
            owner: viewer.user_id(),
            token_sha256: token_sha.as_deref(),
        };
        let outcome = self
            .db
            .write(async |c| q::delete_authorized(c, id, proof()).await)
            .await?;
        match outcome {
            DeleteOutcome::Deleted { in_blob } => {
                self.forget_paste(id, in_blob).await;
                tracing::info!("paste deleted");
                Ok(())
            }
            DeleteOutcome::Missing => Err(AppError::NotFound),
            DeleteOutcome::NotAllowed => {
                // Do not reveal that a private paste exists.
                let found = self
                    .db
                    .read_prefer_primary(async |c| q::find_with_body(c, id).await)
                    .await?;
                match found {
                    Some(p) if check_readable(&p.meta, viewer, Utc::now()).is_ok() => {
                        Err(AppError::Forbidden(
                            "only the owner or the holder of the delete token may delete this paste",
                        ))
                    }
                    _ => Err(AppError::NotFound),
                }
            }
        }
    }

    /// After a paste's row is gone: its object, its cache entries everywhere, its live
    /// counter and watchers. Each step is idempotent; sweeps repeat what fails here.
    pub async fn forget_paste(&self, id: &str, in_blob: bool) {
        if in_blob {
            self.remove_object(id, Placement::Object).await;
        }
        self.cache.invalidate(id).await;
        self.views.forget(id).await;
        self.hub.end(id);
    }

    /// Newest-first listing: public pastes, or the viewer's own.
    pub async fn list_pastes(
        &self,
        listing: Listing,
        first: i64,
        after: Option<&str>,
    ) -> AppResult<Page> {
        let first = first.clamp(1, MAX_PAGE);
        let cursor = after.map(decode_cursor).transpose()?;
        let cursor = cursor.as_ref();
        let mut items = match listing {
            Listing::Public => {
                self.db
                    .read(async |c| q::list(c, listing, cursor, first + 1).await)
                    .await?
            }
            // An owner expects to see the paste they just created.
            Listing::Owner(_) => {
                self.db
                    .read_prefer_primary(async |c| q::list(c, listing, cursor, first + 1).await)
                    .await?
            }
        };
        let has_next = items.len() as i64 > first;
        items.truncate(first as usize);
        Ok(Page { items, has_next })
    }

    /// Decompresses a body, fetching it from the object store when it is not inline.
    async fn load_body(
        &self,
        meta: &PasteMeta,
        inline: Option<Vec<u8>>,
    ) -> AppResult<(Bytes, Vec<u8>)> {
        let compressed = match inline {
            Some(b) => b,
            None if meta.row.in_blob => self.blobs.get(&meta.row.id).await?,
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

/// Runs a write to completion on its own task: if the request that started it is dropped (the
/// client went away), the write and its clean-up still finish.
async fn detach<T: Send + 'static>(
    f: impl Future<Output = AppResult<T>> + Send + 'static,
) -> AppResult<T> {
    tokio::spawn(f).await.map_err(AppError::internal)?
}

/// Burn-after-reading and `maxViews` pastes: never cached, claimed on read.
pub fn is_guarded(meta: &PasteMeta) -> bool {
    meta.row.burn_after_reading || meta.row.max_views.is_some()
}

pub fn is_owner(meta: &PasteMeta, viewer: &Viewer) -> bool {
    meta.row.owner_id.is_some() && meta.row.owner_id == viewer.user_id()
}

/// Live and visible to this viewer; otherwise `NOT_FOUND`, whatever the reason.
pub fn check_readable(meta: &PasteMeta, viewer: &Viewer, now: DateTime<Utc>) -> AppResult<()> {
    let row = &meta.row;
    let expired = row.expires_at.is_some_and(|t| t <= now);
    let used_up = row.max_views.is_some_and(|max| row.views_used >= max);
    let hidden =
        Visibility::from_db(row.visibility) == Visibility::Private && !is_owner(meta, viewer);
    if expired || used_up || hidden {
        Err(AppError::NotFound)
    } else {
        Ok(())
    }
}

pub fn encode_cursor(meta: &PasteMeta) -> String {
    let micros = meta.row.created_at.timestamp_micros();
    hex::encode(format!("{micros}:{}", meta.row.id))
}

fn decode_cursor(s: &str) -> AppResult<ListCursor> {
    let bad = || AppError::bad_input("invalid cursor");
    let raw = String::from_utf8(hex::decode(s).map_err(|_| bad())?).map_err(|_| bad())?;
    let (micros, id) = raw.split_once(':').ok_or_else(bad)?;
    let created_at =
        DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    if !id::looks_like_id(id) {
        return Err(bad());
    }
    Ok(ListCursor {
        created_at,
        id: id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::models::PasteRow;

    fn meta(owner: Option<Uuid>, visibility: Visibility) -> PasteMeta {
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
                in_blob: false,
            },
            author: None,
        }
    }

    #[test]
    fn private_pastes_read_as_missing_to_everyone_but_the_owner() {
        let owner = Uuid::new_v4();
        let m = meta(Some(owner), Visibility::Private);
        let now = Utc::now();
        let alice = Viewer::User {
            id: owner,
            username: "alice".into(),
        };
        let bob = Viewer::User {
            id: Uuid::new_v4(),
            username: "bob".into(),
        };
        assert!(check_readable(&m, &alice, now).is_ok());
        assert!(matches!(
            check_readable(&m, &bob, now),
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

    #[test]
    fn cursors_round_trip_and_garbage_is_bad_input() {
        let m = meta(None, Visibility::Public);
        let c = decode_cursor(&encode_cursor(&m)).unwrap();
        assert_eq!(c.id, m.row.id);
        assert_eq!(
            c.created_at.timestamp_micros(),
            m.row.created_at.timestamp_micros()
        );
        assert!(matches!(decode_cursor("zz"), Err(AppError::BadInput(_))));
        assert!(matches!(
            decode_cursor(&hex::encode("1:../x")),
            Err(AppError::BadInput(_))
        ));
    }
}
