//! The GraphQL API: one module per domain, merged here.
//!
//! Errors: resolvers return [`AppError`]s (through `?`); the [`ErrorCodes`] extension gives
//! every error in a response its `extensions.code`, so no error leaves without one. Errors
//! async-graphql raises itself (syntax, validation, limits) are the client's: `BAD_USER_INPUT`.
//!
//! Limits: depth 16 (the standard introspection query needs 13), complexity 1000 with list
//! fields counted per item, 50 aliases per document, 10 operations per batch (in the HTTP
//! handler), 32 levels of parser recursion.

mod pastes;
mod users;
mod views;

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextSubscribe,
};
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{
    MergedObject, MergedSubscription, Response, Schema, SchemaBuilder, ServerError, ServerResult,
    Variables,
};
use futures_util::StreamExt;

use crate::App;
use crate::auth::Viewer;
use crate::error::{AppError, ErrorCode};

pub use pastes::PasteObject;

#[derive(MergedObject, Default)]
pub struct Query(pastes::PasteQuery, users::UserQuery, views::StatsQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(pastes::PasteMutation, users::UserMutation);

#[derive(MergedSubscription, Default)]
pub struct Subscription(views::ViewSubscription);

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
    .extension(ErrorCodes::default())
    .extension(
        async_graphql::extensions::apollo_persisted_queries::ApolloPersistedQueries::new(
            async_graphql::extensions::apollo_persisted_queries::LruCacheStorage::new(1024),
        ),
    );
    if !introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder
}

/// The schema that serves requests.
pub fn schema(app: Arc<App>) -> AppSchema {
    schema_builder(app.config.introspection).data(app).finish()
}

/// The SDL committed in `graphql/schema.graphql`.
pub fn sdl() -> String {
    schema_builder(true).finish().sdl()
}

pub(crate) fn app<'a>(ctx: &async_graphql::Context<'a>) -> &'a Arc<App> {
    ctx.data_unchecked::<Arc<App>>()
}

pub(crate) fn viewer<'a>(ctx: &async_graphql::Context<'a>) -> &'a Viewer {
    ctx.data_opt::<Viewer>().unwrap_or(&Viewer::Anonymous)
}

/// Queries up to this size are kept parsed: clients send the same few documents over and
/// over, and parsing was 15% of the server's CPU on a cached `paste(id)` read.
const MAX_CACHED_QUERY: usize = 16 * 1024;

/// Gives every error its code and hides what must not leak; refuses alias bombs at parse; keeps
/// parsed documents.
#[derive(Clone)]
struct ErrorCodes {
    parsed: moka::sync::Cache<String, ExecutableDocument>,
}

impl Default for ErrorCodes {
    fn default() -> Self {
        Self {
            parsed: moka::sync::Cache::builder()
                .max_capacity(4 * 1024 * 1024)
                .weigher(|query: &String, _| u32::try_from(query.len() * 4).unwrap_or(u32::MAX))
                .build(),
        }
    }
}

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        with_codes(next.run(ctx).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(with_codes).boxed()
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(doc) = self.parsed.get(query) {
            return Ok(doc);
        }
        let doc = next.run(ctx, query, variables).await?;
        let aliases: usize = doc
            .operations
            .iter()
            .map(|(_, op)| count_aliases(&op.node.selection_set.node))
            .chain(
                doc.fragments
                    .values()
                    .map(|f| count_aliases(&f.node.selection_set.node)),
            )
            .sum();
        if aliases > MAX_ALIASES {
            return Err(ServerError::new(
                format!("too many aliases (limit {MAX_ALIASES})"),
                None,
            ));
        }
        if query.len() <= MAX_CACHED_QUERY {
            self.parsed.insert(query.to_owned(), doc.clone());
        }
        Ok(doc)
    }
}

fn count_aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|s| match &s.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + count_aliases(&f.node.selection_set.node)
            }
            Selection::InlineFragment(f) => count_aliases(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

fn with_codes(mut response: Response) -> Response {
    for e in &mut response.errors {
        let (code, retry_after) = match e.source::<AppError>() {
            Some(app_error) => {
                app_error.log();
                (app_error.code(), app_error.retry_after())
            }
            None if e
                .extensions
                .as_ref()
                .is_some_and(|x| x.get("code").is_some()) =>
            {
                continue;
            }
            // Raised by async-graphql before or around the resolvers: the request's fault.
            None if e.path.is_empty() || e.message.starts_with("Failed to parse") => {
                (ErrorCode::BadUserInput, None)
            }
            None => {
                tracing::error!(error = %e.message, path = ?e.path, "unclassified GraphQL error");
                e.message = "internal error".into();
                (ErrorCode::InternalServerError, None)
            }
        };
        let ext = e.extensions.get_or_insert_with(Default::default);
        ext.set("code", code.as_str());
        if let Some(s) = retry_after {
            ext.set("retryAfter", s);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_counted_through_nesting() {
        let doc = async_graphql::parser::parse_query(
            "{ a: paste(id: \"1\") { b: id c: title } d: limits { maxBytes } }",
        )
        .unwrap();
        let n: usize = doc
            .operations
            .iter()
            .map(|(_, op)| count_aliases(&op.node.selection_set.node))
            .sum();
        assert_eq!(n, 4);
    }
}
