//! Subscriptions whose every update is the same for all their subscribers, so that the
//! WebSocket layer can serialise each update once and share it ([`crate::http::fanout`]).
//!
//! A `subscribe` qualifies when its document is one subscription operation selecting only
//! `pasteViews(id: …)` — with or without an alias, the id a string literal or an `ID!`
//! variable, no directives, fragments or defaults — so that async-graphql would accept it and
//! its payloads depend on nothing but the response key and the paste id. Two subscribes with
//! the same normalised form (the resolved document: response key and id) get byte-identical
//! payloads and share one group. Anything else takes async-graphql's general path, which stays
//! the reference: payloads and errors here are built with its types and [`super::errors`],
//! the same as it builds them.

use async_graphql::parser::Pos;
use async_graphql::parser::types::{
    BaseType, DocumentOperations, OperationType, Selection, VariableDefinition,
};
use async_graphql::{Name, PathSegment, Request, Response, Value};
use futures_util::Stream;

use crate::App;
use crate::caller::Caller;
use crate::error::{AppError, AppResult};

/// Longer documents are not looked at (the shared shape is a few dozen bytes; this also keeps
/// the parser's recursion shallow without its depth limit).
const MAX_QUERY: usize = 1024;

/// One subscribe served by a shared group.
#[derive(Clone, Debug)]
pub struct SharedSubscription {
    paste_id: String,
    response_key: Name,
    /// Where the field is in the document (errors point at it).
    pos: Pos,
    normalised: String,
}

impl SharedSubscription {
    /// The subscription a `subscribe` payload asks for, if it can be shared.
    pub fn of(request: &Request) -> Option<Self> {
        if request.query.len() > MAX_QUERY
            || !request.query.contains("pasteViews")
            || !request.extensions.is_empty()
        {
            return None;
        }
        let doc = async_graphql::parser::parse_query(&request.query).ok()?;
        if !doc.fragments.is_empty() {
            return None;
        }
        let operation = match (doc.operations, request.operation_name.as_deref()) {
            (DocumentOperations::Single(op), None) => op,
            (DocumentOperations::Multiple(ops), wanted) if ops.len() == 1 => {
                let (name, op) = ops.into_iter().next()?;
                if wanted.is_some_and(|w| w != name.as_str()) {
                    return None;
                }
                op
            }
            _ => return None,
        };
        let op = operation.node;
        if op.ty != OperationType::Subscription || !op.directives.is_empty() {
            return None;
        }
        let [item] = op.selection_set.node.items.as_slice() else {
            return None;
        };
        let Selection::Field(field) = &item.node else {
            return None;
        };
        let f = &field.node;
        if f.name.node != "pasteViews"
            || !f.directives.is_empty()
            || !f.selection_set.node.items.is_empty()
        {
            return None;
        }
        let [(arg, value)] = f.arguments.as_slice() else {
            return None;
        };
        if arg.node != "id" {
            return None;
        }
        // The argument with its variable (if any) resolved: a string, from a literal or from
        // the one `$var: ID!` the operation defines.
        let mut used = None;
        let resolved = value
            .node
            .clone()
            .into_const_with(|var| {
                let value = request.variables.get(&var).cloned().ok_or(());
                used = Some(var);
                value
            })
            .ok()?;
        let Value::String(paste_id) = resolved else {
            return None;
        };
        match (used, op.variable_definitions.as_slice()) {
            (None, []) => {}
            (Some(var), [def]) if is_id_variable(&def.node, &var) => {}
            _ => return None,
        }
        let response_key = f.response_key().node.clone();
        let normalised = format!(
            "subscription{{{response_key}:pasteViews(id:{})}}",
            serde_json::Value::String(paste_id.clone())
        );
        Some(Self {
            paste_id,
            response_key,
            pos: field.pos,
            normalised,
        })
    }

    /// The resolved document: equal for two subscribes exactly when their payloads are.
    pub fn normalised(&self) -> &str {
        &self.normalised
    }

    /// Starts the subscription for one subscriber: the same service call, checks and charge as
    /// the resolver of `pasteViews`.
    pub async fn watch(
        &self,
        app: &App,
        caller: &Caller,
    ) -> AppResult<impl Stream<Item = u64> + Send + 'static + use<>> {
        app.view_stats().watch(caller, &self.paste_id).await
    }

    /// The payload of one update: `{"data":{"<key>":<count>}}`.
    pub fn data(&self, count: u64) -> String {
        let mut map = async_graphql::indexmap::IndexMap::new();
        map.insert(self.response_key.clone(), Value::from(count as i64));
        to_json(&Response::new(Value::Object(map)))
    }

    /// The payload of a refused subscribe, as the resolver's error would be.
    pub fn error(&self, error: AppError) -> String {
        let error = async_graphql::Error::from(error)
            .into_server_error(self.pos)
            .with_path(vec![PathSegment::Field(self.response_key.to_string())]);
        to_json(&super::errors::with_codes(Response::from_errors(vec![
            error,
        ])))
    }
}

/// `$var: ID!` without a default or directives.
fn is_id_variable(def: &VariableDefinition, var: &Name) -> bool {
    def.name.node == *var
        && def.default_value.is_none()
        && def.directives.is_empty()
        && !def.var_type.node.nullable
        && matches!(&def.var_type.node.base, BaseType::Named(n) if n == "ID")
}

fn to_json(response: &Response) -> String {
    serde_json::to_string(response).unwrap_or_else(|_| r#"{"data":null}"#.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(query: &str, variables: serde_json::Value) -> Option<SharedSubscription> {
        let request = Request::new(query).variables(async_graphql::Variables::from_json(variables));
        SharedSubscription::of(&request)
    }

    #[test]
    fn same_payload_same_group_and_only_what_async_graphql_would_accept() {
        let id = serde_json::json!({ "id": "abc" });
        let a = shared("subscription($id: ID!) { pasteViews(id: $id) }", id.clone()).unwrap();
        let b = shared(
            "subscription PasteViews($x: ID!) {\n  pasteViews(id: $x)\n}",
            serde_json::json!({ "x": "abc", "other": 1 }),
        )
        .unwrap();
        let c = shared(r#"subscription { pasteViews(id: "abc") }"#, id.clone()).unwrap();
        assert_eq!(a.normalised(), b.normalised());
        assert_eq!(a.normalised(), c.normalised());
        assert_eq!(a.data(7), r#"{"data":{"pasteViews":7}}"#);
        let aliased = shared(
            "subscription($id: ID!) { n: pasteViews(id: $id) }",
            id.clone(),
        );
        let aliased = aliased.unwrap();
        assert_ne!(aliased.normalised(), a.normalised());
        assert_eq!(aliased.data(7), r#"{"data":{"n":7}}"#);
        let other = shared(r#"subscription { pasteViews(id: "abd") }"#, id.clone()).unwrap();
        assert_ne!(other.normalised(), a.normalised());

        for general in [
            "subscription($id: ID!) { ... on Subscription { pasteViews(id: $id) } }",
            "subscription($id: ID!) { pasteViews(id: $id) @include(if: true) }",
            "subscription($id: ID!) { pasteViews(id: $id) b: pasteViews(id: $id) }",
            "subscription($id: String!) { pasteViews(id: $id) }",
            "subscription($id: ID) { pasteViews(id: $id) }",
            "subscription($id: ID! = \"x\") { pasteViews(id: $id) }",
            "subscription($id: ID!, $y: ID!) { pasteViews(id: $id) }",
            "query($id: ID!) { pasteViews(id: $id) }",
            "subscription { pasteViews(id: 5) }",
            "subscription($id: ID!) { pasteRevisions(id: $id) { number } }",
            "subscription($id: ID!) { pasteViews(id: $id) ",
            "subscription A($id: ID!) { pasteViews(id: $id) } subscription B { pasteViews(id: \"a\") }",
        ] {
            assert!(shared(general, id.clone()).is_none(), "{general}");
        }
        // A variable that is missing or not a string, or another operation's name.
        let q = "subscription V($id: ID!) { pasteViews(id: $id) }";
        assert!(shared(q, serde_json::json!({})).is_none());
        assert!(shared(q, serde_json::json!({ "id": 5 })).is_none());
        let named = Request::new(q)
            .variables(async_graphql::Variables::from_json(id.clone()))
            .operation_name("W");
        assert!(SharedSubscription::of(&named).is_none());
        let anonymous = Request::new("subscription($id: ID!) { pasteViews(id: $id) }")
            .variables(async_graphql::Variables::from_json(id))
            .operation_name("V");
        assert!(SharedSubscription::of(&anonymous).is_none());
    }
}
