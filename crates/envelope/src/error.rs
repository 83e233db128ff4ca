//! What sealing and opening can fail with. Each error has a stable `code()`, the one the
//! test vectors and the web app's module use.

use crate::EnvelopeError;

/// Why a bundle could not be sealed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("{0}")]
    InvalidBundle(String),
    #[error("the paste is larger than {} bytes", crate::MAX_BUNDLE_BYTES)]
    TooLarge,
    #[error("an empty password protects nothing: give none instead")]
    EmptyPassword,
}

impl SealError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidBundle(_) => "INVALID_BUNDLE",
            Self::TooLarge => "BUNDLE_TOO_LARGE",
            Self::EmptyPassword => "EMPTY_PASSWORD",
        }
    }
}

/// Why an envelope could not be opened. The variants a reader shows differently: a format
/// this build does not know (`Envelope`), a password to ask for (`PasswordRequired`), a key
/// or password that does not fit (`WrongKey`, `WrongKeyOrPassword`: AES-GCM cannot tell a
/// wrong key from an altered ciphertext), and settings changed after sealing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("this paste is protected by a password")]
    PasswordRequired,
    #[error(
        "the link's key does not open this paste: the link is incomplete or damaged, or the paste was altered"
    )]
    WrongKey,
    #[error("wrong password, or the link's key is damaged")]
    WrongKeyOrPassword,
    #[error(
        "the paste was sealed with burn after reading {}, but the server serves it {}: its settings were changed after it was made",
        if *.sealed_burn_after_reading { "on" } else { "off" },
        if *.sealed_burn_after_reading { "without it" } else { "with it" }
    )]
    SettingsChanged { sealed_burn_after_reading: bool },
    #[error("the decrypted paste is not a valid bundle: {0}")]
    InvalidBundle(String),
}

impl OpenError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Envelope(e) => e.code(),
            Self::PasswordRequired => "PASSWORD_REQUIRED",
            Self::WrongKey => "WRONG_KEY",
            Self::WrongKeyOrPassword => "WRONG_KEY_OR_PASSWORD",
            Self::SettingsChanged { .. } => "SETTINGS_CHANGED",
            Self::InvalidBundle(_) => "INVALID_BUNDLE",
        }
    }
}
