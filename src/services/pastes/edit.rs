//! Editing a paste: a new, immutable revision of its title, language and files.
//!
//! The edit names the revision it starts from; it is made only if that is still the current
//! one (checked under the row's lock, in the transaction that writes the revision), else it is
//! refused with `CONFLICT`. Its owner may edit it, and for an anonymous paste the holder of its
//! delete token. Burn-after-reading and `maxViews` pastes are never edited. The new revision's
//! large bodies go to the object store first under keys of this attempt; the edit is answered
//! after every instance's caches were told (the same invalidation as a delete), so no reader
//! is served the old revision from a cache afterwards.

use std::sync::Arc;

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::files::{self, Heading};
use super::{Edit, Paste, Pastes, check_readable, detach, is_guarded, validate};
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::ids;
use crate::services::budgets::Operation;
use crate::services::cache::CachedPaste;
use crate::services::db::DbFailure;
use crate::services::db::models::{NewRevisionRow, PasteMeta};
use crate::services::db::pastes::{
    self as q, DeleteProof, EditOutcome, EditWrite, Head, HistoryLimits,
};

/// Most revisions a paste keeps (all stay readable); an edit beyond is refused: fork it.
pub const MAX_REVISIONS: i64 = 100;
/// All revisions of a paste together hold at most this many times `PASTEBIN_MAX_BYTES`.
pub const MAX_HISTORY_FACTOR: i64 = 5;

impl Pastes {
    /// Makes a new revision of a paste. `token` is the delete token of an anonymous paste.
    /// Charges one create.
    pub async fn edit(
        &self,
        caller: &Caller,
        id: &str,
        token: Option<&str>,
        edit: Edit,
    ) -> AppResult<Paste> {
        self.inner.budgets.charge(caller, Operation::Edit).await?;
        self.refuse_writes_when_read_only()?;
        let (this, caller, id, token) = (
            self.clone(),
            caller.clone(),
            id.to_owned(),
            token.map(str::to_owned),
        );
        detach(async move { this.edit_now(&caller, &id, token.as_deref(), edit).await }).await
    }

    #[tracing::instrument(skip_all, fields(paste.id = %id))]
    async fn edit_now(
        &self,
        caller: &Caller,
        id: &str,
        token: Option<&str>,
        edit: Edit,
    ) -> AppResult<Paste> {
        let this = &self.inner;
        if !ids::looks_like_id(id) {
            return Err(AppError::NotFound);
        }
        let limits = &this.config.limits;
        let title = validate::clean_title(edit.title)?;
        let language = validate::clean_language(edit.language)?;
        if edit.encrypted.is_some() {
            validate::no_plaintext_beside_envelope(&title, &language)?;
        }
        let body = files::body(
            limits,
            edit.content,
            edit.files,
            edit.encrypted,
            language.as_deref(),
        )?;
        let drafts = body.drafts;
        let language = match body.encrypted {
            true => None,
            false => language.or_else(|| drafts[0].language.clone()),
        };
        let base = edit.base_revision;

        // Checked again in the transaction; here so that a refused edit uploads nothing.
        let meta = this
            .db
            .read_prefer_primary(async |c| q::find_meta(c, id).await)
            .await?
            .ok_or(AppError::NotFound)?;
        check_readable(&meta, &caller.viewer, Utc::now())?;
        let token_sha = token.map(|t| Sha256::digest(t.as_bytes()).to_vec());
        let proof = DeleteProof {
            owner: caller.user_id(),
            token_sha256: token_sha.as_deref(),
        };
        let allowed =
            meta.row.owner_id.is_some() && meta.row.owner_id == proof.owner || token_sha.is_some();
        if !allowed {
            return Err(not_allowed());
        }
        if is_guarded(&meta) {
            return Err(guarded());
        }
        if meta.row.encrypted != body.encrypted {
            return Err(AppError::bad_input(if meta.row.encrypted {
                "this paste is encrypted: an edit gives a new envelope (encrypted), never plain text"
            } else {
                "this paste is not encrypted: an edit gives content or files (fork it into an encrypted paste instead)"
            }));
        }
        if meta.row.revision != base {
            return Err(conflict(base, meta.row.revision));
        }
        let base_files = this
            .db
            .read_prefer_primary(async |c| q::file_list(c, id, base).await)
            .await?;
        let sha = files::revision_digest(&drafts);
        let summary = if body.encrypted {
            (meta.row.content_sha256 != sha).then(|| files::EDITED_ENCRYPTED_SUMMARY.to_owned())
        } else {
            files::summary(
                Heading {
                    title: meta.row.title.as_deref(),
                    language: meta.row.language.as_deref(),
                },
                &base_files,
                Heading {
                    title: title.as_deref(),
                    language: language.as_deref(),
                },
                &drafts,
            )
        }
        .ok_or_else(|| AppError::bad_input("the edit changes nothing"))?;

        let files = self.compress(drafts).await?;
        let number = base + 1;
        let attempt = ids::new_attempt();
        let now = Utc::now();
        let head = Head {
            title: title.clone(),
            language: language.clone(),
            size_bytes: body.size as i32,
            content_sha256: sha.clone(),
            file_count: files.drafts.len() as i16,
            edited_at: now,
        };
        let revision = NewRevisionRow {
            paste_id: id.to_owned(),
            number,
            created_at: now,
            title,
            language,
            size_bytes: head.size_bytes,
            content_sha256: sha,
            file_count: head.file_count,
            summary,
            attempt: attempt.clone(),
        };
        let history = HistoryLimits {
            max_revisions: MAX_REVISIONS,
            max_total_bytes: MAX_HISTORY_FACTOR * limits.max_bytes as i64,
        };
        let stored = self.store(id, number, &attempt, &files).await?;
        let write = EditWrite {
            base,
            proof,
            head: &head,
            revision: &revision,
            files: &stored.rows,
            limits: history,
        };
        let outcome = this.db.write(async |c| q::edit(c, id, &write).await).await;
        let row = match outcome {
            Ok(EditOutcome::Edited(row)) => *row,
            Err(failure @ (DbFailure::ConnectionLost(_) | DbFailure::Timeout { .. })) => {
                // COMMIT may or may not have happened: the revision row tells.
                let attempt = attempt.as_str();
                let landed = match failure {
                    // Not cancelled: it may still commit; "absent" cannot be told.
                    DbFailure::Timeout { cancelled: false } => {
                        Err(DbFailure::Timeout { cancelled: false })
                    }
                    _ => {
                        this.db
                            .read_primary(async |c| {
                                q::revision_exists(c, id, number, attempt).await
                            })
                            .await
                    }
                };
                match landed {
                    Ok(true) => {
                        self.forget_revision(id, number).await;
                        return self.find_with_content(caller, id).await;
                    }
                    Ok(false) => {
                        self.remove_objects(id, &stored.objects).await;
                        return Err(failure.into());
                    }
                    Err(_) => {
                        return Err(AppError::Unavailable {
                            reason: "the edit may not have been saved; reload the paste",
                            retry_after: 2,
                        });
                    }
                }
            }
            refused => {
                self.remove_objects(id, &stored.objects).await;
                return Err(match refused? {
                    EditOutcome::Edited(_) => unreachable!("handled above"),
                    EditOutcome::Missing => AppError::NotFound,
                    EditOutcome::NotAllowed => not_allowed(),
                    EditOutcome::Guarded => guarded(),
                    EditOutcome::Conflict { current } => conflict(base, current),
                    EditOutcome::TooManyRevisions => AppError::bad_input(format!(
                        "a paste keeps at most {MAX_REVISIONS} revisions: fork it to go on"
                    )),
                    EditOutcome::HistoryTooLarge => AppError::TooLarge(format!(
                        "all revisions of a paste hold at most {} bytes: fork it to go on",
                        history.max_total_bytes
                    )),
                });
            }
        };
        // Acknowledged only once every instance's caches were told.
        self.forget_revision(id, number).await;
        let ticket = this.cache.ticket();
        metrics::counter!("pastebin_pastes_edited_total").increment(1);
        tracing::info!(revision = number, "paste edited");
        let meta = PasteMeta {
            row,
            author: meta.author,
        };
        let entry = Arc::new(CachedPaste::new(meta, files.entry_files(&stored)));
        this.cache.fill_local(ticket, &entry);
        Ok(Paste::full(entry))
    }
}

fn not_allowed() -> AppError {
    AppError::Forbidden(
        "only the owner or, for an anonymous paste, the holder of its delete token may edit it",
    )
}

fn guarded() -> AppError {
    AppError::Forbidden("burn-after-reading and maxViews pastes cannot be edited")
}

fn conflict(base: i32, current: i32) -> AppError {
    AppError::Conflict(format!(
        "the paste changed since revision {base}: its current revision is {current}; start from that one"
    ))
}
