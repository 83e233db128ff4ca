//! Creating a paste.

use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Created, NewPaste, Paste, Pastes, detach, validate};
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::ids;
use crate::services::blob::{Placement, codec};
use crate::services::budgets::Operation;
use crate::services::cache::CachedPaste;
use crate::services::db::models::{NewPasteRow, PasteMeta, PasteRow, PasteWithBody};
use crate::services::db::pastes as q;
use crate::services::db::{DbFailure, is_unique_violation};

/// Create attempts when a fresh id collides with an existing one.
const ID_ATTEMPTS: usize = 3;

enum InsertOutcome {
    Durable,
    Absent,
    Unknown,
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
        detach(async move { this.create_now(&caller, input).await }).await
    }

    #[tracing::instrument(skip_all, fields(paste.id))]
    async fn create_now(&self, caller: &Caller, input: NewPaste) -> AppResult<Created> {
        let this = &self.inner;
        let input = validate::new_paste(&this.config.limits, &caller.viewer, input)?;
        let owner = caller.user_id();
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
        let placement = this.blobs.placement(size);
        let now = Utc::now();
        let expires_at = input.expires_in.map(|s| now + chrono::Duration::seconds(s));
        let ticket = this.cache.ticket();

        for _ in 0..ID_ATTEMPTS {
            let id = ids::new_paste_id();
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
                body: (placement == Placement::Inline).then(|| compressed.clone()),
                in_blob: placement == Placement::Object,
                delete_token_sha256: delete_token.as_deref().map(|t| Sha256::digest(t).to_vec()),
                idempotency_key: input.idempotency_key.clone(),
            };
            if placement == Placement::Object {
                this.blobs.put(&id, &compressed).await?;
            }
            let in_blob = placement == Placement::Object;
            match this.db.write(async |c| q::insert(c, &row).await).await {
                Ok(()) => {}
                Err(DbFailure::Query(e)) if is_unique_violation(&e, q::PRIMARY_KEY) => {
                    tracing::warn!("paste id collision; drawing another");
                    if in_blob {
                        self.remove_object(&id).await;
                    }
                    continue;
                }
                Err(DbFailure::Query(e)) if is_unique_violation(&e, q::IDEMPOTENCY_INDEX) => {
                    // A concurrent request with the same key won the race: answer with its paste.
                    if in_blob {
                        self.remove_object(&id).await;
                    }
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
                            if in_blob {
                                self.remove_object(&id).await;
                            }
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
                    if in_blob {
                        self.remove_object(&id).await;
                    }
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
                row: PasteRow {
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
                author: caller.viewer.username().map(str::to_owned),
            };
            let entry = Arc::new(CachedPaste::new(meta, text));
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
    ) -> AppResult<Option<PasteWithBody>> {
        Ok(self
            .inner
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
            self.inner
                .auth
                .derive_secret(&["delete-token", &existing.meta.row.id, key])
        });
        let (text, _) = self.load_body(&existing.meta, existing.body).await?;
        Ok(Created {
            paste: Paste::full(Arc::new(CachedPaste::new(existing.meta, text))),
            delete_token,
        })
    }
}
