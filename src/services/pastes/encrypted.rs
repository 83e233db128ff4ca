//! End-to-end encrypted pastes (docs/encryption.md): the server stores one opaque envelope per
//! paste and never holds a key.
//!
//! The envelope is checked with the format's own crate (`Envelope::validate`: versions,
//! algorithm, KDF parameters, strict base64url, sizes; nothing is decrypted) and stored as the
//! paste's one file: its canonical JSON (one envelope has exactly one text, so a retried create
//! with the same envelope has the same digest), compressed and placed like any body (inline
//! when small, in the object store under the attempt's key when large). Title, language and
//! file names are inside the ciphertext: the paste's row holds none, and its size is the
//! ciphertext's. Everything else — visibility, expiry, burn after reading, maxViews, views,
//! edits (a new envelope), forks (a copy of it) — works as for any paste; doors that serve
//! plain text (per-file raw, zip, the REST API) refuse it with `ENCRYPTED`.

use pastebin_envelope::{Envelope, EnvelopeError};

use super::files::Draft;
use super::{Paste, Pastes};
use crate::caller::Caller;
use crate::error::{AppError, AppResult};

/// The name of an encrypted paste's one stored file (never shown: `files` is null for it).
pub(super) const ENVELOPE_FILE: &str = "envelope.json";

/// Checks an envelope for a paste (or an edit) and makes its one file; returns it with the
/// ciphertext's size in bytes (the paste's `sizeBytes`).
pub(super) fn draft(envelope: Envelope, max_bytes: usize) -> AppResult<(Draft, usize)> {
    envelope.validate(max_bytes).map_err(refused)?;
    let size = envelope.ciphertext_bytes();
    let json = serde_json::to_string(&envelope).map_err(AppError::internal)?;
    Ok((Draft::new(ENVELOPE_FILE.to_owned(), None, json), size))
}

/// The GraphQL error of a refused envelope: `BAD_USER_INPUT` (or `PAYLOAD_TOO_LARGE`), with
/// the format's precise code as `reason` so a client can tell "update your client" apart.
fn refused(e: EnvelopeError) -> AppError {
    let reason = e.code();
    match e {
        EnvelopeError::TooLarge { .. } => AppError::EnvelopeTooLarge(e.to_string()),
        _ => AppError::InvalidEnvelope {
            reason,
            message: e.to_string(),
        },
    }
}

/// The refusal of a door that serves plain text.
pub(super) fn refusal() -> AppError {
    AppError::Encrypted(
        "this paste is end-to-end encrypted: the server cannot read it. Open its link (with #k=…) in the web app, or read it with the pb CLI; GET /raw/{id} serves its envelope",
    )
}

impl Paste {
    /// Whether the paste is end-to-end encrypted (its content is an envelope).
    pub fn is_encrypted(&self) -> bool {
        self.meta().row.encrypted
    }

    /// The envelope of an encrypted paste loaded with its content; `None` otherwise.
    pub fn envelope(&self) -> Option<AppResult<Envelope>> {
        if !self.is_encrypted() {
            return None;
        }
        let content = self.content()?;
        Some(serde_json::from_slice(&content.text).map_err(AppError::internal))
    }
}

impl Pastes {
    /// [`Pastes::read_at`] for the doors that serve plain text (one file by name, the zip, the
    /// REST API): an encrypted paste is refused with `ENCRYPTED` before anything is read or
    /// counted.
    pub async fn read_plain_at(
        &self,
        caller: &Caller,
        id: &str,
        revision: Option<i32>,
    ) -> AppResult<Paste> {
        let paste = self.find_at(caller, id, revision, true).await?;
        if paste.is_encrypted() {
            return Err(refusal());
        }
        self.open_for_get(caller, &paste).await
    }
}
