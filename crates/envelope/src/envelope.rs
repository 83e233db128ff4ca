//! The envelope: what the server stores and returns for an encrypted paste, and the checks
//! the server applies to it without decrypting (`docs/encryption.md`, "Validation").

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::{
    ALGORITHM, KDF_NONE, KDF_PBKDF2_SHA256, MAX_ITERATIONS, MIN_ITERATIONS, NONCE_LEN, SALT_LEN,
    TAG_LEN, VERSION,
};

/// One encrypted paste, as sent to `createPaste(input: {encrypted})` and returned by
/// `Paste.encrypted`. Binary fields are base64url without padding (RFC 4648 §5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Format version: 1.
    pub version: u32,
    /// `"aes-256-gcm"`.
    pub algorithm: String,
    /// `"none"` or `"pbkdf2-sha256"`.
    pub kdf: String,
    /// 16 bytes, only with `pbkdf2-sha256`.
    pub salt: Option<String>,
    /// PBKDF2 rounds, only with `pbkdf2-sha256`.
    pub iterations: Option<u32>,
    /// 12 bytes.
    pub nonce: String,
    /// AES-GCM output: the encrypted payload followed by the 16-byte tag.
    pub ciphertext: String,
}

/// Why an envelope is refused before any decryption (by the server, or by a reader).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("unsupported encryption format version {0} (supported: 1)")]
    UnsupportedVersion(u32),
    #[error("unsupported encryption algorithm {0:?} (supported: \"aes-256-gcm\")")]
    UnsupportedAlgorithm(String),
    #[error("unsupported key derivation {0:?} (supported: \"none\", \"pbkdf2-sha256\")")]
    UnsupportedKdf(String),
    #[error("invalid envelope: {field} {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("the ciphertext is {bytes} bytes; the limit is {limit}")]
    TooLarge { bytes: usize, limit: usize },
}

impl EnvelopeError {
    /// A stable code for clients and tests (also in the test vectors).
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnsupportedVersion(_) => "UNSUPPORTED_VERSION",
            Self::UnsupportedAlgorithm(_) => "UNSUPPORTED_ALGORITHM",
            Self::UnsupportedKdf(_) => "UNSUPPORTED_KDF",
            Self::Invalid { .. } => "INVALID_ENVELOPE",
            Self::TooLarge { .. } => "ENVELOPE_TOO_LARGE",
        }
    }
}

/// The decoded binary parts of a valid envelope.
pub(crate) struct Parts {
    pub nonce: [u8; NONCE_LEN],
    pub salt: Option<[u8; SALT_LEN]>,
    pub iterations: u32,
    pub ciphertext: Vec<u8>,
}

impl Envelope {
    /// The server's checks: supported version, algorithm and KDF; KDF parameters present
    /// exactly when the KDF needs them and within bounds; every binary field canonical
    /// base64url of the right length; the ciphertext at most `max_ciphertext_bytes` once
    /// decoded. Nothing is decrypted.
    pub fn validate(&self, max_ciphertext_bytes: usize) -> Result<(), EnvelopeError> {
        self.validate_parts(Some(max_ciphertext_bytes)).map(|_| ())
    }

    /// Bytes of the decoded ciphertext (tag included), computed from the text's length:
    /// the size the server reports for an encrypted paste.
    pub fn ciphertext_bytes(&self) -> usize {
        self.ciphertext.len() / 4 * 3 + (self.ciphertext.len() % 4).saturating_sub(1)
    }

    pub(crate) fn validate_parts(&self, max: Option<usize>) -> Result<Parts, EnvelopeError> {
        if self.version != VERSION {
            return Err(EnvelopeError::UnsupportedVersion(self.version));
        }
        if self.algorithm != ALGORITHM {
            return Err(EnvelopeError::UnsupportedAlgorithm(self.algorithm.clone()));
        }
        let (salt, iterations) = match self.kdf.as_str() {
            KDF_NONE => {
                if self.salt.is_some() {
                    return Err(invalid("salt", "must be null when kdf is \"none\""));
                }
                if self.iterations.is_some() {
                    return Err(invalid("iterations", "must be null when kdf is \"none\""));
                }
                (None, 0)
            }
            KDF_PBKDF2_SHA256 => {
                let salt = self
                    .salt
                    .as_deref()
                    .ok_or(invalid("salt", "is required with a password"))?;
                let salt = fixed::<SALT_LEN>(salt, "salt", "must be 16 bytes of base64url")?;
                let iterations = self
                    .iterations
                    .ok_or(invalid("iterations", "is required with a password"))?;
                if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
                    return Err(invalid("iterations", "must be 600000 to 2000000"));
                }
                (Some(salt), iterations)
            }
            other => return Err(EnvelopeError::UnsupportedKdf(other.to_owned())),
        };
        let nonce = fixed::<NONCE_LEN>(&self.nonce, "nonce", "must be 12 bytes of base64url")?;
        if let Some(limit) = max {
            // Refuse by length before decoding a huge string.
            let bytes = self.ciphertext_bytes();
            if bytes > limit {
                return Err(EnvelopeError::TooLarge { bytes, limit });
            }
        }
        let ciphertext = unb64(&self.ciphertext)
            .ok_or(invalid("ciphertext", "must be base64url without padding"))?;
        if ciphertext.len() <= TAG_LEN {
            return Err(invalid("ciphertext", "is shorter than its tag"));
        }
        Ok(Parts {
            nonce,
            salt,
            iterations,
            ciphertext,
        })
    }
}

fn invalid(field: &'static str, reason: &'static str) -> EnvelopeError {
    EnvelopeError::Invalid { field, reason }
}

fn fixed<const N: usize>(
    text: &str,
    field: &'static str,
    reason: &'static str,
) -> Result<[u8; N], EnvelopeError> {
    unb64(text)
        .and_then(|v| <[u8; N]>::try_from(v).ok())
        .ok_or(invalid(field, reason))
}

/// base64url without padding.
pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url: no padding, no whitespace, no other alphabet, and canonical (the unused
/// low bits of the last character are zero), so each byte string has exactly one text.
pub(crate) fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Envelope {
        Envelope {
            version: 1,
            algorithm: "aes-256-gcm".into(),
            kdf: "pbkdf2-sha256".into(),
            salt: Some(b64(&[1; 16])),
            iterations: Some(600_000),
            nonce: b64(&[2; 12]),
            ciphertext: b64(&[3; 40]),
        }
    }

    fn code(e: Envelope) -> &'static str {
        e.validate(1000).unwrap_err().code()
    }

    #[test]
    fn a_valid_envelope_passes() {
        valid().validate(1000).unwrap();
        let mut plain = valid();
        plain.kdf = "none".into();
        plain.salt = None;
        plain.iterations = None;
        plain.validate(1000).unwrap();
    }

    #[test]
    fn each_rule_refuses() {
        type Change = fn(&mut Envelope);
        let cases: Vec<(Change, &str)> = vec![
            (|e| e.version = 2, "UNSUPPORTED_VERSION"),
            (|e| e.version = 0, "UNSUPPORTED_VERSION"),
            (
                |e| e.algorithm = "AES-256-GCM".into(),
                "UNSUPPORTED_ALGORITHM",
            ),
            (|e| e.kdf = "argon2id".into(), "UNSUPPORTED_KDF"),
            (|e| e.salt = None, "INVALID_ENVELOPE"),
            (|e| e.salt = Some(b64(&[1; 15])), "INVALID_ENVELOPE"),
            (|e| e.iterations = None, "INVALID_ENVELOPE"),
            (|e| e.iterations = Some(599_999), "INVALID_ENVELOPE"),
            (|e| e.iterations = Some(2_000_001), "INVALID_ENVELOPE"),
            (|e| e.nonce = b64(&[2; 16]), "INVALID_ENVELOPE"),
            (|e| e.nonce.push('='), "INVALID_ENVELOPE"),
            (|e| e.nonce = e.nonce.replace('C', "+"), "INVALID_ENVELOPE"),
            (|e| e.ciphertext = b64(&[3; 16]), "INVALID_ENVELOPE"),
            (|e| e.ciphertext.insert(4, ' '), "INVALID_ENVELOPE"),
            (|e| e.ciphertext = b64(&[3; 1001]), "ENVELOPE_TOO_LARGE"),
            (
                |e| {
                    e.kdf = "none".into();
                    e.iterations = None
                },
                "INVALID_ENVELOPE",
            ),
            (
                |e| {
                    e.kdf = "none".into();
                    e.salt = None
                },
                "INVALID_ENVELOPE",
            ),
        ];
        for (i, (change, want)) in cases.into_iter().enumerate() {
            let mut e = valid();
            change(&mut e);
            assert_eq!(code(e), want, "case {i}");
        }
    }

    #[test]
    fn base64_is_canonical() {
        // 1 byte = 2 characters; "AB" has non-zero unused bits and is not the text of any byte.
        assert_eq!(unb64("AA"), Some(vec![0]));
        assert_eq!(unb64("AB"), None);
        assert_eq!(unb64("AA=="), None);
        assert_eq!(unb64("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(unb64("+/8"), None);
    }

    #[test]
    fn ciphertext_bytes_matches_decoding() {
        for n in 0..70 {
            let mut e = valid();
            e.ciphertext = b64(&vec![9; n]);
            assert_eq!(e.ciphertext_bytes(), n);
        }
    }
}
