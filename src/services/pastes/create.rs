//! Creating a paste (and storing a revision's files, shared with edits and forks).

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::files::{self, Draft};
use super::{Created, NewPaste, Paste, Pastes, detach, validate};
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::ids;
use crate::services::blob::{self, Placement, codec};
use crate::services::budgets::Operation;
use crate::services::cache::CachedPaste;
use crate::services::db::models::{
    FileRow, NewFileRow, NewPasteRow, NewRevisionRow, PasteMeta, PasteRow, PasteWithFiles,
};
use crate::services::db::pastes as q;
use crate::services::db::{DbFailure, is_unique_violation};

/// Create attempts when a fresh id collides with an existing one.
const ID_ATTEMPTS: usize = 3;

enum InsertOutcome {
    Durable,
    Absent,
    Unknown,
}

/// A revision's files compressed, before they are stored for one attempt.
pub(super) struct Compressed {
    pub drafts: Vec<Draft>,
    pub texts: Vec<Bytes>,
    pub bodies: Vec<Vec<u8>>,
    pub placements: Vec<Placement>,
}

/// A revision's files as stored by one attempt: their rows, and the objects the attempt
/// wrote (to remove if it fails).
pub(super) struct Stored {
    pub rows: Vec<NewFileRow>,
    pub objects: Vec<String>,
}

impl Compressed {
    pub fn total_bytes(&self) -> usize {
        self.texts.iter().map(Bytes::len).sum()
    }

    /// The rows and texts of a revision made of these files, for the cache.
    pub fn entry_files(&self, stored: &Stored) -> Vec<(FileRow, Bytes)> {
        stored
            .rows
            .iter()
            .zip(&self.texts)
            .map(|(r, text)| {
                (
                    FileRow {
                        position: r.position,
                        name: r.name.clone(),
                        language: r.language.clone(),
                        size_bytes: r.size_bytes,
                        content_sha256: r.content_sha256.clone(),
                        object_key: r.object_key.clone(),
                    },
                    text.clone(),
                )
            })
            .collect()
    }
}

impl Pastes {
    /// Creates a paste. Runs to completion even if the caller goes away (a client that
    /// disconnects mid-request), so the compensations on failure always run.
    pub async fn create(&self, caller: &Caller, input: NewPaste) -> AppResult<Created> {
        self.create_from(caller, async { Ok(input) }).await
    }

    /// [`Pastes::create`] with an input still to be read (a request body): the budget is
    /// charged before it is read, so a refused client costs no upload.
    pub async fn create_from(
        &self,
        caller: &Caller,
        input: impl Future<Output = AppResult<NewPaste>>,
    ) -> AppResult<Created> {
        self.inner.budgets.charge(caller, Operation::Create).await?;
        self.refuse_writes_when_read_only()?;
        let input = input.await?;
        let (this, caller) = (self.clone(), caller.clone());
        detach(async move { this.create_now(&caller, input, None).await }).await
    }

    /// Compresses a revision's files (large ones on the blocking pool) and decides where each
    /// body goes.
    pub(super) async fn compress(&self, drafts: Vec<Draft>) -> AppResult<Compressed> {
        let texts: Vec<Bytes> = drafts.iter().map(|d| Bytes::from(d.text.clone())).collect();
        let bodies = futures_util::future::try_join_all(
            texts.iter().map(|t| codec::compress_async(t.clone())),
        )
        .await
        .map_err(AppError::internal)?;
        let placements = texts
            .iter()
            .map(|t| self.inner.blobs.placement(t.len()))
            .collect();
        Ok(Compressed {
            drafts,
            texts,
            bodies,
            placements,
        })
    }

    /// Stores a revision's files for one attempt: large bodies go to the object store under
    /// this attempt's keys (concurrently), small ones into the rows. On failure, removes what
    /// it wrote.
    pub(super) async fn store(
        &self,
        id: &str,
        revision: i32,
        attempt: &str,
        files: &Compressed,
    ) -> AppResult<Stored> {
        let mut rows = Vec::with_capacity(files.drafts.len());
        let mut objects = Vec::new();
        for (i, d) in files.drafts.iter().enumerate() {
            let object =
                (files.placements[i] == Placement::Object).then(|| blob::file_key(id, attempt, i));
            rows.push(NewFileRow {
                paste_id: id.to_owned(),
                revision,
                position: i as i16,
                name: d.name.clone(),
                language: d.language.clone(),
                size_bytes: d.text.len() as i32,
                content_sha256: d.sha256.clone(),
                body: object.is_none().then(|| files.bodies[i].clone()),
                object_key: object.clone(),
            });
            objects.extend(object.map(|key| (key, i)));
        }
        let blobs = &self.inner.blobs;
        let puts = objects
            .iter()
            .map(|(key, i)| blobs.put(key, &files.bodies[*i]));
        let results = futures_util::future::join_all(puts).await;
        let objects: Vec<String> = objects.into_iter().map(|(key, _)| key).collect();
        if let Some(e) = results.into_iter().find_map(Result::err) {
            self.remove_objects(id, &objects).await;
            return Err(e.into());
        }
        Ok(Stored { rows, objects })
    }

    #[tracing::instrument(skip_all, fields(paste.id))]
    pub(super) async fn create_now(
        &self,
        caller: &Caller,
        input: NewPaste,
        forked_from: Option<String>,
    ) -> AppResult<Created> {
        let this = &self.inner;
        let (input, drafts) = validate::new_paste(&this.config.limits, &caller.viewer, input)?;
        let owner = caller.user_id();
        let sha = files::revision_digest(&drafts);

        if let Some(key) = &input.idempotency_key
            && let Some(existing) = self.find_idempotent(owner, key).await?
        {
            return self.replay(existing, &sha, key).await;
        }

        let summary = files::created_summary(drafts.len(), forked_from.as_deref());
        let files = self.compress(drafts).await?;
        let size = files.total_bytes();
        let file_count = files.drafts.len() as i16;
        let now = Utc::now();
        let expires_at = input.expires_in.map(|s| now + chrono::Duration::seconds(s));
        let ticket = this.cache.ticket();

        for _ in 0..ID_ATTEMPTS {
            let id = ids::new_paste_id();
            let attempt = ids::new_attempt();
            tracing::Span::current().record("paste.id", id.as_str());
            let delete_token = owner.is_none().then(|| match &input.idempotency_key {
                Some(key) => this.auth.derive_secret(&["delete-token", &id, key]),
                None => ids::random_base62(ids::TOKEN_LEN),
            });
            let row = NewPasteRow {
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
                body: None,
                in_blob: false,
                delete_token_sha256: delete_token.as_deref().map(|t| Sha256::digest(t).to_vec()),
                idempotency_key: input.idempotency_key.clone(),
                revision: 1,
                forked_from: forked_from.clone(),
                file_count,
            };
            let revision = NewRevisionRow {
                paste_id: id.clone(),
                number: 1,
                created_at: now,
                title: row.title.clone(),
                language: row.language.clone(),
                size_bytes: row.size_bytes,
                content_sha256: sha.clone(),
                file_count,
                summary: summary.clone(),
                attempt: attempt.clone(),
            };
            let stored = self.store(&id, 1, &attempt, &files).await?;
            let rows = &stored.rows;
            match this
                .db
                .write(async |c| q::insert(c, &row, &revision, rows).await)
                .await
            {
                Ok(()) => {}
                Err(DbFailure::Query(e)) if is_unique_violation(&e, q::PRIMARY_KEY) => {
                    // Only this attempt's objects: the other paste's keys are its own.
                    tracing::warn!("paste id collision; drawing another");
                    self.remove_objects(&id, &stored.objects).await;
                    continue;
                }
                Err(DbFailure::Query(e)) if is_unique_violation(&e, q::IDEMPOTENCY_INDEX) => {
                    // A concurrent request with the same key won the race: answer with its paste.
                    self.remove_objects(&id, &stored.objects).await;
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
                            self.remove_objects(&id, &stored.objects).await;
                            return Err(failure.into());
                        }
                        // Keep the objects: the row may exist (the orphan sweep removes the
                        // objects if it does not).
                        InsertOutcome::Unknown => {
                            return Err(AppError::Unavailable {
                                reason: "the paste may not have been saved; retry with the same idempotencyKey",
                                retry_after: 2,
                            });
                        }
                    }
                }
                Err(other) => {
                    self.remove_objects(&id, &stored.objects).await;
                    return Err(other.into());
                }
            }
            metrics::counter!("pastebin_pastes_created_total", "storage" => if stored.objects.is_empty() {
                "inline"
            } else {
                "object"
            })
            .increment(1);
            tracing::info!(paste.id = %id, bytes = size, files = file_count, "paste created");
            let meta = PasteMeta {
                row: created_row(&row, now),
                author: caller.viewer.username().map(str::to_owned),
            };
            let entry = Arc::new(CachedPaste::new(meta, files.entry_files(&stored)));
            this.cache.fill_local(ticket, &entry);
            return Ok(Created {
                paste: Paste::full(entry),
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
        let db = &self.inner.db;
        let exists = async |c: &mut diesel_async::AsyncPgConnection| q::exists(c, id).await;
        match db.read_replica(exists).await {
            Some(Ok(true)) => return InsertOutcome::Durable,
            None => {
                return match db.read_primary(exists).await {
                    Ok(true) => InsertOutcome::Durable,
                    Ok(false) => InsertOutcome::Absent,
                    Err(_) => InsertOutcome::Unknown,
                };
            }
            Some(_) => {}
        }
        match db.read_primary(exists).await {
            Ok(false) => InsertOutcome::Absent,
            // Committed on the primary but not (yet) on the standby, or no answer.
            Ok(true) | Err(_) => InsertOutcome::Unknown,
        }
    }

    async fn find_idempotent(
        &self,
        owner: Option<Uuid>,
        key: &str,
    ) -> AppResult<Option<PasteWithFiles>> {
        Ok(self
            .inner
            .db
            .read_prefer_primary(async |c| q::find_by_idempotency_key(c, owner, key).await)
            .await?)
    }

    /// Answers a retried create with the paste the first attempt made.
    async fn replay(&self, existing: PasteWithFiles, sha: &[u8], key: &str) -> AppResult<Created> {
        if existing.meta.row.content_sha256 != sha {
            return Err(AppError::bad_input(
                "idempotencyKey was already used for different content",
            ));
        }
        let delete_token = existing.meta.row.owner_id.is_none().then(|| {
            self.inner
                .auth
                .derive_secret(&["delete-token", &existing.meta.row.id, key])
        });
        let (files, _) = self.load_files(&existing.meta, existing.files).await?;
        Ok(Created {
            paste: Paste::full(Arc::new(CachedPaste::new(existing.meta, files))),
            delete_token,
        })
    }
}

/// The row a paste was created with, as read back.
fn created_row(row: &NewPasteRow, now: DateTime<Utc>) -> PasteRow {
    PasteRow {
        id: row.id.clone(),
        owner_id: row.owner_id,
        title: row.title.clone(),
        language: row.language.clone(),
        visibility: row.visibility,
        created_at: now,
        expires_at: row.expires_at,
        burn_after_reading: row.burn_after_reading,
        max_views: row.max_views,
        views_used: 0,
        size_bytes: row.size_bytes,
        content_sha256: row.content_sha256.clone(),
        revision: 1,
        edited_at: None,
        forked_from: row.forked_from.clone(),
        file_count: row.file_count,
        hidden_at: None,
    }
}
