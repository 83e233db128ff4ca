//! Deleting a paste.

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::{Pastes, check_readable, detach};
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::ids;
use crate::services::budgets::Operation;
use crate::services::db::pastes::{self as q, DeleteOutcome, DeleteProof};

impl Pastes {
    /// Deletes a paste: its owner, or anyone with its delete token.
    pub async fn delete(&self, caller: &Caller, id: &str, token: Option<&str>) -> AppResult<()> {
        self.inner.budgets.charge(caller, Operation::Delete).await?;
        let (this, caller, id, token) = (
            self.clone(),
            caller.clone(),
            id.to_owned(),
            token.map(str::to_owned),
        );
        detach(async move { this.delete_now(&caller, &id, token.as_deref()).await }).await
    }

    #[tracing::instrument(skip_all, fields(paste.id = %id))]
    async fn delete_now(&self, caller: &Caller, id: &str, token: Option<&str>) -> AppResult<()> {
        if !ids::looks_like_id(id) {
            return Err(AppError::NotFound);
        }
        self.refuse_writes_when_read_only()?;
        let db = &self.inner.db;
        let token_sha = token.map(|t| Sha256::digest(t.as_bytes()).to_vec());
        let proof = || DeleteProof {
            owner: caller.user_id(),
            token_sha256: token_sha.as_deref(),
        };
        let outcome = db
            .write(async |c| q::delete_authorized(c, id, proof()).await)
            .await?;
        match outcome {
            DeleteOutcome::Deleted { object_keys } => {
                self.forget(id, &object_keys).await;
                tracing::info!("paste deleted");
                Ok(())
            }
            DeleteOutcome::Missing => Err(AppError::NotFound),
            DeleteOutcome::NotAllowed => {
                // Do not reveal that a private paste exists.
                let found = db
                    .read_prefer_primary(async |c| q::find_meta(c, id).await)
                    .await?;
                match found {
                    Some(meta) if check_readable(&meta, &caller.viewer, Utc::now()).is_ok() => {
                        Err(AppError::Forbidden(
                            "only the owner or the holder of the delete token may delete this paste",
                        ))
                    }
                    _ => Err(AppError::NotFound),
                }
            }
        }
    }
}
