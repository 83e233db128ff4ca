//! Parsed documents: keeps what clients send over and over parsed (parsing was 15% of the
//! server's CPU on a cached `paste(id)` read), and refuses alias bombs at parse time.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

use super::MAX_ALIASES;

/// Queries up to this size are kept parsed.
const MAX_CACHED_QUERY: usize = 16 * 1024;

#[derive(Clone)]
pub(super) struct ParsedDocuments {
    parsed: moka::sync::Cache<String, ExecutableDocument>,
}

impl Default for ParsedDocuments {
    fn default() -> Self {
        Self {
            parsed: moka::sync::Cache::builder()
                .max_capacity(4 * 1024 * 1024)
                .weigher(|query: &String, _| u32::try_from(query.len() * 4).unwrap_or(u32::MAX))
                .build(),
        }
    }
}

impl ExtensionFactory for ParsedDocuments {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ParsedDocuments {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if !query.is_empty()
            && let Some(doc) = self.parsed.get(query)
        {
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
        // Keyed by the text itself: a request without one (a document handed over already
        // parsed) is never cached, so it can never be answered with another's document.
        if !query.is_empty() && query.len() <= MAX_CACHED_QUERY {
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
