//! Accounts: `me`, `myPastes`, `register`, `login`.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::pastes::{PasteConnection, connection};
use super::{app, caller};
use crate::accounts::Session;
use crate::caller::Viewer;
use crate::error::AppError;

pub struct User {
    id: Uuid,
    username: String,
    created_at: Option<DateTime<Utc>>,
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    async fn username(&self) -> &str {
        &self.username
    }

    /// Whether this is the signed-in user and an admin (moderation); false for anyone else.
    async fn is_admin(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let caller = caller(ctx)?;
        Ok(caller.user_id() == Some(self.id) && caller.viewer.is_admin())
    }

    async fn created_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime<Utc>> {
        if let Some(t) = self.created_at {
            return Ok(t);
        }
        Ok(app(ctx).accounts().account(self.id).await?.created_at)
    }

    /// The user's own pastes, newest first. Only readable by the user themself.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn pastes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PasteConnection> {
        let caller = caller(ctx)?;
        if caller.user_id() != Some(self.id) {
            return Err(AppError::Forbidden("only the user can list their pastes").into());
        }
        let page = app(ctx)
            .pastes()
            .mine(caller, first.unwrap_or(20).into(), after.as_deref())
            .await?;
        Ok(connection(page, after.is_some()))
    }
}

#[derive(SimpleObject)]
pub struct AuthPayload {
    /// JWT to send as `Authorization: Bearer <token>` (and in the WebSocket connection_init
    /// payload).
    token: String,
    expires_at: DateTime<Utc>,
    user: User,
}

impl From<Session> for AuthPayload {
    fn from(s: Session) -> Self {
        Self {
            token: s.token,
            expires_at: s.expires_at,
            user: User {
                id: s.account.id,
                username: s.account.username,
                created_at: Some(s.account.created_at),
            },
        }
    }
}

/// The identity provider the web app offers sign-in with.
#[derive(SimpleObject)]
pub struct IdentityProvider {
    /// What the button names ("Sign in with …").
    name: String,
    /// Where the browser goes to start (a server-side authorization-code + PKCE exchange).
    start_url: String,
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The configured identity provider for web sign-in; null when there is none.
    async fn identity_provider(&self, ctx: &Context<'_>) -> Option<IdentityProvider> {
        app(ctx)
            .sign_in()
            .provider_name()
            .map(|name| IdentityProvider {
                name: name.to_owned(),
                start_url: "/auth/oidc/start".to_owned(),
            })
    }

    /// The signed-in user; null when anonymous.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        Ok(match &caller(ctx)?.viewer {
            Viewer::User(u) => Some(User {
                id: u.id,
                username: u.username.clone(),
                created_at: None,
            }),
            Viewer::Anonymous => None,
        })
    }

    /// The signed-in user's pastes, newest first (UNAUTHENTICATED when anonymous).
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn my_pastes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PasteConnection> {
        let page = app(ctx)
            .pastes()
            .mine(caller(ctx)?, first.unwrap_or(20).into(), after.as_deref())
            .await?;
        Ok(connection(page, after.is_some()))
    }
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Creates an account (username: 3-32 of A-Z a-z 0-9 _ . -, unique without regard to
    /// case; password: 10-128 characters) and signs it in.
    async fn register(
        &self,
        ctx: &Context<'_>,
        username: String,
        password: String,
    ) -> async_graphql::Result<AuthPayload> {
        let session = app(ctx)
            .accounts()
            .register(caller(ctx)?, &username, password)
            .await?;
        Ok(session.into())
    }

    /// Signs in. Unknown user and wrong password get the same answer.
    async fn login(
        &self,
        ctx: &Context<'_>,
        username: String,
        password: String,
    ) -> async_graphql::Result<AuthPayload> {
        let session = app(ctx)
            .accounts()
            .login(caller(ctx)?, &username, password)
            .await?;
        Ok(session.into())
    }
}
