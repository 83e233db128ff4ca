//! Accounts: registration, login, and turning a bearer token into a [`Viewer`].

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::App;
use crate::auth::{TokenSource, Viewer, password};
use crate::db::models::{NewUser, UserRow};
use crate::db::users as q;
use crate::db::{DbFailure, is_unique_violation};
use crate::error::{AppError, AppResult};

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;

/// A signed-in session: the token and who it is for.
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserRow,
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

impl App {
    pub async fn register(&self, username: &str, password: String) -> AppResult<Session> {
        if self.db.read_only() {
            return Err(DbFailure::ReadOnlyMode.into());
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
        self.session(user)
    }

    /// The same error, after the same work, for an unknown user and a wrong password.
    pub async fn login(&self, username: &str, password: String) -> AppResult<Session> {
        const REFUSED: AppError = AppError::Unauthenticated("wrong username or password");
        let user = if check_username(username).is_ok() {
            self.db
                .read_prefer_primary(async |c| q::find_by_username(c, username).await)
                .await?
        } else {
            None
        };
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        if !password::verify(password, stored).await? {
            return Err(REFUSED);
        }
        let user = user.ok_or(REFUSED)?;
        self.session(user)
    }

    fn session(&self, user: UserRow) -> AppResult<Session> {
        let (token, expires_at) = self.auth.issue(user.id)?;
        Ok(Session {
            token,
            expires_at,
            user,
        })
    }

    /// An account by id.
    pub async fn user(&self, id: Uuid) -> AppResult<UserRow> {
        self.db
            .read_prefer_primary(async |c| q::find_by_id(c, id).await)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// The viewer behind a bearer token. A token that does not verify, or whose user no
    /// longer exists, is an error: never silently anonymous.
    pub async fn viewer_from_token(&self, token: &str) -> AppResult<Viewer> {
        const GONE: AppError =
            AppError::Unauthenticated("the account of this token no longer exists");
        let (claims, source) = self.auth.verify(token)?;
        let user = match source {
            TokenSource::Local => {
                let id: Uuid = claims
                    .sub
                    .parse()
                    .map_err(|_| AppError::Unauthenticated("invalid token subject"))?;
                self.db
                    .read(async |c| q::find_by_id(c, id).await)
                    .await?
                    .ok_or(GONE)?
            }
            TokenSource::External => {
                self.external_user(&claims.iss, &claims.sub, claims.preferred_username)
                    .await?
            }
        };
        Ok(Viewer::User {
            id: user.id,
            username: user.username,
        })
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
                format!("{base}-{}", crate::pastes::id::random_base62(6))
            };
            let user = UserRow {
                id: Uuid::now_v7(),
                username,
                password_hash: None,
                external_id: Some(external_id.to_owned()),
                created_at: Utc::now(),
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
                Err(DbFailure::Query(e)) if is_unique_violation(&e, "users_external_id_key") => {
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
