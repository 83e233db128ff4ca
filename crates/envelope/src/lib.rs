//! The encrypted-paste format of pastebin, version 1 (`docs/encryption.md` is the spec; the
//! test vectors in `docs/encryption-vectors.json` are checked here and by the web app).
//!
//! A paste's files and title (a [`Bundle`]) are serialized as JSON, compressed with zlib and
//! sealed with AES-256-GCM under a random key that travels in the link's fragment
//! (`/p/{id}#k=…`), never to the server. With a password, the AES key is derived with
//! PBKDF2-HMAC-SHA-256 from the fragment key and the password. The server stores the
//! [`Envelope`] it is given and checks only its shape ([`Envelope::validate`]).
//!
//! ```
//! use pastebin_envelope::{open, seal, Bundle, Key};
//!
//! let bundle = Bundle::text(Some("notes".into()), Some("rust".into()), "fn main() {}");
//! let (envelope, key) = seal(&bundle, false, None).unwrap();
//! let link_key = key.encode(); // goes after `#k=`
//! let key = Key::decode(&link_key).unwrap();
//! assert_eq!(open(&envelope, &key, None, false).unwrap(), bundle);
//! ```

mod bundle;
mod envelope;
mod error;
mod key;
#[cfg(test)]
mod vectors;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

pub use bundle::{
    Bundle, File, MAX_BUNDLE_BYTES, MAX_FILE_NAME_BYTES, MAX_FILES, MAX_LANGUAGE_BYTES,
    MAX_TITLE_CHARS,
};
pub use envelope::{Envelope, EnvelopeError};
pub use error::{OpenError, SealError};
pub use key::{Key, KeyError};

/// The format version this crate writes and reads.
pub const VERSION: u32 = 1;
/// `Envelope::algorithm` of version 1.
pub const ALGORITHM: &str = "aes-256-gcm";
/// `Envelope::kdf` without a password: the fragment key is the AES key.
pub const KDF_NONE: &str = "none";
/// `Envelope::kdf` with a password.
pub const KDF_PBKDF2_SHA256: &str = "pbkdf2-sha256";
/// PBKDF2 rounds written by this crate (OWASP's 2023 figure for PBKDF2-HMAC-SHA-256).
pub const PBKDF2_ITERATIONS: u32 = 600_000;
/// Fewest PBKDF2 rounds accepted.
pub const MIN_ITERATIONS: u32 = 600_000;
/// Most PBKDF2 rounds accepted: a reader derives the key before it can tell whether the
/// password is right, so a huge count would hang it (a few seconds in a browser at this bound).
pub const MAX_ITERATIONS: u32 = 2_000_000;
/// Bytes of the fragment key and of the AES key.
pub const KEY_LEN: usize = 32;
/// Bytes of the AES-GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Bytes of the PBKDF2 salt.
pub const SALT_LEN: usize = 16;
/// Bytes of the AES-GCM tag at the end of the ciphertext.
pub const TAG_LEN: usize = 16;

/// Encrypts a paste's bundle under a new random key (and `password`, if any).
///
/// `burn_after_reading` is the paste's setting as it will be sent to the server: it is bound
/// to the ciphertext, so a reader notices when the server serves it otherwise.
/// Returns the envelope to send and the key to put in the link (`Key::encode`).
pub fn seal(
    bundle: &Bundle,
    burn_after_reading: bool,
    password: Option<&str>,
) -> Result<(Envelope, Key), SealError> {
    let key = Key::generate();
    let mut nonce = [0u8; NONCE_LEN];
    random(&mut nonce);
    let salt = match password {
        Some(_) => {
            let mut salt = [0u8; SALT_LEN];
            random(&mut salt);
            Some(salt)
        }
        None => None,
    };
    let envelope = seal_with(
        bundle,
        burn_after_reading,
        password,
        &key,
        &nonce,
        salt.as_ref(),
        PBKDF2_ITERATIONS,
    )?;
    Ok((envelope, key))
}

/// Encrypts a new revision of a paste (an edit) under the key its link already carries, so the
/// link keeps opening it: a new random nonce (and, with a password, a new salt), as for a
/// new paste. Random 96-bit nonces under one key are safe for far more revisions than a paste
/// may have.
pub fn reseal(
    bundle: &Bundle,
    burn_after_reading: bool,
    password: Option<&str>,
    key: &Key,
) -> Result<Envelope, SealError> {
    let mut nonce = [0u8; NONCE_LEN];
    random(&mut nonce);
    let mut salt = [0u8; SALT_LEN];
    random(&mut salt);
    seal_with(
        bundle,
        burn_after_reading,
        password,
        key,
        &nonce,
        password.map(|_| &salt),
        PBKDF2_ITERATIONS,
    )
}

/// Decrypts an envelope with the link's key (and the password, when the paste has one).
///
/// `burn_after_reading` is the paste's setting as the server reports it. A password given
/// for a paste that has none is ignored.
pub fn open(
    envelope: &Envelope,
    key: &Key,
    password: Option<&str>,
    burn_after_reading: bool,
) -> Result<Bundle, OpenError> {
    let parts = envelope.validate_parts(None)?;
    let with_password = parts.salt.is_some();
    let aes_key = match (&parts.salt, password) {
        (None, _) => Zeroizing::new(*key.as_bytes()),
        (Some(_), None) => return Err(OpenError::PasswordRequired),
        (Some(_), Some("")) => return Err(OpenError::PasswordRequired),
        (Some(salt), Some(pw)) => derive_key(key, pw, salt, parts.iterations),
    };
    let cipher = Aes256Gcm::new(&aes_gcm::Key::<Aes256Gcm>::from(*aes_key));
    let nonce = Nonce::from(parts.nonce);
    let decrypt = |burn: bool| {
        let aad = associated_data(envelope, burn);
        cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &parts.ciphertext,
                    aad: &aad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    };
    let payload = match decrypt(burn_after_reading) {
        Some(p) => p,
        // The same key opens it with the other setting: the server changed it.
        None if decrypt(!burn_after_reading).is_some() => {
            return Err(OpenError::SettingsChanged {
                sealed_burn_after_reading: !burn_after_reading,
            });
        }
        None if with_password => return Err(OpenError::WrongKeyOrPassword),
        None => return Err(OpenError::WrongKey),
    };
    Bundle::decode(&payload).map_err(OpenError::InvalidBundle)
}

/// `seal` with its randomness given: for the test vectors only (a nonce must never repeat
/// under one key).
pub(crate) fn seal_with(
    bundle: &Bundle,
    burn_after_reading: bool,
    password: Option<&str>,
    key: &Key,
    nonce: &[u8; NONCE_LEN],
    salt: Option<&[u8; SALT_LEN]>,
    iterations: u32,
) -> Result<Envelope, SealError> {
    bundle.validate().map_err(SealError::InvalidBundle)?;
    let payload = Zeroizing::new(bundle.encode()?);
    seal_payload(
        &payload,
        burn_after_reading,
        password,
        key,
        nonce,
        salt,
        iterations,
    )
}

/// Encrypts payload bytes as they are (already a compressed bundle).
pub(crate) fn seal_payload(
    payload: &[u8],
    burn_after_reading: bool,
    password: Option<&str>,
    key: &Key,
    nonce: &[u8; NONCE_LEN],
    salt: Option<&[u8; SALT_LEN]>,
    iterations: u32,
) -> Result<Envelope, SealError> {
    let (kdf, salt_text, iterations, aes_key) = match password {
        None => (KDF_NONE, None, None, Zeroizing::new(*key.as_bytes())),
        Some("") => return Err(SealError::EmptyPassword),
        Some(pw) => {
            let salt = salt.expect("a password comes with a salt");
            (
                KDF_PBKDF2_SHA256,
                Some(envelope::b64(salt)),
                Some(iterations),
                derive_key(key, pw, salt, iterations),
            )
        }
    };
    let mut envelope = Envelope {
        version: VERSION,
        algorithm: ALGORITHM.to_owned(),
        kdf: kdf.to_owned(),
        salt: salt_text,
        iterations,
        nonce: envelope::b64(nonce),
        ciphertext: String::new(),
    };
    let aad = associated_data(&envelope, burn_after_reading);
    let cipher = Aes256Gcm::new(&aes_gcm::Key::<Aes256Gcm>::from(*aes_key));
    let ciphertext = cipher
        .encrypt(
            &Nonce::from(*nonce),
            Payload {
                msg: payload,
                aad: &aad,
            },
        )
        .map_err(|_| SealError::TooLarge)?;
    envelope.ciphertext = envelope::b64(&ciphertext);
    Ok(envelope)
}

/// The AES key of a password-protected paste:
/// PBKDF2-HMAC-SHA-256(fragment key ‖ UTF-8(NFC(password)), salt, iterations, 32 bytes).
pub(crate) fn derive_key(
    key: &Key,
    password: &str,
    salt: &[u8],
    iterations: u32,
) -> Zeroizing<[u8; KEY_LEN]> {
    let mut secret = Zeroizing::new(Vec::with_capacity(KEY_LEN + password.len()));
    secret.extend_from_slice(key.as_bytes());
    secret.extend(password.nfc().collect::<String>().bytes());
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(&secret, salt, iterations, out.as_mut_slice());
    out
}

/// The associated data: the envelope's public parameters and the paste's burn-after-reading
/// setting, as the compact JSON array
/// `["pastebin-envelope",version,algorithm,kdf,salt|null,iterations|null,burn]`.
pub(crate) fn associated_data(envelope: &Envelope, burn_after_reading: bool) -> Vec<u8> {
    serde_json::to_vec(&(
        "pastebin-envelope",
        envelope.version,
        &envelope.algorithm,
        &envelope.kdf,
        &envelope.salt,
        envelope.iterations,
        burn_after_reading,
    ))
    .expect("a tuple of strings and numbers serializes")
}

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn random(buf: &mut [u8]) {
    // Without an OS random source no key can be made; there is nothing to fall back to.
    getrandom::fill(buf).expect("the operating system's random source failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Bundle {
        Bundle {
            title: Some("Two files ✓".into()),
            files: vec![
                File {
                    name: "main.rs".into(),
                    language: Some("rust".into()),
                    content: "fn main() {\n    println!(\"héllo\");\n}\n".into(),
                },
                File {
                    name: "notes.md".into(),
                    language: None,
                    content: "# Notes\n\n* one\n".into(),
                },
            ],
        }
    }

    #[test]
    fn round_trip_without_password() {
        let (env, key) = seal(&sample(), false, None).unwrap();
        assert_eq!(env.kdf, KDF_NONE);
        assert_eq!(env.salt, None);
        assert_eq!(env.iterations, None);
        env.validate(1 << 20).unwrap();
        assert_eq!(open(&env, &key, None, false).unwrap(), sample());
        // A password for a paste without one is ignored.
        assert_eq!(open(&env, &key, Some("x"), false).unwrap(), sample());
    }

    #[test]
    fn round_trip_with_password_and_burn() {
        let (env, key) = seal(&sample(), true, Some("hunter2")).unwrap();
        assert_eq!(env.kdf, KDF_PBKDF2_SHA256);
        assert_eq!(env.iterations, Some(PBKDF2_ITERATIONS));
        assert_eq!(open(&env, &key, Some("hunter2"), true).unwrap(), sample());
        assert_eq!(
            open(&env, &key, Some("hunter3"), true),
            Err(OpenError::WrongKeyOrPassword)
        );
        assert_eq!(
            open(&env, &key, None, true),
            Err(OpenError::PasswordRequired)
        );
        assert_eq!(
            open(&env, &key, Some("hunter2"), false),
            Err(OpenError::SettingsChanged {
                sealed_burn_after_reading: true
            })
        );
    }

    #[test]
    fn each_seal_has_its_own_key_and_nonce() {
        let (a, ka) = seal(&sample(), false, None).unwrap();
        let (b, kb) = seal(&sample(), false, None).unwrap();
        assert_ne!(ka.encode(), kb.encode());
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_eq!(open(&a, &kb, None, false), Err(OpenError::WrongKey));
    }

    #[test]
    fn reseal_keeps_the_key_with_a_new_nonce_and_salt() {
        let (first, key) = seal(&sample(), false, Some("pw")).unwrap();
        let mut edited = sample();
        edited.files[1].content.push_str("* two\n");
        let second = reseal(&edited, false, Some("pw"), &key).unwrap();
        assert_ne!(first.nonce, second.nonce);
        assert_ne!(first.salt, second.salt);
        assert_eq!(open(&second, &key, Some("pw"), false).unwrap(), edited);
        assert_eq!(open(&first, &key, Some("pw"), false).unwrap(), sample());
    }

    #[test]
    fn password_is_nfc_normalized() {
        let key = Key::from_bytes([7; KEY_LEN]);
        // "é" precomposed vs "e" + combining acute.
        let a = derive_key(&key, "caf\u{e9}", &[1; SALT_LEN], MIN_ITERATIONS);
        let b = derive_key(&key, "cafe\u{301}", &[1; SALT_LEN], MIN_ITERATIONS);
        assert_eq!(*a, *b);
    }

    #[test]
    fn empty_password_is_refused() {
        assert_eq!(
            seal(&sample(), false, Some("")).map(|_| ()),
            Err(SealError::EmptyPassword)
        );
    }

    #[test]
    fn associated_data_is_compact_json() {
        let (env, _) = seal(&sample(), true, None).unwrap();
        assert_eq!(
            String::from_utf8(associated_data(&env, true)).unwrap(),
            r#"["pastebin-envelope",1,"aes-256-gcm","none",null,null,true]"#
        );
    }

    #[test]
    fn unsupported_version_is_not_a_wrong_key() {
        let (mut env, key) = seal(&sample(), false, None).unwrap();
        env.version = 2;
        assert_eq!(
            open(&env, &key, None, false),
            Err(OpenError::Envelope(EnvelopeError::UnsupportedVersion(2)))
        );
        assert_eq!(
            open(&env, &key, None, false).unwrap_err().code(),
            "UNSUPPORTED_VERSION"
        );
    }

    #[test]
    fn a_bomb_is_refused_not_inflated() {
        // 40 MiB of zeros compress to ~40 KiB: over the bundle limit once inflated.
        let zeros = vec![b' '; MAX_BUNDLE_BYTES + 1024];
        let payload = miniz_oxide::deflate::compress_to_vec_zlib(&zeros, 6);
        let key = Key::generate();
        let env = seal_payload(&payload, false, None, &key, &[0; NONCE_LEN], None, 0).unwrap();
        match open(&env, &key, None, false) {
            Err(OpenError::InvalidBundle(msg)) => assert!(msg.contains("larger than"), "{msg}"),
            other => panic!("expected InvalidBundle, got {other:?}"),
        }
    }
}
