//! Paste ids and secrets: base62 from the operating system's CSPRNG.

use rand::TryRng;
use rand::rngs::SysRng;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// 10 characters: 59.5 bits, so a collision needs ~10^9 live pastes to reach 1 in 1000.
pub const ID_LEN: usize = 10;
/// Delete tokens: 24 characters, 143 bits.
pub const TOKEN_LEN: usize = 24;

/// `len` base62 characters, uniformly distributed (rejection sampling, no modulo bias).
pub fn random_base62(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        SysRng
            .try_fill_bytes(&mut buf)
            .expect("the OS random source is available");
        for &b in &buf {
            // 248 = 4 * 62: values above it would favour the first characters.
            if b < 248 {
                out.push(ALPHABET[(b % 62) as usize] as char);
                if out.len() == len {
                    break;
                }
            }
        }
    }
    out
}

pub fn new_paste_id() -> String {
    random_base62(ID_LEN)
}

/// Object keys carry one of these per create, edit or fork attempt: 12 characters, 71 bits.
pub const ATTEMPT_LEN: usize = 12;

pub fn new_attempt() -> String {
    random_base62(ATTEMPT_LEN)
}

/// base62 of a digest, for tokens derived from a secret.
pub fn base62_of(bytes: &[u8], len: usize) -> String {
    bytes
        .iter()
        .take(len)
        .map(|b| ALPHABET[(b % 62) as usize] as char)
        .collect()
}

/// Whether a string can be a paste id at all (cheap filter before any lookup).
pub fn looks_like_id(s: &str) -> bool {
    (4..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_base62_of_the_right_length_and_distinct() {
        let ids: std::collections::HashSet<_> = (0..1000).map(|_| new_paste_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| id.len() == ID_LEN && looks_like_id(id)));
    }

    #[test]
    fn ids_with_other_characters_are_rejected() {
        assert!(!looks_like_id("../etc/passwd"));
        assert!(!looks_like_id("abc"));
        assert!(!looks_like_id(&"a".repeat(33)));
        assert!(looks_like_id("Ab3dE9xYz1"));
    }
}
