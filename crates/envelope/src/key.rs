//! The random key of an encrypted paste and its text in the link: `#k=<base64url>`.

use std::fmt;

use zeroize::Zeroize;

use crate::KEY_LEN;
use crate::envelope::{b64, unb64};

/// 256 random bits. Wiped from memory when dropped; `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; KEY_LEN]);

/// Why a link's key cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the link has no key (#k=…)")]
    Missing,
    #[error("the link's key is damaged: it must be 43 characters of base64url")]
    Invalid,
}

impl KeyError {
    /// A stable code for clients and tests (also in the test vectors).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "MISSING_KEY",
            Self::Invalid => "INVALID_KEY",
        }
    }
}

impl Key {
    /// A new key from the operating system's CSPRNG.
    pub fn generate() -> Key {
        let mut k = Key([0; KEY_LEN]);
        crate::random(&mut k.0);
        k
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Key {
        Key(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key's text in a link: 43 characters of base64url, no padding.
    pub fn encode(&self) -> String {
        b64(&self.0)
    }

    /// Reads the text written by `encode` (strict: exactly the canonical 43 characters).
    pub fn decode(text: &str) -> Result<Key, KeyError> {
        let bytes = unb64(text).ok_or(KeyError::Invalid)?;
        let bytes = zeroize::Zeroizing::new(bytes);
        <[u8; KEY_LEN]>::try_from(bytes.as_slice())
            .map(Key)
            .map_err(|_| KeyError::Invalid)
    }

    /// The key in a URL fragment (`#k=…&f=main.rs&L3-L9`, with or without the `#`), or in a
    /// whole link. Other parts of the fragment are ignored; the first `k=` counts.
    pub fn from_fragment(fragment_or_url: &str) -> Result<Key, KeyError> {
        let fragment = match fragment_or_url.split_once('#') {
            Some((_, f)) => f,
            None => fragment_or_url,
        };
        let text = fragment
            .split('&')
            .find_map(|part| part.strip_prefix("k="))
            .ok_or(KeyError::Missing)?;
        Key::decode(text)
    }

    /// The fragment part carrying this key: `k=<base64url>` (join other parts with `&`).
    pub fn to_fragment(&self) -> String {
        format!("k={}", self.encode())
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<secret>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        let k = Key::generate();
        let text = k.encode();
        assert_eq!(text.len(), 43);
        assert_eq!(Key::decode(&text).unwrap(), k);
        assert_eq!(k.to_fragment(), format!("k={text}"));
    }

    #[test]
    fn fragments_and_links() {
        let k = Key::from_bytes([0xfb; KEY_LEN]);
        let text = k.encode();
        for link in [
            format!("#k={text}"),
            format!("k={text}"),
            format!("https://paste.example/p/Ab3dE9xY#k={text}&f=main.rs&L3-L9"),
            format!("#L3&k={text}"),
        ] {
            assert_eq!(Key::from_fragment(&link).unwrap(), k, "{link}");
        }
        assert_eq!(
            Key::from_fragment("https://x/p/a#L3"),
            Err(KeyError::Missing)
        );
        assert_eq!(Key::from_fragment("https://x/p/a"), Err(KeyError::Missing));
        assert_eq!(Key::from_fragment("#k=abc"), Err(KeyError::Invalid));
    }

    #[test]
    fn damaged_keys_are_refused() {
        let text = Key::from_bytes([1; KEY_LEN]).encode();
        let cut = &text[..42];
        let long = format!("{text}A");
        let padded = format!("{text}=");
        let std_alphabet = text.replace('B', "+");
        for bad in [cut, &long, &padded, &std_alphabet, ""] {
            assert_eq!(Key::decode(bad), Err(KeyError::Invalid), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(
            format!("{:?}", Key::from_bytes([1; KEY_LEN])),
            "Key(<secret>)"
        );
    }
}
