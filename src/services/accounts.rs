//! The accounts service: registration, login, and turning a bearer token — a JWT of ours or of
//! the identity provider, or a personal access token ([`super::access_tokens`]) — into a
//! [`Caller`], with its scopes, its standing (banned or not) and its role (admin or not).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::access_tokens::AccessTokens;
use super::budgets::{Budgets, Operation};
use super::cache::redis::Redis;
use super::cache::sign_ins;
use super::cache::tokens::Revocation;
use super::db::models::{NewUser, UserRow};
use super::db::users as q;
use super::db::{Db, DbFailure, is_unique_violation};
use crate::auth::admins::Admins;
use crate::auth::{Auth, TokenSource, access_token, password};
use crate::caller::{Caller, ClientAddr, Credential, Role, Scopes, Standing, User, Viewer};
use crate::error::{AppError, AppResult};
use crate::ids;

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;

/// An account as clients see it.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: Uuid,
    pub username: String,
    pub created_at: DateTime<Utc>,
}

impl From<UserRow> for Account {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id,
            username: u.username,
            created_at: u.created_at,
        }
    }
}

/// A signed-in session: the token and who it is for.
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub account: Account,
}

fn check_username(username: &str) -> AppResult<()> {
    let ok = (USERNAME_MIN..=USERNAME_MAX).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_input(format!(
            "username must be {USERNAME_MIN} to {USERNAME_MAX} characters of A-Z, a-z, 0-9, _ . -"
        )))
    }
}

/// The accounts service. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    db: Db,
    redis: Redis,
    auth: Arc<Auth>,
    admins: Arc<Admins>,
    tokens: AccessTokens,
    budgets: Budgets,
}

const SUSPENDED: AppError = AppError::Forbidden("this account is suspended");

impl Accounts {
    pub(super) fn new(
        db: Db,
        redis: Redis,
        auth: Arc<Auth>,
        admins: Arc<Admins>,
        tokens: AccessTokens,
        budgets: Budgets,
    ) -> Self {
        Self {
            db,
            redis,
            auth,
            admins,
            tokens,
            budgets,
        }
    }

    pub async fn register(
        &self,
        caller: &Caller,
        username: &str,
        password: String,
    ) -> AppResult<Session> {
        self.budgets.charge(caller, Operation::SignIn).await?;
        if self.db.read_only() {
            return Err(AppError::read_only());
        }
        check_username(username)?;
        password::check_rules(&password)?;
        let hash = password::hash(password).await?;
        let user = UserRow {
            id: Uuid::now_v7(),
            username: username.to_owned(),
            password_hash: Some(hash),
            external_id: None,
            created_at: Utc::now(),
            banned_at: None,
            idp_admin: false,
        };
        let new = NewUser {
            id: user.id,
            username: &user.username,
            password_hash: user.password_hash.as_deref(),
            external_id: None,
            created_at: user.created_at,
        };
        match self.db.write(async |c| q::insert(c, &new).await).await {
            Ok(()) => {}
            Err(DbFailure::Query(e)) if is_unique_violation(&e, q::USERNAME_INDEX) => {
                return Err(AppError::bad_input("that username is taken"));
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(user.id = %user.id, "account registered");
        let address = caller.addr.budget_key().to_string();
        sign_ins::remember(&self.redis, user.id, &address).await;
        self.session(user)
    }

    /// The same error, after the same work, for an unknown user and a wrong password.
    /// Guessing is slowed per address (the sign-in budget) and per username from addresses
    /// the account never signed in from; the owner, from an address they used before, is never
    /// locked out by someone else's guesses.
    pub async fn login(
        &self,
        caller: &Caller,
        username: &str,
        password: String,
    ) -> AppResult<Session> {
        const REFUSED: AppError = AppError::Unauthenticated("wrong username or password");
        self.budgets.charge(caller, Operation::SignIn).await?;
        let user = if check_username(username).is_ok() {
            self.db
                .read_prefer_primary(async |c| q::find_by_username(c, username).await)
                .await?
        } else {
            None
        };
        let address = caller.addr.budget_key().to_string();
        let known = match &user {
            Some(u) => sign_ins::is_known(&self.redis, u.id, &address).await,
            None => false,
        };
        if !known {
            self.budgets.charge_sign_in_as(username).await?;
        }
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        if !password::verify(password, stored).await? {
            return Err(REFUSED);
        }
        let user = user.ok_or(REFUSED)?;
        if user.banned_at.is_some() {
            return Err(SUSPENDED);
        }
        sign_ins::remember(&self.redis, user.id, &address).await;
        self.session(user)
    }

    pub(super) fn session(&self, user: UserRow) -> AppResult<Session> {
        let (token, expires_at) = self.auth.issue(user.id)?;
        Ok(Session {
            token,
            expires_at,
            account: user.into(),
        })
    }

    /// A session for the identity provider's subject (web sign-in), its account created on
    /// first sign-in and its admin claim recorded. A banned account is refused.
    pub(super) async fn sign_in_external(
        &self,
        issuer: &str,
        sub: &str,
        preferred: Option<String>,
        admin: bool,
    ) -> AppResult<Session> {
        let user = self.external_user(issuer, sub, preferred).await?;
        if user.banned_at.is_some() {
            return Err(SUSPENDED);
        }
        if user.idp_admin != admin {
            let id = user.id;
            self.db
                .write(async |c| q::set_idp_admin(c, id, admin).await)
                .await?;
        }
        tracing::info!(user.id = %user.id, "signed in with the identity provider");
        self.session(UserRow {
            idp_admin: admin,
            ..user
        })
    }

    /// An account by id.
    pub async fn account(&self, id: Uuid) -> AppResult<Account> {
        self.db
            .read_prefer_primary(async |c| q::find_by_id(c, id).await)
            .await?
            .map(Account::from)
            .ok_or(AppError::NotFound)
    }

    /// The caller of a request from this address with this bearer token (or none). A token
    /// that does not verify, or whose user no longer exists, is an error: never silently
    /// anonymous.
    pub async fn caller(&self, addr: ClientAddr, token: Option<&str>) -> AppResult<Caller> {
        let viewer = match token {
            None => Viewer::Anonymous,
            Some(token) => self.viewer_from_token(token).await?,
        };
        Ok(Caller::new(addr, viewer))
    }

    /// Whether a caller resolved earlier still stands: its account exists and is not banned,
    /// and its access token (if that is its credential) is not revoked. Long-lived
    /// connections ask now and then, and at once when a revocation is announced.
    /// `SERVICE_UNAVAILABLE` when it cannot be told.
    pub async fn recheck(&self, caller: &Caller) -> AppResult<()> {
        let Some(user) = caller.viewer.user() else {
            return Ok(());
        };
        let id = user.id;
        let row = self
            .db
            .read_prefer_primary(async |c| q::find_by_id(c, id).await)
            .await?
            .ok_or(AppError::Unauthenticated(
                "the account of this connection no longer exists",
            ))?;
        if row.banned_at.is_some() {
            return Err(AppError::Unauthenticated("this account is suspended"));
        }
        if let Credential::AccessToken { id: token } = user.credential
            && !self.tokens.still_valid(token, id).await?
        {
            return Err(AppError::Unauthenticated(
                "the access token of this connection was revoked",
            ));
        }
        Ok(())
    }

    /// Revocations of access tokens and accounts as this process hears of them: a long-lived
    /// connection whose caller they concern re-checks it at once.
    pub fn revocations(&self) -> tokio::sync::broadcast::Receiver<Revocation> {
        self.tokens.revocations()
    }

    async fn viewer_from_token(&self, token: &str) -> AppResult<Viewer> {
        const GONE: AppError =
            AppError::Unauthenticated("the account of this token no longer exists");
        if access_token::is_access_token(token) {
            let t = self.tokens.verify(token).await?;
            return Ok(Viewer::User(User {
                id: t.user_id,
                username: t.username.clone(),
                credential: Credential::AccessToken { id: t.token_id },
                scopes: Scopes::from_bits(t.scopes),
                standing: standing(t.banned),
                role: self.role(&t.username, t.idp_admin),
                expires_at: t.expires_at,
            }));
        }
        let (claims, source) = self.auth.verify(token)?;
        let (user, credential, claimed_admin) = match source {
            TokenSource::Local => {
                let id: Uuid = claims
                    .sub
                    .parse()
                    .map_err(|_| AppError::Unauthenticated("invalid token subject"))?;
                let user = self.find_user(id).await?.ok_or(GONE)?;
                (user, Credential::Session, false)
            }
            TokenSource::External => {
                let admin = self.admins.by_claims(&claims.extra);
                let user = self
                    .external_user(&claims.iss, &claims.sub, claims.preferred_username)
                    .await?;
                (user, Credential::IdentityProvider, admin)
            }
        };
        let role = if claimed_admin {
            Role::Admin
        } else {
            self.role(&user.username, user.idp_admin)
        };
        Ok(Viewer::User(User {
            id: user.id,
            username: user.username,
            credential,
            scopes: Scopes::ALL,
            standing: standing(user.banned_at.is_some()),
            role,
            expires_at: DateTime::from_timestamp(claims.exp, 0),
        }))
    }

    fn role(&self, username: &str, idp_admin: bool) -> Role {
        if idp_admin || self.admins.by_username(username) {
            Role::Admin
        } else {
            Role::Member
        }
    }

    /// An account by id, on the replica, or on the primary when the replica does not have it
    /// (yet: an account registered a moment ago may not have reached a lagging replica, and
    /// its token must work at once).
    async fn find_user(&self, id: Uuid) -> AppResult<Option<UserRow>> {
        let found = self.db.read(async |c| q::find_by_id(c, id).await).await?;
        if found.is_none() && self.db.has_replica() {
            return Ok(self
                .db
                .read_prefer_primary(async |c| q::find_by_id(c, id).await)
                .await?);
        }
        Ok(found)
    }

    /// The account of an identity provider's subject, created on first sight.
    async fn external_user(
        &self,
        issuer: &str,
        sub: &str,
        preferred: Option<String>,
    ) -> AppResult<UserRow> {
        let external_id = format!("{issuer}|{sub}");
        let external_id = external_id.as_str();
        if let Some(u) = self
            .db
            .read(async |c| q::find_by_external_id(c, external_id).await)
            .await?
        {
            return Ok(u);
        }
        let base: String = preferred
            .unwrap_or_else(|| "user".into())
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "_.-".contains(*c))
            .take(USERNAME_MAX - 7)
            .collect();
        let base = if base.len() < USERNAME_MIN {
            "user".to_owned()
        } else {
            base
        };
        for attempt in 0..4 {
            let username = if attempt == 0 {
                base.clone()
            } else {
                format!("{base}-{}", ids::random_base62(6))
            };
            let user = UserRow {
                id: Uuid::now_v7(),
                username,
                password_hash: None,
                external_id: Some(external_id.to_owned()),
                created_at: Utc::now(),
                banned_at: None,
                idp_admin: false,
            };
            let new = NewUser {
                id: user.id,
                username: &user.username,
                password_hash: None,
                external_id: Some(external_id),
                created_at: user.created_at,
            };
            match self.db.write(async |c| q::insert(c, &new).await).await {
                Ok(()) => return Ok(user),
                Err(DbFailure::Query(e)) if is_unique_violation(&e, q::USERNAME_INDEX) => continue,
                Err(DbFailure::Query(e)) if is_unique_violation(&e, q::EXTERNAL_ID_KEY) => {
                    // Created concurrently by another request.
                    return self
                        .db
                        .read_prefer_primary(async |c| q::find_by_external_id(c, external_id).await)
                        .await?
                        .ok_or(AppError::unavailable("account is being created; retry"));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::internal(anyhow::anyhow!(
            "no free username for {external_id}"
        )))
    }
}

fn standing(banned: bool) -> Standing {
    if banned {
        Standing::Banned
    } else {
        Standing::Active
    }
}
