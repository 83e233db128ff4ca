//! Reading a GraphQL request body: refused before it is materialised when it is too large to
//! be one (a batch is counted while it is read, a query text is measured before it is copied),
//! and persisted queries (APQ) resolved here, by the hash each request carries.
//!
//! Persisted queries: a request with `extensions.persistedQuery.sha256Hash` and no query is
//! answered with the query text stored under that hash (`PersistedQueryNotFound` otherwise, so
//! the client sends the text); a request with both stores the text when its hash matches. Texts
//! are kept by hash in a cache bounded by bytes; parsed documents are kept by text (see
//! `graphql::documents`), so two persisted queries never share a document.

use std::borrow::Cow;
use std::fmt;

use async_graphql::http::MultipartOptions;
use async_graphql::{BatchRequest, ParseRequestError, Request, Variables};
use serde::Deserialize;
use serde::de::{self, SeqAccess, Visitor};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::config::LimitsConfig;
use crate::error::AppError;
use crate::graphql::MAX_BATCH;
use crate::pastes::MAX_FILES;

/// The longest query text accepted (the web app's largest document is under 2 KiB).
pub const MAX_QUERY_BYTES: usize = 64 * 1024;
/// Bytes of persisted query texts kept.
const PERSISTED_BYTES: u64 = 4 * 1024 * 1024;

/// The operations of a body: each ready to run, or refused with its own error.
pub struct Parsed {
    /// Whether the body was a batch (an array), which is answered with an array.
    pub batch: bool,
    pub requests: Vec<Result<Request, AppError>>,
}

/// The operations of a body as borrowed JSON, at most `MAX_BATCH` of them: a longer batch is
/// refused at its 11th element, without reading the rest into memory.
enum Operations<'a> {
    Single(&'a RawValue),
    Batch(Vec<&'a RawValue>),
}

impl<'de> Deserialize<'de> for Operations<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Ops;
        impl<'de> Visitor<'de> for Ops {
            type Value = Operations<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a GraphQL request object or an array of them")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut ops = Vec::new();
                while let Some(op) = seq.next_element::<&'de RawValue>()? {
                    if ops.len() == MAX_BATCH {
                        return Err(de::Error::custom(format!(
                            "too many operations in one batch (limit {MAX_BATCH})"
                        )));
                    }
                    ops.push(op);
                }
                Ok(Operations::Batch(ops))
            }
        }
        let raw: &'de RawValue = Deserialize::deserialize(d)?;
        if raw.get().trim_start().starts_with('[') {
            let mut json = serde_json::Deserializer::from_str(raw.get());
            return de::Deserializer::deserialize_seq(&mut json, Ops).map_err(de::Error::custom);
        }
        Ok(Operations::Single(raw))
    }
}

/// The few fields looked at before a request is built: borrowed, so a huge query is measured,
/// not copied.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow, default)]
    query: Option<Cow<'a, str>>,
    #[serde(default)]
    extensions: Option<PeekExtensions>,
}

/// The rest of a request. Its variables stay raw JSON until [`super::json::value`] reads them:
/// a paste's text in them is unescaped once, never through serde_json's buffer and a copy.
#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(default, rename = "operationName")]
    operation_name: Option<String>,
    #[serde(borrow, default)]
    variables: Option<&'a RawValue>,
    #[serde(default)]
    extensions: async_graphql::Extensions,
}

#[derive(Deserialize)]
struct PeekExtensions {
    #[serde(rename = "persistedQuery")]
    persisted_query: Option<PersistedQuery>,
}

#[derive(Deserialize)]
struct PersistedQuery {
    version: i32,
    #[serde(rename = "sha256Hash")]
    sha256_hash: String,
}

/// Query texts of persisted queries by their SHA-256 (hex), bounded by bytes.
#[derive(Clone)]
pub struct PersistedQueries {
    texts: moka::sync::Cache<String, std::sync::Arc<str>>,
}

impl Default for PersistedQueries {
    fn default() -> Self {
        Self {
            texts: moka::sync::Cache::builder()
                .max_capacity(PERSISTED_BYTES)
                .weigher(|hash: &String, text: &std::sync::Arc<str>| {
                    u32::try_from(hash.len() + text.len()).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }
}

/// Parses a body into its operations. A body that is not a GraphQL request at all is refused
/// whole; in a batch, each operation that cannot run gets its own error.
pub fn parse(body: &[u8], persisted: &PersistedQueries) -> Result<Parsed, AppError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| AppError::bad_input("the request body must be UTF-8 JSON"))?;
    let ops: Operations = serde_json::from_str(text)
        .map_err(|e| AppError::bad_input(format!("invalid GraphQL request: {e}")))?;
    Ok(match ops {
        Operations::Single(raw) => Parsed {
            batch: false,
            requests: vec![prepare(raw, persisted)],
        },
        Operations::Batch(raws) => Parsed {
            batch: true,
            requests: raws.into_iter().map(|r| prepare(r, persisted)).collect(),
        },
    })
}

/// Parses a multipart request (the GraphQL multipart request spec: `operations`, `map`, then
/// the files). async-graphql writes each file to a temporary file as it arrives; a resolver
/// reads it from there (`Upload`). The whole body is bounded by the JSON limit, each file by
/// the paste limit, the number of files by the files of a paste (times the batch limit).
/// Persisted queries are not looked up here: an upload is never one.
pub async fn parse_multipart(
    content_type: &str,
    body: axum::body::Body,
    limits: &LimitsConfig,
) -> Result<Parsed, AppError> {
    use futures_util::TryStreamExt;
    use http_body_util::BodyExt;

    let limit = limits.max_request_bytes();
    let too_large = |e: &(dyn std::error::Error + 'static)| {
        let mut source = Some(e);
        while let Some(err) = source {
            if err.is::<http_body_util::LengthLimitError>() {
                return true;
            }
            source = err.source();
        }
        false
    };
    let reader = http_body_util::Limited::new(body, limit)
        .into_data_stream()
        .map_err(io_error)
        .into_async_read();
    let options = MultipartOptions::default()
        .max_file_size(limits.max_bytes)
        .max_num_files(MAX_FILES * MAX_BATCH);
    let batch = async_graphql::http::receive_batch_body(Some(content_type), reader, options)
        .await
        .map_err(|e| match e {
            ParseRequestError::PayloadTooLarge => AppError::PayloadTooLarge {
                limit: limits.max_bytes,
            },
            ParseRequestError::Io(e) if too_large(&e) => AppError::PayloadTooLarge { limit },
            e => AppError::bad_input(format!("invalid multipart GraphQL request: {e}")),
        })?;
    let (batch, requests) = match batch {
        BatchRequest::Single(r) => (false, vec![r]),
        BatchRequest::Batch(rs) => (true, rs),
    };
    if requests.len() > MAX_BATCH {
        return Err(AppError::bad_input(format!(
            "too many operations in one batch (limit {MAX_BATCH})"
        )));
    }
    let check = |r: Request| {
        if r.query.is_empty() {
            return Err(AppError::bad_input("the request has no query"));
        }
        if r.query.len() > MAX_QUERY_BYTES {
            return Err(AppError::bad_input(format!(
                "the query text is longer than {MAX_QUERY_BYTES} bytes"
            )));
        }
        Ok(r)
    };
    Ok(Parsed {
        batch,
        requests: requests.into_iter().map(check).collect(),
    })
}

/// A body error as the multipart reader takes it (a named function: a closure here makes the
/// handler's future not `Send` for every lifetime).
fn io_error(e: Box<dyn std::error::Error + Send + Sync + 'static>) -> std::io::Error {
    std::io::Error::other(e)
}

/// One operation: the query text measured, the persisted query resolved, then built.
fn prepare(raw: &RawValue, persisted: &PersistedQueries) -> Result<Request, AppError> {
    let peek: Peek = serde_json::from_str(raw.get())
        .map_err(|e| AppError::bad_input(format!("invalid GraphQL request: {e}")))?;
    let query_len = peek.query.as_deref().map_or(0, str::len);
    if query_len > MAX_QUERY_BYTES {
        return Err(AppError::bad_input(format!(
            "the query text is longer than {MAX_QUERY_BYTES} bytes"
        )));
    }
    let apq = peek.extensions.and_then(|e| e.persisted_query);
    let stored = match &apq {
        None if query_len == 0 => {
            return Err(AppError::bad_input("the request has no query"));
        }
        None => None,
        Some(pq) if pq.version != 1 => {
            return Err(AppError::bad_input(
                "only version 1 of persisted queries is supported",
            ));
        }
        Some(pq) if query_len == 0 => Some(
            persisted
                .texts
                .get(&pq.sha256_hash)
                // Apollo's clients look for this message to send the text.
                .ok_or_else(|| AppError::bad_input("PersistedQueryNotFound"))?,
        ),
        Some(pq) => {
            let query = peek.query.as_deref().unwrap_or_default();
            if hex::encode(Sha256::digest(query.as_bytes())) != pq.sha256_hash {
                return Err(AppError::bad_input("provided sha does not match query"));
            }
            persisted
                .texts
                .insert(pq.sha256_hash.clone(), std::sync::Arc::from(query));
            None
        }
    };
    let invalid =
        |e: serde_json::Error| AppError::bad_input(format!("invalid GraphQL request: {e}"));
    let fields: Fields = serde_json::from_str(raw.get()).map_err(invalid)?;
    let mut request = Request::new(match stored {
        Some(text) => text.to_string(),
        None => peek.query.map(Cow::into_owned).unwrap_or_default(),
    });
    request.operation_name = fields.operation_name;
    request.variables = match fields.variables {
        None => Variables::default(),
        Some(raw) => match super::json::value(raw).map_err(invalid)? {
            value @ async_graphql::Value::Object(_) => Variables::from_value(value),
            _ => return Err(AppError::bad_input("variables must be an object")),
        },
    };
    request.extensions = fields.extensions;
    request.extensions.remove("persistedQuery");
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(body: &str) -> Parsed {
        parse(body.as_bytes(), &PersistedQueries::default())
            .unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    #[test]
    fn batches_are_counted_before_they_are_built() {
        let one = parse_ok(r#"{"query":"{ a }"}"#);
        assert!(!one.batch && one.requests.len() == 1);
        let ten = format!("[{}]", [r#"{"query":"{ a }"}"#; 10].join(","));
        let ten = parse_ok(&ten);
        assert!(ten.batch && ten.requests.iter().all(Result::is_ok) && ten.requests.len() == 10);
        let eleven = format!("[{}]", ["{}"; 11].join(","));
        let e = parse(eleven.as_bytes(), &PersistedQueries::default())
            .err()
            .unwrap();
        assert!(e.to_string().contains("too many operations"), "{e}");
    }

    #[test]
    fn an_empty_query_without_a_persisted_hash_is_refused() {
        let parsed = parse_ok(r#"{"query":""}"#);
        let e = parsed.requests.into_iter().next().unwrap().err().unwrap();
        assert_eq!(e.code().as_str(), "BAD_USER_INPUT");
    }

    #[test]
    fn each_persisted_hash_gets_its_own_text() {
        let store = PersistedQueries::default();
        let (a, b) = ("{ a }", "{ b }");
        let hash = |q: &str| hex::encode(Sha256::digest(q.as_bytes()));
        for q in [a, b] {
            let body = serde_json::json!({ "query": q, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash(q) } } });
            parse(body.to_string().as_bytes(), &store).unwrap();
        }
        for q in [b, a] {
            let body = serde_json::json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash(q) } } });
            let parsed = parse(body.to_string().as_bytes(), &store).unwrap();
            let request = parsed.requests.into_iter().next().unwrap().unwrap();
            assert_eq!(request.query, q);
        }
    }
}
