//! Pastes: `paste`, `recentPastes`, `limits`, `createPaste`, `deletePaste`, `revealPaste`.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{app, viewer};
use crate::cache::CachedPaste;
use crate::cache::ratelimit::Budget;
use crate::db::models::PasteMeta;
use crate::db::pastes::Listing;
use crate::error::AppError;
use crate::http::ClientIp;
use crate::pastes::{self, Loaded, NewPasteInput};

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

/// A paste as GraphQL shows it, and how it gets its content when asked.
#[derive(Clone)]
pub enum PasteObject {
    /// Found for this viewer (body included unless guarded).
    Loaded(Loaded),
    /// Listed: metadata only; the content is looked up if a client selects it.
    Listed(PasteMeta),
    /// Already read for this viewer (just created, or revealed): no further view counted.
    Known(Arc<CachedPaste>),
}

impl PasteObject {
    fn meta(&self) -> &PasteMeta {
        match self {
            Self::Loaded(loaded) => loaded.meta(),
            Self::Listed(meta) => meta,
            Self::Known(paste) => &paste.meta,
        }
    }
}

#[Object(name = "Paste")]
impl PasteObject {
    async fn id(&self) -> ID {
        ID(self.meta().row.id.clone())
    }

    /// Web page of the paste.
    async fn url(&self, ctx: &Context<'_>) -> String {
        format!("{}/p/{}", app(ctx).config.base_url(), self.meta().row.id)
    }

    /// Raw text URL.
    async fn raw_url(&self, ctx: &Context<'_>) -> String {
        format!("{}/raw/{}", app(ctx).config.base_url(), self.meta().row.id)
    }

    async fn title(&self) -> Option<&str> {
        self.meta().row.title.as_deref()
    }

    /// Syntax language hint, e.g. 'rust'; null = plain text.
    async fn language(&self) -> Option<&str> {
        self.meta().row.language.as_deref()
    }

    async fn visibility(&self) -> GqlVisibility {
        pastes::Visibility::from_db(self.meta().row.visibility).into()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.meta().row.created_at
    }

    /// Null = never expires.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.meta().row.expires_at
    }

    /// Size of the content in bytes (UTF-8).
    async fn size_bytes(&self) -> i32 {
        self.meta().row.size_bytes
    }

    async fn burn_after_reading(&self) -> bool {
        self.meta().row.burn_after_reading
    }

    async fn max_views(&self) -> Option<i32> {
        self.meta().row.max_views
    }

    /// For maxViews pastes: how many reads remain. Null otherwise.
    async fn remaining_views(&self) -> Option<i32> {
        self.meta()
            .row
            .max_views
            .map(|max| (max - self.meta().row.views_used).max(0))
    }

    /// The text. Reading it counts one view. Null for a burn-after-reading paste that has
    /// not been revealed: the revealPaste mutation returns it once and deletes the paste. For
    /// a maxViews paste, reading it spends one of the remaining views.
    #[graphql(complexity = 5)]
    async fn content(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let app = app(ctx);
        let viewer = viewer(ctx);
        let body = match self {
            Self::Known(paste) => Some(paste.body.clone()),
            Self::Loaded(loaded) => app.deliver(viewer, loaded).await?,
            Self::Listed(meta) => {
                let loaded = app.find_paste(viewer, &meta.row.id).await?;
                app.deliver(viewer, &loaded).await?
            }
        };
        Ok(body
            .map(|b| String::from_utf8(b.to_vec()).map_err(AppError::internal))
            .transpose()?)
    }

    /// Live total of views.
    async fn views(&self, ctx: &Context<'_>) -> i64 {
        app(ctx).view_count(&self.meta().row.id).await as i64
    }

    /// Owner's username; null for anonymous pastes.
    async fn author(&self) -> Option<&str> {
        self.meta().author.as_deref()
    }

    /// True when the signed-in viewer owns this paste (may delete it without a token).
    async fn viewer_is_owner(&self, ctx: &Context<'_>) -> bool {
        pastes::is_owner(self.meta(), viewer(ctx))
    }
}

pub type PasteConnection = Connection<String, PasteObject>;

/// One page of pastes as a connection.
pub(super) fn connection(page: pastes::Page, has_previous: bool) -> PasteConnection {
    let mut c = Connection::new(has_previous, page.has_next);
    c.edges.extend(
        page.items
            .into_iter()
            .map(|meta| Edge::new(pastes::encode_cursor(&meta), PasteObject::Listed(meta))),
    );
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
        let app = app(ctx);
        limit(ctx, Budget::Read).await?;
        let loaded = app.find_paste(viewer(ctx), &id).await?;
        Ok(Some(PasteObject::Loaded(loaded)))
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
            .list_pastes(
                Listing::Public,
                first.unwrap_or(20).into(),
                after.as_deref(),
            )
            .await?;
        Ok(connection(page, after.is_some()))
    }

    /// Server limits, for clients to show before submitting.
    async fn limits(&self, ctx: &Context<'_>) -> Limits {
        let c = &app(ctx).config;
        Limits {
            max_bytes: c.max_bytes as i64,
            min_expires_in: c.min_expiry_secs,
            max_expires_in: c.max_expiry_secs,
            allow_never_expire: c.allow_never_expire,
            allow_anonymous: c.allow_anonymous,
            max_views_limit: pastes::MAX_VIEWS_LIMIT,
            read_only: c.read_only,
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
        let app = app(ctx);
        limit(ctx, Budget::Create).await?;
        let created = app
            .create_paste(
                viewer(ctx),
                NewPasteInput {
                    content: input.content,
                    title: input.title,
                    language: input.language,
                    expires_in: input.expires_in,
                    visibility: input.visibility.into(),
                    burn_after_reading: input.burn_after_reading,
                    max_views: input.max_views,
                    idempotency_key: input.idempotency_key,
                },
            )
            .await?;
        Ok(CreatePastePayload {
            paste: PasteObject::Known(created.paste),
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
            .delete_paste(viewer(ctx), &id, delete_token.as_deref())
            .await?;
        Ok(true)
    }

    /// Reads a burn-after-reading paste once: returns it with its content, then it is gone.
    async fn reveal_paste(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<PasteObject> {
        let app = app(ctx);
        limit(ctx, Budget::Read).await?;
        Ok(PasteObject::Known(
            app.reveal_paste(viewer(ctx), &id).await?,
        ))
    }
}

/// Takes this request from a budget: per client IP, and per user when signed in.
pub(super) async fn limit(ctx: &Context<'_>, budget: Budget) -> Result<(), AppError> {
    let ip = ctx.data_opt::<ClientIp>().map(|ClientIp(ip)| *ip);
    app(ctx)
        .limits
        .check_request(budget, ip, viewer(ctx).user_id())
        .await
}
