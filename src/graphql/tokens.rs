//! Personal access tokens: `accessTokens`, `createAccessToken`, `revokeAccessToken`.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{app, caller};
use crate::access_tokens;
use crate::caller::Scopes;
use crate::error::AppError;

/// What an access token allows.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    /// Read pastes, listings and statistics; subscribe.
    Read,
    /// Create, edit and fork pastes; report.
    Write,
    /// Delete pastes.
    Delete,
}

fn scope_list(s: Scopes) -> Vec<TokenScope> {
    let mut out = Vec::new();
    if s.read {
        out.push(TokenScope::Read);
    }
    if s.write {
        out.push(TokenScope::Write);
    }
    if s.delete {
        out.push(TokenScope::Delete);
    }
    out
}

/// A personal access token (its secret is shown once, by createAccessToken).
#[derive(SimpleObject)]
pub struct AccessToken {
    id: ID,
    name: String,
    scopes: Vec<TokenScope>,
    created_at: DateTime<Utc>,
    /// Null: never used. Recorded in batches, so it may lag by up to a minute.
    last_used_at: Option<DateTime<Utc>>,
    /// Null: never expires.
    expires_at: Option<DateTime<Utc>>,
}

impl From<access_tokens::AccessToken> for AccessToken {
    fn from(t: access_tokens::AccessToken) -> Self {
        Self {
            id: ID(t.id.to_string()),
            name: t.name,
            scopes: scope_list(t.scopes),
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct CreatedAccessToken {
    token: AccessToken,
    /// The secret (`pbt_…`), to send as `Authorization: Bearer <secret>`. Shown only now.
    secret: String,
}

#[derive(Default)]
pub struct TokenQuery;

#[Object]
impl TokenQuery {
    /// The signed-in user's access tokens, newest first (needs a sign-in, not a token).
    async fn access_tokens(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AccessToken>> {
        let tokens = app(ctx).access_tokens().list(caller(ctx)?).await?;
        Ok(tokens.into_iter().map(AccessToken::from).collect())
    }
}

#[derive(Default)]
pub struct TokenMutation;

#[Object]
impl TokenMutation {
    /// Makes a personal access token for scripts and the `pb` CLI. `name`: 1-64 characters;
    /// `scopes`: at least one; `expiresIn`: seconds (60 to about 5 years), null = never. The
    /// secret is returned once and stored only as a hash.
    async fn create_access_token(
        &self,
        ctx: &Context<'_>,
        name: String,
        scopes: Vec<TokenScope>,
        expires_in: Option<i64>,
    ) -> async_graphql::Result<CreatedAccessToken> {
        let scopes = Scopes {
            read: scopes.contains(&TokenScope::Read),
            write: scopes.contains(&TokenScope::Write),
            delete: scopes.contains(&TokenScope::Delete),
        };
        let created = app(ctx)
            .access_tokens()
            .create(caller(ctx)?, &name, scopes, expires_in)
            .await?;
        Ok(CreatedAccessToken {
            token: created.token.into(),
            secret: created.secret,
        })
    }

    /// Revokes one of the signed-in user's tokens: refused on every instance within a second.
    async fn revoke_access_token(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
        app(ctx).access_tokens().revoke(caller(ctx)?, id).await?;
        Ok(true)
    }
}
