//! Forking: a new paste of the caller's, copied from a revision of any paste they may read,
//! with a link back to its source. The copy follows the create rules of its caller (an
//! anonymous fork gets a delete token, may not be private, and so on) and stores its own
//! bodies under its own keys, so deleting the source leaves it whole.

use super::{Created, ForkOptions, NewFile, NewPaste, Pastes, detach};
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::services::budgets::Operation;

impl Pastes {
    /// Forks a paste for the caller. Charges one create.
    pub async fn fork(
        &self,
        caller: &Caller,
        id: &str,
        options: ForkOptions,
    ) -> AppResult<Created> {
        self.inner.budgets.charge(caller, Operation::Fork).await?;
        self.refuse_writes_when_read_only()?;
        let source = self.lookup(caller, id, false).await?;
        if source.is_guarded() {
            return Err(AppError::Forbidden(
                "burn-after-reading and maxViews pastes cannot be forked",
            ));
        }
        let source = match options.revision {
            Some(n) if n != source.revision() => self.pin(&source, n, true).await?,
            _ => self.lookup(caller, id, true).await?,
        };
        // An encrypted paste's fork is a copy of its envelope: the same link key opens it (its
        // burn setting, bound to the ciphertext, is off in both: guarded pastes are not forked).
        let encrypted = source.envelope().transpose()?;
        let files = source
            .files()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("a loaded paste has files")))?;
        let files = files
            .into_iter()
            .map(|f| {
                let content = f.content().map(|c| c.text.clone()).unwrap_or_default();
                Ok(NewFile {
                    name: f.name().to_owned(),
                    content: String::from_utf8(content.to_vec()).map_err(AppError::internal)?,
                    language: f.language().map(str::to_owned),
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let input = NewPaste {
            content: None,
            files: encrypted.is_none().then_some(files),
            encrypted,
            title: source.title().map(str::to_owned),
            language: source.language().map(str::to_owned),
            expires_in: options.expires_in,
            visibility: options.visibility,
            burn_after_reading: false,
            max_views: None,
            idempotency_key: None,
        };
        let (this, caller, source_id) = (self.clone(), caller.clone(), source.id().to_owned());
        detach(async move {
            let created = this.create_now(&caller, input, Some(source_id)).await?;
            tracing::info!(paste.id = %created.paste.id(), source = %created.paste.forked_from().unwrap_or_default(), "paste forked");
            Ok(created)
        })
        .await
    }
}
