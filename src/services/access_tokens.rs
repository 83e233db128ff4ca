//! Personal access tokens: long-lived bearer secrets with scopes, for scripts and the `pb` CLI.
//!
//! - Made, listed and revoked by a signed-in user (a sign-in credential, not another access
//!   token). The secret (`pbt_…`, see [`crate::auth::access_token`]) is shown once; only its
//!   SHA-256 is stored.
//! - Accepted on every door like a JWT ([`super::accounts::Accounts::caller`]); its scopes ride
//!   on the [`Caller`] and the budgets refuse what they do not allow.
//! - Verified tokens are kept in process briefly; revocation reaches every instance through
//!   Redis pub/sub, and while Redis is down every use is checked against the database
//!   ([`super::cache::tokens`]).
//! - "Last used" is remembered in process and written in batches every
//!   `PASTEBIN_TOKEN_LAST_USED_FLUSH_SECS`, never per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::budgets::{Budgets, Operation};
use super::cache::tokens::{Revocation, TokenCache, VerifiedToken};
use super::db::Db;
use super::db::access_tokens as q;
use super::db::models::{AccessTokenRow, NewAccessToken};
use crate::auth::access_token;
use crate::caller::{Caller, Credential, Scopes, User};
use crate::error::{AppError, AppResult};

/// Most tokens one account may hold.
pub const MAX_PER_USER: i64 = 100;
pub const NAME_MAX: usize = 64;
/// Bounds of `expiresIn` (seconds); `None` is a token that never expires.
pub const MIN_EXPIRES_IN: i64 = 60;
pub const MAX_EXPIRES_IN: i64 = 5 * 366 * 24 * 3600;

/// A token as its owner sees it (never the secret).
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub id: Uuid,
    pub name: String,
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<AccessTokenRow> for AccessToken {
    fn from(r: AccessTokenRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            scopes: Scopes::from_bits(r.scopes),
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
        }
    }
}

/// A token just made: the only time its secret is seen.
pub struct CreatedToken {
    pub token: AccessToken,
    pub secret: String,
}

#[derive(Clone)]
pub struct AccessTokens {
    db: Db,
    cache: TokenCache,
    budgets: Budgets,
    uses: Arc<Uses>,
}

/// Uses not yet written: token id → the latest use seen here.
#[derive(Default)]
struct Uses(Mutex<HashMap<Uuid, DateTime<Utc>>>);

impl Uses {
    fn record(&self, id: Uuid, at: DateTime<Utc>) {
        let mut uses = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let t = uses.entry(id).or_insert(at);
        *t = (*t).max(at);
    }

    fn take(&self) -> Vec<(Uuid, DateTime<Utc>)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
            .into_iter()
            .collect()
    }

    fn put_back(&self, batch: Vec<(Uuid, DateTime<Utc>)>) {
        for (id, at) in batch {
            self.record(id, at);
        }
    }
}

/// The signed-in user behind `caller`, when they signed in (not with an access token).
fn signed_in(caller: &Caller) -> AppResult<&User> {
    let user = caller
        .viewer
        .user()
        .ok_or(AppError::Unauthenticated("sign in to manage access tokens"))?;
    if matches!(user.credential, Credential::AccessToken { .. }) {
        return Err(AppError::Forbidden(
            "access tokens cannot manage access tokens: sign in to the web app",
        ));
    }
    Ok(user)
}

impl AccessTokens {
    pub(super) fn new(db: Db, cache: TokenCache, budgets: Budgets) -> Self {
        Self {
            db,
            cache,
            budgets,
            uses: Arc::default(),
        }
    }

    /// Makes a token for the signed-in caller. `expires_in`: seconds from now, `None` = never.
    pub async fn create(
        &self,
        caller: &Caller,
        name: &str,
        scopes: Scopes,
        expires_in: Option<i64>,
    ) -> AppResult<CreatedToken> {
        self.budgets.charge(caller, Operation::ManageTokens).await?;
        let user = signed_in(caller)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control)
        {
            return Err(AppError::bad_input(format!(
                "a token's name is 1 to {NAME_MAX} characters without control characters"
            )));
        }
        if scopes.is_empty() {
            return Err(AppError::bad_input("a token needs at least one scope"));
        }
        if let Some(s) = expires_in
            && !(MIN_EXPIRES_IN..=MAX_EXPIRES_IN).contains(&s)
        {
            return Err(AppError::bad_input(format!(
                "expiresIn must be {MIN_EXPIRES_IN} to {MAX_EXPIRES_IN} seconds, or null for a token that never expires"
            )));
        }
        if self.db.read_only() {
            return Err(AppError::read_only());
        }
        let now = Utc::now();
        let secret = access_token::generate();
        let digest = access_token::digest(&secret);
        let new = NewAccessToken {
            id: Uuid::now_v7(),
            user_id: user.id,
            name,
            scopes: scopes.bits(),
            secret_sha256: &digest,
            created_at: now,
            expires_at: expires_in.map(|s| now + chrono::Duration::seconds(s)),
        };
        let inserted = self
            .db
            .write(async |c| q::insert_capped(c, &new, MAX_PER_USER).await)
            .await?;
        if !inserted {
            return Err(AppError::bad_input(format!(
                "an account holds at most {MAX_PER_USER} access tokens: revoke one first"
            )));
        }
        tracing::info!(user.id = %user.id, token.id = %new.id, "access token created");
        Ok(CreatedToken {
            token: AccessToken {
                id: new.id,
                name: name.to_owned(),
                scopes,
                created_at: now,
                expires_at: new.expires_at,
                last_used_at: None,
            },
            secret,
        })
    }

    /// The signed-in caller's tokens, newest first.
    pub async fn list(&self, caller: &Caller) -> AppResult<Vec<AccessToken>> {
        self.budgets.charge(caller, Operation::ListPage).await?;
        let user_id = signed_in(caller)?.id;
        let rows = self
            .db
            .read_prefer_primary(async |c| q::of_user(c, user_id).await)
            .await?;
        let pending: HashMap<Uuid, DateTime<Utc>> = {
            let uses = self.uses.0.lock().unwrap_or_else(|e| e.into_inner());
            rows.iter()
                .filter_map(|r| uses.get(&r.id).map(|t| (r.id, *t)))
                .collect()
        };
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut t = AccessToken::from(r);
                // Uses this instance saw and has not written yet.
                if let Some(at) = pending.get(&t.id) {
                    t.last_used_at = t.last_used_at.max(Some(*at));
                }
                t
            })
            .collect())
    }

    /// Revokes one of the signed-in caller's tokens: refused on every instance at once (within
    /// the pub/sub delivery; see [`super::cache::tokens`] for the bound).
    pub async fn revoke(&self, caller: &Caller, id: Uuid) -> AppResult<()> {
        self.budgets.charge(caller, Operation::ManageTokens).await?;
        let user_id = signed_in(caller)?.id;
        if self.db.read_only() {
            return Err(AppError::read_only());
        }
        let deleted = self
            .db
            .write(async |c| q::delete(c, user_id, id).await)
            .await?;
        if !deleted {
            return Err(AppError::NotFound);
        }
        self.cache.revoke(Revocation::Token(id)).await;
        tracing::info!(user.id = %user_id, token.id = %id, "access token revoked");
        Ok(())
    }

    /// Every instance forgets what it knew of an account's tokens (a ban, or its lifting):
    /// the next use is checked against the database.
    pub(super) async fn forget_user(&self, user_id: Uuid) {
        self.cache.revoke(Revocation::User(user_id)).await;
    }

    /// The token a secret names, if it is valid now: from the in-process cache, or the
    /// primary (a revocation committed there is never missed by a lagging replica).
    pub(super) async fn verify(&self, secret: &str) -> AppResult<Arc<VerifiedToken>> {
        const BAD: AppError = AppError::Unauthenticated("invalid, expired or revoked access token");
        if !access_token::is_well_formed(secret) {
            return Err(BAD);
        }
        let digest = access_token::digest(secret);
        let token = match self.cache.get(&digest) {
            Some(t) => t,
            None => {
                let ticket = self.cache.ticket();
                let digest_ref = digest.as_slice();
                let found = self
                    .db
                    .read_prefer_primary(async |c| q::find_by_digest(c, digest_ref).await)
                    .await?
                    .ok_or(BAD)?;
                let t = Arc::new(VerifiedToken {
                    token_id: found.token.id,
                    user_id: found.token.user_id,
                    username: found.username,
                    scopes: found.token.scopes,
                    expires_at: found.token.expires_at,
                    banned: found.banned_at.is_some(),
                    idp_admin: found.idp_admin,
                });
                self.cache.put(ticket, digest, Arc::clone(&t));
                t
            }
        };
        let now = Utc::now();
        if token.expires_at.is_some_and(|at| at <= now) {
            return Err(BAD);
        }
        self.uses.record(token.token_id, now);
        Ok(token)
    }

    /// Whether a token id still exists and has not expired (long-lived connections re-check).
    pub(super) async fn still_valid(&self, id: Uuid, user_id: Uuid) -> AppResult<bool> {
        let tokens = self
            .db
            .read_prefer_primary(async |c| q::of_user(c, user_id).await)
            .await?;
        let now = Utc::now();
        Ok(tokens
            .iter()
            .any(|t| t.id == id && t.expires_at.is_none_or(|at| at > now)))
    }

    /// Revocations as this process hears of them.
    pub fn revocations(&self) -> broadcast::Receiver<Revocation> {
        self.cache.revocations()
    }

    /// Writes the uses seen since the last flush, in one statement.
    pub async fn flush_uses(&self) {
        let batch = self.uses.take();
        if batch.is_empty() || self.db.read_only() {
            self.uses.put_back(batch);
            return;
        }
        let batch_ref = batch.as_slice();
        match self
            .db
            .write(async |c| q::record_uses(c, batch_ref).await)
            .await
        {
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = ?e, "could not record access token uses; retrying later");
                self.uses.put_back(batch);
            }
        }
    }

    pub(super) fn spawn_flusher(&self, every: Duration, shutdown: CancellationToken) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => this.flush_uses().await,
                    () = shutdown.cancelled() => break,
                }
            }
        });
    }
}
