//! The secret of a personal access token: `pbt_` + 32 random base62 characters (190 bits) + a
//! 6-character checksum of them. The prefix lets secret scanners recognise a leaked token
//! (`pbt_[0-9A-Za-z]{38}`), and the checksum lets them, and this service, reject a mistyped
//! or made-up one without a lookup. Only the SHA-256 of the whole secret is stored.

use sha2::{Digest, Sha256};

use crate::ids;

pub const PREFIX: &str = "pbt_";
const RANDOM_LEN: usize = 32;
const CHECK_LEN: usize = 6;
/// Length of a whole secret.
pub const LEN: usize = PREFIX.len() + RANDOM_LEN + CHECK_LEN;

fn checksum(random: &str) -> String {
    ids::base62_of(&Sha256::digest(random.as_bytes()), CHECK_LEN)
}

/// A new secret.
pub fn generate() -> String {
    let random = ids::random_base62(RANDOM_LEN);
    format!("{PREFIX}{random}{}", checksum(&random))
}

/// Whether a bearer value is meant as an access token (by its prefix), well formed or not.
pub fn is_access_token(bearer: &str) -> bool {
    bearer.starts_with(PREFIX)
}

/// Whether a secret has the shape and checksum of one this service made.
pub fn is_well_formed(secret: &str) -> bool {
    let Some(rest) = secret.strip_prefix(PREFIX) else {
        return false;
    };
    if rest.len() != RANDOM_LEN + CHECK_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (random, check) = rest.split_at(RANDOM_LEN);
    checksum(random) == check
}

/// What is stored and looked up.
pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_checked_and_distinct() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), LEN);
        assert!(a.starts_with("pbt_"));
        assert!(is_well_formed(&a));
        // One character changed: the checksum fails.
        let mut typo: Vec<u8> = a.clone().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        assert!(!is_well_formed(&String::from_utf8(typo).unwrap()));
        assert!(!is_well_formed("pbt_short"));
        assert!(!is_well_formed(&a.replace("pbt_", "pbx_")));
        assert!(is_access_token("pbt_anything"));
        assert!(!is_access_token("eyJhbGciOi"));
    }
}
