//! The GraphQL API: one module per domain, merged here. Resolvers call the services with the
//! request's [`Caller`]; they never reach a store.
//!
//! Errors: resolvers return [`AppError`](crate::error::AppError)s (through `?`); the
//! [`errors::ErrorCodes`] extension gives every error in a response its `extensions.code`, so
//! no error leaves without one.
//!
//! Limits: depth 16 (the standard introspection query needs 13), complexity 1000 with list
//! fields counted per item, 50 aliases per document ([`documents`]), 32 levels of parser
//! recursion. The HTTP handler refuses what is too large to be a request before building it
//! (10 operations per batch, 64 KiB of query text) and resolves persisted queries.

mod documents;
mod errors;
pub mod fanout;
mod moderation;
mod pastes;
mod tokens;
mod users;
mod views;

use std::sync::Arc;

use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::App;
use crate::caller::Caller;

pub use pastes::PasteObject;

#[derive(MergedObject, Default)]
pub struct Query(
    pastes::PasteQuery,
    users::UserQuery,
    views::StatsQuery,
    tokens::TokenQuery,
    moderation::ModerationQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    pastes::PasteMutation,
    users::UserMutation,
    tokens::TokenMutation,
    moderation::ModerationMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(views::ViewSubscription, pastes::RevisionSubscription);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

pub const MAX_DEPTH: usize = 16;
pub const MAX_COMPLEXITY: usize = 1000;
pub const MAX_ALIASES: usize = 50;
pub const MAX_BATCH: usize = 10;

/// The schema with its limits and extensions, without data (used as-is for the SDL).
pub fn schema_builder(introspection: bool) -> SchemaBuilder<Query, Mutation, Subscription> {
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(32)
    .limit_directives(10)
    .extension(errors::ErrorCodes)
    .extension(documents::ParsedDocuments::default());
    if !introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder
}

/// The schema that serves requests.
pub fn schema(app: Arc<App>) -> AppSchema {
    schema_builder(app.config().server.introspection)
        .data(app)
        .finish()
}

/// The SDL committed in `graphql/schema.graphql`.
pub fn sdl() -> String {
    schema_builder(true).finish().sdl()
}

fn app<'a>(ctx: &async_graphql::Context<'a>) -> &'a Arc<App> {
    ctx.data_unchecked::<Arc<App>>()
}

/// The caller of this request or connection (set by the transport).
fn caller<'a>(ctx: &async_graphql::Context<'a>) -> async_graphql::Result<&'a Caller> {
    ctx.data::<Caller>()
}
