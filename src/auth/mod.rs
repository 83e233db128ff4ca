//! Tokens and passwords: JWT verification and issuing, and password hashing ([`password`]).
//! No store is used here; [`crate::services::accounts`] turns a verified token into a caller.
//!
//! Tokens we issue are HS256 with `PASTEBIN_JWT_SECRET`. An external identity provider's
//! RS256/EdDSA tokens are accepted when its public key (PEM) or JWKS is configured. Every key
//! is pinned to one algorithm (no `alg: none`, no HS256-with-a-public-key confusion); `exp` is
//! required, `iss` and `aud` are checked, `nbf` is honoured, leeway is 30 s.

pub mod access_token;
pub mod admins;
pub mod password;

use std::path::Path;

use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::{Config, Profile};
use crate::error::AppError;
use crate::ids;

const LEEWAY_SECS: u64 = 30;

/// Claims of a token. `sub` is our user id for tokens we issue, or the identity provider's
/// subject for external ones.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub aud: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// External tokens: the name to give an account created on first sight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Every other claim (external tokens: the admin claim is looked for here).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Where a verified token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// Issued by this service: `sub` is a user id.
    Local,
    /// From the configured identity provider.
    External,
}

struct VerifyKey {
    kid: Option<String>,
    key: DecodingKey,
    validation: Validation,
    source: TokenSource,
}

pub struct Auth {
    /// The HS256 secret; also keys [`Auth::derive_secret`].
    secret: Vec<u8>,
    encoding: EncodingKey,
    keys: Vec<VerifyKey>,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

impl Auth {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let profile = config.server.profile;
        let config = &config.auth;
        let secret = if config.jwt_secret.is_empty() {
            if profile == Profile::Production {
                anyhow::bail!("PASTEBIN_JWT_SECRET is required in the production profile");
            }
            tracing::warn!(
                "PASTEBIN_JWT_SECRET is empty: using a random secret; tokens end with this process"
            );
            ids::random_base62(43).into_bytes()
        } else {
            config.jwt_secret.as_bytes().to_vec()
        };
        let validation = |alg: Algorithm| {
            let mut v = Validation::new(alg);
            v.leeway = LEEWAY_SECS;
            v.validate_nbf = true;
            v.set_issuer(&[&config.jwt_issuer]);
            v.set_audience(&[&config.jwt_audience]);
            v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            v
        };
        let mut keys = vec![VerifyKey {
            kid: None,
            key: DecodingKey::from_secret(&secret),
            validation: validation(Algorithm::HS256),
            source: TokenSource::Local,
        }];
        if let Some(path) = &config.jwt_public_key_file {
            let (key, alg) = load_pem(path)?;
            keys.push(VerifyKey {
                kid: None,
                key,
                validation: validation(alg),
                source: TokenSource::External,
            });
        }
        if let Some(path) = &config.jwks_file {
            let set: JwkSet = serde_json::from_slice(&std::fs::read(path)?)?;
            for jwk in &set.keys {
                let Some(alg) = jwk
                    .common
                    .key_algorithm
                    .and_then(|a| Algorithm::try_from(a).ok())
                else {
                    anyhow::bail!("JWKS key {:?} has no supported `alg`", jwk.common.key_id);
                };
                if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
                    anyhow::bail!("JWKS keys must be asymmetric (RS256, EdDSA, ...)");
                }
                keys.push(VerifyKey {
                    kid: jwk.common.key_id.clone(),
                    key: DecodingKey::from_jwk(jwk)?,
                    validation: validation(alg),
                    source: TokenSource::External,
                });
            }
        }
        Ok(Self {
            encoding: EncodingKey::from_secret(&secret),
            secret,
            keys,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            ttl_secs: config.jwt_ttl_secs,
        })
    }

    /// A secret derived from the server key and `parts` (HMAC-SHA256, base62): the same
    /// parts give the same secret, so an idempotent retry can hand out the same delete token.
    pub fn derive_secret(&self, parts: &[&str]) -> String {
        use hmac::{Hmac, Mac};
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        for p in parts {
            mac.update(p.as_bytes());
            mac.update(&[0]);
        }
        ids::base62_of(&mac.finalize().into_bytes(), ids::TOKEN_LEN)
    }

    /// A token for one of our users.
    pub fn issue(&self, user_id: Uuid) -> Result<(String, DateTime<Utc>), AppError> {
        let now = Utc::now();
        let exp = now + chrono::Duration::seconds(self.ttl_secs);
        let claims = Claims {
            sub: user_id.to_string(),
            exp: exp.timestamp(),
            iat: now.timestamp(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            nbf: None,
            preferred_username: None,
            extra: serde_json::Map::new(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)?;
        Ok((token, exp))
    }

    /// Verifies a token against the key its header selects: the header's `alg` must be the
    /// one that key is pinned to.
    pub fn verify(&self, token: &str) -> Result<(Claims, TokenSource), AppError> {
        const BAD: AppError = AppError::Unauthenticated("invalid or expired token");
        let header = jsonwebtoken::decode_header(token).map_err(|_| BAD)?;
        let candidates = self.keys.iter().filter(|k| {
            k.validation.algorithms.contains(&header.alg)
                && (k.kid.is_none() || k.kid.as_deref() == header.kid.as_deref())
        });
        for k in candidates {
            if let Ok(data) = jsonwebtoken::decode::<Claims>(token, &k.key, &k.validation) {
                return Ok((data.claims, k.source));
            }
        }
        Err(BAD)
    }
}

fn load_pem(path: &Path) -> anyhow::Result<(DecodingKey, Algorithm)> {
    let pem = std::fs::read(path)?;
    if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
        return Ok((key, Algorithm::RS256));
    }
    if let Ok(key) = DecodingKey::from_ed_pem(&pem) {
        return Ok((key, Algorithm::EdDSA));
    }
    anyhow::bail!(
        "{}: not an RSA or Ed25519 public key in PEM",
        path.display()
    )
}

/// Extracts the token from an `Authorization` header value.
pub fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        let mut c = Config::for_database("postgres://x");
        c.auth.jwt_secret = "s".repeat(32);
        Auth::new(&c).unwrap()
    }

    #[test]
    fn issued_tokens_verify_and_tampering_does_not() {
        let a = auth();
        let id = Uuid::new_v4();
        let (token, _) = a.issue(id).unwrap();
        let (claims, source) = a.verify(&token).unwrap();
        assert_eq!(claims.sub, id.to_string());
        assert_eq!(source, TokenSource::Local);
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1].insert(3, 'x');
        assert!(a.verify(&parts.join(".")).is_err());
        assert!(a.verify("not.a.token").is_err());
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
