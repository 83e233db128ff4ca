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
use crate::services::db::DbFailure;
use crate::services::db::models::{
    FileRow, NewFileRow, NewPasteRow, NewRevisionRow, PasteMeta, PasteRow,
};
use crate::services::db::pastes::{self as q, BatchInsert, NewPasteWrite};

/// Create attempts when a fresh id collides with an existing one.
const ID_ATTEMPTS: usize = 3;

enum InsertOutcome {
    Durable,
    Absent,
    Unknown,
}

/// A revision's files compressed, before they are stored for one attempt.
pub(super) struct Compressed {
    /// Names, languages and digests (the text has moved to `texts`).
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
    /// body goes. Each text moves out of its draft into the `Bytes` the cache entry shares: a
    /// body is held once, never copied for compression.
    pub(super) async fn compress(&self, mut drafts: Vec<Draft>) -> AppResult<Compressed> {
        let texts: Vec<Bytes> = drafts
            .iter_mut()
            .map(|d| Bytes::from(std::mem::take(&mut d.text)))
            .collect();
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
                size_bytes: files.texts[i].len() as i32,
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
        let (input, body) = validate::new_paste(&this.config.limits, &caller.viewer, input)?;
        let owner = caller.user_id();
        let sha = files::revision_digest(&body.drafts);
        let encrypted = body.encrypted;
        let input_sha = input_digest(&input, &sha, encrypted, forked_from.as_deref());
        let scope = input
            .idempotency_key
            .as_deref()
            .map(|key| idempotency_scope(owner, key));

        if let (Some(key), Some(scope)) = (&input.idempotency_key, &scope)
            && let Some(created) = self.replay_if_created(scope, key, &input_sha).await?
        {
            return Ok(created);
        }

        let summary = if encrypted {
            files::created_encrypted_summary(forked_from.as_deref())
        } else {
            files::created_summary(body.drafts.len(), forked_from.as_deref())
        };
        let size = body.size;
        let files = self.compress(body.drafts).await?;
        let file_count = files.drafts.len() as i16;
        let now = Utc::now();
        let expires_at = input.expires_in.map(|s| now + chrono::Duration::seconds(s));
        let ticket = this.cache.ticket();

        for _ in 0..ID_ATTEMPTS {
            let id = ids::new_paste_id();
            let attempt = ids::new_attempt();
            tracing::Span::current().record("paste.id", id.as_str());
            let delete_token = owner.is_none().then(|| match &input.idempotency_key {
                Some(key) => keyed_delete_token(key, &id),
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
                idempotency_scope: scope.clone(),
                input_sha256: Some(input_sha.clone()),
                revision: 1,
                forked_from: forked_from.clone(),
                file_count,
                encrypted,
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
            let write = NewPasteWrite {
                paste: row.clone(),
                revision,
                files: stored.rows.clone(),
            };
            match this.commits.insert(write).await {
                Ok(BatchInsert::Inserted) => {}
                Ok(BatchInsert::IdTaken) => {
                    // Only this attempt's objects: the other paste's keys are its own.
                    tracing::warn!("paste id collision; drawing another");
                    self.remove_objects(&id, &stored.objects).await;
                    continue;
                }
                Ok(BatchInsert::KeyTaken) => {
                    // A concurrent request with the same key won the race: answer with its paste.
                    self.remove_objects(&id, &stored.objects).await;
                    let (key, scope) = (
                        input.idempotency_key.as_deref().unwrap_or_default(),
                        scope.as_deref().unwrap_or_default(),
                    );
                    return self.replay_if_created(scope, key, &input_sha).await?.ok_or(
                        AppError::unavailable(
                            "a request with the same idempotency key is in progress; retry",
                        ),
                    );
                }
                Err(failure @ (DbFailure::ConnectionLost(_) | DbFailure::Timeout { .. })) => {
                    // COMMIT may or may not have happened: find out before answering. While a
                    // timed-out statement was not cancelled it may still commit: "absent" cannot
                    // be told then.
                    tracing::warn!(error = ?failure, "insert outcome unknown; resolving it");
                    let outcome = match failure {
                        DbFailure::Timeout { cancelled: false } => InsertOutcome::Unknown,
                        _ => self.insert_outcome(&id).await,
                    };
                    match outcome {
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

    /// The paste an earlier create with this key made, answered again — when the input is the
    /// same. A paste that is no longer live (expired, used up) frees the key instead.
    async fn replay_if_created(
        &self,
        scope: &[u8],
        key: &str,
        input_sha: &[u8],
    ) -> AppResult<Option<Created>> {
        let db = &self.inner.db;
        let Some((id, first_input, live)) = db
            .read_prefer_primary(async |c| q::find_by_idempotency_scope(c, scope).await)
            .await?
        else {
            return Ok(None);
        };
        if !live {
            db.write(async |c| q::release_idempotency_scope(c, scope).await)
                .await?;
            return Ok(None);
        }
        if first_input.as_deref() != Some(input_sha) {
            return Err(AppError::bad_input(
                "idempotencyKey was already used for a different paste (content or settings)",
            ));
        }
        let existing = db
            .read_prefer_primary(async |c| q::find_with_files(c, &id).await)
            .await?
            .ok_or(AppError::unavailable(
                "the paste of this idempotency key is changing; retry",
            ))?;
        let delete_token = existing
            .meta
            .row
            .owner_id
            .is_none()
            .then(|| keyed_delete_token(key, &existing.meta.row.id));
        let (files, _) = self.load_files(&existing.meta, existing.files).await?;
        Ok(Some(Created {
            paste: Paste::full(Arc::new(CachedPaste::new(existing.meta, files))),
            delete_token,
        }))
    }
}

/// What an idempotency key is stored as: the sha256 of the key and whose it is, so that one
/// owner's key never finds another's paste, and an anonymous key (a client's secret of at least
/// 128 bits) is not kept in the clear. The same encoding as the migration that introduced it
/// (`|` cannot occur in a key or an owner id).
fn idempotency_scope(owner: Option<Uuid>, key: &str) -> Vec<u8> {
    let scoped = match owner {
        Some(owner) => format!("user|{owner}|{key}"),
        None => format!("anon|{key}"),
    };
    Sha256::digest(scoped.as_bytes()).to_vec()
}

/// The delete token of an anonymous paste made with an idempotency key: derived from the key
/// (the client's secret) and the id, so a retry gets the same token, and it needs no server
/// secret (it survives a rotation of the JWT secret).
fn keyed_delete_token(key: &str, id: &str) -> String {
    let digest = Sha256::digest(format!("delete-token\0{key}\0{id}").as_bytes());
    ids::base62_of(&digest, ids::TOKEN_LEN)
}

/// The digest of everything a create asks for, normalized (the text of its files included): a
/// retry must ask for exactly the same paste.
fn input_digest(
    input: &NewPaste,
    files_sha: &[u8],
    encrypted: bool,
    forked_from: Option<&str>,
) -> Vec<u8> {
    let normalized = serde_json::json!([
        hex::encode(files_sha),
        encrypted,
        input.title,
        input.language,
        input.expires_in,
        input.visibility.to_db(),
        input.burn_after_reading,
        input.max_views,
        forked_from,
    ]);
    Sha256::digest(normalized.to_string().as_bytes()).to_vec()
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
        encrypted: row.encrypted,
    }
}
