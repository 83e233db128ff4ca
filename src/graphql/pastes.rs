//! Pastes: `paste`, `recentPastes`, `limits`, `createPaste`, `deletePaste`, `revealPaste`.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{app, caller};
use crate::error::AppError;
use crate::pastes::{self, Content, NewPaste, Page, Paste};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Visibility")]
pub enum GqlVisibility {
    /// Listed in recentPastes.
    Public,
    /// Readable by anyone with the link.
    Unlisted,
    /// Owner only (needs an account).
    Private,
}

impl From<GqlVisibility> for pastes::Visibility {
    fn from(v: GqlVisibility) -> Self {
        match v {
            GqlVisibility::Public => Self::Public,
            GqlVisibility::Unlisted => Self::Unlisted,
            GqlVisibility::Private => Self::Private,
        }
    }
}

impl From<pastes::Visibility> for GqlVisibility {
    fn from(v: pastes::Visibility) -> Self {
        match v {
            pastes::Visibility::Public => Self::Public,
            pastes::Visibility::Unlisted => Self::Unlisted,
            pastes::Visibility::Private => Self::Private,
        }
    }
}

/// How a paste object came to be, which decides what reading its content costs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Looked up for this caller: reading the content counts a view.
    Found,
    /// From a listing: reading the content is charged per paste, then counts a view.
    Listed,
    /// Already read for this caller (just created, or revealed): no further view counted.
    Known,
}

/// A paste as GraphQL shows it.
#[derive(Clone)]
pub struct PasteObject {
    paste: Paste,
    origin: Origin,
}

#[Object(name = "Paste")]
impl PasteObject {
    async fn id(&self) -> ID {
        ID(self.paste.id().to_owned())
    }

    /// Web page of the paste.
    async fn url(&self, ctx: &Context<'_>) -> String {
        format!(
            "{}/p/{}",
            app(ctx).config().server.base_url(),
            self.paste.id()
        )
    }

    /// Raw text URL.
    async fn raw_url(&self, ctx: &Context<'_>) -> String {
        format!(
            "{}/raw/{}",
            app(ctx).config().server.base_url(),
            self.paste.id()
        )
    }

    async fn title(&self) -> Option<&str> {
        self.paste.title()
    }

    /// Syntax language hint, e.g. 'rust'; null = plain text.
    async fn language(&self) -> Option<&str> {
        self.paste.language()
    }

    async fn visibility(&self) -> GqlVisibility {
        self.paste.visibility().into()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.paste.created_at()
    }

    /// Null = never expires.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.paste.expires_at()
    }

    /// Size of the content in bytes (UTF-8).
    async fn size_bytes(&self) -> i32 {
        self.paste.size_bytes()
    }

    async fn burn_after_reading(&self) -> bool {
        self.paste.burn_after_reading()
    }

    async fn max_views(&self) -> Option<i32> {
        self.paste.max_views()
    }

    /// For maxViews pastes: how many reads remain. Null otherwise.
    async fn remaining_views(&self) -> Option<i32> {
        self.paste.remaining_views()
    }

    /// The text. Reading it counts one view. Null for a burn-after-reading paste that has
    /// not been revealed: the revealPaste mutation returns it once and deletes the paste. For
    /// a maxViews paste, reading it spends one of the remaining views.
    #[graphql(complexity = 5)]
    async fn content(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let pastes = app(ctx).pastes();
        let caller = caller(ctx)?;
        let content: Option<Content> = match self.origin {
            Origin::Known => self.paste.content().cloned(),
            Origin::Found => pastes.open(caller, &self.paste).await?,
            Origin::Listed => pastes.open_listed(caller, &self.paste).await?,
        };
        Ok(content
            .map(|c| String::from_utf8(c.text.to_vec()).map_err(AppError::internal))
            .transpose()?)
    }

    /// Live total of views.
    async fn views(&self, ctx: &Context<'_>) -> i64 {
        app(ctx).view_stats().live_total(self.paste.id()).await as i64
    }

    /// Owner's username; null for anonymous pastes.
    async fn author(&self) -> Option<&str> {
        self.paste.author()
    }

    /// True when the signed-in viewer owns this paste (may delete it without a token).
    async fn viewer_is_owner(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(self.paste.is_owned_by(&caller(ctx)?.viewer))
    }
}

pub type PasteConnection = Connection<String, PasteObject>;

/// One page of pastes as a connection.
pub(super) fn connection(page: Page, has_previous: bool) -> PasteConnection {
    let mut c = Connection::new(has_previous, page.has_next);
    c.edges.extend(page.items.into_iter().map(|paste| {
        Edge::new(
            paste.cursor(),
            PasteObject {
                paste,
                origin: Origin::Listed,
            },
        )
    }));
    c
}

#[derive(SimpleObject)]
pub struct Limits {
    /// Largest accepted content, in bytes.
    max_bytes: i64,
    /// Shortest expiresIn, in seconds.
    min_expires_in: i64,
    /// Longest expiresIn, in seconds.
    max_expires_in: i64,
    /// Whether a paste may never expire (expiresIn: null).
    allow_never_expire: bool,
    /// Whether anonymous users may create pastes.
    allow_anonymous: bool,
    /// Largest maxViews.
    max_views_limit: i32,
    /// Whether the server refuses writes right now (read-only mode).
    read_only: bool,
}

#[derive(Default)]
pub struct PasteQuery;

#[Object]
impl PasteQuery {
    /// A paste by id. NOT_FOUND for unknown, expired, deleted, or private-and-not-yours.
    async fn paste(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<PasteObject>> {
        let pastes = app(ctx).pastes();
        let caller = caller(ctx)?;
        // Only a reader of the content pays for loading it.
        let paste = if ctx.look_ahead().field("content").exists() {
            pastes.find_with_content(caller, &id).await?
        } else {
            pastes.find(caller, &id).await?
        };
        Ok(Some(PasteObject {
            paste,
            origin: Origin::Found,
        }))
    }

    /// Public pastes, newest first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn recent_pastes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PasteConnection> {
        let page = app(ctx)
            .pastes()
            .recent(caller(ctx)?, first.unwrap_or(20).into(), after.as_deref())
            .await?;
        Ok(connection(page, after.is_some()))
    }

    /// Server limits, for clients to show before submitting.
    async fn limits(&self, ctx: &Context<'_>) -> Limits {
        let c = app(ctx).config();
        Limits {
            max_bytes: c.limits.max_bytes as i64,
            min_expires_in: c.limits.min_expiry_secs,
            max_expires_in: c.limits.max_expiry_secs,
            allow_never_expire: c.limits.allow_never_expire,
            allow_anonymous: c.limits.allow_anonymous,
            max_views_limit: pastes::MAX_VIEWS_LIMIT,
            read_only: c.server.read_only,
        }
    }
}

#[derive(InputObject)]
pub struct CreatePasteInput {
    content: String,
    title: Option<String>,
    language: Option<String>,
    /// Seconds until the paste expires; null = never.
    expires_in: Option<i64>,
    #[graphql(default_with = "GqlVisibility::Unlisted")]
    visibility: GqlVisibility,
    #[graphql(default = false)]
    burn_after_reading: bool,
    /// Delete after this many reads.
    max_views: Option<i32>,
    /// Client-chosen key (8-64 chars of A-Z a-z 0-9 - _); retrying a create with the same key
    /// returns the same paste instead of a second one.
    idempotency_key: Option<String>,
}

impl From<CreatePasteInput> for NewPaste {
    fn from(input: CreatePasteInput) -> Self {
        Self {
            content: input.content,
            title: input.title,
            language: input.language,
            expires_in: input.expires_in,
            visibility: input.visibility.into(),
            burn_after_reading: input.burn_after_reading,
            max_views: input.max_views,
            idempotency_key: input.idempotency_key,
        }
    }
}

#[derive(SimpleObject)]
pub struct CreatePastePayload {
    paste: PasteObject,
    /// Only for anonymous pastes: shown once, needed to delete the paste.
    delete_token: Option<String>,
}

#[derive(Default)]
pub struct PasteMutation;

#[Object]
impl PasteMutation {
    async fn create_paste(
        &self,
        ctx: &Context<'_>,
        input: CreatePasteInput,
    ) -> async_graphql::Result<CreatePastePayload> {
        let created = app(ctx).pastes().create(caller(ctx)?, input.into()).await?;
        Ok(CreatePastePayload {
            paste: PasteObject {
                paste: created.paste,
                origin: Origin::Known,
            },
            delete_token: created.delete_token,
        })
    }

    /// Owner (signed in) or holder of the delete token. True when deleted.
    async fn delete_paste(
        &self,
        ctx: &Context<'_>,
        id: ID,
        delete_token: Option<String>,
    ) -> async_graphql::Result<bool> {
        app(ctx)
            .pastes()
            .delete(caller(ctx)?, &id, delete_token.as_deref())
            .await?;
        Ok(true)
    }

    /// Reads a burn-after-reading paste once: returns it with its content, then it is gone.
    async fn reveal_paste(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<PasteObject> {
        let paste = app(ctx).pastes().reveal(caller(ctx)?, &id).await?;
        Ok(PasteObject {
            paste,
            origin: Origin::Known,
        })
    }
}
