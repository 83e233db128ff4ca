//! GraphQL over HTTP, and what can go wrong.

use std::fmt;
use std::time::Duration;

use serde_json::{Value, json};

use crate::config::Settings;

/// Why a command failed; each kind has its exit code.
#[derive(Debug)]
pub enum Failure {
    /// The server refused: its `extensions.code` and message (exit 1).
    Server { code: String, message: String },
    /// Something on this side: a file, the config, encryption (exit 1).
    Local(String),
    /// Bad usage (exit 2).
    Usage(String),
    /// The server could not be reached, or did not answer GraphQL (exit 3).
    Network(String),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Server { .. } | Self::Local(_) => 1,
            Self::Usage(_) => 2,
            Self::Network(_) => 3,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Server { code, message } => write!(f, "{code}: {message}"),
            Self::Local(m) | Self::Usage(m) | Self::Network(m) => f.write_str(m),
        }
    }
}

pub struct Client {
    http: reqwest::Client,
    pub url: String,
    pub token: Option<String>,
}

impl Client {
    pub fn new(settings: Settings) -> Result<Self, Failure> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("pb/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Failure::Local(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            url: settings.url,
            token: settings.token,
        })
    }

    /// Runs one operation; its `data`, or the first error as a [`Failure::Server`].
    pub async fn gql(&self, query: &str, variables: Value) -> Result<Value, Failure> {
        let body = serde_json::to_vec(&json!({ "query": query, "variables": variables }))
            .map_err(|e| Failure::Local(e.to_string()))?;
        self.gql_body(reqwest::Body::from(body)).await
    }

    /// [`Client::gql`] with a request body prepared by the caller (a large upload streams
    /// through a progress bar).
    pub async fn gql_body(&self, body: reqwest::Body) -> Result<Value, Failure> {
        let mut req = self
            .http
            .post(format!("{}/graphql", self.url))
            .header("content-type", "application/json")
            .header(
                "accept",
                "application/graphql-response+json, application/json",
            )
            .body(body);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let response = req
            .send()
            .await
            .map_err(|e| Failure::Network(format!("cannot reach {}: {e}", self.url)))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| Failure::Network(format!("{}: {e}", self.url)))?;
        let value: Value = serde_json::from_str(&text).map_err(|_| {
            Failure::Network(format!(
                "{} answered HTTP {status} without GraphQL: is it a pastebin server?",
                self.url
            ))
        })?;
        data_of(value)
    }
}

/// The data of a GraphQL response, or its first error.
pub fn data_of(value: Value) -> Result<Value, Failure> {
    if let Some(e) = value["errors"].as_array().and_then(|e| e.first()) {
        return Err(Failure::Server {
            code: e["extensions"]["code"]
                .as_str()
                .unwrap_or("INTERNAL_SERVER_ERROR")
                .to_owned(),
            message: e["message"].as_str().unwrap_or("no message").to_owned(),
        });
    }
    Ok(value["data"].clone())
}

/// The id in a paste's URL (`…/p/{id}`, `…/raw/{id}`, with any query or fragment) or an id.
pub fn paste_id(url_or_id: &str) -> Result<String, Failure> {
    let no_fragment = url_or_id.split('#').next().unwrap_or_default();
    let no_query = no_fragment.split('?').next().unwrap_or_default();
    let path = no_query.trim_end_matches('/');
    let id = match path.rsplit_once('/') {
        Some((before, last)) if before.ends_with("/p") || before.ends_with("/raw") => last,
        Some(_) if path.contains("://") => {
            return Err(Failure::Usage(format!("not a paste link: {url_or_id}")));
        }
        _ => path,
    };
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Failure::Usage(format!(
            "not a paste id or link: {url_or_id}"
        )));
    }
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_links_and_ids() {
        assert_eq!(paste_id("Ab3dE9xY").unwrap(), "Ab3dE9xY");
        assert_eq!(
            paste_id("http://h:1/p/Ab3dE9xY#k=x&L3").unwrap(),
            "Ab3dE9xY"
        );
        assert_eq!(
            paste_id("https://h/raw/Ab3dE9xY?rev=2").unwrap(),
            "Ab3dE9xY"
        );
        assert!(paste_id("https://h/other/thing").is_err());
        assert!(paste_id("../etc").is_err());
    }

    #[test]
    fn errors_carry_the_servers_code() {
        let e = data_of(
            json!({ "errors": [{ "message": "gone", "extensions": { "code": "NOT_FOUND" } }] }),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "NOT_FOUND: gone");
        assert_eq!(e.exit_code(), 1);
    }
}
