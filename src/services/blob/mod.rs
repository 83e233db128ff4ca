//! Paste bodies in the object store (S3 or any S3-compatible server). rust-s3 lives here only.
//!
//! Keys are per attempt and per file: `{prefix}pastes/{id}/{attempt}/{position}`, where
//! `attempt` is a random token drawn for each create, edit or fork attempt and `position` the
//! file's place in its revision. The key (without the deployment's prefix) is recorded in the
//! file's row and never written twice, so an attempt that loses an id collision, or fails, can
//! only ever remove its own objects. Pastes from before files and revisions keep their legacy
//! key `{prefix}pastes/{id}`. [`parse_key`] reads both, for the orphan sweep. Objects hold the
//! zstd body. Whether a body goes inline (Postgres) or here is decided by [`Blobs::placement`].
//! Every request is counted in `pastebin_object_store_requests_total{op}`.

pub mod codec;

use std::time::Duration;

use chrono::{DateTime, Utc};
use s3::creds::Credentials;
use s3::error::S3Error;
use s3::{Bucket, Region};

use crate::config::Config;

/// Where a body is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    Inline,
    Object,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("object store is not configured")]
    NotConfigured,
    #[error("object not found")]
    NotFound,
    #[error("object store unavailable: {0}")]
    Unavailable(String),
}

impl From<S3Error> for BlobError {
    fn from(e: S3Error) -> Self {
        match e {
            S3Error::HttpFailWithBody(404, _) => Self::NotFound,
            other => Self::Unavailable(other.to_string()),
        }
    }
}

/// An object in the store, as the orphan sweep sees it.
#[derive(Clone, Debug)]
pub struct StoredObject {
    /// The key below the deployment's prefix (what file rows record).
    pub key: String,
    pub last_modified: Option<DateTime<Utc>>,
}

/// The key of one file's body written by one attempt (below the deployment's prefix).
pub fn file_key(paste_id: &str, attempt: &str, position: usize) -> String {
    format!("pastes/{paste_id}/{attempt}/{position}")
}

/// What a key below the deployment's prefix names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParsedKey<'a> {
    /// `pastes/{id}/{attempt}/{position}`.
    File {
        paste_id: &'a str,
        attempt: &'a str,
        position: u16,
    },
    /// `pastes/{id}`: a body from before files and revisions.
    Legacy { paste_id: &'a str },
}

/// Reads a key written by [`file_key`] (or a legacy one); `None` for anything else, which the
/// orphan sweep leaves alone.
pub fn parse_key(key: &str) -> Option<ParsedKey<'_>> {
    let rest = key.strip_prefix("pastes/")?;
    let token =
        |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric());
    let mut parts = rest.split('/');
    let paste_id = parts.next().filter(|s| token(s))?;
    match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => Some(ParsedKey::Legacy { paste_id }),
        (Some(attempt), Some(position), None) if token(attempt) => Some(ParsedKey::File {
            paste_id,
            attempt,
            position: position
                .parse()
                .ok()
                .filter(|_| position.bytes().all(|b| b.is_ascii_digit()))?,
        }),
        _ => None,
    }
}

fn count(op: &'static str) {
    metrics::counter!("pastebin_object_store_requests_total", "op" => op).increment(1);
}

#[derive(Clone)]
pub struct Blobs {
    bucket: Option<Box<Bucket>>,
    prefix: String,
    inline_max: usize,
}

impl Blobs {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let config = &config.object_store;
        let bucket = if config.s3_endpoint.is_empty() && config.s3_access_key.is_empty() {
            None
        } else {
            let region = if config.s3_endpoint.is_empty() {
                config.s3_region.parse()?
            } else {
                Region::Custom {
                    region: config.s3_region.clone(),
                    endpoint: config.s3_endpoint.clone(),
                }
            };
            let credentials = if config.s3_access_key.is_empty() {
                Credentials::default()?
            } else {
                Credentials::new(
                    Some(&config.s3_access_key),
                    Some(&config.s3_secret_key),
                    None,
                    None,
                    None,
                )?
            };
            let bucket = Bucket::new(&config.s3_bucket, region, credentials)?
                .with_path_style()
                .with_request_timeout(config.timeout())?;
            Some(bucket)
        };
        Ok(Self {
            bucket,
            prefix: config.s3_prefix.clone(),
            inline_max: config.inline_max,
        })
    }

    /// Inline when the body (its size as text) is within the inline limit, or when no object
    /// store is configured; in the object store otherwise. A limit of 0 sends every body out.
    pub fn placement(&self, text_len: usize) -> Placement {
        match &self.bucket {
            None => Placement::Inline,
            Some(_) if self.inline_max > 0 && text_len <= self.inline_max => Placement::Inline,
            Some(_) => Placement::Object,
        }
    }

    pub fn is_configured(&self) -> bool {
        self.bucket.is_some()
    }

    fn bucket(&self) -> Result<&Bucket, BlobError> {
        self.bucket.as_deref().ok_or(BlobError::NotConfigured)
    }

    fn full_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Writes the object of `key` (below the prefix; see [`file_key`]).
    #[tracing::instrument(skip_all, fields(key = %key, bytes = compressed.len()))]
    pub async fn put(&self, key: &str, compressed: &[u8]) -> Result<(), BlobError> {
        count("put");
        self.bucket()?
            .put_object_with_content_type(self.full_key(key), compressed, "application/zstd")
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        count("get");
        let response = self.bucket()?.get_object(self.full_key(key)).await?;
        Ok(response.to_vec())
    }

    /// Deletes an object; a missing object is not an error (deletes are retried by sweeps).
    #[tracing::instrument(skip_all, fields(key = %key))]
    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        count("delete");
        match self.bucket()?.delete_object(self.full_key(key)).await {
            Ok(_) | Err(S3Error::HttpFailWithBody(404, _)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the object of `key` exists.
    pub async fn exists_key(&self, key: &str) -> Result<bool, BlobError> {
        count("head");
        match self.bucket()?.head_object(self.full_key(key)).await {
            Ok(_) => Ok(true),
            Err(S3Error::HttpFailWithBody(404, _)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether any object of a paste exists, under either key format (tests and tools).
    pub async fn exists(&self, paste_id: &str) -> Result<bool, BlobError> {
        if self.exists_key(&format!("pastes/{paste_id}")).await? {
            return Ok(true);
        }
        count("list");
        let (page, _) = self
            .bucket()?
            .list_page(
                self.full_key(&format!("pastes/{paste_id}/")),
                None,
                None,
                None,
                Some(1),
            )
            .await?;
        Ok(!page.contents.is_empty())
    }

    /// One page of objects under this deployment's prefix, and the token for the next page.
    pub async fn list_page(
        &self,
        continuation: Option<String>,
        max_keys: usize,
    ) -> Result<(Vec<StoredObject>, Option<String>), BlobError> {
        count("list");
        let prefix = self.full_key("pastes/");
        let (page, _) = self
            .bucket()?
            .list_page(prefix, None, continuation, None, Some(max_keys))
            .await?;
        let objects = page
            .contents
            .into_iter()
            .filter_map(|o| {
                let key = o.key.strip_prefix(&self.prefix)?.to_owned();
                let last_modified = DateTime::parse_from_rfc3339(&o.last_modified)
                    .ok()
                    .map(|t| t.with_timezone(&Utc));
                Some(StoredObject { key, last_modified })
            })
            .collect();
        Ok((objects, page.next_continuation_token))
    }

    /// Whether the store answers now (health checks).
    pub async fn ping(&self) -> Option<bool> {
        let bucket = self.bucket.as_deref()?;
        let probe = bucket.head_object(format!("{}healthz", self.prefix));
        Some(matches!(
            tokio::time::timeout(Duration::from_secs(2), probe).await,
            Ok(Ok(_)) | Ok(Err(S3Error::HttpFailWithBody(404, _)))
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_anything_else_is_left_alone() {
        let key = file_key("Ab3dE9xYz1", "q7Rt2Kx9", 12);
        assert_eq!(key, "pastes/Ab3dE9xYz1/q7Rt2Kx9/12");
        assert_eq!(
            parse_key(&key),
            Some(ParsedKey::File {
                paste_id: "Ab3dE9xYz1",
                attempt: "q7Rt2Kx9",
                position: 12
            })
        );
        assert_eq!(
            parse_key("pastes/Ab3dE9xYz1"),
            Some(ParsedKey::Legacy {
                paste_id: "Ab3dE9xYz1"
            })
        );
        for other in [
            "healthz",
            "pastes/",
            "pastes/a/b",
            "pastes/a/b/c/d",
            "pastes/a/b/-1",
            "pastes/a/b/+1",
            "pastes/a/../0",
            "pastes/a b/x/0",
            "other/a/b/0",
        ] {
            assert_eq!(parse_key(other), None, "{other}");
        }
    }
}
