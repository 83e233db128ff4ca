//! Passwords: argon2id (OWASP parameters: 19 MiB, 2 passes), hashed off the runtime with at
//! most two at a time, so a login flood costs bounded memory (2 × 19 MiB) and CPU.

use std::sync::{Arc, LazyLock};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 128;

static PERMITS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(2)));

/// A hash of a password nobody has, verified when the user does not exist so that an
/// unknown username takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"no user has this password")
        .expect("argon2 hashes")
        .to_string()
});

/// The password rules, stated in the error a client sees.
pub fn check_rules(password: &str) -> AppResult<()> {
    let chars = password.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&chars) || password.trim().is_empty() {
        return Err(AppError::bad_input(format!(
            "password must be {MIN_LEN} to {MAX_LEN} characters and not only spaces"
        )));
    }
    Ok(())
}

pub async fn hash(password: String) -> AppResult<String> {
    let _permit = PERMITS.acquire().await.map_err(AppError::internal)?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(anyhow::anyhow!("argon2: {e}")))
    })
    .await
    .map_err(AppError::internal)?
}

/// Checks a password against a stored hash, or against a dummy when there is none.
pub async fn verify(password: String, stored: Option<String>) -> AppResult<bool> {
    let _permit = PERMITS.acquire().await.map_err(AppError::internal)?;
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && real
    })
    .await
    .map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_the_right_password() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify("correct horse battery".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("wrong horse battery".into(), Some(h)).await.unwrap());
        assert!(
            !verify("no user has this password".into(), None)
                .await
                .unwrap()
        );
    }

    #[test]
    fn rules() {
        assert!(check_rules("short").is_err());
        assert!(check_rules(&" ".repeat(12)).is_err());
        assert!(check_rules(&"x".repeat(129)).is_err());
        check_rules("long enough pw").unwrap();
    }
}
