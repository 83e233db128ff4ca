//! Web sign-in with an OpenID provider: the authorization-code flow with PKCE, run by the
//! server, which then issues its own JWT (DESIGN §13). The browser only follows redirects; the
//! code is exchanged, and the ID token verified, here.
//!
//! 1. [`SignIn::start`]: a random `state`, `nonce` and PKCE verifier, kept in a short-lived
//!    cookie signed with the server's key (nothing is stored server-side), and the provider's
//!    authorization URL with the S256 challenge.
//! 2. [`SignIn::finish`]: the callback's `state` must match the cookie's; the code is exchanged
//!    at the token endpoint (client secret, or PKCE alone for a public client); the ID token's
//!    signature is checked against the provider's keys (from its discovery document's
//!    `jwks_uri`, cached, fetched again for an unknown `kid`), and its issuer, audience, expiry
//!    and nonce; the claims are completed from the userinfo endpoint when there is one.
//! 3. The account linked to `{issuer}|{sub}` is found or created (first sign-in), its admin
//!    claim recorded, and a session issued. A banned account is refused.
//!
//! The discovery document is fetched on first use and kept for [`DISCOVERY_TTL`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use hmac::{Hmac, Mac};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use super::accounts::{Accounts, Session};
use super::budgets::{Budgets, Operation};
use crate::auth::admins::Admins;
use crate::caller::Caller;
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::ids;

pub const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// How long a sign-in may take between leaving for the provider and coming back.
pub const STATE_TTL_SECS: i64 = 600;
/// Name of the cookie that carries a sign-in in progress.
pub const STATE_COOKIE: &str = "pb_oidc";

#[derive(Clone, Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
}

struct Provider {
    discovery: Discovery,
    keys: JwkSet,
    fetched: Instant,
}

/// What the start of a sign-in hands the transport: where to send the browser, and the cookie
/// to set.
pub struct Started {
    pub authorize_url: String,
    pub cookie: String,
}

/// The signed sign-in state: `state.nonce.verifier.issued_at.mac`.
struct State {
    state: String,
    nonce: String,
    verifier: String,
    issued_at: i64,
}

#[derive(Clone)]
pub struct SignIn {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    accounts: Accounts,
    admins: Arc<Admins>,
    budgets: Budgets,
    http: reqwest::Client,
    provider: Mutex<Option<Provider>>,
    /// Key of the state cookie's MAC (derived from the server's secret).
    cookie_key: Vec<u8>,
}

const FAILED: AppError = AppError::Unauthenticated("sign-in with the identity provider failed");

fn random_token() -> String {
    ids::random_base62(43)
}

impl SignIn {
    pub(super) fn new(
        config: Arc<Config>,
        accounts: Accounts,
        admins: Arc<Admins>,
        budgets: Budgets,
        cookie_key: Vec<u8>,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                accounts,
                admins,
                budgets,
                http,
                provider: Mutex::new(None),
                cookie_key,
            }),
        })
    }

    /// Whether a provider is configured, and the name its button shows.
    pub fn provider_name(&self) -> Option<&str> {
        let auth = &self.inner.config.auth;
        auth.oidc_enabled().then_some(auth.oidc_name.as_str())
    }

    fn redirect_uri(&self) -> String {
        let auth = &self.inner.config.auth;
        if auth.oidc_redirect_url.is_empty() {
            format!("{}/auth/oidc/callback", self.inner.config.server.base_url())
        } else {
            auth.oidc_redirect_url.clone()
        }
    }

    /// Begins a sign-in: where to send the browser, and the state cookie's value.
    pub async fn start(&self, caller: &Caller) -> AppResult<Started> {
        self.inner.budgets.charge(caller, Operation::SignIn).await?;
        if self.provider_name().is_none() {
            return Err(AppError::NotFound);
        }
        let discovery = self.discovery().await?;
        let state = State {
            state: random_token(),
            nonce: random_token(),
            verifier: random_token(),
            issued_at: Utc::now().timestamp(),
        };
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(state.verifier.as_bytes()));
        let auth = &self.inner.config.auth;
        let scopes = auth
            .oidc_scopes
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let mut url = reqwest::Url::parse(&discovery.authorization_endpoint)
            .map_err(|_| AppError::unavailable("the identity provider's address is invalid"))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &auth.oidc_client_id)
            .append_pair("redirect_uri", &self.redirect_uri())
            .append_pair("scope", &scopes)
            .append_pair("state", &state.state)
            .append_pair("nonce", &state.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(Started {
            authorize_url: url.into(),
            cookie: self.seal(&state),
        })
    }

    /// Completes a sign-in from the provider's redirect: `code` and `state` from the query,
    /// `cookie` the state cookie. Returns a session of ours.
    pub async fn finish(
        &self,
        caller: &Caller,
        code: &str,
        state: &str,
        cookie: Option<&str>,
    ) -> AppResult<Session> {
        self.inner.budgets.charge(caller, Operation::SignIn).await?;
        if self.provider_name().is_none() {
            return Err(AppError::NotFound);
        }
        let expected = cookie
            .and_then(|c| self.open(c))
            .ok_or(AppError::Unauthenticated(
                "the sign-in expired or was started in another browser: try again",
            ))?;
        if expected.state != state || Utc::now().timestamp() - expected.issued_at > STATE_TTL_SECS {
            return Err(AppError::Unauthenticated(
                "the sign-in expired or was started in another browser: try again",
            ));
        }
        let discovery = self.discovery().await?;
        let tokens = self.exchange(&discovery, code, &expected.verifier).await?;
        let mut claims = self
            .verify_id_token(&tokens.id_token, &expected.nonce)
            .await?;
        if let (Some(endpoint), Some(access)) = (&discovery.userinfo_endpoint, &tokens.access_token)
        {
            self.add_userinfo(endpoint, access, &claims_sub(&claims)?, &mut claims)
                .await;
        }
        let sub = claims_sub(&claims)?;
        let preferred = claims
            .get("preferred_username")
            .or_else(|| claims.get("nickname"))
            .or_else(|| claims.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let admin = self.inner.admins.by_claims(&claims);
        self.inner
            .accounts
            .sign_in_external(&discovery.issuer, &sub, preferred, admin)
            .await
    }

    /// The provider's discovery document and keys, fetched on first use and every hour.
    async fn discovery(&self) -> AppResult<Discovery> {
        let mut provider = self.inner.provider.lock().await;
        if let Some(p) = provider.as_ref()
            && p.fetched.elapsed() < DISCOVERY_TTL
        {
            return Ok(p.discovery.clone());
        }
        let fresh = self.fetch_provider().await?;
        let discovery = fresh.discovery.clone();
        *provider = Some(fresh);
        Ok(discovery)
    }

    async fn fetch_provider(&self) -> AppResult<Provider> {
        const DOWN: AppError = AppError::Unavailable {
            reason: "the identity provider is unavailable; retry shortly",
            retry_after: 5,
        };
        let issuer = self.inner.config.auth.oidc_issuer.trim_end_matches('/');
        let url = format!("{issuer}/.well-known/openid-configuration");
        let discovery: Discovery = self.get_json(&url).await.map_err(|e| {
            tracing::warn!(error = %e, url, "identity provider discovery failed");
            DOWN
        })?;
        if discovery.issuer.trim_end_matches('/') != issuer {
            tracing::error!(
                configured = issuer,
                announced = discovery.issuer,
                "the identity provider announces another issuer"
            );
            return Err(DOWN);
        }
        let keys = self.fetch_keys(&discovery.jwks_uri).await?;
        Ok(Provider {
            discovery,
            keys,
            fetched: Instant::now(),
        })
    }

    async fn fetch_keys(&self, jwks_uri: &str) -> AppResult<JwkSet> {
        self.get_json(jwks_uri).await.map_err(|e| {
            tracing::warn!(error = %e, "identity provider keys could not be fetched");
            AppError::unavailable("the identity provider is unavailable; retry shortly")
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> anyhow::Result<T> {
        let r = self.inner.http.get(url).send().await?.error_for_status()?;
        Ok(r.json().await?)
    }

    async fn exchange(
        &self,
        discovery: &Discovery,
        code: &str,
        verifier: &str,
    ) -> AppResult<TokenResponse> {
        let auth = &self.inner.config.auth;
        let redirect_uri = self.redirect_uri();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier),
        ];
        let mut req = self.inner.http.post(&discovery.token_endpoint);
        if auth.oidc_client_secret.is_empty() {
            form.push(("client_id", auth.oidc_client_id.as_str()));
        } else {
            req = req.basic_auth(
                form_urlencode(&auth.oidc_client_id),
                Some(form_urlencode(&auth.oidc_client_secret)),
            );
        }
        let response = req.form(&form).send().await.map_err(|e| {
            tracing::warn!(error = %e, "identity provider token endpoint unreachable");
            AppError::unavailable("the identity provider is unavailable; retry shortly")
        })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            tracing::warn!(%status, body = %body.chars().take(300).collect::<String>(), "identity provider refused the code");
            return Err(FAILED);
        }
        response.json().await.map_err(|e| {
            tracing::warn!(error = %e, "identity provider token response unreadable");
            FAILED
        })
    }

    /// Checks the ID token's signature, issuer, audience, expiry and nonce; returns its claims.
    async fn verify_id_token(&self, token: &str, nonce: &str) -> AppResult<Map<String, Value>> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| FAILED)?;
        if matches!(
            header.alg,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            tracing::warn!("identity provider signed the ID token with a shared secret: refused");
            return Err(FAILED);
        }
        let mut key = self
            .key_for(header.kid.as_deref(), header.alg, false)
            .await?;
        if key.is_none() {
            // A key the provider rotated in since the keys were fetched.
            key = self
                .key_for(header.kid.as_deref(), header.alg, true)
                .await?;
        }
        let key = key.ok_or_else(|| {
            tracing::warn!(kid = ?header.kid, "no key of the identity provider matches the ID token");
            FAILED
        })?;
        let auth = &self.inner.config.auth;
        let provider = self.inner.provider.lock().await;
        let issuer = provider
            .as_ref()
            .map(|p| p.discovery.issuer.clone())
            .unwrap_or_default();
        drop(provider);
        let mut validation = Validation::new(header.alg);
        validation.leeway = 60;
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&auth.oidc_client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| {
                tracing::warn!(error = %e, "the identity provider's ID token did not verify");
                FAILED
            })?;
        if data.claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            tracing::warn!("the ID token's nonce is not this sign-in's");
            return Err(FAILED);
        }
        Ok(data.claims)
    }

    async fn key_for(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        refresh: bool,
    ) -> AppResult<Option<DecodingKey>> {
        let mut provider = self.inner.provider.lock().await;
        let Some(p) = provider.as_mut() else {
            return Ok(None);
        };
        if refresh {
            p.keys = self.fetch_keys(&p.discovery.jwks_uri).await?;
        }
        let jwk = p.keys.keys.iter().find(|k| {
            let kid_ok = kid.is_none() || k.common.key_id.as_deref() == kid;
            let alg_ok = k
                .common
                .key_algorithm
                .and_then(|a| Algorithm::try_from(a).ok())
                .is_none_or(|a| a == alg);
            kid_ok && alg_ok
        });
        Ok(jwk.and_then(|k| DecodingKey::from_jwk(k).ok()))
    }

    /// Adds the userinfo claims the ID token lacks (for the same subject only).
    async fn add_userinfo(
        &self,
        endpoint: &str,
        access: &str,
        sub: &str,
        claims: &mut Map<String, Value>,
    ) {
        let got = async {
            let r = self
                .inner
                .http
                .get(endpoint)
                .bearer_auth(access)
                .send()
                .await?
                .error_for_status()?;
            anyhow::Ok(r.json::<Map<String, Value>>().await?)
        }
        .await;
        match got {
            Ok(info) if info.get("sub").and_then(Value::as_str) == Some(sub) => {
                for (k, v) in info {
                    claims.entry(k).or_insert(v);
                }
            }
            Ok(_) => tracing::warn!("userinfo names another subject: ignored"),
            Err(e) => {
                tracing::warn!(error = %e, "userinfo unavailable; using the ID token's claims")
            }
        }
    }

    fn seal(&self, s: &State) -> String {
        seal_state(&self.inner.cookie_key, s)
    }

    fn open(&self, cookie: &str) -> Option<State> {
        open_state(&self.inner.cookie_key, cookie)
    }
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length")
}

fn seal_state(key: &[u8], s: &State) -> String {
    let text = format!("{}.{}.{}.{}", s.state, s.nonce, s.verifier, s.issued_at);
    let mut mac = hmac(key);
    mac.update(text.as_bytes());
    format!(
        "{text}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn open_state(key: &[u8], cookie: &str) -> Option<State> {
    let (text, mac) = cookie.rsplit_once('.')?;
    let mut check = hmac(key);
    check.update(text.as_bytes());
    // verify_slice compares in constant time.
    check
        .verify_slice(&URL_SAFE_NO_PAD.decode(mac).ok()?)
        .ok()?;
    let mut parts = text.split('.');
    let state = State {
        state: parts.next()?.to_owned(),
        nonce: parts.next()?.to_owned(),
        verifier: parts.next()?.to_owned(),
        issued_at: parts.next()?.parse().ok()?,
    };
    parts.next().is_none().then_some(state)
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: String,
    #[serde(default)]
    access_token: Option<String>,
}

fn claims_sub(claims: &Map<String, Value>) -> AppResult<String> {
    claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or(FAILED)
}

/// `application/x-www-form-urlencoded` of a client id or secret, as RFC 6749 §2.3.1 wants
/// before HTTP Basic.
fn form_urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._*".contains(&b) {
            out.push(b as char);
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_cookies_round_trip_and_tampering_is_refused() {
        let key = b"test key";
        let state = State {
            state: random_token(),
            nonce: random_token(),
            verifier: random_token(),
            issued_at: 1_700_000_000,
        };
        let cookie = seal_state(key, &state);
        let back = open_state(key, &cookie).unwrap();
        assert_eq!(back.state, state.state);
        assert_eq!(back.verifier, state.verifier);
        assert_eq!(back.issued_at, state.issued_at);
        let forged = cookie.replacen(&state.state, &random_token(), 1);
        assert!(open_state(key, &forged).is_none());
        assert!(open_state(b"other key", &cookie).is_none());
        assert!(open_state(key, "garbage").is_none());
        assert_eq!(form_urlencode("a b/c"), "a+b%2Fc");
    }
}
